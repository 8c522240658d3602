/**
 * Generic outbound webhook: POST JSON `{ kind, incident, recipient, step, incident_url }` (plus `breach` for SLA
 * breaches), signed so the receiver can trust it and refuse replays:
 *
 *   X-Guardia-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, t + "." + raw body)>
 *   X-Guardia-Event: <kind>
 *
 * Receivers verify with `verifyGuardiaSignature` (or the same three lines in any language) and should refuse a
 * timestamp more than five minutes from their clock.
 */
import crypto from 'node:crypto';
import { resolveSecret } from '../domain/policy/load.js';
import type { ChannelSender, DeliveryResult, OutboundMessage } from './channel.js';
import { failure, httpCall, retryableStatus, shortBody, urlSecrets } from './http.js';

/** The JSON body a webhook receives. */
export function webhookBody(message: OutboundMessage): string {
  return JSON.stringify({
    kind: message.kind,
    incident: message.incident,
    recipient: message.recipient,
    step: message.step ?? null,
    ...(message.breach ? { breach: message.breach } : {}),
    incident_url: message.incident_url,
  });
}

/** The value of X-Guardia-Signature for a body sent at `unixSeconds`. */
export function guardiaSignature(secret: string, unixSeconds: number, rawBody: string | Buffer): string {
  const mac = crypto.createHmac('sha256', secret).update(`${unixSeconds}.`).update(rawBody).digest('hex');
  return `t=${unixSeconds},v1=${mac}`;
}

/**
 * Verifies X-Guardia-Signature over the raw body: the HMAC must match (constant-time) and `t` must be within
 * `toleranceSec` of `now`. Several `v1=` values are accepted (one per secret during a rotation).
 */
export function verifyGuardiaSignature(
  rawBody: string | Buffer,
  header: string | undefined,
  secret: string,
  now: Date | number,
  toleranceSec = 300,
): boolean {
  if (!header) return false;
  let t: number | undefined;
  const candidates: string[] = [];
  for (const part of header.split(',')) {
    const [name, value] = part.trim().split('=', 2);
    if (name === 't' && value && /^\d{1,12}$/.test(value)) t = Number(value);
    else if (name === 'v1' && value && /^[0-9a-f]{64}$/i.test(value)) candidates.push(value.toLowerCase());
  }
  if (t === undefined || candidates.length === 0) return false;
  const nowSec = (typeof now === 'number' ? now : now.getTime()) / 1000;
  if (Math.abs(nowSec - t) > toleranceSec) return false;
  const expected = Buffer.from(guardiaSignature(secret, t, rawBody).split('v1=')[1]!, 'hex');
  return candidates.some((c) => crypto.timingSafeEqual(Buffer.from(c, 'hex'), expected));
}

export const webhookSender: ChannelSender<'webhook'> = {
  type: 'webhook',
  async send(message, channel, ctx): Promise<DeliveryResult> {
    const secret = resolveSecret(channel.secret, ctx.env);
    if (!secret)
      return failure(
        false,
        `webhook channel "${ctx.channelName}" is not configured: set ${channel.secret.env} (the signing secret) on the Guardia server`,
        [],
      );
    const body = webhookBody(message);
    // The signature's timestamp is the real time of transmission: replay protection is about wall time.
    const t = Math.floor(Date.now() / 1000);
    const outcome = await httpCall({
      method: 'POST',
      url: channel.url,
      headers: {
        'content-type': 'application/json; charset=utf-8',
        'user-agent': 'guardia',
        'x-guardia-event': message.kind,
        'x-guardia-signature': guardiaSignature(secret, t, body),
      },
      body,
      timeoutMs: ctx.timeoutMs,
    });
    // The URL may carry a token in its path or query string: it is treated as a secret too.
    const secrets = [secret, ...urlSecrets(channel.url)];
    if (outcome.kind === 'network')
      return failure(true, `webhook "${ctx.channelName}": ${outcome.detail}`, secrets);
    if (outcome.status >= 200 && outcome.status < 300)
      return {
        ok: true,
        retryable: false,
        status: outcome.status,
        detail: `webhook "${ctx.channelName}" answered ${outcome.status}`,
      };
    return failure(
      retryableStatus(outcome.status),
      `webhook "${ctx.channelName}" answered ${outcome.status}${outcome.text ? ` ${shortBody(outcome.text)}` : ''}`,
      secrets,
      outcome.status,
    );
  },
};
