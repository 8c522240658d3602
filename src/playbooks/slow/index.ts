/**
 * `guardia diagnose slow` — the runbook's "La app está lenta": MySQL connections, Redis latency/errors, the eviction
 * policy queues need, tenant indexes, tenant query plans for a real TENANT_ID, the heaviest statements, the index
 * migrations (0040, 0041) and the queue backlog. Each check opens its own short-lived connection, so the runner
 * can run them all at once.
 */
import type { CheckDefinition } from '../check.js';
import { tenantIndexCheck } from '../verify/tenant-indexes.js';
import { tenantQueriesCheck } from '../verify/tenant-performance.js';
import { GROUPS } from './common.js';
import { connectionsCheck } from './connections.js';
import { digestsCheck } from './digests.js';
import { migrationsCheck } from './migrations.js';
import { queuesCheck } from './queues.js';
import { errorsCheck } from './redis-errors.js';
import { evictionCheck } from './redis-eviction.js';
import { latencyCheck } from './redis-latency.js';

const tenantIndexes = tenantIndexCheck(
  {
    id: 'slow.tenant_indexes',
    group: GROUPS.indexes,
    title: {
      en: 'Tables with the tenant column are indexed by it',
      es: 'Las tablas con columna de tenant están indexadas por ella',
    },
  },
  false,
);

const tenantQueries = tenantQueriesCheck({
  id: 'slow.tenant_queries',
  group: GROUPS.queries,
  title: { en: 'Tenant query plans (EXPLAIN)', es: 'Planes de las consultas por tenant (EXPLAIN)' },
});

export const slowChecks: CheckDefinition[] = [
  connectionsCheck,
  latencyCheck,
  errorsCheck,
  evictionCheck,
  tenantIndexes,
  tenantQueries,
  digestsCheck,
  migrationsCheck,
  queuesCheck,
];
