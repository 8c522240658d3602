import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it, expect } from 'vitest';
import { DEFAULT_POLICY_YAML } from '../../src/domain/policy/default-policy.js';
import {
  formatProblems,
  loadPolicy,
  nearest,
  parsePolicyText,
  resolveSecret,
  type PolicyProblem,
} from '../../src/domain/policy/load.js';
import { formatDuration, renderPolicyMarkdown } from '../../src/domain/policy/render.js';
import { GuardiaError } from '../../src/shared/errors.js';

/** A small valid policy; tests break one line of it at a time. */
const VALID = `version: 1
organization:
  name: Test Org
people:
  - id: alice
    name: Alice
  - id: bob
    name: Bob
roles:
  - id: primary
    name: Primary on-call
    members: [alice, bob]
severities:
  sev1:
    name: Sev-1
    ack: 5m
    mitigate: 30m
  sev2:
    name: Sev-2
    ack: 15m
    mitigate: 2h
  sev3:
    name: Sev-3
    ack: 4h
    mitigate: 1 business day
calendar:
  timezone: UTC
  working_days: [mon, tue, wed, thu, fri]
  hours:
    start: "09:00"
    end: "18:00"
escalation:
  sev1:
    - after: 0m
      notify: [primary]
  sev2:
    - after: 0m
      notify: [primary]
  sev3:
    - after: 0m
      notify: [primary]
integrations:
  - name: generic
    type: generic
    secret: \${GENERIC_TOKEN}
channels:
  pager:
    type: pager
routes:
  - name: pager
    severity: sev2
    notify: [pager]
`;

/** 1-based line and column of the first occurrence of `needle` in `text` (plus `shift` columns). */
function posOf(text: string, needle: string, shift = 0): { line: number; col: number } {
  const offset = text.indexOf(needle);
  if (offset < 0) throw new Error(`fixture does not contain ${JSON.stringify(needle)}`);
  const before = text.slice(0, offset).split('\n');
  return { line: before.length, col: before[before.length - 1]!.length + 1 + shift };
}

function replaceOnce(text: string, from: string, to: string): string {
  expect(text.split(from)).toHaveLength(2); // the fixture edit must be unambiguous
  return text.replace(from, to);
}

function only(problems: PolicyProblem[], path: string): PolicyProblem {
  const found = problems.filter((p) => p.path === path);
  expect(found, `problems at ${path}: ${formatProblems(problems)}`).toHaveLength(1);
  return found[0]!;
}

describe('the default policy', () => {
  it('parses with zero problems and has the runbook targets', () => {
    const { policy, problems } = parsePolicyText(DEFAULT_POLICY_YAML, '<default policy>');
    expect(problems).toEqual([]);
    expect(policy).toBeDefined();
    const sev = policy!.severities;
    expect(sev.sev1.ack).toMatchObject({ kind: 'wall', ms: 300_000 });
    expect(sev.sev1.mitigate).toMatchObject({ kind: 'wall', ms: 1_800_000 });
    expect(sev.sev2.ack).toMatchObject({ kind: 'wall', ms: 900_000 });
    expect(sev.sev2.mitigate).toMatchObject({ kind: 'wall', ms: 7_200_000 });
    expect(sev.sev3.ack).toMatchObject({ kind: 'wall', ms: 14_400_000 });
    expect(sev.sev3.mitigate).toMatchObject({ kind: 'business', days: 1 });
    expect(policy!.roles.map((r) => r.id)).toEqual(['primary', 'secondary', 'cto']);
    expect(policy!.incidents.reopen_window).toMatchObject({ kind: 'wall', ms: 3_600_000 });
  });

  it('is what loadPolicy returns without a path', () => {
    const policy = loadPolicy({});
    expect(policy.organization.name).toBe('SRE Operations Runbook (Enterprise)');
  });

  it('the small fixture is valid too', () => {
    expect(parsePolicyText(VALID, 'valid.yaml').problems).toEqual([]);
  });
});

