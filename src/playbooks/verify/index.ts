/** Placeholder until the verify checks land: the playbook framework imports these lists. */
import type { CheckDefinition } from '../check.js';

export const tenantIndexesChecks: CheckDefinition[] = [];
export const tenantPerformanceChecks: CheckDefinition[] = [];
