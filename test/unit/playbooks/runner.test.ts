/**
 * The playbook runner: concurrency, timeouts that name the probe that hung, throws turned into findings, secret
 * scrubbing of everything a check returns, stamping and ordering.
 */
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_TARGETS,
  type CheckContext,
  type CheckDefinition,
  type Finding,
  type FindingDraft,
} from '../../../src/playbooks/check.js';
import { formatMs, runPlaybook, sortFindings } from '../../../src/playbooks/runner.js';

const SECRET = 'sup3r-s3cret-value-0123456789abcdef';

function ctx(extra: Partial<CheckContext> = {}): CheckContext {
  return {
    targets: DEFAULT_TARGETS,
    options: {},
    now: () => new Date('2026-11-27T10:00:00.000Z'),
    secrets: [SECRET],
    ...extra,
  };
}

function draft(id: string, status: FindingDraft['status'], group = 'Configuration'): FindingDraft {
  return {
    id,
    group: { en: group, es: group },
    title: { en: `title ${id}`, es: `título ${id}` },
    status,
    summary: { en: `summary ${id}`, es: `resumen ${id}` },
    evidence: {},
    ...(status === 'fail' || status === 'warn' ? { mitigation: { en: 'fix it', es: 'arreglarlo' } } : {}),
  };
}