describe('problems point at FILE:LINE:COL', () => {
  it('reports a misspelt severity key and a negative target together, each at its own node', () => {
    let text = replaceOnce(VALID, '  sev2:\n    name: Sev-2', '  sevv2:\n    name: Sev-2');
    text = replaceOnce(text, 'ack: 5m', 'ack: -5m');
    const { policy, problems } = parsePolicyText(text, 'bad.yaml');
    expect(policy).toBeUndefined();

    const key = only(problems, 'severities.sevv2');
    expect(posOf(text, 'sevv2:')).toEqual({ line: 18, col: 3 }); // the fixture, counted by hand
    expect(key).toMatchObject({ file: 'bad.yaml', line: 18, col: 3 });
    expect(key.message).toBe('unknown key "sevv2" in severities');
    expect(key.hint).toBe('did you mean "sev2"?');

    const ack = only(problems, 'severities.sev1.ack');
    expect(posOf(text, '-5m')).toEqual({ line: 16, col: 10 });
    expect(ack).toMatchObject({ line: 16, col: 10 });
    expect(ack.message).toMatch(/positive/);

    // The misspelling explains the missing sev2; it is not reported a second time.
    expect(problems).toHaveLength(2);
    expect(formatProblems(problems).split('\n')).toEqual([
      'bad.yaml:16:10: must be positive, got "-5m" (hint: durations count forward from the start; use e.g. "5m")',
      'bad.yaml:18:3: unknown key "sevv2" in severities (hint: did you mean "sev2"?)',
    ]);
  });

  it('reports an unknown route severity with the allowed values', () => {
    const text = replaceOnce(VALID, 'severity: sev2', 'severity: sev4');
    const { problems } = parsePolicyText(text, 'bad.yaml');
    const p = only(problems, 'routes[0].severity');
    expect(p).toMatchObject(posOf(text, 'sev4'));
    expect(p.message).toContain('unknown severity "sev4"');
    expect(p.hint).toContain('allowed values: sev1, sev2, sev3');
  });

  it('suggests the nearest value for a misspelt enum', () => {
    const text = replaceOnce(VALID, '[mon, tue', '[moon, tue');
    const p = only(parsePolicyText(text, 'f').problems, 'calendar.working_days[0]');
    expect(p).toMatchObject(posOf(text, 'moon'));
    expect(p.hint).toMatch(/^did you mean "mon"\? allowed values: mon, tue/);
  });

  it('gives the accepted forms for a bad duration', () => {
    const text = replaceOnce(VALID, 'mitigate: 2h', 'mitigate: 2 hours');
    const p = only(parsePolicyText(text, 'f').problems, 'severities.sev2.mitigate');
    expect(p).toMatchObject(posOf(text, '2 hours'));
    expect(p.hint).toContain('"5m"');
    expect(p.hint).toContain('"1 business day"');
  });

  it('points a missing required key at the map that should hold it', () => {
    const text = replaceOnce(VALID, '    ack: 15m\n', '');
    const p = only(parsePolicyText(text, 'f').problems, 'severities.sev2.ack');
    expect(p.message).toBe('missing required key "ack" in severities.sev2');
    expect(p).toMatchObject(posOf(text, 'sev2:'));
  });

  it('reports every problem, not just the first', () => {
    let text = replaceOnce(VALID, 'organization:', 'organisation:');
    text = replaceOnce(text, 'type: generic', 'type: pagerdty');
    text = replaceOnce(text, 'timezone: UTC', 'timezone: Mars/Base');
    const { problems } = parsePolicyText(text, 'f');
    expect(problems.map((p) => p.path)).toEqual([
      'organisation',
      'calendar.timezone',
      'integrations[0].type',
    ]);
    expect(problems[0]).toMatchObject({ line: 2, col: 1, hint: 'did you mean "organization"?' });
    expect(problems[2]!.hint).toContain('did you mean "pagerduty"?');
  });

  it('maps a YAML syntax error to line:col', () => {
    const text = replaceOnce(VALID, '  working_days: [mon, tue, wed, thu, fri]', '  working_days: [mon, tue');
    const { policy, problems } = parsePolicyText(text, 'broken.yaml');
    expect(policy).toBeUndefined();
    expect(problems.length).toBeGreaterThan(0);
    expect(problems[0]!.message).toMatch(/^YAML syntax error: /);
    expect(problems[0]!.line).toBe(posOf(text, 'hours:').line);

    const tabs = parsePolicyText('version: 1\nroles:\n\t- id: x\n', 'tabs.yaml').problems;
    expect(tabs[0]).toMatchObject({ line: 3, col: 1, hint: 'indent with spaces, not tabs' });
  });

  it('reports an empty file at 1:1', () => {
    const [p] = parsePolicyText('', 'empty.yaml').problems;
    expect(p).toMatchObject({ line: 1, col: 1, path: '' });
  });

  it('rejects an unknown person in a role, at the member, with a suggestion', () => {
    const text = replaceOnce(VALID, 'members: [alice, bob]', 'members: [alice, bobb]');
    const p = only(parsePolicyText(text, 'f').problems, 'roles[0].members[1]');
    expect(p).toMatchObject(posOf(text, 'bobb'));
    expect(p.message).toContain('unknown person "bobb"');
    expect(p.hint).toBe('did you mean "bob"?');
  });

  it('rejects a literal secret, with a hint and without echoing it', () => {
    const text = replaceOnce(VALID, 'secret: ${GENERIC_TOKEN}', 'secret: s3cr3t-value');
    const { problems } = parsePolicyText(text, 'f');
    const p = only(problems, 'integrations[0].secret');
    expect(p).toMatchObject(posOf(text, 's3cr3t-value'));
    expect(p.message).toMatch(/environment variable reference/);
    expect(p.hint).toBe('set the secret in an environment variable and write secret: "${GENERIC_TOKEN}"');
    expect(formatProblems(problems)).not.toContain('s3cr3t-value');
  });
});

