/**
 * `guardia verify tenant-indexes` and `guardia verify tenant-performance` — the runbook's `pnpm verify:tenant-indexes`
 * and `pnpm verify:tenant-performance` (with a real `TENANT_ID`), as checks.
 */
import type { CheckDefinition } from '../check.js';
import { VERIFY_TENANT_INDEXES, tenantIndexCheck } from './tenant-indexes.js';
import { VERIFY_TENANT_PERFORMANCE, tenantPerformanceCheck } from './tenant-performance.js';

export { parseExplain, judgePlan, type ExplainAccess } from './explain.js';
export { auditTenantIndexes, suggestIndex } from './tenant-indexes.js';

/** `verify.tenant_indexes`: one finding naming every base table whose tenant column starts no index. */
export const tenantIndexesChecks: CheckDefinition[] = [tenantIndexCheck(VERIFY_TENANT_INDEXES, true)];

/** `verify.tenant_performance`: EXPLAIN of the tenant queries for --tenant; full scans over the threshold fail. */
export const tenantPerformanceChecks: CheckDefinition[] = [tenantPerformanceCheck(VERIFY_TENANT_PERFORMANCE)];
