/**
 * The policy: the runbook as data (`guardia.yaml`). Validated with zod; every section belongs to one domain.
 * Later capabilities (notifications, evidence, playbooks) add their sections here.
 */
import { z } from 'zod';
import { evidenceSchema, gateSchema, githubSchema } from './evidence-schema.js';
import { channelSchema, contactSchema, deliverySchema } from './notify-schema.js';
import { checkRotations, rotationsSchema } from './oncall-schema.js';
import { playbooksSchema } from './playbook-schema.js';
import {
  durationSchema,
  id,
  ONE_HOUR,
  positiveDurationSchema,
  secretRefSchema,
  SEVERITIES,
  severitySchema,
  wallDurationSchema,
} from './schema-parts.js';

export { SEVERITIES, severitySchema, durationSchema, secretRefSchema } from './schema-parts.js';
export type { Severity, SecretRef } from './schema-parts.js';
import type { Severity } from './schema-parts.js';
import { showValue } from '../../shared/validate.js';

const personSchema = z.strictObject({
  id,
  name: z.string().min(1),
  /** Messages to this person are written in this language (the runbook is bilingual). */
  language: z.enum(['en', 'es']).default('en'),
  /** How to reach this person, in failover order (Slack first, then email, …). */
  contacts: z.array(contactSchema).default([]),
});
export type PersonPolicy = z.output<typeof personSchema>;

const roleSchema = z.strictObject({
  id,
  name: z.string().min(1),
  description: z.string().optional(),
  members: z.array(id).default([]),
});

const severityTargetSchema = z.strictObject({
  name: z.string().min(1),
  description: z.string().optional(),
  ack: positiveDurationSchema,
  mitigate: positiveDurationSchema,
});

const weekday = z.enum(['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun']);
const clockTime = z
  .string()
  .regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'expected a 24-hour time "HH:MM", e.g. "09:00"');

export const calendarSchema = z
  .strictObject({
    timezone: z
      .string()
      .refine(isValidTimeZone, 'expected an IANA time zone such as "Europe/Madrid" or "UTC"'),
    working_days: z.array(weekday).min(1, 'at least one working day is needed'),
    hours: z.strictObject({ start: clockTime, end: clockTime }),
    holidays: z.array(z.iso.date({ error: 'expected a date "YYYY-MM-DD"' })).default([]),
  })
  .refine((c) => c.hours.start < c.hours.end, {
    message: 'business hours must start before they end',
    path: ['hours', 'end'],
  });
export type BusinessCalendar = z.output<typeof calendarSchema>;

/** When an escalation step fires, measured from the incident's start. */
const stepAfterSchema = z.union([z.literal('ack_target'), z.literal('mitigate_target'), durationSchema]);

const escalationStepSchema = z.strictObject({
  after: stepAfterSchema,
  notify: z.array(id).min(1, 'name at least one role or person to notify'),
  unless: z.enum(['acknowledged', 'mitigated']).optional(),
});
export type EscalationStep = z.output<typeof escalationStepSchema>;

export const INTEGRATION_TYPES = [
  'generic',
  'pagerduty',
  'sentry',
  'sentry-legacy',
  'uptime-kuma',
  'uptimerobot',
  'betterstack',
  'github',
  'alertmanager',
  'grafana',
] as const;
export type IntegrationType = (typeof INTEGRATION_TYPES)[number];

/** GitHub Actions: which workflows page when they fail, and which are kept as evidence. */
const githubWorkflowsSchema = z.strictObject({
  /** A failed run raises an alert; the next successful run resolves it. File names or workflow names. */
  alert_on_failure: z.array(z.string().min(1)).default(['backup-restore-smoke.yml']),
  /** Every completed run is stored as a workflow-run record for the evidence ledger and the gate. */
  record: z.array(z.string().min(1)).default(['Test/Build', 'Real DB parity', 'backup-restore-smoke.yml']),
});
const integrationSchema = z.strictObject({
  name: id,
  type: z.enum(INTEGRATION_TYPES, {
    error: (issue) =>
      `unknown integration type ${showValue(issue.input)}; expected one of ${INTEGRATION_TYPES.join(', ')}`,
  }),
  secret: secretRefSchema,
  description: z.string().optional(),
  /** Maps the source's own severity words (e.g. "critical", "warning") to sev1/2/3; adapters have defaults. */
  severity_map: z.record(z.string(), severitySchema).default({}),
  /** type github only. */
  workflows: githubWorkflowsSchema.optional(),
});
export type IntegrationPolicy = z.output<typeof integrationSchema>;

const routeSchema = z.strictObject({
  name: id,
  description: z.string().optional(),
  match: z
    .strictObject({
      integration: z.union([id, z.array(id)]).optional(),
      dedup_key_prefix: z.string().optional(),
      /** A glob over the dedup key: "*" matches any run of characters, e.g. "gh:*backup-restore-smoke.yml*". */
      dedup_key: z.string().min(1).optional(),
      severity: z.union([severitySchema, z.array(severitySchema)]).optional(),
    })
    .default({}),
  /** Forces a severity; otherwise the alert's own (mapped) severity, else `default_severity`. */
  severity: severitySchema.optional(),
  default_severity: severitySchema.default('sev2'),
  /** Channel names, delivered by the notifications capability. */
  notify: z.array(z.string().min(1)).default([]),
  /** Whether a resolve signal from the source resolves the incident, or only the alert. */
  auto_resolve: z.boolean().default(true),
});
export type RoutePolicy = z.output<typeof routeSchema>;

