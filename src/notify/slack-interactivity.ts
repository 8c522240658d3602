/**
 * Slack interactivity (the Acknowledge / Resolve buttons coming back): request signing (v0) and the
 * block_actions payload. Pure functions of (raw body, headers, secret, now); the route in
 * src/server/routes/slack.ts does the I/O.
 *
 * Signing (https://api.slack.com/authentication/verifying-requests-from-slack):
 *   X-Slack-Signature = "v0=" + hex HMAC-SHA256(signing secret, "v0:" + X-Slack-Request-Timestamp + ":" + raw body)
 * and the timestamp must be within five minutes of now, so a captured request cannot be replayed later.
 */
import crypto from 'node:crypto';
import { z } from 'zod';
import { SLACK_ACK_ACTION, SLACK_RESOLVE_ACTION } from './slack.js';

/** Slack's replay window. */
export const SLACK_MAX_SKEW_SECONDS = 300;

/** The X-Slack-Signature value for a request. */
export function slackSignature(signingSecret: string, timestamp: string, rawBody: string | Buffer): string {
  return `v0=${crypto.createHmac('sha256', signingSecret).update(`v0:${timestamp}:`).update(rawBody).digest('hex')}`;
}

export type SlackVerification = { ok: true } | { ok: false; reason: string };

/** Verifies a Slack request over its raw bytes: timestamp window first, then the signature in constant time. */
export function verifySlackRequest(
  rawBody: Buffer | string,
  timestamp: string | undefined,
  signature: string | undefined,
  signingSecret: string,
  now: Date,
): SlackVerification {
  if (!timestamp || !signature)
    return { ok: false, reason: 'missing X-Slack-Request-Timestamp or X-Slack-Signature header' };
  if (!/^\d{1,12}$/.test(timestamp))
    return { ok: false, reason: 'X-Slack-Request-Timestamp is not a unix time' };
  const skew = Math.abs(now.getTime() / 1000 - Number(timestamp));
  if (skew > SLACK_MAX_SKEW_SECONDS)
    return {
      ok: false,
      reason: `X-Slack-Request-Timestamp is ${Math.round(skew)} s away from this server's clock (more than ${SLACK_MAX_SKEW_SECONDS} s): stale or replayed request`,
    };
  const expected = Buffer.from(slackSignature(signingSecret, timestamp, rawBody));
  const given = Buffer.from(signature);
  if (given.length !== expected.length || !crypto.timingSafeEqual(given, expected))
    return { ok: false, reason: 'X-Slack-Signature does not match (check SLACK_SIGNING_SECRET)' };
  return { ok: true };
}

const blockActionsSchema = z.object({
  type: z.literal('block_actions'),
  user: z.object({ id: z.string().min(1), name: z.string().optional(), username: z.string().optional() }),
  actions: z
    .array(
      z.object({
        action_id: z.string(),
        value: z.string().optional(),
        action_ts: z.string().optional(),
      }),
    )
    .min(1),
  container: z.object({ message_ts: z.string().optional() }).optional(),
});

export type SlackCommand = { action: 'acknowledge' | 'resolve'; incidentId: number };

export type SlackInteraction =
  /** A payload this endpoint does not act on (another app's button, a URL button, a modal): answer 200. */
  { kind: 'ignored'; reason: string } | { kind: 'action'; slackUser: string; command: SlackCommand };

/** Parses the form-encoded body (`payload=<json>`) into the one action Guardia acts on. Throws on malformed input. */
export function parseSlackInteraction(rawBody: Buffer | string): SlackInteraction {
  const form = new URLSearchParams(rawBody.toString());
  const payload = form.get('payload');
  if (payload === null)
    throw new SyntaxError('expected a form body with a "payload" field (Slack interactivity)');
  let json: unknown;
  try {
    json = JSON.parse(payload);
  } catch {
    throw new SyntaxError('"payload" is not valid JSON');
  }
  const type = (json as { type?: unknown } | null)?.type;
  if (type !== 'block_actions')
    return { kind: 'ignored', reason: `payload type ${String(type)} is not handled` };
  const parsed = blockActionsSchema.safeParse(json);
  if (!parsed.success)
    throw new SyntaxError(
      `block_actions payload is malformed: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(payload)'}: ${i.message}`).join('; ')}`,
    );
  // Slack sends one action per button press.
  const action = parsed.data.actions[0]!;
  const kind =
    action.action_id === SLACK_ACK_ACTION
      ? 'acknowledge'
      : action.action_id === SLACK_RESOLVE_ACTION
        ? 'resolve'
        : undefined;
  if (!kind) return { kind: 'ignored', reason: `action ${action.action_id} is not a Guardia action` };
  const id = action.value !== undefined && /^\d{1,15}$/.test(action.value) ? Number(action.value) : NaN;
  if (!Number.isSafeInteger(id) || id <= 0)
    throw new SyntaxError(
      `action ${action.action_id}: value must be the incident id, got ${JSON.stringify(action.value)}`,
    );
  return { kind: 'action', slackUser: parsed.data.user.id, command: { action: kind, incidentId: id } };
}
