/**
 * Durations as people write them in the policy: "30s", "5m", "2h", "7d" (wall-clock) or "1 business day"
 * (counted on the policy's business calendar, DESIGN.md §2).
 */
export type PolicyDuration =
  { kind: 'wall'; ms: number; text: string } | { kind: 'business'; days: number; text: string };

const WALL = /^(\d+)\s*(s|m|h|d)$/;
const BUSINESS = /^(\d+)\s*business\s+days?$/;
const UNIT_MS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Parses a duration; returns an error message (with the accepted forms) instead of throwing. */
export function parseDuration(input: string): PolicyDuration | { error: string } {
  const text = input.trim();
  if (/^-/.test(text)) return { error: `must be positive, got "${input}"` };
  const wall = WALL.exec(text);
  if (wall) {
    const ms = Number(wall[1]) * UNIT_MS[wall[2]!]!;
    return { kind: 'wall', ms, text };
  }
  const business = BUSINESS.exec(text);
  if (business) return { kind: 'business', days: Number(business[1]), text };
  return { error: `expected a duration like "5m", "2h", "7d" or "1 business day", got "${input}"` };
}

/** Milliseconds of a wall-clock duration; throws for business durations (they need a calendar). */
export function wallMs(duration: PolicyDuration): number {
  if (duration.kind !== 'wall')
    throw new Error(`"${duration.text}" is measured in business days, not wall-clock time`);
  return duration.ms;
}