function check(
  id: string,
  run: CheckDefinition['run'],
  extra: Partial<CheckDefinition> = {},
): CheckDefinition {
  return { id, run, ...extra };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('runPlaybook', () => {
  it('runs every check, stamps playbook and duration, and takes the worst status', async () => {
    const report = await runPlaybook('login', ctx(), {
      timeoutMs: 1000,
      checks: [
        check('login.a', async () => draft('login.a', 'pass')),
        check('login.b', async () => [draft('login.b', 'warn'), draft('login.b2', 'skip')]),
      ],
    });
    expect(report.playbook).toBe('login');
    expect(report.status).toBe('warn');
    expect(report.startedAt).toBe('2026-11-27T10:00:00.000Z');
    expect(report.findings.map((f) => f.id)).toEqual(['login.a', 'login.b', 'login.b2']);
    for (const f of report.findings) {
      expect(f.playbook).toBe('login');
      expect(f.durationMs).toBeGreaterThanOrEqual(0);
    }
  });

  it('runs checks concurrently, not one after another', async () => {
    const started = performance.now();
    const slow = (id: string) =>
      check(id, async () => {
        await sleep(150);
        return draft(id, 'pass');
      });
    await runPlaybook('slow', ctx(), { timeoutMs: 2000, checks: [slow('s.a'), slow('s.b'), slow('s.c')] });
    expect(performance.now() - started).toBeLessThan(400);
  });

  it('a check that hangs is a fail naming the probe it was waiting on and the timeout; its signal is aborted', async () => {
    let aborted = false;
    const hung = check(
      'slow.redis.ping',
      (c) => {
        c.probing?.('Redis PING to redis://cache:6379');
        c.signal?.addEventListener('abort', () => (aborted = true));
        return new Promise<FindingDraft>(() => undefined);
      },
      { group: { en: 'Redis', es: 'Redis' }, title: { en: 'Redis latency', es: 'Latencia de Redis' } },
    );
    const report = await runPlaybook('slow', ctx(), {
      timeoutMs: 100,
      checks: [hung, check('slow.ok', async () => draft('slow.ok', 'pass'))],
    });
    expect(report.status).toBe('fail');
    const f = report.findings.find((x) => x.id === 'slow.redis.ping')!;
    expect(f).toMatchObject({
      status: 'fail',
      group: { en: 'Redis' },
      title: { en: 'Redis latency' },
      evidence: { timeout_ms: 100, waiting_on: 'Redis PING to redis://cache:6379' },
    });
    expect(f.summary.en).toContain('100 ms');
    expect(f.summary.en).toContain('Redis PING to redis://cache:6379');
    expect(f.summary.es).toContain('100 ms');
    expect(f.mitigation?.en).toBeTruthy();
    expect(aborted).toBe(true);
    expect(report.findings.find((x) => x.id === 'slow.ok')?.status).toBe('pass');
  });

  it('a hung check without probing() still says how long it was given', async () => {
    const report = await runPlaybook('errors', ctx(), {
      timeoutMs: 50,
      checks: [check('errors.x', () => new Promise(() => undefined))],
    });
    expect(report.findings[0]).toMatchObject({
      id: 'errors.x',
      status: 'fail',
      group: { en: 'Checks', es: 'Comprobaciones' },
      title: { en: 'errors.x' },
    });
    expect(report.findings[0]!.summary.en).toContain('did not finish within 50 ms');
  });

  it('a check that throws (sync or async) becomes a fail with the redacted message; a late rejection is harmless', async () => {
    const report = await runPlaybook('slow', ctx(), {
      timeoutMs: 100,
      checks: [
        check('slow.async', async () => {
          throw new Error(`connect ECONNREFUSED mysql://app:${SECRET}@db:3306/app`);
        }),
        check('slow.sync', () => {
          throw new TypeError('boom');
        }),
        check('slow.late', async () => {
          await sleep(200);
          throw new Error('too late');
        }),
      ],
    });
    const byId = Object.fromEntries(report.findings.map((f) => [f.id, f]));
    expect(byId['slow.async']!.status).toBe('fail');
    expect(byId['slow.async']!.summary.en).toContain('ECONNREFUSED mysql://app:<redacted>@db:3306/app');
    expect(JSON.stringify(report)).not.toContain(SECRET);
    expect(byId['slow.sync']!.summary.en).toContain('TypeError: boom');
    expect(byId['slow.late']!.summary.en).toContain('did not finish');
    await sleep(250); // the late rejection fires after the report: no unhandled rejection fails the run
  });

  it('scrubs every secret from every part of every finding, keys included', async () => {
    const report = await runPlaybook('login', ctx({ secrets: [SECRET, 'abc'] }), {
      timeoutMs: 1000,
      checks: [
        check('login.leaky', async () => ({
          ...draft('login.leaky', 'fail'),
          summary: { en: `JWT_SECRET is ${SECRET}`, es: `JWT_SECRET es ${SECRET}` },
          evidence: { line: `cookie=${SECRET}`, nested: [{ [SECRET]: SECRET }], n: 3, word: 'abc' },
          mitigation: { en: `rotate ${SECRET}`, es: `rotar ${SECRET}` },
        })),
      ],
    });
    const text = JSON.stringify(report);
    expect(text).not.toContain(SECRET);
    expect(report.findings[0]!.evidence).toEqual({
      line: 'cookie=<redacted>',
      nested: [{ '<redacted>': '<redacted>' }],
      n: 3,
      word: 'abc', // secrets under 4 characters are not scrubbed (they would mangle ordinary words)
    });
  });

  it('a malformed finding is reported as a fail naming what is wrong, not a crash', async () => {
    const report = await runPlaybook('login', ctx(), {
      timeoutMs: 1000,
      checks: [
        check('login.bad', async () => ({ id: 'login.bad', status: 'maybe' }) as unknown as FindingDraft),
      ],
    });
    expect(report.findings[0]).toMatchObject({ id: 'login.bad', status: 'fail' });
    expect(report.findings[0]!.summary.en).toContain('malformed finding');
    expect(report.findings[0]!.summary.en).toContain('status maybe');
  });

  it('the playbook stamp wins over what a check wrote, and an empty playbook passes', async () => {
    const report = await runPlaybook('slow', ctx(), {
      timeoutMs: 1000,
      checks: [
        check('slow.x', async () => ({ ...draft('slow.x', 'pass'), playbook: 'login' }) as FindingDraft),
      ],
    });
    expect(report.findings[0]!.playbook).toBe('slow');
    const empty = await runPlaybook('errors', ctx(), { timeoutMs: 1000, checks: [] });
    expect(empty).toMatchObject({ findings: [], status: 'pass' });
  });

  it('reports progress once per check as it finishes', async () => {
    const seen: string[] = [];
    await runPlaybook('login', ctx(), {
      timeoutMs: 1000,
      checks: [
        check('login.slow', async () => {
          await sleep(60);
          return draft('login.slow', 'pass');
        }),
        check('login.fast', async () => draft('login.fast', 'fail')),
      ],
      onProgress: (findings, p) => seen.push(`${p.done}/${p.total} ${p.checkId} ${findings[0]!.status}`),
    });
    expect(seen).toEqual(['1/2 login.fast fail', '2/2 login.slow pass']);
  });

  it('loads the registered checks when none are given', async () => {
    const report = await runPlaybook('tenant-indexes', ctx(), { timeoutMs: 10 });
    expect(report.playbook).toBe('tenant-indexes');
    expect(Array.isArray(report.findings)).toBe(true);
  });
});

describe('sortFindings', () => {
  it('orders by group, then id, keeping the order of findings with the same id', () => {
    const f = (id: string, group: string, n: number): Finding => ({
      ...draft(id, 'pass', group),
      summary: { en: String(n), es: String(n) },
      playbook: 'slow',
      durationMs: 1,
    });
    const sorted = sortFindings([
      f('slow.redis.ping', 'Redis', 1),
      f('slow.mysql.b', 'MySQL', 2),
      f('slow.mysql.a', 'MySQL', 3),
      f('slow.mysql.a', 'MySQL', 4),
    ]);
    expect(sorted.map((x) => `${x.group.en} ${x.id} ${x.summary.en}`)).toEqual([
      'MySQL slow.mysql.a 3',
      'MySQL slow.mysql.a 4',
      'MySQL slow.mysql.b 2',
      'Redis slow.redis.ping 1',
    ]);
  });
});

describe('formatMs', () => {
  it('says durations the way people read them', () => {
    expect(formatMs(250)).toBe('250 ms');
    expect(formatMs(10_000)).toBe('10 s');
    expect(formatMs(1_500)).toBe('1.5 s');
    expect(formatMs(120_000)).toBe('2 min');
  });
});
