/** Placeholder until the login checks land: the playbook framework imports this list. */
import type { CheckDefinition } from '../check.js';

export const loginChecks: CheckDefinition[] = [];
