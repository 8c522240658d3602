/**
 * The `slow.mysql.connections` check: connection saturation (Threads_connected / max_connections).
 */
import type { CheckContext, CheckDefinition, PlaybookTargets } from '../check.js';
import type { MysqlSession } from '../probes/mysql.js';
import {
  GROUPS,
  RUNBOOK,
  fromDecision,
  mitigation,
  mysqlCheck,
  type CheckMeta,
  type Decision,
} from './common.js';

// ---------------------------------------------------------------------------------------------------------------
// slow.mysql.connections

export interface ConnectionStats {
  threadsConnected: number;
  threadsRunning: number;
  maxConnections: number;
  maxUsedConnections?: number;
  /** Connection_errors_max_connections: connections refused because max_connections was reached (since start). */
  refusedAtMax?: number;
}

export function judgeConnections(s: ConnectionStats, t: PlaybookTargets['thresholds']): Decision {
  const ratio = s.maxConnections > 0 ? s.threadsConnected / s.maxConnections : 0;
  const pct = Math.round(ratio * 1000) / 10;
  const evidence = {
    threads_connected: s.threadsConnected,
    threads_running: s.threadsRunning,
    max_connections: s.maxConnections,
    connections_ratio: Math.round(ratio * 1000) / 1000,
    max_used_connections: s.maxUsedConnections,
    connection_errors_max_connections: s.refusedAtMax,
    warn_ratio: t.connectionsWarn,
    fail_ratio: t.connectionsFail,
    note: 'Threads_connected includes this check’s own connection',
  };
  const what = {
    en: `Threads_connected ${s.threadsConnected} of max_connections ${s.maxConnections} (${pct} %), Threads_running ${s.threadsRunning}`,
    es: `Threads_connected ${s.threadsConnected} de max_connections ${s.maxConnections} (${pct} %), Threads_running ${s.threadsRunning}`,
  };
  const mit = mitigation(
    {
      en: 'Find who holds the connections (SHOW PROCESSLIST: pool sizes per app instance, sleeping connections, long transactions).',
      es: 'Ver quién ocupa las conexiones (SHOW PROCESSLIST: tamaño de pool por instancia, conexiones dormidas, transacciones largas).',
    },
    RUNBOOK.reduceLoad,
    RUNBOOK.scale,
  );
  if (ratio >= t.connectionsFail)
    return {
      status: 'fail',
      summary: {
        en: `MySQL connections are saturated: ${what.en} — at or over the ${t.connectionsFail * 100} % limit`,
        es: `Las conexiones de MySQL están saturadas: ${what.es}, en o sobre el límite del ${t.connectionsFail * 100} %`,
      },
      evidence,
      mitigation: mit,
    };
  if (ratio >= t.connectionsWarn)
    return {
      status: 'warn',
      summary: {
        en: `MySQL connections are close to saturation: ${what.en} — over the ${t.connectionsWarn * 100} % warning mark`,
        es: `Las conexiones de MySQL se acercan a la saturación: ${what.es}, sobre el aviso del ${t.connectionsWarn * 100} %`,
      },
      evidence,
      mitigation: mit,
    };
  return {
    status: 'pass',
    summary: {
      en: `${what.en}: below the ${t.connectionsWarn * 100} % warning mark`,
      es: `${what.es}: bajo el aviso del ${t.connectionsWarn * 100} %`,
    },
    evidence,
  };
}

const CONNECTIONS: CheckMeta = {
  id: 'slow.mysql.connections',
  group: GROUPS.mysql,
  title: { en: 'MySQL active connections', es: 'Conexiones activas de MySQL' },
};

async function readConnectionStats(session: MysqlSession): Promise<ConnectionStats> {
  const rows = await session.query<{ Variable_name: string; Value: string }>(
    `SHOW GLOBAL STATUS WHERE Variable_name IN
       ('Threads_connected', 'Threads_running', 'Max_used_connections', 'Connection_errors_max_connections')`,
  );
  const status = new Map(rows.map((r) => [r.Variable_name.toLowerCase(), Number(r.Value)]));
  const [max] = await session.query<{ max_connections: number }>(
    'SELECT @@GLOBAL.max_connections AS max_connections',
  );
  return {
    threadsConnected: status.get('threads_connected') ?? 0,
    threadsRunning: status.get('threads_running') ?? 0,
    maxConnections: Number(max?.max_connections ?? 0),
    maxUsedConnections: status.get('max_used_connections'),
    refusedAtMax: status.get('connection_errors_max_connections'),
  };
}

export const connectionsCheck: CheckDefinition = {
  ...CONNECTIONS,
  run: (ctx: CheckContext) =>
    mysqlCheck(ctx, CONNECTIONS, async (session) => {
      ctx.probing?.(`SHOW GLOBAL STATUS on ${session.target}`);
      const stats = await readConnectionStats(session);
      return fromDecision(CONNECTIONS, judgeConnections(stats, ctx.targets.thresholds), {
        target: session.target,
        server: session.version,
      });
    }),
};
