/**
 * Slack through an incoming webhook: one POST of `{ text, blocks }` (Block Kit) per message. The message shows
 * severity and title, status, start, both SLA deadlines, the incident's links, the paged person as a mention, and
 * Acknowledge / Resolve buttons (`action_id` guardia_ack / guardia_resolve, `value` = incident id) that come back
 * through the interactivity endpoint (src/server/routes/slack.ts) when the webhook belongs to a Slack app with
 * Interactivity enabled. The webhook URL is a credential: it comes from the environment and never appears in a
 * result's detail.
 */
import { resolveSecret } from '../domain/policy/load.js';
import type { ChannelSender, DeliveryResult, OutboundMessage } from './channel.js';
import { failure, httpCall, retryAfterMs, retryableStatus, shortBody, urlSecrets } from './http.js';
import {
  introLine,
  isWebUrl,
  languageOf,
  pageReason,
  renderMessage,
  stringsFor,
  truncate,
  oneLine,
} from './messages.js';

/** Button action ids the interactivity endpoint understands. */
export const SLACK_ACK_ACTION = 'guardia_ack';
export const SLACK_RESOLVE_ACTION = 'guardia_resolve';
export const SLACK_OPEN_ACTION = 'guardia_open';

const SEVERITY_EMOJI: Record<string, string> = { sev1: '🔴', sev2: '🟠', sev3: '🟡' };

/** Escapes text for Slack mrkdwn: only &, < and > are special (Slack's own rule). */
export function escapeMrkdwn(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
}

/** A URL inside Slack's `<url|text>` syntax: escaped, and a literal "|" would end the URL early. */
function slackUrl(href: string): string {
  return escapeMrkdwn(href).replaceAll('|', '%7C');
}

/** `<!date^…>`: Slack shows the time in each reader's own time zone; the fallback is the ISO time in UTC. */
function slackDate(isoTime: string): string {
  const ms = new Date(isoTime).getTime();
  if (Number.isNaN(ms)) return escapeMrkdwn(isoTime);
  const fallback = new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
  return `<!date^${Math.floor(ms / 1000)}^{date_short_pretty} {time}|${fallback}>`;
}

/** Slack member ids look like U012AB3CD (or W… on Enterprise Grid); anything else is not mentioned. */
function mention(slackUser: string | undefined): string | undefined {
  return slackUser && /^[UW][A-Z0-9]{2,}$/.test(slackUser) ? `<@${slackUser}>` : undefined;
}

type Block = Record<string, unknown>;

