/**
 * How a gate decision reads: one line per check for people, a Markdown table for CI job summaries
 * (`$GITHUB_STEP_SUMMARY`), and the ≤ 1024-character comment GitHub shows on a deployment protection rule.
 * Pure and dependency-free on purpose: `guardia gate --server` imports it and must start fast.
 */

/** The decision as the API returns it (`GET /api/v1/gate`) and the service produces it. */
export interface GateDecisionView {
  result: 'pass' | 'blocked' | 'overridden';
  evaluated_at: string;
  decision_id?: number;
  checks: { id: string; title: string; status: 'pass' | 'fail'; reason: string; link?: string }[];
  override?: { id: number; reason: string; requested_by: string; approved_by: string; expires_at: string };
}

const HEADLINE: Record<GateDecisionView['result'], string> = {
  pass: 'PASS',
  blocked: 'BLOCKED',
  overridden: 'OVERRIDDEN',
};

/** Absolute link for an API path when the server's base URL is known. */
function absolute(link: string | undefined, baseUrl?: string): string | undefined {
  if (!link) return undefined;
  if (/^https?:\/\//i.test(link) || !baseUrl) return link;
  return baseUrl.replace(/\/+$/, '') + link;
}

function failing(d: GateDecisionView): number {
  return d.checks.filter((c) => c.status === 'fail').length;
}

function overrideLine(o: NonNullable<GateDecisionView['override']>): string {
  return `override #${o.id} requested by ${o.requested_by}, approved by ${o.approved_by}, expires ${o.expires_at}: ${o.reason}`;
}

/** Plain text for a terminal: a headline, then ✓/✗ per check with its reason and link. */
export function formatGateText(d: GateDecisionView, baseUrl?: string): string {
  const n = failing(d);
  const lines = [
    `Release gate: ${HEADLINE[d.result]}` +
      (n > 0 ? ` (${n} of ${d.checks.length} checks fail)` : ` (${d.checks.length} checks)`) +
      `  at ${d.evaluated_at}`,
  ];
  for (const c of d.checks) {
    lines.push(`  ${c.status === 'pass' ? '✓' : '✗'} ${c.title}: ${c.reason}`);
    const link = absolute(c.link, baseUrl);
    if (link) lines.push(`      ${link}`);
  }
  if (d.override) lines.push(`  ! ${overrideLine(d.override)}`);
  return lines.join('\n') + '\n';
}

/** Escapes text for a Markdown table cell. */
function cell(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

/** A Markdown section for a CI job summary: headline, then a table of checks with links. */
export function formatGateMarkdown(d: GateDecisionView, baseUrl?: string): string {
  const icon = d.result === 'pass' ? '✅' : d.result === 'blocked' ? '❌' : '⚠️';
  const out = [`### ${icon} Release gate: ${d.result}`, ''];
  if (d.override) out.push(`> **Overridden:** ${cell(overrideLine(d.override))}`, '');
  out.push('| | Check | Reason | Evidence |', '|---|---|---|---|');
  for (const c of d.checks) {
    const link = absolute(c.link, baseUrl);
    out.push(
      `| ${c.status === 'pass' ? '✅' : '❌'} | ${cell(c.title)} | ${cell(c.reason)} | ${link ? `[link](${link.replace(/\)/g, '%29')})` : ''} |`,
    );
  }
  out.push('', `_Evaluated at ${d.evaluated_at}${d.decision_id ? ` (decision ${d.decision_id})` : ''}._`, '');
  return out.join('\n');
}

/** GitHub's limit on a deployment protection rule comment. */
export const GITHUB_COMMENT_LIMIT = 1024;

/** The comment posted with a deployment review: the result and every check's reason, cut to GitHub's limit. */
export function formatGateComment(d: GateDecisionView, limit = GITHUB_COMMENT_LIMIT): string {
  const lines = [`Guardia release gate: ${d.result}`];
  if (d.override) lines.push(`Overridden: ${overrideLine(d.override)}`);
  // Failing checks first, so a cut never hides why the deployment was rejected.
  const ordered = [
    ...d.checks.filter((c) => c.status === 'fail'),
    ...d.checks.filter((c) => c.status === 'pass'),
  ];
  for (const c of ordered) lines.push(`${c.status === 'pass' ? '✓' : '✗'} ${c.title}: ${c.reason}`);
  const text = lines.join('\n');
  return text.length <= limit ? text : text.slice(0, limit - 1) + '…';
}
