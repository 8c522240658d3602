/**
 * Probes shared by several checks of one run (the env file, one login, each instance's /healthz) run once: the
 * first check to ask starts the probe, the others await the same promise.
 *
 * The runner gives each check its own copy of the context (its own signal), so a run is recognised by what the
 * copies share: the `targets` object. Checks of one run start together; a probe is shared only with checks that ask
 * within `SHARE_MS` of its start, so a later run with the same targets object probes afresh.
 */
import type { CheckContext } from '../check.js';

export const SHARE_MS = 1000;

const memos = new WeakMap<object, Map<string, { startedAt: number; promise: Promise<unknown> }>>();

export function memo<T>(
  ctx: Pick<CheckContext, 'targets'>,
  key: string,
  probe: () => Promise<T>,
): Promise<T> {
  let forRun = memos.get(ctx.targets);
  if (!forRun) memos.set(ctx.targets, (forRun = new Map()));
  const now = performance.now();
  const entry = forRun.get(key);
  if (entry && now - entry.startedAt < SHARE_MS) return entry.promise as Promise<T>;
  const promise = probe();
  forRun.set(key, { startedAt: now, promise });
  return promise;
}
