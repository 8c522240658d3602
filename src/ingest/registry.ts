/**
 * Inbound adapters by policy integration type. Adding a provider: one file in src/ingest/, one line here,
 * and its type in the policy schema's INTEGRATION_TYPES.
 */
import type { IngestAdapter } from './adapter.js';
import { alertmanagerAdapter } from './alertmanager.js';
import { genericAdapter } from './generic.js';
import { sentryAdapter } from './sentry.js';
import { sentryLegacyAdapter } from './sentry-legacy.js';
import { grafanaAdapter } from './grafana.js';
import { githubAdapter } from './github.js';
import { uptimeKumaAdapter } from './uptime-kuma.js';
import { uptimeRobotAdapter } from './uptimerobot.js';
import { betterStackAdapter } from './betterstack.js';

const ADAPTERS: Record<string, IngestAdapter> = {
  [alertmanagerAdapter.type]: alertmanagerAdapter,
  [genericAdapter.type]: genericAdapter,
  [sentryAdapter.type]: sentryAdapter,
  [sentryLegacyAdapter.type]: sentryLegacyAdapter,
  [grafanaAdapter.type]: grafanaAdapter,
  [githubAdapter.type]: githubAdapter,
  [uptimeKumaAdapter.type]: uptimeKumaAdapter,
  [uptimeRobotAdapter.type]: uptimeRobotAdapter,
  [betterStackAdapter.type]: betterStackAdapter,
};

/** The adapter for a `/hooks/{name}` integration type; `pagerduty` is served by its own compatible route. */
export function adapterFor(type: string): IngestAdapter | undefined {
  return ADAPTERS[type];
}
