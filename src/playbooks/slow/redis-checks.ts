/**
 * The Redis checks of `diagnose slow`: PING latency as the app sees it, the server's own error and latency
 * records (rejected connections, LATENCY LATEST, SLOWLOG), and the eviction policy BullMQ queues need.
 */
import type { CheckContext, CheckDefinition, PlaybookTargets } from '../check.js';
import { missingTarget } from '../check.js';
import { displayRedisUrl, measurePings, parseInfo } from '../probes/redis.js';
import {
  GROUPS,
  RUNBOOK,
  clip,
  draft,
  fromDecision,
  mitigation,
  probeFailure,
  redisCheck,
  type CheckMeta,
  type Decision,
} from './common.js';

// ---------------------------------------------------------------------------------------------------------------
// slow.redis.latency

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

// ---------------------------------------------------------------------------------------------------------------
// slow.redis.errors

export interface LatencyEvent {
  event: string;
  /** Unix seconds of the latest spike. */
  at: number;
  latestMs: number;
  maxMs: number;
}

export interface SlowlogEntry {
  id: number;
  /** Unix seconds. */
  at: number;
  durationUs: number;
  /** The command and its first argument (a key), never values. */
  command: string;
  client?: string;
}

export interface RedisErrorStats {
  rejectedConnections: number;
  connectedClients: number;
  maxClients: number | null;
  totalErrorReplies: number | null;
  errorStats: Record<string, number>;
  latency: LatencyEvent[] | null;
  slowlog: SlowlogEntry[] | null;
  slowlogLen: number | null;
}

/** A latency spike this recent (seconds) is current, not history. */
export const RECENT_SPIKE_S = 10 * 60;

export function judgeRedisErrors(
  s: RedisErrorStats,
  t: PlaybookTargets['thresholds'],
  nowS: number,
): Decision {
  const failMs = t.redisPingFailMs;
  const spikes = (s.latency ?? []).filter((e) => e.maxMs >= failMs || e.latestMs >= failMs);
  const recentSpikes = (s.latency ?? []).filter((e) => e.latestMs >= failMs && nowS - e.at <= RECENT_SPIKE_S);
  const slowCommands = (s.slowlog ?? []).filter((e) => e.durationUs >= failMs * 1000);
  const saturated = s.maxClients !== null && s.maxClients > 0 && s.connectedClients >= s.maxClients;
  const evidence = {
    rejected_connections: s.rejectedConnections,
    connected_clients: s.connectedClients,
    maxclients: s.maxClients,
    total_error_replies: s.totalErrorReplies,
    errorstats: s.errorStats,
    latency_latest:
      s.latency === null
        ? 'unavailable (LATENCY disabled or renamed)'
        : s.latency.map((e) => ({
            event: e.event,
            latest_at: new Date(e.at * 1000).toISOString(),
            latest_ms: e.latestMs,
            max_ms: e.maxMs,
          })),
    slowlog_len: s.slowlogLen,
    slowlog_top:
      s.slowlog === null
        ? 'unavailable (SLOWLOG disabled or renamed)'
        : s.slowlog.map((e) => ({
            id: e.id,
            at: new Date(e.at * 1000).toISOString(),
            duration_ms: Math.round(e.durationUs / 100) / 10,
            command: e.command,
            client: e.client,
          })),
  };
  const mit = mitigation(
    {
      en: 'Check the client pools of every app instance and worker (connection leaks), and the slow commands listed.',
      es: 'Revisar los pools de clientes de cada instancia y worker (fugas de conexiones) y los comandos lentos listados.',
    },
    RUNBOOK.reduceLoad,
    RUNBOOK.scale,
  );
  if (saturated || recentSpikes.length) {
    const en: string[] = [];
    const es: string[] = [];
    if (saturated) {
      en.push(`Redis is at maxclients (${s.connectedClients}/${s.maxClients}): new connections are refused`);
      es.push(`Redis está en maxclients (${s.connectedClients}/${s.maxClients}): rechaza conexiones nuevas`);
    }
    if (recentSpikes.length) {
      const list = recentSpikes.map((e) => `${e.event} ${e.latestMs} ms`).join(', ');
      en.push(
        `latency spikes of ${failMs} ms or more in the last ${RECENT_SPIKE_S / 60} min (LATENCY LATEST: ${list})`,
      );
      es.push(
        `picos de latencia de ${failMs} ms o más en los últimos ${RECENT_SPIKE_S / 60} min (LATENCY LATEST: ${list})`,
      );
    }
    return { status: 'fail', summary: { en: en.join('; '), es: es.join('; ') }, evidence, mitigation: mit };
  }
  if (s.rejectedConnections > 0 || spikes.length || slowCommands.length) {
    const en: string[] = [];
    const es: string[] = [];
    if (s.rejectedConnections > 0) {
      en.push(
        `${s.rejectedConnections} connections rejected since the server started (rejected_connections)`,
      );
      es.push(
        `${s.rejectedConnections} conexiones rechazadas desde el arranque del servidor (rejected_connections)`,
      );
    }
    if (spikes.length) {
      en.push(
        `past latency spikes (LATENCY LATEST: ${spikes.map((e) => `${e.event} max ${e.maxMs} ms`).join(', ')})`,
      );
      es.push(
        `picos de latencia pasados (LATENCY LATEST: ${spikes.map((e) => `${e.event} máx. ${e.maxMs} ms`).join(', ')})`,
      );
    }
    if (slowCommands.length) {
      const list = slowCommands
        .slice(0, 3)
        .map((e) => `${e.command} ${Math.round(e.durationUs / 1000)} ms`)
        .join(', ');
      en.push(`SLOWLOG has commands of ${failMs} ms or more (${list})`);
      es.push(`SLOWLOG tiene comandos de ${failMs} ms o más (${list})`);
    }
    return { status: 'warn', summary: { en: en.join('; '), es: es.join('; ') }, evidence, mitigation: mit };
  }
  return {
    status: 'pass',
    summary: {
      en: `no rejected connections, no latency spike of ${failMs} ms or more and no slow command of ${failMs} ms or more (${s.connectedClients} clients connected)`,
      es: `sin conexiones rechazadas, sin picos de latencia de ${failMs} ms o más ni comandos lentos de ${failMs} ms o más (${s.connectedClients} clientes conectados)`,
    },
    evidence,
  };
}

