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
  return integration.severity_map[key] ?? defaults[key] ?? null;
}
