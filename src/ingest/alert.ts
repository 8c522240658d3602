/**
 * The normalized alert every ingest adapter produces: one signal from one source, whatever its wire format.
 */
import type { Severity } from '../domain/policy/schema.js';

export type AlertAction = 'trigger' | 'acknowledge' | 'resolve' | 'test';

export interface NormalizedAlert {
  /** Policy integration name the alert came through. */
  integration: string;
  action: AlertAction;
  dedup_key: string;
  title: string;
  /** Mapped severity, or null to let the route decide. */
  severity: Severity | null;
  source: string | null;
  details: Record<string, unknown>;
  links: { href: string; text?: string }[];
  /** When the source says the problem started (defaults to receipt time). */
  occurred_at: Date | null;
  /** Idempotency key of the delivery (e.g. X-GitHub-Delivery); a repeat is answered without a second alert. */
  delivery_key: string | null;
  /** The request body exactly as received, kept with the alert. */
  raw: string;
}

/** What happened to an accepted alert. */
export type IngestOutcome =
  'opened' | 'attached' | 'reopened' | 'acknowledged' | 'resolved' | 'ignored' | 'duplicate' | 'test';

export interface IngestResult {
  alert_id: number | null;
  incident_id: number | null;
  outcome: IngestOutcome;
  dedup_key: string;
}