/** Parses `LATENCY LATEST`: `[[event, unixSeconds, latestMs, maxMs, …], …]`. */
export function parseLatencyLatest(reply: unknown): LatencyEvent[] {
  if (!Array.isArray(reply)) return [];
  return reply.filter(Array.isArray).map((r: unknown[]) => ({
    event: String(r[0]),
    at: Number(r[1]),
    latestMs: Number(r[2]),
    maxMs: Number(r[3]),
  }));
}

/** Parses `SLOWLOG GET`: `[[id, unixSeconds, durationUs, [args…], clientAddr?, clientName?], …]` — keeping only
 *  the command name and its first argument (values may carry job payloads). */
export function parseSlowlog(reply: unknown): SlowlogEntry[] {
  if (!Array.isArray(reply)) return [];
  return reply.filter(Array.isArray).map((r: unknown[]) => {
    const args = Array.isArray(r[3]) ? r[3].map(String) : [];
    const command = clip(
      [args[0]?.toUpperCase(), args[1]].filter(Boolean).join(' ') + (args.length > 2 ? ' …' : ''),
      120,
    );
    const clientName = typeof r[5] === 'string' && r[5] ? r[5] : undefined;
    return {
      id: Number(r[0]),
      at: Number(r[1]),
      durationUs: Number(r[2]),
      command,
      client: clientName ?? (typeof r[4] === 'string' ? r[4] : undefined),
    };
  });
}

const ERRORS: CheckMeta = {
  id: 'slow.redis.errors',
  group: GROUPS.redis,
  title: { en: 'Redis errors and latency records', es: 'Errores y registros de latencia de Redis' },
};

async function optional<T>(p: Promise<T>): Promise<T | null> {
  try {
    return await p;
  } catch {
    return null;
  }
}

export const errorsCheck: CheckDefinition = {
  ...ERRORS,
  run: (ctx: CheckContext) =>
    redisCheck(ctx, ERRORS, async (client, target) => {
      ctx.probing?.(`INFO, LATENCY LATEST and SLOWLOG on ${target.display}`);
      const [info, latency, slowlog, slowlogLen, maxclientsConf] = await Promise.all([
        client.info(),
        optional(client.call('LATENCY', 'LATEST')),
        optional(client.call('SLOWLOG', 'GET', '5')),
        optional(client.call('SLOWLOG', 'LEN')),
        optional(client.call('CONFIG', 'GET', 'maxclients')),
      ]);
      const f = parseInfo(info);
      const errorStats: Record<string, number> = {};
      for (const [k, v] of Object.entries(f))
        if (k.startsWith('errorstat_'))
          errorStats[k.slice('errorstat_'.length)] = Number(/count=(\d+)/.exec(v)?.[1] ?? 0);
      const maxFromConfig = Array.isArray(maxclientsConf) ? Number(maxclientsConf[1]) : NaN;
      const maxClients =
        f.maxclients !== undefined
          ? Number(f.maxclients)
          : Number.isFinite(maxFromConfig)
            ? maxFromConfig
            : null;
      const stats: RedisErrorStats = {
        rejectedConnections: Number(f.rejected_connections ?? 0),
        connectedClients: Number(f.connected_clients ?? 0),
        maxClients,
        totalErrorReplies: f.total_error_replies !== undefined ? Number(f.total_error_replies) : null,
        errorStats,
        latency: latency === null ? null : parseLatencyLatest(latency),
        slowlog: slowlog === null ? null : parseSlowlog(slowlog),
        slowlogLen: slowlogLen === null ? null : Number(slowlogLen),
      };
      return fromDecision(
        ERRORS,
        judgeRedisErrors(stats, ctx.targets.thresholds, Math.floor(ctx.now().getTime() / 1000)),
        {
          target: target.display,
          redis_version: f.redis_version,
        },
      );
    }),
};