/** The Slack payload for a message (pure; exported for tests and previews). */
export function slackPayload(message: OutboundMessage): { text: string; blocks: Block[] } {
  const language = languageOf(message);
  const s = stringsFor(language);
  const i = message.incident;
  const rendered = renderMessage(message);
  const who = mention(message.recipient?.slack_user);
  const closed = message.kind === 'resolved' || i.status === 'resolved';
  const emoji = closed ? '✅' : (SEVERITY_EMOJI[i.severity] ?? '⚪');

  const reason = pageReason(message);
  const lines = [
    `*<${slackUrl(message.incident_url)}|${escapeMrkdwn(s.incident)} #${i.id}>* — ${escapeMrkdwn(oneLine(i.title))}`,
    escapeMrkdwn(introLine(message)),
    ...(reason ? [`${who ? `${who} ` : ''}${escapeMrkdwn(reason)}`] : []),
  ];
  const blocks: Block[] = [
    {
      type: 'header',
      // plain_text is shown as is (no mrkdwn), so the title is not escaped here, only shortened to Slack's 150.
      text: {
        type: 'plain_text',
        text: truncate(`${emoji} ${i.severity.toUpperCase()} · ${oneLine(i.title)}`, 150),
        emoji: true,
      },
    },
    { type: 'section', text: { type: 'mrkdwn', text: truncate(lines.join('\n'), 3000) } },
    {
      type: 'section',
      fields: [
        {
          type: 'mrkdwn',
          text: `*${escapeMrkdwn(s.status)}*\n${escapeMrkdwn(s.statuses[i.status] ?? i.status)}`,
        },
        { type: 'mrkdwn', text: `*${escapeMrkdwn(s.started)}*\n${slackDate(i.started_at)}` },
        { type: 'mrkdwn', text: `*${escapeMrkdwn(s.ackDue)}*\n${slackDate(i.ack_due_at)}` },
        { type: 'mrkdwn', text: `*${escapeMrkdwn(s.mitigateDue)}*\n${slackDate(i.mitigate_due_at)}` },
      ],
    },
  ];
  const links = i.links.filter((l) => isWebUrl(l.href)).slice(0, 10);
  if (links.length > 0)
    blocks.push({
      type: 'section',
      text: {
        type: 'mrkdwn',
        text: truncate(
          `*${escapeMrkdwn(s.links)}*\n${links.map((l) => `• <${slackUrl(l.href)}|${escapeMrkdwn(oneLine(l.text ?? l.href))}>`).join('\n')}`,
          3000,
        ),
      },
    });

  const buttons: Block[] = [];
  if (!closed && i.status === 'triggered')
    buttons.push({
      type: 'button',
      action_id: SLACK_ACK_ACTION,
      text: { type: 'plain_text', text: s.acknowledge },
      style: 'primary',
      value: String(i.id),
    });
  if (!closed)
    buttons.push({
      type: 'button',
      action_id: SLACK_RESOLVE_ACTION,
      text: { type: 'plain_text', text: s.resolve },
      style: 'danger',
      value: String(i.id),
      confirm: {
        title: {
          type: 'plain_text',
          text: language === 'es' ? '¿Resolver el incidente?' : 'Resolve the incident?',
        },
        text: {
          type: 'plain_text',
          text: truncate(`${s.incident} #${i.id}: ${oneLine(i.title)}`, 300),
        },
        confirm: { type: 'plain_text', text: s.resolve },
        deny: { type: 'plain_text', text: language === 'es' ? 'Cancelar' : 'Cancel' },
      },
    });
  if (isWebUrl(message.incident_url))
    buttons.push({
      type: 'button',
      action_id: SLACK_OPEN_ACTION,
      text: { type: 'plain_text', text: s.openIncident },
      url: message.incident_url,
    });
  if (buttons.length > 0)
    blocks.push({ type: 'actions', block_id: `guardia:incident:${i.id}`, elements: buttons });

  // The fallback text is what notifications show; the mention there is what makes the person's phone ring.
  const text = `${who ? `${who} ` : ''}${escapeMrkdwn(rendered.summaryLine)}`;
  return { text, blocks };
}

export const slackSender: ChannelSender<'slack'> = {
  type: 'slack',
  async send(message, channel, ctx): Promise<DeliveryResult> {
    const url = resolveSecret(channel.webhook_url, ctx.env);
    if (!url)
      return failure(
        false,
        `Slack channel "${ctx.channelName}" is not configured: set ${channel.webhook_url.env} on the Guardia server`,
        [],
      );
    if (!isWebUrl(url))
      return failure(
        false,
        `${channel.webhook_url.env} is not an http(s) URL; expected a Slack incoming-webhook URL`,
        urlSecrets(url),
      );
    const outcome = await httpCall({
      method: 'POST',
      url,
      headers: { 'content-type': 'application/json; charset=utf-8' },
      body: JSON.stringify(slackPayload(message)),
      timeoutMs: ctx.timeoutMs,
    });
    if (outcome.kind === 'network') return failure(true, `Slack webhook: ${outcome.detail}`, urlSecrets(url));
    if (outcome.status >= 200 && outcome.status < 300)
      return {
        ok: true,
        retryable: false,
        status: outcome.status,
        detail: `Slack accepted the message (${outcome.status})`,
      };
    const retryAfter = outcome.headers.get('retry-after');
    const result = failure(
      retryableStatus(outcome.status),
      `Slack answered ${outcome.status}${outcome.text ? ` ${shortBody(outcome.text)}` : ''}${retryAfter ? ` (Retry-After ${shortBody(retryAfter, 20)} s)` : ''}`,
      urlSecrets(url),
      outcome.status,
    );
    const wait = result.retryable ? retryAfterMs(outcome.headers) : undefined;
    return wait === undefined ? result : { ...result, retryAfterMs: wait };
  },
};
