/**
 * The policy as the runbook people read: Markdown generated from the policy, structured like the seed runbook.
 * The output depends only on the policy (no clock, no environment), so it can be committed and diffed.
 */
import type { PolicyDuration } from './duration.js';
import { RUNBOOK_PLAYBOOKS } from './playbook-runbook.js';
import { SEVERITIES, type EscalationStep, type Policy, type Severity } from './schema.js';

const WEEKDAY_NAMES: Record<string, string> = {
  mon: 'Mon',
  tue: 'Tue',
  wed: 'Wed',
  thu: 'Thu',
  fri: 'Fri',
  sat: 'Sat',
  sun: 'Sun',
};

const UNITS = [
  { ms: 86_400_000, short: 'd', long: 'day' },
  { ms: 3_600_000, short: 'h', long: 'hour' },
  { ms: 60_000, short: 'min', long: 'minute' },
  { ms: 1_000, short: 's', long: 'second' },
] as const;

/** A duration as the runbook writes it: "5 min", "2 h", "1 business day". */
export function formatDuration(duration: PolicyDuration): string {
  if (duration.kind === 'business') return `${duration.days} business ${plural(duration.days, 'day')}`;
  if (duration.ms === 0) return '0 min';
  const unit = UNITS.find((u) => duration.ms % u.ms === 0);
  if (!unit) return `${duration.ms} ms`;
  const n = duration.ms / unit.ms;
  return unit.short === 'd' ? `${n} ${plural(n, 'day')}` : `${n} ${unit.short}`;
}

/** A duration in words: "30 minutes", "2 hours", "1 business day". */
export function formatDurationLong(duration: PolicyDuration): string {
  if (duration.kind === 'business') return `${duration.days} business ${plural(duration.days, 'day')}`;
  const unit = UNITS.find((u) => duration.ms % u.ms === 0);
  if (!unit) return `${duration.ms} milliseconds`;
  const n = duration.ms / unit.ms;
  return `${n} ${plural(n, unit.long)}`;
}

export function renderPolicyMarkdown(policy: Policy): string {
  const lines: string[] = [];
  const section = (title: string): void => {
    if (lines.length > 0) lines.push('');
    lines.push(`## ${title}`);
  };

  lines.push(`# ${policy.organization.name}`);

  section('Ownership model');
  for (const role of policy.roles) {
    const names = role.members.map((id) => personName(policy, id));
    const description = role.description ?? '';
    const unlisted = names.filter((n) => !description.includes(n));
    const rotation = policy.rotations.find((r) => r.role === role.id);
    const membersText =
      names.length === 0
        ? rotation
          ? ''
          : 'no members yet'
        : unlisted.length > 0
          ? `members: ${names.join(', ')}`
          : '';
    // The rotation is part of the ownership model people read, so the rendered runbook states it too.
    const rotationText = rotation
      ? `${rotation.type} rotation ${rotation.members.map((id) => personName(policy, id)).join(' → ')}, hand-off ${rotation.handoff} ${policy.calendar.timezone}, from ${rotation.start}`
      : '';
    const body = [description, membersText, rotationText].filter(Boolean).join('; ');
    lines.push(`- **${role.name}:** ${body}`);
  }
  const paging = escalationSummary(policy);
  if (paging.length > 0) {
    lines.push('', 'Who is paged, and when (from the escalation plan below):');
    lines.push(...paging.map((line) => `- ${line}`));
  }

  section('Incident severities and response targets');
  for (const sev of SEVERITIES) {
    const target = policy.severities[sev];
    const label = target.description ? `${target.name} (${target.description})` : target.name;
    lines.push(
      `- **${label}:** ack <= ${formatDuration(target.ack)}, mitigation <= ${formatDuration(target.mitigate)}`,
    );
  }
  lines.push(
    '',
    'Clocks start when the incident starts. A resolved incident that fires again within ' +
      `${formatDuration(policy.incidents.reopen_window)} is reopened instead of opening a new one.`,
  );

  section('Business calendar');
  const cal = policy.calendar;
  lines.push(`- Time zone: ${cal.timezone}`);
  lines.push(`- Working days: ${cal.working_days.map((d) => WEEKDAY_NAMES[d] ?? d).join(', ')}`);
  lines.push(`- Business hours: ${cal.hours.start}-${cal.hours.end}`);
  lines.push(`- Holidays: ${cal.holidays.length > 0 ? [...cal.holidays].sort().join(', ') : 'none'}`);

  section('Escalation');
  lines.push("Measured from the incident's start.");
  for (const sev of SEVERITIES) {
    lines.push('', `### ${policy.severities[sev].name}`);
    policy.escalation[sev].forEach((step, i) => {
      const unless = step.unless ? `, unless ${step.unless}` : '';
      lines.push(
        `${i + 1}. ${stepWhen(policy, sev, step)}: notify ${step.notify.map((t) => who(policy, t)).join(', ')}${unless}`,
      );
    });
  }

  section('Alert channels');
  if (policy.integrations.length > 0) {
    lines.push('Integrations (inbound webhooks):');
    for (const integration of policy.integrations) {
      const description = integration.description ? `: ${integration.description}` : '';
      lines.push(
        `- **${integration.name}** (${integration.type})${description}. ` +
          `\`POST /hooks/${integration.name}\`, secret in \`$${integration.secret.env}\``,
      );
    }
    lines.push('');
  }
  lines.push('Routes (the first route that matches an alert decides):');
  policy.routes.forEach((route, i) => {
    const match = describeMatch(policy, route.match);
    const severity = route.severity
      ? `severity ${severityName(policy, route.severity)}`
      : `severity from the alert, else ${severityName(policy, route.default_severity)}`;
    const notify = route.notify.length > 0 ? route.notify.join(', ') : 'no channel';
    const resolve = route.auto_resolve ? 'resolves with the source' : 'resolved by hand';
    const description = route.description ? ` (${route.description})` : '';
    lines.push(`${i + 1}. **${route.name}**${description}: ${match} -> ${notify}; ${severity}; ${resolve}`);
  });

  section('Playbooks');
  lines.push(...renderPlaybooks(policy));

  return lines.join('\n') + '\n';
}