// ---------------------------------------------------------------------------------------------------------------
// slow.redis.eviction

export function judgeEviction(
  policy: string,
  queues: readonly string[],
  memory: { maxmemory: number; usedMemory: number; evictedKeys: number },
): Decision {
  const evidence = {
    maxmemory_policy: policy,
    maxmemory: memory.maxmemory,
    used_memory: memory.usedMemory,
    evicted_keys: memory.evictedKeys,
    queues,
  };
  if (policy === 'unknown')
    return {
      status: 'skip',
      summary: {
        en: 'the eviction policy cannot be read (INFO memory has no maxmemory_policy and CONFIG GET is refused)',
        es: 'no se puede leer la política de expulsión (INFO memory no trae maxmemory_policy y CONFIG GET está denegado)',
      },
      evidence,
    };
  if (policy === 'noeviction')
    return {
      status: 'pass',
      summary: {
        en: 'maxmemory-policy is noeviction: Redis never drops queue keys to free memory',
        es: 'maxmemory-policy es noeviction: Redis nunca borra claves de las colas para liberar memoria',
      },
      evidence,
    };
  if (queues.length === 0)
    return {
      status: 'skip',
      summary: {
        en: `maxmemory-policy is ${policy}, which matters only for queues, and none is configured (playbooks.queues)`,
        es: `maxmemory-policy es ${policy}, lo que solo importa para colas, y no hay ninguna configurada (playbooks.queues)`,
      },
      evidence,
    };
  return {
    status: 'fail',
    summary: {
      en: `maxmemory-policy is ${policy}, not noeviction: under memory pressure Redis may delete BullMQ keys of ${queues.join(', ')} (jobs lost or stuck)${memory.evictedKeys ? `; ${memory.evictedKeys} keys already evicted` : ''}`,
      es: `maxmemory-policy es ${policy}, no noeviction: con presión de memoria Redis puede borrar claves de BullMQ de ${queues.join(', ')} (jobs perdidos o atascados)${memory.evictedKeys ? `; ya expulsó ${memory.evictedKeys} claves` : ''}`,
    },
    evidence,
    mitigation: mitigation(
      {
        en: 'Set maxmemory-policy noeviction (CONFIG SET maxmemory-policy noeviction, and in redis.conf so it survives a restart); keep caches that need eviction on a separate Redis.',
        es: 'Poner maxmemory-policy noeviction (CONFIG SET maxmemory-policy noeviction, y en redis.conf para que sobreviva a un reinicio); las cachés que necesiten expulsión, en otro Redis.',
      },
      RUNBOOK.scale,
      RUNBOOK.indexes,
    ),
  };
}

const EVICTION: CheckMeta = {
  id: 'slow.redis.eviction',
  group: GROUPS.redis,
  title: { en: 'Redis eviction policy for queues', es: 'Política de expulsión de Redis para colas' },
};

export const evictionCheck: CheckDefinition = {
  ...EVICTION,
  run: (ctx: CheckContext) =>
    redisCheck(ctx, EVICTION, async (client, target) => {
      ctx.probing?.(`INFO memory on ${target.display}`);
      const [memInfo, statsInfo] = await Promise.all([client.info('memory'), client.info('stats')]);
      const mem = parseInfo(memInfo);
      const stats = parseInfo(statsInfo);
      let policy = mem.maxmemory_policy;
      if (!policy) {
        const conf = await optional(client.call('CONFIG', 'GET', 'maxmemory-policy'));
        policy = Array.isArray(conf) ? String(conf[1]) : 'unknown';
      }
      return fromDecision(
        EVICTION,
        judgeEviction(policy, ctx.targets.queues, {
          maxmemory: Number(mem.maxmemory ?? 0),
          usedMemory: Number(mem.used_memory ?? 0),
          evictedKeys: Number(stats.evicted_keys ?? 0),
        }),
        { target: target.display },
      );
    }),
};
