/**
 * Policy sections for reaching people: channels (how Guardia talks to Slack, email, GitHub Issues, webhooks),
 * each person's contact methods in failover order, and the delivery retry policy.
 */
import { z } from 'zod';
import { durationSchema, id, secretRefSchema } from './schema-parts.js';

/** How one channel is reached. Secrets (webhook URLs, SMTP URLs with passwords, tokens) are env references. */
export const channelSchema = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('slack'),
    /** Incoming-webhook URL; it is a credential, so it comes from the environment. */
    webhook_url: secretRefSchema,
  }),
  z.strictObject({
    type: z.literal('email'),
    /** smtp://user:pass@host:587 or smtps://…; a credential, so it comes from the environment. */
    smtp_url: secretRefSchema,
    from: z.string().min(3),
    /** Fixed recipients (a team list like ops@); people paged through this channel use their own address. */
    to: z.array(z.email()).default([]),
  }),
  z.strictObject({
    type: z.literal('github-issues'),
    /** owner/name; defaults to the policy's github.repo. */
    repo: z
      .string()
      .regex(/^[\w.-]+\/[\w.-]+$/, 'expected "owner/name"')
      .optional(),
    labels: z.array(z.string().min(1)).default(['incident']),
  }),
  z.strictObject({
    type: z.literal('webhook'),
    url: z.url(),
    /** HMAC-SHA256 key; the request carries X-Guardia-Signature: t=<unix>,v1=<hex of hmac(t + "." + body)>. */
    secret: secretRefSchema,
  }),
  z.strictObject({
    /** Pages the on-call people through the escalation policy, each on their own contact methods. */
    type: z.literal('pager'),
  }),
]);
export type ChannelPolicy = z.output<typeof channelSchema>;
export type ChannelType = ChannelPolicy['type'];

/**
 * One way to reach a person, through a channel of the policy (failover goes down the person's list).
 * A slack channel needs `slack_user` (the member id, e.g. U012AB3CD); an email channel needs `address`.
 */
export const contactSchema = z.strictObject({
  channel: id,
  slack_user: z.string().min(1).optional(),
  address: z.email().optional(),
});
export type ContactPolicy = z.output<typeof contactSchema>;

export const deliverySchema = z
  .strictObject({
    /** Attempts on one contact method before failing over to the next. */
    max_attempts: z.number().int().min(1).max(20).default(5),
    /** First retry delay; each next one doubles (with jitter) up to max_backoff. */
    initial_backoff: durationSchema.prefault('10s'),
    max_backoff: durationSchema.prefault('2m'),
    /** A request to a provider that takes longer than this counts as failed. */
    timeout: durationSchema.prefault('10s'),
  })
  .prefault({});
export type DeliveryPolicy = z.output<typeof deliverySchema>;
