/**
 * Test policies for the fault tests: the built-in default policy (the runbook) with a few textual edits, parsed
 * and validated like a policy file, so every test says exactly what it changed.
 */
import { DEFAULT_POLICY_YAML } from '../../src/domain/policy/default-policy.js';
import { formatProblems, parsePolicyText } from '../../src/domain/policy/load.js';
import type { Policy } from '../../src/domain/policy/schema.js';

/** The default policy with each `[from, to]` replaced exactly once. */
export function editedPolicy(edits: [string, string][]): Policy {
  let text = DEFAULT_POLICY_YAML;
  for (const [from, to] of edits) {
    const at = text.indexOf(from);
    if (at < 0 || text.indexOf(from, at + 1) >= 0)
      throw new Error(`policy edit does not match exactly once: ${JSON.stringify(from)}`);
    text = text.slice(0, at) + to + text.slice(at + from.length);
  }
  const { policy, problems } = parsePolicyText(text, '<chaos test policy>');
  if (!policy) throw new Error(formatProblems(problems));
  return policy;
}

/** eng-lead: email first, then Slack (the default has Slack first). */
export const LEAD_EMAIL_FIRST: [string, string] = [
  '      - { channel: slack, slack_user: U0000LEAD }\n      - { channel: email, address: eng-lead@example.com }',
  '      - { channel: email, address: eng-lead@example.com }\n      - { channel: slack, slack_user: U0000LEAD }',
];

/** sre: email first, then Slack. */
export const SRE_EMAIL_FIRST: [string, string] = [
  '      - { channel: slack, slack_user: U00000SRE }\n      - { channel: email, address: sre@example.com }',
  '      - { channel: email, address: sre@example.com }\n      - { channel: slack, slack_user: U00000SRE }',
];

/** Both the Engineering Lead and the SRE hold the primary role (both are paged at T+0). */
export const PRIMARY_LEAD_AND_SRE: [string, string] = [
  '    description: Engineering Lead\n    members: [eng-lead]',
  '    description: Engineering Lead\n    members: [eng-lead, sre]',
];

export const delivery = (maxAttempts: number, timeout: string): [string, string] => [
  'delivery:\n  max_attempts: 5\n  initial_backoff: 10s\n  max_backoff: 2m\n  timeout: 10s',
  `delivery:\n  max_attempts: ${maxAttempts}\n  initial_backoff: 10s\n  max_backoff: 2m\n  timeout: ${timeout}`,
];

/** GitHub at a local stand-in, for repository acme/app. */
export const githubAt = (apiUrl: string): [string, string][] => [
  [
    '  api_url: https://api.github.com\n  # repo: your-org/your-app',
    `  api_url: ${apiUrl}\n  repo: acme/app`,
  ],
];

/** Generic alerts go to the GitHub Issues channel (and page nobody). */
export const GENERIC_TO_ISSUES: [string, string] = [
  'routes:\n  - name: backup-smoke',
  'routes:\n  - name: chaos-issues\n    match:\n      integration: generic\n    default_severity: sev2\n    notify: [issue-tracker]\n    auto_resolve: true\n  - name: backup-smoke',
];
