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
  | { action: 'delivered' }
  /** `providerWait`: the delay is the provider's (Retry-After, rate-limit reset), longer than our own backoff. */
  | { action: 'retry'; delayMs: number; providerWait?: boolean }
  | { action: 'give_up'; failover: boolean };

/** The longest provider-requested wait honoured (GitHub's hourly limit resets within the hour). */
export const MAX_PROVIDER_WAIT_MS = 3_600_000;

/**
 * What to do after an attempt: deliver, retry later, or give up (and fail over when the person has more contacts).
 * When the provider said how long to wait (`retryAfterMs`: Retry-After, a rate-limit reset), a retry waits at
 * least that long instead of spending attempts on answers known to fail — except that a person with another
 * contact method is not kept waiting longer than `max_backoff` for one provider: they fail over at once.
 */
export function afterAttempt(
  result: { ok: boolean; retryable: boolean; retryAfterMs?: number },
  attempts: number,
  policy: DeliveryPolicy,
  hasNextContact: boolean,
  random?: () => number,
): AttemptOutcome {
  if (result.ok) return { action: 'delivered' };
  if (result.retryable && attempts < policy.max_attempts) {
    const backoff = retryDelayMs(policy, attempts, random);
    const wait = result.retryAfterMs;
    if (wait === undefined || !(wait > backoff)) return { action: 'retry', delayMs: backoff };
    if (hasNextContact && wait > wallMs(policy.max_backoff)) return { action: 'give_up', failover: true };
    return { action: 'retry', delayMs: Math.min(Math.ceil(wait), MAX_PROVIDER_WAIT_MS), providerWait: true };
  }
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
