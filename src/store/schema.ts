/**
 * Table types for Kysely. Timestamps are ISO-8601 UTC strings with milliseconds (fixed width, so they sort and
 * compare as text on every dialect); booleans are 0/1 integers; JSON is text. One representation for SQLite and
 * PostgreSQL keeps a single repository layer and a single test suite for both.
 */
import type { ColumnType, Generated, Insertable, Selectable, Updateable } from 'kysely';

export interface IncidentTable {
  id: Generated<number>;
  title: string;
  severity: string;
  status: string;
  dedup_key: string | null;
  integration: string | null;
  route: string | null;
  source: string | null;
  started_at: string;
  ack_due_at: string;
  mitigate_due_at: string;
  acknowledged_at: string | null;
  acknowledged_by: string | null;
  ack_implied: number;
  mitigated_at: string | null;
  mitigated_by: string | null;
  mitigation_implied: number;
  resolved_at: string | null;
  resolved_by: string | null;
  alert_count: number;
  last_alert_at: string | null;
  reopen_count: number;
  details: string;
  links: string;
  created_at: string;
  updated_at: string;
  /** JSON of the frozen PlannedStep[]; null for incidents opened before the engine existed. */
  escalation_plan: ColumnType<string | null, string | null | undefined, string | null>;
}

export interface IncidentEventTable {
  id: Generated<number>;
  incident_id: number;
  at: string;
  actor: string;
  kind: string;
  message: string;
  data: string;
}

export interface AlertTable {
  id: Generated<number>;
  integration: string;
  dedup_key: string;
  action: string;
  title: string;
  severity: string | null;
  source: string | null;
  received_at: string;
  incident_id: number | null;
  outcome: string;
  delivery_key: string | null;
  payload: string;
}

export interface ApiTokenTable {
  id: Generated<number>;
  name: string;
  role: string;
  token_hash: string;
  created_at: string;
  last_used_at: string | null;
  revoked_at: ColumnType<string | null, string | null | undefined, string | null>;
}

export interface WorkflowRunTable {
  id: Generated<number>;
  repo: string;
  run_id: string;
  run_attempt: number;
  run_number: number | null;
  workflow_path: string;
  workflow_name: string;
  head_branch: string | null;
  head_sha: string | null;
  event: string | null;
  status: string;
  conclusion: string | null;
  html_url: string | null;
  run_started_at: string | null;
  completed_at: string | null;
  source: string;
  recorded_at: string;
}

export interface EvidenceRecordTable {
  id: Generated<number>;
  requirement_id: string;
  period: string;
  status: string;
  summary: string;
  source: string;
  recorded_by: string;
  recorded_at: string;
  links: string;
  data: string;
}

export interface EvidenceAttachmentTable {
  id: Generated<number>;
  record_id: number;
  filename: string;
  content_type: string;
  sha256: string;
  size: number;
  content: Buffer;
}

export interface GateOverrideTable {
  id: Generated<number>;
  reason: string;
  requested_by: string;
  approved_by: string;
  created_at: string;
  expires_at: string;
  revoked_at: string | null;
  revoked_by: string | null;
}

export interface GateDecisionTable {
  id: Generated<number>;
  decided_at: string;
  result: string;
  checks: string;
  override_id: number | null;
  source: string;
  actor: string;
  context: string;
}

export interface AuditLogTable {
  id: Generated<number>;
  at: string;
  actor: string;
  action: string;
  subject: string;
  data: string;
  prev_hash: string;
  hash: string;
}

export interface TimerTable {
  id: Generated<number>;
  kind: string;
  incident_id: number;
  due_at: string;
  payload: string;
  status: string;
  lease_owner: string | null;
  lease_until: string | null;
  fired_at: string | null;
  outcome: string | null;
}

export interface NotificationTable {
  id: Generated<number>;
  incident_id: number;
  kind: string;
  channel: string;
  person_id: string | null;
  contact_index: number;
  payload: string;
  status: string;
  attempts: number;
  next_attempt_at: string;
  lease_owner: string | null;
  lease_until: string | null;
  last_error: string | null;
  created_at: string;
  delivered_at: string | null;
}

export interface ChannelRefTable {
  channel: string;
  key: string;
  ref: string;
  updated_at: string;
}

export interface OnCallOverrideTable {
  id: Generated<number>;
  role: string;
  person_id: string;
  starts_at: string;
  ends_at: string;
  reason: string;
  created_by: string;
  created_at: string;
  cancelled_at: ColumnType<string | null, string | null | undefined, string | null>;
  cancelled_by: ColumnType<string | null, string | null | undefined, string | null>;
}

export interface Database {
  incidents: IncidentTable;
  incident_events: IncidentEventTable;
  alerts: AlertTable;
  api_tokens: ApiTokenTable;
  workflow_runs: WorkflowRunTable;
  evidence_records: EvidenceRecordTable;
  evidence_attachments: EvidenceAttachmentTable;
  gate_overrides: GateOverrideTable;
  gate_decisions: GateDecisionTable;
  audit_log: AuditLogTable;
  timers: TimerTable;
  notifications: NotificationTable;
  channel_refs: ChannelRefTable;
  oncall_overrides: OnCallOverrideTable;
}

export type IncidentRow = Selectable<IncidentTable>;
export type NewIncidentRow = Insertable<IncidentTable>;
export type IncidentUpdate = Updateable<IncidentTable>;
export type IncidentEventRow = Selectable<IncidentEventTable>;
export type AlertRow = Selectable<AlertTable>;
export type ApiTokenRow = Selectable<ApiTokenTable>;
export type WorkflowRunRow = Selectable<WorkflowRunTable>;
export type TimerRow = Selectable<TimerTable>;
export type NotificationRow = Selectable<NotificationTable>;
