/**
 * A dry run of the escalation policy: "who gets paged at 03:00 on Sunday for a Sev-1?". A hypothetical incident
 * starts at a given time; its plan is computed exactly as the engine computes a real one (the same SLA due dates
 * and `planEscalation`), and each step's people are the ones holding the roles at *that step's* due time, since a
 * rotation may hand off mid-incident. Pure: nothing is sent, nothing is stored.
 */
import { planEscalation } from '../escalation/plan.js';
import { resolveSecret } from '../policy/load.js';
import type { ChannelType } from '../policy/notify-schema.js';
import type { Policy, Severity } from '../policy/schema.js';
import { computeDueDates } from '../sla/clocks.js';
import { formatLocal, formatOffset } from './local-time.js';
import { resolveTargetIds, type HoldingSource, type OverrideLike } from './rotation.js';

/** One contact method, in the order the outbox would try them. */
export interface SimulatedContact {
  channel: string;
  /** The channel's type; 'unknown' only if the policy names a channel it does not define. */
  type: ChannelType | 'unknown';
  /** Slack member id or email address this contact reaches; null when the channel has one fixed target. */
  to: string | null;
  /** Whether the channel's secret (webhook URL, SMTP URL…) is set in the environment. */
  configured: boolean;
  /** The environment variable to set when it is not configured (its name only, never a value). */
  missing_secret?: string;
}

export interface SimulatedPage {
  person: { id: string; name: string; language: 'en' | 'es' };
  /** The role through which the person is paged, or 'direct' when the step names the person. */
  via: string;
  source: HoldingSource | 'direct';
  /** First contact first; the rest are the failover chain. Empty: the person cannot be reached. */
  contacts: SimulatedContact[];
}

export interface SimulatedStep {
  index: number;
  due_at: string;
  /** The due time on the policy's wall clock, e.g. "Sun 2026-11-29 03:05 (+00:00)". */
  due_local: string;
  /** "T+5m": time after the incident's start. */
  offset: string;
  offset_ms: number;
  rule: string;
  /** The step is skipped if the incident has reached this state by its due time. */
  unless: 'acknowledged' | 'mitigated' | null;
  notify: string[];
  pages: SimulatedPage[];
  /** Ids nobody would be paged for (unknown, or a role nobody holds then). */
  unresolved: string[];
}

export interface Simulation {
  severity: Severity;
  severity_name: string;
  timezone: string;
  started_at: string;
  ack_due_at: string;
  mitigate_due_at: string;
  steps: SimulatedStep[];
}

/** The escalation a `severity` incident starting at `startedAt` would follow; `env` tells which channels work. */
export function simulateEscalation(
  policy: Policy,
  overrides: readonly OverrideLike[],
  severity: Severity,
  startedAt: Date,
  env: NodeJS.ProcessEnv,
): Simulation {
  const target = policy.severities[severity];
  const { ackDueAt, mitigateDueAt } = computeDueDates(startedAt, target, policy.calendar);
  const incident = {
    severity,
    started_at: startedAt.toISOString(),
    ack_due_at: ackDueAt.toISOString(),
    mitigate_due_at: mitigateDueAt.toISOString(),
  };
  const steps = planEscalation(policy, incident).map((step): SimulatedStep => {
    const due = new Date(step.due_at);
    const { targets, unresolved } = resolveTargetIds(policy, overrides, step.notify, due);
    const pages = targets.map((t): SimulatedPage => {
      const person = policy.people.find((p) => p.id === t.person_id);
      return {
        person: { id: t.person_id, name: person?.name ?? t.person_id, language: person?.language ?? 'en' },
        via: t.via,
        source: t.source,
        contacts: (person?.contacts ?? []).map((c) => describeContact(policy, c, env)),
      };
    });
    return {
      index: step.index,
      due_at: step.due_at,
      due_local: formatLocal(due, policy.calendar.timezone),
      offset: formatOffset(due.getTime() - startedAt.getTime()),
      offset_ms: due.getTime() - startedAt.getTime(),
      rule: step.rule,
      unless: step.unless ?? null,
      notify: step.notify,
      pages,
      unresolved,
    };
  });
  return { ...incident, severity_name: target.name, timezone: policy.calendar.timezone, steps };
}

function describeContact(
  policy: Policy,
  contact: Policy['people'][number]['contacts'][number],
  env: NodeJS.ProcessEnv,
): SimulatedContact {
  const channel = policy.channels[contact.channel];
  const to = contact.slack_user ?? contact.address ?? null;
  if (!channel) return { channel: contact.channel, type: 'unknown', to, configured: false };
  const secret =
    channel.type === 'slack'
      ? channel.webhook_url
      : channel.type === 'email'
        ? channel.smtp_url
        : channel.type === 'webhook'
          ? channel.secret
          : undefined;
  const configured = secret === undefined || resolveSecret(secret, env) !== undefined;
  return {
    channel: contact.channel,
    type: channel.type,
    to,
    configured,
    ...(configured || !secret ? {} : { missing_secret: secret.env }),
  };
}
