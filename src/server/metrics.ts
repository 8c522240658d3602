/**
 * Prometheus metrics (`GET /metrics`): alerts ingested by integration and outcome, HTTP responses, and
 * incidents by state and severity (read from the store at scrape time, so every instance reports the truth).
 */
import client from 'prom-client';
import type { IngestObserver } from '../services/ingest.js';
import type { Store } from '../store/db.js';
import { countIncidents } from '../store/incidents-repo.js';

export class Metrics implements IngestObserver {
  readonly registry = new client.Registry();
  private readonly ingested: client.Counter<'integration' | 'outcome'>;
  private readonly rejected: client.Counter<'integration' | 'code'>;
  readonly httpResponses: client.Counter<'method' | 'route' | 'status'>;

  private collectingProcessMetrics = false;

  constructor(store: Store) {
    this.ingested = new client.Counter({
      name: 'guardia_alerts_ingested_total',
      help: 'Alerts accepted and durably stored, by integration and outcome',
      labelNames: ['integration', 'outcome'],
      registers: [this.registry],
    });
    this.rejected = new client.Counter({
      name: 'guardia_alerts_rejected_total',
      help: 'Inbound alert requests refused, by integration and error code',
      labelNames: ['integration', 'code'],
      registers: [this.registry],
    });
    this.httpResponses = new client.Counter({
      name: 'guardia_http_responses_total',
      help: 'HTTP responses by method, route pattern and status',
      labelNames: ['method', 'route', 'status'],
      registers: [this.registry],
    });
    new client.Gauge({
      name: 'guardia_incidents',
      help: 'Incidents by status and severity',
      labelNames: ['status', 'severity'],
      registers: [this.registry],
      async collect() {
        this.reset();
        for (const row of await countIncidents(store.db))
          this.set({ status: row.status, severity: row.severity }, row.count);
      },
    });
  }

  /**
   * Adds the process's own metrics (CPU, memory, event-loop lag, GC). Only where `/metrics` is served: the engine
   * thread and one-off CLI commands build the same services, and there nobody would read these while their GC
   * observer and event-loop timer still run.
   */
  collectProcessMetrics(): void {
    if (this.collectingProcessMetrics) return;
    this.collectingProcessMetrics = true;
    client.collectDefaultMetrics({ register: this.registry, prefix: 'guardia_' });
  }

  alertIngested(integration: string, outcome: string): void {
    this.ingested.inc({ integration, outcome });
  }

  alertRejected(integration: string, code: string): void {
    this.rejected.inc({ integration, code });
  }
}
