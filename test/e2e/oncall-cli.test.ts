/**
 * End-to-end `guardia oncall …` as a user runs it (a child process on a temp-dir SQLite file): who is on call at
 * a time typed on the policy's wall clock, the Sev-1 dry run ("who gets paged at 03:00 on Sunday?") with its
 * three steps, people and channels — sending nothing even when Slack is configured (a local HTTP sink stands in
 * for Slack and must receive no request) — a Sev-3 that pages only the primary, and overrides from the CLI.
 */
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanEnv, killAllGuardia, runGuardia, type CliRun } from '../helpers/cli.js';
import { DEFAULT_POLICY_YAML } from '../../src/domain/policy/default-policy.js';

/** CLI commands are slow to start under tsx on a busy machine: give each test room for several of them. */
const TEST_TIMEOUT_MS = 180_000;

type Run = CliRun;

interface SimStep {
  index: number;
  due_at: string;
  offset: string;
  rule: string;
  unless: string | null;
  notify: string[];
  pages: {
    person: { id: string; name: string; language: string };
    via: string;
    source: string;
    contacts: {
      channel: string;
      type: string;
      to: string | null;
      configured: boolean;
      missing_secret?: string;
    }[];
  }[];
  unresolved: string[];
}
interface Simulation {
  dry_run: boolean;
  severity: string;
  timezone: string;
  started_at: string;
  steps: SimStep[];
}
interface OnCall {
  at: string;
  timezone: string;
  roles: { role: string; people: { id: string }[]; source: string; until: string | null }[];
}

const tempDirs: string[] = [];

function guardia(args: string[], options: { cwd: string; env?: Record<string, string> }): Promise<Run> {
  return runGuardia(args, {
    cwd: options.cwd,
    env: cleanEnv(
      { USER: 'e2e-tester', ...options.env },
      (k) => k === 'SLACK_WEBHOOK_URL' || k === 'SMTP_URL',
    ),
  });
}

function json<T>(run: Run): T {
  expect(run.code, `exit code; stderr: ${run.stderr}`).toBe(0);
  return JSON.parse(run.stdout) as T;
}