function plural(n: number, word: string): string {
  return n === 1 ? word : `${word}s`;
}

function personName(policy: Policy, id: string): string {
  return policy.people.find((p) => p.id === id)?.name ?? id;
}

function severityName(policy: Policy, sev: Severity): string {
  return policy.severities[sev].name;
}

/** A notify target in words: a role with its members, or a person. */
function who(policy: Policy, target: string): string {
  const role = policy.roles.find((r) => r.id === target);
  if (!role) return personName(policy, target);
  const names = role.members.map((id) => personName(policy, id));
  return names.length > 0 ? `${role.name} (${names.join(', ')})` : role.name;
}

function stepWhen(policy: Policy, sev: Severity, step: EscalationStep): string {
  const target = policy.severities[sev];
  if (step.after === 'ack_target') return `After the ack target (${formatDuration(target.ack)})`;
  if (step.after === 'mitigate_target')
    return `After the mitigation target (${formatDuration(target.mitigate)})`;
  const isZero = step.after.kind === 'wall' ? step.after.ms === 0 : step.after.days === 0;
  return isZero ? 'At start' : `After ${formatDuration(step.after)}`;
}

function stepWithin(policy: Policy, sev: Severity, step: EscalationStep): string | undefined {
  const target = policy.severities[sev];
  const after =
    step.after === 'ack_target'
      ? target.ack
      : step.after === 'mitigate_target'
        ? target.mitigate
        : step.after;
  const isZero = after.kind === 'wall' ? after.ms === 0 : after.days === 0;
  return isZero ? undefined : formatDurationLong(after);
}

/**
 * One line per role or person that is paged, e.g. "Escalation (CTO/Founder): within 30 minutes for Sev-1 unless
 * mitigated", derived from the escalation steps.
 */
