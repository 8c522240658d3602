/**
 * Which sender delivers each channel type. Adding a provider is one file in src/notify/ and one line here.
 * `pager` has no sender of its own: it fans out to the on-call people, each on their own contact channels.
 */
import type { ChannelType } from '../domain/policy/notify-schema.js';
import type { ChannelSender } from './channel.js';
import { emailSender } from './email.js';
import { githubIssuesSender } from './github-issues.js';
import { slackSender } from './slack.js';
import { webhookSender } from './webhook.js';

const SENDERS: { [T in ChannelType]?: ChannelSender<T> } = {
  slack: slackSender,
  email: emailSender,
  'github-issues': githubIssuesSender,
  webhook: webhookSender,
};

/** The sender for a channel type, or undefined for types delivered otherwise (pager). */
export function senderFor<T extends ChannelType>(type: T): ChannelSender<T> | undefined {
  return SENDERS[type] as ChannelSender<T> | undefined;
}