describe('guardia oncall, from a terminal', () => {
  let cwd: string;
  let db: string;
  let sink: http.Server;
  let sinkRequests = 0;
  let slackUrl: string;
  const cli = (args: string[], env: Record<string, string> = {}) =>
    guardia([...args, '--database', db], { cwd, env });

  beforeAll(async () => {
    cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'guardia-e2e-oncall-'));
    tempDirs.push(cwd);
    db = `sqlite:${path.join(cwd, 'g.db')}`;
    // A Slack stand-in: the dry run must never call it.
    sink = http.createServer((req, res) => {
      sinkRequests += 1;
      req.resume();
      res.end('ok');
    });
    await new Promise<void>((resolve) => sink.listen(0, '127.0.0.1', resolve));
    slackUrl = `http://127.0.0.1:${(sink.address() as AddressInfo).port}/services/T000/B000/XXXX`;
  });

  afterAll(async () => {
    killAllGuardia();
    await new Promise<void>((resolve) => sink.close(() => resolve()));
    for (const dir of tempDirs) fs.rmSync(dir, { recursive: true, force: true });
  });

  it(
    'says who holds each role at a local time, naming the time zone',
    async () => {
      const human = await cli(['oncall', '--at', '2026-11-29 03:00']);
      expect(human.code, human.stderr).toBe(0);
      expect(human.stdout).toContain(
        "On call at Sun 2026-11-29 03:00 (+00:00). Times are in UTC, the policy's time zone.",
      );
      expect(human.stdout).toMatch(
        /^Primary on-call \(primary\)\s+Engineering Lead \(eng-lead\)\s+role members\s+-$/m,
      );
      expect(human.stdout).toMatch(/^Escalation \(cto\)\s+CTO\/Founder \(cto\)/m);

      const asJson = json<OnCall>(await cli(['oncall', '--at', '2026-11-29T03:00:00Z', '--json']));
      expect(asJson.at).toBe('2026-11-29T03:00:00.000Z');
      expect(asJson.roles.map((r) => [r.role, r.people.map((p) => p.id), r.source])).toEqual([
        ['primary', ['eng-lead'], 'members'],
        ['secondary', ['sre'], 'members'],
        ['cto', ['cto'], 'members'],
      ]);

      const bad = await cli(['oncall', '--at', 'sunday 3am']);
      expect(bad.code).toBe(2);
      expect(bad.stderr).toContain('--at: expected an ISO-8601 time');
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'simulates a Sev-1 at 03:00 on Sunday: primary at T, secondary at T+5m, CTO at T+30m — and sends nothing',
    async () => {
      const sim = json<Simulation>(
        await cli(['oncall', 'simulate', '--severity', 'sev1', '--at', '2026-11-29T03:00:00Z', '--json'], {
          SLACK_WEBHOOK_URL: slackUrl,
        }),
      );
      expect(sim).toMatchObject({
        dry_run: true,
        severity: 'sev1',
        timezone: 'UTC',
        started_at: '2026-11-29T03:00:00.000Z',
      });
      expect(
        sim.steps.map((s) => [
          s.due_at,
          s.offset,
          s.notify,
          s.unless,
          s.pages.map((p) => [p.via, p.person.id]),
        ]),
      ).toEqual([
        ['2026-11-29T03:00:00.000Z', 'T+0m', ['primary'], null, [['primary', 'eng-lead']]],
        ['2026-11-29T03:05:00.000Z', 'T+5m', ['secondary'], 'acknowledged', [['secondary', 'sre']]],
        ['2026-11-29T03:30:00.000Z', 'T+30m', ['cto'], 'mitigated', [['cto', 'cto']]],
      ]);
      // Channels in failover order: Slack (configured here), then email (SMTP_URL unset: named, never a value).
      expect(sim.steps[0]!.pages[0]!.contacts).toEqual([
        { channel: 'slack', type: 'slack', to: 'U0000LEAD', configured: true },
        {
          channel: 'email',
          type: 'email',
          to: 'eng-lead@example.com',
          configured: false,
          missing_secret: 'SMTP_URL',
        },
      ]);
      expect(sim.steps[2]!.pages[0]!.person).toEqual({ id: 'cto', name: 'CTO/Founder', language: 'es' });
      expect(sim.steps.every((s) => s.unresolved.length === 0)).toBe(true);
      expect(sinkRequests).toBe(0);
      expect(JSON.stringify(sim)).not.toContain(slackUrl);

      const human = await cli(['oncall', 'simulate', '--severity', 'sev1', '--at', '2026-11-29 03:00'], {
        SLACK_WEBHOOK_URL: slackUrl,
      });
      expect(human.code, human.stderr).toBe(0);
      expect(human.stdout).toContain(
        'Dry run: a Sev-1 (sev1) incident starting Sun 2026-11-29 03:00 (+00:00). Nothing is sent.',
      );
      expect(human.stdout).toContain('Step 1 at Sun 2026-11-29 03:00 (+00:00), T+0m (at once):');
      expect(human.stdout).toContain(
        '  page Engineering Lead (eng-lead) as primary (role members), in English',
      );
      expect(human.stdout).toContain('    via slack (slack → U0000LEAD)\n');
      expect(human.stdout).toContain(
        '    then email (email → eng-lead@example.com)  [not configured: SMTP_URL is unset',
      );
      expect(human.stdout).toContain(
        'Step 2 at Sun 2026-11-29 03:05 (+00:00), T+5m (at the acknowledgement target, unless acknowledged by then):',
      );
      expect(human.stdout).toContain(
        'Step 3 at Sun 2026-11-29 03:30 (+00:00), T+30m (after 30m, unless mitigated by then):',
      );
      expect(human.stdout).toContain('  page CTO/Founder (cto) as cto (role members), in Spanish');
      expect(sinkRequests).toBe(0);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'a Sev-3 pages only the primary',
    async () => {
      const sim = json<Simulation>(
        await cli(['oncall', 'simulate', '--severity', 'sev3', '--at', '2026-11-29T03:00:00Z', '--json']),
      );
      expect(sim.steps.map((s) => [s.offset, s.pages.map((p) => `${p.via}:${p.person.id}`)])).toEqual([
        ['T+0m', ['primary:eng-lead']],
      ]);
      const bad = await cli(['oncall', 'simulate', '--severity', 'sev4']);
      expect(bad.code).toBe(2);
      expect(bad.stderr).toContain('unknown severity "sev4"');
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'overrides from the CLI, read in the policy zone (Madrid, with a rotation), change who is on call',
    async () => {
      const policyFile = path.join(cwd, 'guardia.yaml');
      fs.writeFileSync(
        policyFile,
        DEFAULT_POLICY_YAML.replace('timezone: UTC', 'timezone: Europe/Madrid').replace(
          /^# rotations:\n(#.*\n)*/m,
          'rotations:\n  - { role: primary, type: weekly, handoff: "mon 09:00", start: "2026-11-02", members: [eng-lead, sre] }\n',
        ),
      );
      const p = ['--policy', policyFile];
      const before = json<OnCall>(await cli(['oncall', '--at', '2026-12-06 03:00', '--json', ...p]));
      expect(before.timezone).toBe('Europe/Madrid');
      expect(before.at).toBe('2026-12-06T02:00:00.000Z');
      // Week from Monday 11-30: shift 4, eng-lead, until Monday 12-07 09:00 Madrid (08:00Z).
      expect(before.roles[0]).toMatchObject({
        role: 'primary',
        people: [{ id: 'eng-lead' }],
        source: 'rotation',
        until: '2026-12-07T08:00:00.000Z',
      });

      const refused = await cli([
        'oncall',
        'override',
        '--role',
        'primary',
        '--person',
        'ghost',
        '--to',
        '2099-01-01 00:00',
        '--reason',
        'x',
        ...p,
      ]);
      expect(refused.code).toBe(2);
      expect(refused.stderr).toContain('--person: unknown person "ghost"');

      const made = await cli([
        'oncall',
        'override',
        '--role',
        'primary',
        '--person',
        'cto',
        '--from',
        '2099-12-06 00:00',
        '--to',
        '2099-12-06 08:00',
        '--reason',
        'cover',
        '--as',
        'dana',
        ...p,
      ]);
      expect(made.code, made.stderr).toBe(0);
      expect(made.stdout).toContain(
        'cto holds primary from Sun 2099-12-06 00:00 (+01:00) until Sun 2099-12-06 08:00 (+01:00)',
      );
      const during = json<OnCall>(await cli(['oncall', '--at', '2099-12-06 03:00', '--json', ...p]));
      expect(during.roles[0]).toMatchObject({
        people: [{ id: 'cto' }],
        source: 'override',
        until: '2099-12-06T07:00:00.000Z',
      });

      const listed = json<{ overrides: { id: number; created_by: string; state: string }[] }>(
        await cli(['oncall', 'overrides', '--json', ...p]),
      );
      expect(listed.overrides).toEqual([expect.objectContaining({ created_by: 'dana', state: 'upcoming' })]);
      const cancelled = await cli([
        'oncall',
        'cancel',
        String(listed.overrides[0]!.id),
        '--as',
        'dana',
        ...p,
      ]);
      expect(cancelled.code, cancelled.stderr).toBe(0);
      const twice = await cli(['oncall', 'cancel', String(listed.overrides[0]!.id), ...p]);
      expect(twice.code).toBe(1);
      expect(twice.stderr).toContain('already cancelled by dana');
    },
    TEST_TIMEOUT_MS,
  );
});