describe('loadPolicy', () => {
  it('throws invalid_policy with every problem formatted as FILE:LINE:COL', () => {
    const dir = mkdtempSync(join(tmpdir(), 'guardia-policy-'));
    const file = join(dir, 'guardia.yaml');
    writeFileSync(file, replaceOnce(replaceOnce(VALID, 'ack: 5m', 'ack: -5m'), 'ack: 4h', 'ack: soon'));
    let error: unknown;
    try {
      loadPolicy({ path: file });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(GuardiaError);
    expect((error as GuardiaError).code).toBe('invalid_policy');
    expect((error as GuardiaError).message.split('\n')).toHaveLength(2);
    expect((error as GuardiaError).message).toContain(`${file}:16:10: `);
    expect((error as GuardiaError).message).toContain(`${file}:24:10: `);
    expect((error as GuardiaError).details).toMatchObject({ problems: [{ line: 16 }, { line: 24 }] });
    rmSync(dir, { recursive: true, force: true });
  });

  it('throws invalid_input for a missing file', () => {
    const file = join(tmpdir(), `guardia-does-not-exist-${process.pid}.yaml`);
    expect(() => loadPolicy({ path: file })).toThrowError(`policy file not found: ${file}`);
  });
});

describe('resolveSecret', () => {
  it('reads the variable, treating empty as unset', () => {
    expect(resolveSecret({ env: 'X_TOKEN' }, { X_TOKEN: 'abc' })).toBe('abc');
    expect(resolveSecret({ env: 'X_TOKEN' }, { X_TOKEN: '' })).toBeUndefined();
    expect(resolveSecret({ env: 'X_TOKEN' }, {})).toBeUndefined();
  });
});

describe('nearest', () => {
  it('suggests close keys and stays quiet on ties or far ones', () => {
    expect(nearest('sevv1', ['sev1', 'sev2', 'sev3'])).toBe('sev1');
    expect(nearest('mitigation', ['name', 'description', 'ack', 'mitigate'])).toBe('mitigate');
    expect(nearest('sev4', ['sev1', 'sev2', 'sev3'])).toBeUndefined();
    expect(nearest('banana', ['sev1', 'sev2'])).toBeUndefined();
  });
});

describe('renderPolicyMarkdown', () => {
  const markdown = renderPolicyMarkdown(loadPolicy());

  it('contains the runbook lines', () => {
    expect(markdown).toContain('# SRE Operations Runbook (Enterprise)');
    expect(markdown).toContain(
      '- **Sev-1 (outage/data loss/security incident):** ack <= 5 min, mitigation <= 30 min',
    );
    expect(markdown).toContain('- **Sev-2 (major degradation):** ack <= 15 min, mitigation <= 2 h');
    expect(markdown).toContain('- **Sev-3 (minor degradation):** ack <= 4 h, mitigation <= 1 business day');
    expect(markdown).toContain('- **Primary on-call:** Engineering Lead');
    expect(markdown).toContain('Escalation (CTO/Founder): within 30 minutes for Sev-1 unless mitigated');
    for (const heading of [
      '## Ownership model',
      '## Incident severities and response targets',
      '## Business calendar',
      '## Escalation',
      '## Alert channels',
    ])
      expect(markdown).toContain(`\n${heading}\n`);
  });

  it('is deterministic', () => {
    expect(renderPolicyMarkdown(loadPolicy())).toBe(markdown);
  });

  it('formats durations like the runbook', () => {
    expect(formatDuration({ kind: 'wall', ms: 300_000, text: '5m' })).toBe('5 min');
    expect(formatDuration({ kind: 'wall', ms: 7_200_000, text: '2h' })).toBe('2 h');
    expect(formatDuration({ kind: 'wall', ms: 90 * 60_000, text: '90m' })).toBe('90 min');
    expect(formatDuration({ kind: 'wall', ms: 7 * 86_400_000, text: '7d' })).toBe('7 days');
    expect(formatDuration({ kind: 'business', days: 2, text: '2 business days' })).toBe('2 business days');
  });
});
