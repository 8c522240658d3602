/**
 * The services one Guardia process runs with, built once from (store, policy, clock) and shared by the HTTP
 * server and the CLI so both take the same code paths.
 */
import crypto from 'node:crypto';
import type { Policy } from '../domain/policy/schema.js';
import { EscalationScheduler } from '../engine/scheduler.js';
import { AuditLog } from '../services/audit.js';
import { DeploymentReviewService } from '../services/deployment-review.js';
import { EvidenceService } from '../services/evidence.js';
import { GateService } from '../services/gate.js';
import { IncidentService } from '../services/incidents.js';
import { IngestService } from '../services/ingest.js';
import { OnCallService } from '../services/oncall.js';
import { PlaybookService } from '../services/playbooks.js';
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
  /** Writes escalation timers and outbox messages with each incident change; the engine executes them. */
  scheduler: EscalationScheduler;
  incidents: IncidentService;
  ingest: IngestService;
  tokens: TokenService;
  metrics: Metrics;
  gate: GateService;
  deploymentReviews: DeploymentReviewService;
  evidence: EvidenceService;
  oncall: OnCallService;
  /** Playbook findings and RCAs on incidents. */
  playbooks: PlaybookService;
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
  const scheduler = new EscalationScheduler(policy);
  const audit = new AuditLog(store, clock);
  const gate = new GateService(store, policy, clock, audit);
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
    audit,
    gate,
    deploymentReviews: new DeploymentReviewService(gate, audit, policy, env),
    evidence: new EvidenceService(store, policy, clock, audit, env),
    scheduler,
    incidents: new IncidentService(store, policy, clock, scheduler),
    ingest: new IngestService(store, policy, clock, metrics, scheduler),
    tokens: new TokenService(store, clock),
    oncall: new OnCallService(store, policy, clock, audit),
    playbooks: new PlaybookService(store, clock),
  };
}
