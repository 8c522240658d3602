/** Placeholder until the errors checks land: the playbook framework imports this list. */
import type { CheckDefinition } from '../check.js';

export const errorsChecks: CheckDefinition[] = [];
