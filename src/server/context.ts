/**
 * The services one Guardia process runs with, built once from (store, policy, clock) and shared by the HTTP
 * server and the CLI so both take the same code paths.
 */
import crypto from 'node:crypto';
import type { Policy } from '../domain/policy/schema.js';
import { AuditLog } from '../services/audit.js';
import { IncidentService } from '../services/incidents.js';
import { IngestService } from '../services/ingest.js';
import { TokenService } from '../services/tokens.js';
import type { Clock } from '../shared/clock.js';
import type { Store } from '../store/db.js';
import { Metrics } from './metrics.js';

export interface AppServices {
  store: Store;
  policy: Policy;
  clock: Clock;
  env: NodeJS.ProcessEnv;
  settings: ServiceSettings;
  audit: AuditLog;
  incidents: IncidentService;
  ingest: IngestService;
  tokens: TokenService;
  metrics: Metrics;
}

export interface ServiceSettings {
  /** Signs links (email acknowledge links) and cookies. */
  secretKey: string;
  /** Base URL people use to reach this Guardia, for links in messages. */
  publicUrl: string;
}

export function createServices(
  store: Store,
  policy: Policy,
  clock: Clock,
  env: NodeJS.ProcessEnv = process.env,
  settings: Partial<ServiceSettings> = {},
): AppServices {
  const metrics = new Metrics(store);
  return {
    store,
    policy,
    clock,
    env,
    settings: {
      // Without a configured key (tests, one-off CLI runs) a random one is used: links then die with the process.
      secretKey: settings.secretKey ?? crypto.randomBytes(32).toString('base64url'),
      publicUrl: (settings.publicUrl ?? 'http://127.0.0.1:8080').replace(/\/+$/, ''),
    },
    metrics,
    audit: new AuditLog(store, clock),
    incidents: new IncidentService(store, policy, clock),
    ingest: new IngestService(store, policy, clock, metrics),
    tokens: new TokenService(store, clock),
  };
}
