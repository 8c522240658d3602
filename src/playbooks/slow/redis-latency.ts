/**
 * `slow.redis.latency`: PING round trips as the app sees them, judged by their p50 / p99 against the policy's
 * thresholds. Part of the Redis checks of `diagnose slow`.
 */
import type { CheckContext, CheckDefinition, PlaybookTargets } from '../check.js';
import { missingTarget } from '../check.js';
import { displayRedisUrl, measurePings } from '../probes/redis.js';
import {
  GROUPS,
  RUNBOOK,
  draft,
  fromDecision,
  mitigation,
  probeFailure,
  type CheckMeta,
  type Decision,
} from './common.js';

/** Timed PINGs per run (after 3 untimed ones that warm the connection). With 100 samples the nearest-rank p99 is
 *  the second-worst sample, so one hiccup of this process's own event loop does not decide the verdict. */
export const PING_SAMPLES = 100;

/** Nearest-rank percentile (q in 0..1) of the samples. */
export function percentile(samples: readonly number[], q: number): number {
  if (samples.length === 0) return 0;
  const s = [...samples].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))]!;
}

const round2 = (x: number) => Math.round(x * 100) / 100;

export function judgeLatency(samplesMs: readonly number[], t: PlaybookTargets['thresholds']): Decision {
  const p50 = round2(percentile(samplesMs, 0.5));
  const p99 = round2(percentile(samplesMs, 0.99));
  const max = round2(Math.max(0, ...samplesMs));
  const evidence = {
    pings: samplesMs.length,
    p50_ms: p50,
    p99_ms: p99,
    max_ms: max,
    warn_ms: t.redisPingWarnMs,
    fail_ms: t.redisPingFailMs,
  };
  const mit = mitigation(
    {
      en: 'Look for what blocks Redis (SLOWLOG, big keys, KEYS/SCAN storms, persistence forks) and for network saturation between app and Redis.',
      es: 'Buscar qué bloquea Redis (SLOWLOG, claves enormes, ráfagas de KEYS/SCAN, forks de persistencia) y saturación de red entre app y Redis.',
    },
    RUNBOOK.reduceLoad,
    RUNBOOK.scale,
  );
  if (p99 >= t.redisPingFailMs)
    return {
      status: 'fail',
      summary: {
        en: `Redis PING p99 is ${p99} ms over ${samplesMs.length} pings (fail at ${t.redisPingFailMs} ms; p50 ${p50} ms)`,
        es: `El p99 de PING a Redis es ${p99} ms en ${samplesMs.length} pings (falla a partir de ${t.redisPingFailMs} ms; p50 ${p50} ms)`,
      },
      evidence,
      mitigation: mit,
    };
  if (p99 >= t.redisPingWarnMs)
    return {
      status: 'warn',
      summary: {
        en: `Redis PING p99 is ${p99} ms over ${samplesMs.length} pings (warn at ${t.redisPingWarnMs} ms; p50 ${p50} ms)`,
        es: `El p99 de PING a Redis es ${p99} ms en ${samplesMs.length} pings (aviso a partir de ${t.redisPingWarnMs} ms; p50 ${p50} ms)`,
      },
      evidence,
      mitigation: mit,
    };
  return {
    status: 'pass',
    summary: {
      en: `Redis PING p99 is ${p99} ms over ${samplesMs.length} pings (under ${t.redisPingWarnMs} ms)`,
      es: `El p99 de PING a Redis es ${p99} ms en ${samplesMs.length} pings (bajo ${t.redisPingWarnMs} ms)`,
    },
    evidence,
  };
}

const LATENCY: CheckMeta = {
  id: 'slow.redis.latency',
  group: GROUPS.redis,
  title: { en: 'Redis latency (PING p99)', es: 'Latencia de Redis (p99 de PING)' },
};

export const latencyCheck: CheckDefinition = {
  ...LATENCY,
  run: async (ctx: CheckContext) => {
    const url = ctx.targets.redisUrl;
    if (!url) return draft(LATENCY, 'skip', missingTarget(ctx.targets, 'redisUrl'), {});
    const target = displayRedisUrl(url);
    ctx.probing?.(`${PING_SAMPLES} PINGs to ${target}`);
    const outcome = await measurePings(url, PING_SAMPLES, { signal: ctx.signal, secrets: ctx.secrets });
    if (!outcome.ok) return probeFailure(LATENCY, 'Redis', outcome);
    return fromDecision(LATENCY, judgeLatency(outcome.value, ctx.targets.thresholds), {
      target,
      measured_from: 'a dedicated client thread (not slowed by the other checks)',
    });
  },
};
