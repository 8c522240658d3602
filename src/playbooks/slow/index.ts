/** Placeholder until the slow checks land: the playbook framework imports this list. */
import type { CheckDefinition } from '../check.js';

export const slowChecks: CheckDefinition[] = [];