export const policySchema = z
  .strictObject({
    version: z.literal(1, { error: 'expected "version: 1"' }),
    organization: z.strictObject({ name: z.string().min(1) }).default({ name: 'Guardia' }),
    people: z.array(personSchema).default([]),
    roles: z.array(roleSchema).min(1, 'at least one on-call role is needed'),
    rotations: rotationsSchema,
    severities: z.strictObject({
      sev1: severityTargetSchema,
      sev2: severityTargetSchema,
      sev3: severityTargetSchema,
    }),
    calendar: calendarSchema,
    escalation: z.strictObject({
      sev1: z.array(escalationStepSchema).min(1),
      sev2: z.array(escalationStepSchema).min(1),
      sev3: z.array(escalationStepSchema).min(1),
    }),
    incidents: z
      .strictObject({ reopen_window: wallDurationSchema.default(ONE_HOUR) })
      .default({ reopen_window: ONE_HOUR }),
    integrations: z.array(integrationSchema).default([]),
    channels: z.record(id, channelSchema).default({}),
    delivery: deliverySchema,
    routes: z
      .array(routeSchema)
      .min(1, 'at least one route is needed; the last one usually matches everything'),
    evidence: evidenceSchema,
    gate: gateSchema,
    github: githubSchema,
    playbooks: playbooksSchema,
  })
  .superRefine((policy, ctx) => {
    const people = new Set(policy.people.map((p) => p.id));
    const roles = new Set(policy.roles.map((r) => r.id));
    uniqueIds(policy.people, 'people', ctx);
    uniqueIds(policy.roles, 'roles', ctx);
    checkRotations(policy, ctx);
    uniqueIds(
      policy.integrations.map((i) => ({ id: i.name })),
      'integrations',
      ctx,
      'name',
    );
    uniqueIds(
      policy.routes.map((r) => ({ id: r.name })),
      'routes',
      ctx,
      'name',
    );
    policy.roles.forEach((role, r) =>
      role.members.forEach((member, m) => {
        if (!people.has(member))
          ctx.addIssue({
            code: 'custom',
            path: ['roles', r, 'members', m],
            message: `unknown person "${member}"; add it under "people" or use one of: ${[...people].join(', ') || '(none)'}`,
          });
      }),
    );
    for (const sev of SEVERITIES) {
      policy.escalation[sev].forEach((step, s) => {
        if (typeof step.after === 'object' && step.after.kind === 'business')
          ctx.addIssue({
            code: 'custom',
            path: ['escalation', sev, s, 'after'],
            message: 'escalation steps wait wall-clock time ("30m"), not business days',
          });
      });
      policy.escalation[sev].forEach((step, s) =>
        step.notify.forEach((target, t) => {
          if (!roles.has(target) && !people.has(target))
            ctx.addIssue({
              code: 'custom',
              path: ['escalation', sev, s, 'notify', t],
              message: `unknown role or person "${target}"; roles: ${[...roles].join(', ')}`,
            });
        }),
      );
    }
    policy.integrations.forEach((integration, i) => {
      if (integration.workflows && integration.type !== 'github')
        ctx.addIssue({
          code: 'custom',
          path: ['integrations', i, 'workflows'],
          message: `"workflows" applies to github integrations only, not ${integration.type}`,
        });
    });
    const channels = policy.channels;
    policy.people.forEach((person, p) =>
      person.contacts.forEach((contact, c) => {
        const channel = channels[contact.channel];
        if (!channel)
          ctx.addIssue({
            code: 'custom',
            path: ['people', p, 'contacts', c, 'channel'],
            message: `unknown channel "${contact.channel}"; channels: ${Object.keys(channels).join(', ') || '(none)'}`,
          });
        else if (channel.type === 'slack' && !contact.slack_user)
          ctx.addIssue({
            code: 'custom',
            path: ['people', p, 'contacts', c],
            message: `channel "${contact.channel}" is Slack: add slack_user (the member id, e.g. U012AB3CD)`,
          });
        else if (channel.type === 'email' && !contact.address)
          ctx.addIssue({
            code: 'custom',
            path: ['people', p, 'contacts', c],
            message: `channel "${contact.channel}" is email: add address`,
          });
        else if (channel.type === 'pager' || channel.type === 'github-issues')
          ctx.addIssue({
            code: 'custom',
            path: ['people', p, 'contacts', c, 'channel'],
            message: `channel "${contact.channel}" is ${channel.type}; a person is reached through slack, email or webhook channels`,
          });
      }),
    );
    policy.routes.forEach((route, r) =>
      route.notify.forEach((name, n) => {
        if (!channels[name])
          ctx.addIssue({
            code: 'custom',
            path: ['routes', r, 'notify', n],
            message: `unknown channel "${name}"; channels: ${Object.keys(channels).join(', ') || '(none)'}`,
          });
      }),
    );
    const integrations = new Set(policy.integrations.map((i) => i.name));
    policy.routes.forEach((route, r) => {
      const named = route.match.integration;
      for (const name of named === undefined ? [] : Array.isArray(named) ? named : [named]) {
        if (!integrations.has(name))
          ctx.addIssue({
            code: 'custom',
            path: ['routes', r, 'match', 'integration'],
            message: `unknown integration "${name}"; integrations: ${[...integrations].join(', ') || '(none)'}`,
          });
      }
    });
  });

export type Policy = z.output<typeof policySchema>;
export type SeverityTarget = Policy['severities'][Severity];

function uniqueIds(
  items: { id: string }[],
  section: string,
  ctx: z.RefinementCtx,
  field: 'id' | 'name' = 'id',
): void {
  const seen = new Set<string>();
  items.forEach((item, i) => {
    if (seen.has(item.id))
      ctx.addIssue({ code: 'custom', path: [section, i, field], message: `duplicate ${field} "${item.id}"` });
    seen.add(item.id);
  });
}

function isValidTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}
