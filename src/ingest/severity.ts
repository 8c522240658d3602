/**
 * Mapping a source's severity words to Guardia's severities: the integration's `severity_map` in the policy
 * first, then the adapter's defaults. Unknown words map to null so the route's default severity applies.
 */
import type { IntegrationPolicy, Severity } from '../domain/policy/schema.js';
import { SEVERITIES } from '../domain/policy/schema.js';

export function mapSeverity(
  word: string | null | undefined,
  integration: IntegrationPolicy,
  defaults: Record<string, Severity>,
): Severity | null {
  if (word === null || word === undefined) return null;
  const key = word.toLowerCase();
  if ((SEVERITIES as readonly string[]).includes(key)) return key as Severity;
  // Own keys only: a sender's "__proto__" or "constructor" must not find Object.prototype's members.
  const own = (map: Record<string, Severity>) => (Object.hasOwn(map, key) ? map[key] : undefined);
  return own(integration.severity_map) ?? own(defaults) ?? null;
}
