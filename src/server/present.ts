/**
 * The API's JSON shapes (snake_case, DESIGN.md §4). Presenting is kept apart from storing so the wire contract
 * changes only on purpose.
 */
import { slaClocks } from '../domain/incidents/incident.js';
import type { Incident, TimelineEvent } from '../store/incidents-repo.js';

export function presentIncident(incident: Incident, now: Date) {
  return {
    id: incident.id,
    title: incident.title,
    severity: incident.severity,
    status: incident.status,
    dedup_key: incident.dedup_key,
    integration: incident.integration,
    route: incident.route,
    source: incident.source,
    started_at: incident.started_at,
    ack_due_at: incident.ack_due_at,
    mitigate_due_at: incident.mitigate_due_at,
    acknowledged_at: incident.acknowledged_at,
    acknowledged_by: incident.acknowledged_by,
    ack_implied: incident.ack_implied,
    mitigated_at: incident.mitigated_at,
    mitigated_by: incident.mitigated_by,
    mitigation_implied: incident.mitigation_implied,
    resolved_at: incident.resolved_at,
    resolved_by: incident.resolved_by,
    alert_count: incident.alert_count,
    last_alert_at: incident.last_alert_at,
    reopen_count: incident.reopen_count,
    sla: slaClocks(incident, now),
    details: incident.details,
    links: incident.links,
  };
}

export type PresentedIncident = ReturnType<typeof presentIncident>;

export function presentTimeline(events: TimelineEvent[]) {
  return events.map((e) => ({
    id: e.id,
    at: e.at,
    actor: e.actor,
    kind: e.kind,
    message: e.message,
    data: e.data,
  }));
}
