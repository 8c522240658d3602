/**
 * Routing: which policy route an alert takes, and so its severity and who hears about it. Pure: the first route
 * whose `match` fits the alert wins (like Alertmanager's routing tree flattened to one level).
 */
import type { Policy, RoutePolicy, Severity } from '../policy/schema.js';

export interface RoutableAlert {
  integration: string;
  dedup_key: string;
  /** The severity the source asked for, already mapped to sev1/2/3 by its adapter; null when it gave none. */
  severity: Severity | null;
}

export interface RouteDecision {
  route: RoutePolicy;
  severity: Severity;
}

/** Picks the first matching route; a policy always ends in a catch-all, else the last route is used. */
export function routeAlert(policy: Policy, alert: RoutableAlert): RouteDecision {
  const route = policy.routes.find((r) => matches(r, alert)) ?? policy.routes[policy.routes.length - 1]!;
  return { route, severity: route.severity ?? alert.severity ?? route.default_severity };
}

function matches(route: RoutePolicy, alert: RoutableAlert): boolean {
  const { integration, dedup_key_prefix, dedup_key, severity } = route.match;
  if (integration !== undefined && !asList(integration).includes(alert.integration)) return false;
  if (dedup_key_prefix !== undefined && !alert.dedup_key.startsWith(dedup_key_prefix)) return false;
  if (dedup_key !== undefined && !globToRegExp(dedup_key).test(alert.dedup_key)) return false;
  if (severity !== undefined && (alert.severity === null || !asList(severity).includes(alert.severity)))
    return false;
  return true;
}

function asList<T>(value: T | T[]): T[] {
  return Array.isArray(value) ? value : [value];
}

/** "*" matches any run of characters; everything else is literal. */
function globToRegExp(glob: string): RegExp {
  const escaped = glob.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'));
  return new RegExp(`^${escaped.join('.*')}$`);
}
