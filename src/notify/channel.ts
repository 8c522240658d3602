/**
 * The contract every outbound channel implements (one file per provider in src/notify/, registered in
 * registry.ts). The engine's outbox calls `send` for one message to one recipient or team channel, records the
 * result on the incident's timeline, retries retryable failures with backoff and fails over to the person's
 * next contact when a channel's attempts are spent. A sender never throws for a delivery failure: it returns
 * `{ ok: false, retryable, detail }` so the failure is visible.
 */
import type { ChannelPolicy } from '../domain/policy/notify-schema.js';
import type { Policy } from '../domain/policy/schema.js';

/** Why a message is sent. */
export type MessageKind =
  /** an escalation step pages a person */
  | 'page'
  /** a new incident on a route channel (team email, issue tracker) */
  | 'opened'
  /** a resolved incident fired again */
  | 'reopened'
  /** another alert joined an open incident (issue trackers comment; people are not paged again) */
  | 'attached'
  /** an SLA clock was breached */
  | 'breach'
  | 'resolved';

/** The incident as a message shows it. */
export interface MessageIncident {
  id: number;
  title: string;
  severity: string;
  status: string;
  started_at: string;
  ack_due_at: string;
  mitigate_due_at: string;
  dedup_key: string | null;
  route: string | null;
  alert_count: number;
  links: { href: string; text?: string }[];
  details: Record<string, unknown>;
}

export interface Recipient {
  person_id: string;
  name: string;
  language: 'en' | 'es';
  slack_user?: string;
  address?: string;
}

export interface OutboundMessage {
  kind: MessageKind;
  incident: MessageIncident;
  /** The person being paged; null for a team channel (ops email list, issue tracker). */
  recipient: Recipient | null;
  /** Language for team channels and people without one. */
  language: 'en' | 'es';
  /** For pages: which step of the escalation and for which roles. */
  step?: { index: number; roles: string[] };
  /** For kind "breach": which clock. */
  breach?: 'ack' | 'mitigate';
  /** A signed, expiring one-click acknowledge link (email pages). */
  ack_url?: string;
  /** Where a person can see the incident. */
  incident_url: string;
}

/** Remembers provider objects per incident key (e.g. the GitHub issue number for a failing workflow). */
export interface ExternalRefs {
  get(channel: string, key: string): Promise<string | undefined>;
  set(channel: string, key: string, ref: string): Promise<void>;
  /** Forgets a ref (the GitHub issue was closed), so the next failure opens a new one. */
  delete(channel: string, key: string): Promise<void>;
}

export interface DeliveryContext {
  /** Name of the channel in the policy (for refs and messages). */
  channelName: string;
  policy: Policy;
  env: NodeJS.ProcessEnv;
  timeoutMs: number;
  refs: ExternalRefs;
}

export interface DeliveryResult {
  ok: boolean;
  /** Worth trying again later (network error, 429, 5xx); false for a misconfiguration or a 4xx refusal. */
  retryable: boolean;
  /** HTTP status or SMTP code when there was one. */
  status?: number;
  /** One line for the timeline: what happened, never a secret. */
  detail: string;
  /** The provider said how long to wait before trying again (Retry-After, a rate-limit reset), in ms. */
  retryAfterMs?: number;
}

export interface ChannelSender<T extends ChannelPolicy['type'] = ChannelPolicy['type']> {
  type: T;
  send(
    message: OutboundMessage,
    channel: Extract<ChannelPolicy, { type: T }>,
    ctx: DeliveryContext,
  ): Promise<DeliveryResult>;
}
