/**
 * Outbound messages for channel tests: a sev1 page to the Engineering Lead, with overrides.
 */
import type { MessageIncident, OutboundMessage } from '../../src/notify/channel.js';

export function sampleIncident(overrides: Partial<MessageIncident> = {}): MessageIncident {
  return {
    id: 12,
    title: 'Checkout returns 500',
    severity: 'sev1',
    status: 'triggered',
    started_at: '2026-11-27T10:00:00.000Z',
    ack_due_at: '2026-11-27T10:05:00.000Z',
    mitigate_due_at: '2026-11-27T10:30:00.000Z',
    dedup_key: 'checkout-500',
    route: 'uptime',
    alert_count: 1,
    links: [{ href: 'https://status.example.com/checkout', text: 'Status page' }],
    details: {},
    ...overrides,
  };
}

export function samplePage(overrides: Partial<OutboundMessage> = {}): OutboundMessage {
  return {
    kind: 'page',
    incident: sampleIncident(),
    recipient: {
      person_id: 'eng-lead',
      name: 'Engineering Lead',
      language: 'en',
      slack_user: 'U0000LEAD',
      address: 'eng-lead@example.com',
    },
    language: 'en',
    step: { index: 1, roles: ['secondary'] },
    incident_url: 'http://127.0.0.1:8080/incidents/12',
    ...overrides,
  };
}
