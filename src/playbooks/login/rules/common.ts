/**
 * What every login decision shares: the Decision shape, skip, and how apps read boolean env values.
 * Each file beside this one holds the pure decisions of one part of the runbook's login playbook.
 */
import type { FindingDraft } from '../../check.js';
import { both } from '../texts.js';

export type Decision = Omit<FindingDraft, 'id' | 'group' | 'title'>;

/** A skip with the same words in both languages' slots. */
export const skip = (en: string, es: string, evidence: Record<string, unknown> = {}): Decision => ({
  status: 'skip',
  summary: both(en, es),
  evidence,
});

/** How apps read boolean environment values. */
export const truthy = (v: string | undefined) => v !== undefined && /^(1|true|yes|on)$/i.test(v.trim());
export const falsy = (v: string | undefined) => v !== undefined && /^(0|false|no|off)$/i.test(v.trim());
