/**
 * Policy building blocks shared by every section: severities, durations, secret references.
 * Kept apart from schema.ts so section files can use them without a circular import.
 */
import { z } from 'zod';
import { parseDuration, type PolicyDuration } from './duration.js';
import { showValue } from '../../shared/validate.js';

export const SEVERITIES = ['sev1', 'sev2', 'sev3'] as const;
export type Severity = (typeof SEVERITIES)[number];
export const severitySchema = z.enum(SEVERITIES, {
  error: (issue) => `unknown severity ${showValue(issue.input)}; expected one of ${SEVERITIES.join(', ')}`,
});

export const id = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_-]*$/, 'expected a lowercase id (letters, digits, "-" and "_"), e.g. "eng-lead"');

/** A duration string, parsed at validation time so a bad value points at its own line. */
export const durationSchema = z.string().transform((text, ctx): PolicyDuration => {
  const parsed = parseDuration(text);
  if ('error' in parsed) {
    ctx.addIssue({ code: 'custom', message: parsed.error });
    return z.NEVER;
  }
  return parsed;
});

export type WallDuration = Extract<PolicyDuration, { kind: 'wall' }>;
/** A duration that must be wall-clock time (business days make no sense there). */
export const wallDurationSchema = durationSchema.transform((d, ctx): WallDuration => {
  if (d.kind === 'wall') return d;
  ctx.addIssue({
    code: 'custom',
    message: `expected wall-clock time like "1h", not business days ("${d.text}")`,
  });
  return z.NEVER;
});
export const ONE_HOUR: WallDuration = { kind: 'wall', ms: 3_600_000, text: '1h' };

export const positiveDurationSchema = durationSchema.refine(
  (d) => (d.kind === 'wall' ? d.ms > 0 : d.days > 0),
  'must be greater than zero',
);

/** `${ENV_VAR}`: secrets never live in the policy file, only the name of the variable that holds them. */
export const secretRefSchema = z
  .string()
  .regex(
    /^\$\{[A-Z_][A-Z0-9_]*\}$/,
    'secrets are given as an environment variable reference like "${GENERIC_TOKEN}", never as a literal value',
  )
  .transform((ref) => ({ env: ref.slice(2, -1) }));
export type SecretRef = z.output<typeof secretRefSchema>;