function escalationSummary(policy: Policy): string[] {
  const byTarget = new Map<string, { immediate: string[]; later: string[] }>();
  for (const sev of SEVERITIES) {
    const sevName = severityName(policy, sev);
    for (const step of policy.escalation[sev]) {
      const within = stepWithin(policy, sev, step);
      for (const target of step.notify) {
        const entry = byTarget.get(target) ?? { immediate: [], later: [] };
        byTarget.set(target, entry);
        if (within === undefined) entry.immediate.push(sevName);
        else
          entry.later.push(`within ${within} for ${sevName}${step.unless ? ` unless ${step.unless}` : ''}`);
      }
    }
  }
  return [...byTarget.entries()].map(([target, { immediate, later }]) => {
    const parts = [...(immediate.length > 0 ? [`at once for ${joinWords(immediate)}`] : []), ...later];
    return `${who(policy, target)}: ${parts.join('; ')}`;
  });
}

function joinWords(words: string[]): string {
  if (words.length <= 1) return words.join('');
  return `${words.slice(0, -1).join(', ')} and ${words[words.length - 1]}`;
}

function describeMatch(policy: Policy, match: Policy['routes'][number]['match']): string {
  const parts: string[] = [];
  if (match.integration !== undefined) {
    const names = Array.isArray(match.integration) ? match.integration : [match.integration];
    parts.push(`alerts from ${names.join(' or ')}`);
  }
  if (match.severity !== undefined) {
    const sevs = Array.isArray(match.severity) ? match.severity : [match.severity];
    parts.push(`with severity ${sevs.map((s) => severityName(policy, s)).join(' or ')}`);
  }
  if (match.dedup_key_prefix !== undefined)
    parts.push(`with a dedup key starting "${match.dedup_key_prefix}"`);
  return parts.length === 0 ? 'all alerts' : parts.join(', ');
}

/** The runbook's incident playbooks in its words, with the commands and the policy's thresholds and targets. */
function renderPlaybooks(policy: Policy): string[] {
  const p = policy.playbooks;
  const t = p.thresholds;
  const migrations = p.index_migrations.map((m) => `\`${m}\``).join(', ') || '(none)';
  const lines: string[] = [];
  for (const playbook of Object.values(RUNBOOK_PLAYBOOKS)) {
    lines.push('', `### Incident playbook: "${playbook.title}" (\`${playbook.command}\`)`, '', 'Síntomas:');
    lines.push(...playbook.symptoms.map((s) => `- ${s}`));
    lines.push('', `${playbook.diagnosisHeading}:`);
    lines.push(
      ...playbook.diagnosis.map((d, i) => `${i + 1}. ${d.replace('{index_migrations}', migrations)}`),
    );
    lines.push('', 'Mitigación:');
    lines.push(...playbook.mitigation.map((m) => `- ${m}`));
  }
  const percent = (ratio: number) => `${Math.round(ratio * 1000) / 10} %`;
  lines.push(
    '',
    'Thresholds:',
    `- MySQL connections (Threads_connected / max_connections): warn at ${percent(t.connections_warn)}, fail at ${percent(t.connections_fail)}`,
    `- Redis PING p99: warn at ${t.redis_ping_warn_ms} ms, fail at ${t.redis_ping_fail_ms} ms`,
    `- A per-tenant query plan with a full scan over more than ${t.full_scan_rows} rows fails`,
    `- Index migrations that must be applied: ${migrations} (recorded in \`${p.migrations_table.table}.${p.migrations_table.column}\`)`,
    `- Tables with a \`${p.tenant_column}\` column need an index that starts with it`,
    `- Queue backlog: warn above ${t.queue_waiting_warn} waiting jobs, or any failed job` +
      (p.queues.length > 0 ? ` (queues ${p.queues.join(', ')}, prefix \`${p.queue_prefix}\`)` : ''),
    `- \`diagnose errors\` reads the last ${formatDurationLong(p.errors_window)} of logs`,
  );
  const targets = Object.entries(p.targets)
    .filter(([, v]) => v !== undefined && !(Array.isArray(v) && v.length === 0))
    .map(([k]) => `\`${k}\``);
  lines.push(
    '',
    targets.length > 0
      ? `Targets configured: ${targets.join(', ')}.`
      : 'No targets configured yet (`playbooks.targets`): every check skips and says which key or flag to set.',
  );
  if (p.tenant_queries.length > 0)
    lines.push(`Per-tenant queries explained: ${p.tenant_queries.map((q) => q.name).join(', ')}.`);
  return lines;
}
