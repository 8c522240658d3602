/**
 * Delivery decisions for the outbox, as pure functions: when to retry, when to give up on a contact method and
 * fail over to the next one, and who is the "next level" when an SLA clock is breached.
 */
import type { DeliveryPolicy } from '../policy/notify-schema.js';
import { wallMs } from '../policy/duration.js';
import type { Policy } from '../policy/schema.js';

/** Delay before retry number `attempt` (1-based count of attempts made): exponential, capped, with ±20 % jitter. */
export function retryDelayMs(
  policy: DeliveryPolicy,
  attempt: number,
  random: () => number = Math.random,
): number {
  const base = Math.min(
    wallMs(policy.initial_backoff) * 2 ** Math.max(0, attempt - 1),
    wallMs(policy.max_backoff),
  );
  // Jitter spreads retries of many messages so a recovering provider is not hit by all of them at once.
  return Math.round(base * (0.8 + 0.4 * random()));
}

export type AttemptOutcome =
  { action: 'delivered' } | { action: 'retry'; delayMs: number } | { action: 'give_up'; failover: boolean };

/** What to do after an attempt: deliver, retry later, or give up (and fail over when the person has more contacts). */
export function afterAttempt(
  result: { ok: boolean; retryable: boolean },
  attempts: number,
  policy: DeliveryPolicy,
  hasNextContact: boolean,
  random?: () => number,
): AttemptOutcome {
  if (result.ok) return { action: 'delivered' };
  if (result.retryable && attempts < policy.max_attempts)
    return { action: 'retry', delayMs: retryDelayMs(policy, attempts, random) };
  return { action: 'give_up', failover: hasNextContact };
}

/**
 * The role to page when an SLA clock is breached and the frozen plan has nothing left to do: the first role,
 * in the policy's order, after the highest role already paged. Undefined when everyone has been paged.
 */
export function nextLevelRole(policy: Policy, pagedRoles: string[]): string | undefined {
  const order = policy.roles.map((r) => r.id);
  const highest = Math.max(-1, ...pagedRoles.map((r) => order.indexOf(r)));
  return order[highest + 1];
}
