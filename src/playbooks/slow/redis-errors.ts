/**
 * `slow.redis.errors`: the server's own records of trouble — rejected connections, LATENCY LATEST spikes and the
 * SLOWLOG — judged over the last ten minutes. Part of the Redis checks of `diagnose slow`.
 */
import type { CheckContext, CheckDefinition, PlaybookTargets } from '../check.js';
import { parseInfo } from '../probes/redis.js';
import {
  GROUPS,
  RUNBOOK,
  clip,
  fromDecision,
  mitigation,
  optional,
  redisCheck,
  type CheckMeta,
  type Decision,
} from './common.js';

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
