/**
 * Email over SMTP (nodemailer): a text and an HTML part rendered by messages.ts, in the reader's language. Pages go
 * to the paged person's own address and carry the signed one-click acknowledge link when the engine made one;
 * team messages (opened, resolved, …) go to the channel's fixed `to` list. The SMTP URL holds the password, so it
 * comes from the environment and is scrubbed from every detail. SMTP 4xx replies and connection failures are worth
 * retrying; 5xx replies are permanent (RFC 5321).
 */
import nodemailer from 'nodemailer';
import { resolveSecret } from '../domain/policy/load.js';
import type { ChannelSender, DeliveryResult } from './channel.js';
import { failure, shortBody } from './http.js';
import { oneLine, renderMessage } from './messages.js';

type Transport = ReturnType<typeof nodemailer.createTransport>;

/** One transport per (SMTP URL, timeout): nodemailer parses the URL once and reuses its settings. */
const transports = new Map<string, Transport>();

function transportFor(smtpUrl: string, timeoutMs: number): Transport {
  const key = `${timeoutMs}\u0000${smtpUrl}`;
  let transport = transports.get(key);
  if (!transport) {
    transport = nodemailer.createTransport({
      url: smtpUrl,
      connectionTimeout: timeoutMs,
      greetingTimeout: timeoutMs,
      socketTimeout: timeoutMs,
    });
    transports.set(key, transport);
  }
  return transport;
}

/** Closes cached SMTP transports (shutdown, tests). */
export function closeEmailTransports(): void {
  for (const transport of transports.values()) transport.close();
  transports.clear();
}

/** A bare mailbox: no spaces, brackets, quotes, commas, colons or semicolons that could start another address. */
const MAILBOX = /^[^\s@<>()",;:\\[\]]+@[^\s@<>()",;:\\[\]]+$/;

/**
 * Parses "Name <addr@x>" or "addr@x" after removing CR/LF. Anything else is refused rather than handed to the
 * address parser, where a stray "Bcc: x@y" would become an extra recipient.
 */
export function parseMailbox(raw: string): { name?: string; address: string } | undefined {
  const text = oneLine(raw);
  if (MAILBOX.test(text)) return { address: text };
  const match = /^(.*?)\s*<([^<>]+)>$/.exec(text);
  if (!match || !MAILBOX.test(match[2]!)) return undefined;
  const name = match[1]!.replace(/^"(.*)"$/, '$1').trim();
  return name ? { name, address: match[2]! } : { address: match[2]! };
}

/** SMTP codes and nodemailer codes that no retry will fix. */
const PERMANENT_CODES = new Set([
  'EENVELOPE',
  'ENOAUTH',
  'ECONFIG',
  'EREQUIRETLS',
  'EMAXRECIPIENTS',
  'EMESSAGE',
]);

export const emailSender: ChannelSender<'email'> = {
  type: 'email',
  async send(message, channel, ctx): Promise<DeliveryResult> {
    const smtpUrl = resolveSecret(channel.smtp_url, ctx.env);
    if (!smtpUrl)
      return failure(
        false,
        `email channel "${ctx.channelName}" is not configured: set ${channel.smtp_url.env} on the Guardia server`,
        [],
      );
    const secrets = smtpSecrets(smtpUrl);
    const from = parseMailbox(channel.from);
    if (!from)
      return failure(
        false,
        `email channel "${ctx.channelName}": "from" is not an address like "Guardia <guardia@example.com>"`,
        [],
      );

    const wanted = message.recipient
      ? message.recipient.address
        ? [message.recipient.address]
        : []
      : channel.to;
    if (wanted.length === 0)
      return failure(
        false,
        message.recipient
          ? `${message.recipient.name} has no email address for channel "${ctx.channelName}"`
          : `email channel "${ctx.channelName}" has no "to" addresses for team messages`,
        [],
      );
    const to = wanted.map((a) => parseMailbox(a));
    if (to.some((a) => a === undefined))
      return failure(
        false,
        `refused a recipient address that is not a single mailbox: ${wanted.map(oneLine).join(', ')}`,
        [],
      );
    const recipients = to.map((a) => a!.address);

    const rendered = renderMessage(message, { timeZone: ctx.policy.calendar.timezone });
    try {
      const info = await transportFor(smtpUrl, ctx.timeoutMs).sendMail({
        from,
        to: recipients,
        // The envelope is explicit: recipients come from these checked addresses only, never from header parsing.
        envelope: { from: from.address, to: recipients },
        subject: rendered.subject,
        text: rendered.text,
        html: rendered.html,
        headers: {
          'X-Guardia-Incident': String(message.incident.id),
          'X-Guardia-Event': message.kind,
          // Vacation responders and ticket systems must not answer a page (RFC 3834).
          'Auto-Submitted': 'auto-generated',
        },
      });
      const rejected = (info.rejected ?? []).map(String);
      const reply = shortBody(String(info.response ?? ''), 100);
      return {
        ok: true,
        retryable: false,
        status: Number.parseInt(reply, 10) || 250,
        detail: `SMTP server accepted the message for ${recipients.filter((r) => !rejected.includes(r)).join(', ')}${rejected.length ? ` (rejected: ${rejected.join(', ')})` : ''}`,
      };
    } catch (err) {
      const e = err as {
        code?: string;
        responseCode?: number;
        response?: string;
        permanent?: boolean;
        message?: string;
      };
      if (typeof e.responseCode === 'number' && e.responseCode >= 400) {
        const permanent = e.permanent ?? (e.responseCode >= 500 && e.responseCode !== 503);
        return failure(
          !permanent,
          `SMTP server refused: ${shortBody(e.response ?? e.message ?? String(e.responseCode))}`,
          secrets,
          e.responseCode,
        );
      }
      const code = e.code ?? 'error';
      return failure(
        !PERMANENT_CODES.has(code),
        `SMTP ${code}: ${shortBody(e.message ?? String(err))}`,
        secrets,
      );
    }
  },
};

/** The URL, its password (raw and decoded) and user:password, so none of them can leak into a detail. */
function smtpSecrets(smtpUrl: string): string[] {
  const out = [smtpUrl];
  try {
    const url = new URL(smtpUrl);
    if (url.password) out.push(url.password, decodeURIComponent(url.password));
  } catch {
    // not a URL: only the whole string is a secret
  }
  return out;
}
