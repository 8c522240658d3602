/**
 * `slow.queues`: the backlog of each configured BullMQ queue, read from BullMQ's own Redis keys (no BullMQ client,
 * so diagnosing never registers as a producer or a worker):
 *
 * - `<prefix>:<queue>:wait`, `:active` and the legacy `:paused` are lists of job ids; `:prioritized`, `:delayed`,
 *   `:failed`, `:completed` and `:waiting-children` are sorted sets. Jobs are LPUSHed to `wait` and workers take
 *   them from its right end (RPOPLPUSH into `active`), so `LINDEX wait -1` is the oldest waiting job, whose hash
 *   `<prefix>:<queue>:<id>` carries its `timestamp`.
 * - `<prefix>:<queue>:meta` is a hash written when a `Queue` is created (`version`, `opts.maxLenEvents`); field
 *   `paused` marks a globally paused queue.
 * - Workers are found the way BullMQ's `Queue.getWorkers()` finds them: each worker's blocking connection is named
 *   (CLIENT SETNAME) `<prefix>:<base64(queue)>` or `<prefix>:<base64(queue)>:w:<worker name>`, listed by
 *   `CLIENT LIST`. BullMQ keeps no worker heartbeat key.
 */
import type { Redis } from 'ioredis';
import type { CheckContext, CheckDefinition, FindingStatus, PlaybookTargets } from '../check.js';
import { GROUPS, RUNBOOK, draft, mitigation, redisCheck, type CheckMeta } from './common.js';

export interface QueueSnapshot {
  queue: string;
  /** Whether any of the queue's keys exists (meta, or any job list). */
  exists: boolean;
  wait: number;
  paused: number;
  prioritized: number;
  active: number;
  delayed: number;
  failed: number;
  waitingChildren: number;
  /** meta.paused is set: the queue is paused globally. */
  isPaused: boolean;
  /** Worker connections seen in CLIENT LIST; null when CLIENT LIST is unavailable (managed Redis). */
  workers: number | null;
  /** Age of the oldest waiting job in ms (null when nothing waits or its timestamp is unknown). */
  oldestWaitingMs: number | null;
}

/** A backlog whose oldest job has waited this long with no job active counts as stalled. */
export const STALLED_AFTER_MS = 60_000;

export interface QueueVerdict {
  queue: string;
  status: Exclude<FindingStatus, 'skip'>;
  backlog: number;
  reasons: { en: string; es: string }[];
}

const secs = (ms: number) => `${Math.round(ms / 1000)} s`;

/** The pure decision for one queue. */
export function judgeQueue(s: QueueSnapshot, t: PlaybookTargets['thresholds']): QueueVerdict {
  const backlog = s.wait + s.paused + s.prioritized;
  const reasons: QueueVerdict['reasons'] = [];
  let status: QueueVerdict['status'] = 'pass';
  const raise = (to: 'warn' | 'fail', en: string, es: string) => {
    if (to === 'fail' || status === 'pass') status = to;
    reasons.push({ en, es });
  };
  if (!s.exists) {
    raise(
      'warn',
      `no BullMQ keys for ${s.queue}: wrong queue name or prefix, or the app never created the queue`,
      `no hay claves de BullMQ para ${s.queue}: nombre de cola o prefijo erróneo, o la app nunca creó la cola`,
    );
    return { queue: s.queue, status, backlog, reasons };
  }
  const oldest = s.oldestWaitingMs !== null ? `, oldest waiting ${secs(s.oldestWaitingMs)}` : '';
  const oldestEs =
    s.oldestWaitingMs !== null ? `, el más antiguo espera desde hace ${secs(s.oldestWaitingMs)}` : '';
  if (s.workers === 0 && (backlog > 0 || s.active > 0))
    raise(
      'fail',
      `${s.queue} is stalled: ${backlog} waiting, ${s.active} active and no worker connected${oldest}`,
      `${s.queue} está atascada: ${backlog} en espera, ${s.active} activos y ningún worker conectado${oldestEs}`,
    );
  else if (s.isPaused && backlog > 0)
    raise(
      'warn',
      `${s.queue} is paused with ${backlog} jobs waiting`,
      `${s.queue} está pausada con ${backlog} jobs en espera`,
    );
  else if (
    backlog > 0 &&
    s.active === 0 &&
    s.oldestWaitingMs !== null &&
    s.oldestWaitingMs >= STALLED_AFTER_MS
  )
    raise(
      'fail',
      `${s.queue} is stalled: ${backlog} waiting and none active${s.workers === null ? ' (workers unknown: CLIENT LIST unavailable)' : ` although ${s.workers} worker connections are open`}${oldest}`,
      `${s.queue} está atascada: ${backlog} en espera y ninguno activo${s.workers === null ? ' (workers desconocidos: CLIENT LIST no disponible)' : ` aunque hay ${s.workers} conexiones de worker abiertas`}${oldestEs}`,
    );
  else if (s.workers === 0)
    raise(
      'warn',
      `no worker is connected to ${s.queue}: new jobs will pile up`,
      `ningún worker está conectado a ${s.queue}: los jobs nuevos se acumularán`,
    );
  if (backlog > t.queueWaitingWarn)
    raise(
      'warn',
      `${s.queue} has ${backlog} jobs waiting (over ${t.queueWaitingWarn})${oldest}`,
      `${s.queue} tiene ${backlog} jobs en espera (más de ${t.queueWaitingWarn})${oldestEs}`,
    );
  if (s.failed > 0)
    raise('warn', `${s.queue} has ${s.failed} failed jobs`, `${s.queue} tiene ${s.failed} jobs fallidos`);
  return { queue: s.queue, status, backlog, reasons };
}

/** BullMQ's worker connection names for a queue: exactly `<prefix>:<b64>` or starting `<prefix>:<b64>:w:`. */
export function workerNameMatcher(prefix: string, queue: string): (name: string) => boolean {
  const base = `${prefix}:${Buffer.from(queue).toString('base64')}`;
  return (name) => name === base || name.startsWith(`${base}:w:`);
}

/** The `name=` field of every line of a CLIENT LIST reply. */
export function clientNames(clientList: string): string[] {
  const names: string[] = [];
  for (const line of clientList.split(/\r?\n/)) {
    const m = / name=(\S*)/.exec(` ${line}`);
    if (m?.[1]) names.push(m[1]);
  }
  return names;
}

async function snapshot(
  client: Redis,
  prefix: string,
  queue: string,
  names: string[] | null,
  nowMs: number,
): Promise<QueueSnapshot> {
  const k = (type: string) => `${prefix}:${queue}:${type}`;
  const res = await client
    .multi()
    .exists(
      k('meta'),
      k('wait'),
      k('active'),
      k('failed'),
      k('completed'),
      k('delayed'),
      k('prioritized'),
      k('paused'),
      k('id'),
    )
    .llen(k('wait'))
    .llen(k('paused'))
    .zcard(k('prioritized'))
    .llen(k('active'))
    .zcard(k('delayed'))
    .zcard(k('failed'))
    .zcard(k('waiting-children'))
    .hget(k('meta'), 'paused')
    .lindex(k('wait'), -1)
    .exec();
  const val = (i: number): unknown => {
    const entry = res?.[i];
    if (!entry) return null;
    if (entry[0]) throw entry[0];
    return entry[1];
  };
  const num = (i: number) => Number(val(i) ?? 0);
  const oldestId = val(9);
  let oldestWaitingMs: number | null = null;
  if (typeof oldestId === 'string' && !oldestId.startsWith('0:')) {
    const ts = await client.hget(`${prefix}:${queue}:${oldestId}`, 'timestamp');
    if (ts && Number.isFinite(Number(ts))) oldestWaitingMs = Math.max(0, nowMs - Number(ts));
  }
  const match = workerNameMatcher(prefix, queue);
  return {
    queue,
    exists: num(0) > 0,
    wait: num(1),
    paused: num(2),
    prioritized: num(3),
    active: num(4),
    delayed: num(5),
    failed: num(6),
    waitingChildren: num(7),
    isPaused: val(8) !== null,
    workers: names === null ? null : names.filter(match).length,
    oldestWaitingMs,
  };
}

const QUEUES: CheckMeta = {
  id: 'slow.queues',
  group: GROUPS.queues,
  title: { en: 'Queue backlog (BullMQ)', es: 'Backlog de colas (BullMQ)' },
};

export const queuesCheck: CheckDefinition = {
  ...QUEUES,
  run: async (ctx: CheckContext) => {
    const queues = ctx.targets.queues;
    if (queues.length === 0)
      return draft(
        QUEUES,
        'skip',
        {
          en: 'no queues configured: list the app\'s BullMQ queues in playbooks.queues (and playbooks.queue_prefix if not "bull")',
          es: 'no hay colas configuradas: define las colas BullMQ de la app en playbooks.queues (y playbooks.queue_prefix si no es "bull")',
        },
        {},
      );
    return redisCheck(ctx, QUEUES, async (client, target) => {
      const prefix = ctx.targets.queuePrefix;
      ctx.probing?.(`BullMQ keys ${prefix}:{${queues.join(',')}} and CLIENT LIST on ${target.display}`);
      let names: string[] | null;
      try {
        names = clientNames(String(await client.call('CLIENT', 'LIST')));
      } catch {
        names = null;
      }
      const nowMs = ctx.now().getTime();
      const snaps = await Promise.all(queues.map((q) => snapshot(client, prefix, q, names, nowMs)));
      const verdicts = snaps.map((s) => judgeQueue(s, ctx.targets.thresholds));
      const status = verdicts.some((v) => v.status === 'fail')
        ? 'fail'
        : verdicts.some((v) => v.status === 'warn')
          ? 'warn'
          : 'pass';
      const evidence = {
        target: target.display,
        prefix,
        workers_source: names === null ? 'unavailable (CLIENT LIST refused)' : 'CLIENT LIST connection names',
        queues: snaps.map((s, i) => ({
          queue: s.queue,
          status: verdicts[i]!.status,
          exists: s.exists,
          waiting: s.wait + s.paused,
          prioritized: s.prioritized,
          active: s.active,
          delayed: s.delayed,
          failed: s.failed,
          waiting_children: s.waitingChildren,
          paused: s.isPaused,
          workers: s.workers,
          oldest_waiting_s: s.oldestWaitingMs === null ? null : Math.round(s.oldestWaitingMs / 1000),
        })),
      };
      const reasons = verdicts.flatMap((v) => v.reasons);
      if (status === 'pass')
        return draft(
          QUEUES,
          'pass',
          {
            en: verdicts
              .map(
                (v, i) =>
                  `${v.queue}: ${v.backlog} waiting, ${snaps[i]!.active} active, ${snaps[i]!.workers ?? '?'} workers`,
              )
              .join('; '),
            es: verdicts
              .map(
                (v, i) =>
                  `${v.queue}: ${v.backlog} en espera, ${snaps[i]!.active} activos, ${snaps[i]!.workers ?? '?'} workers`,
              )
              .join('; '),
          },
          evidence,
        );
      return draft(
        QUEUES,
        status,
        { en: reasons.map((r) => r.en).join('; '), es: reasons.map((r) => r.es).join('; ') },
        evidence,
        mitigation(
          {
            en: 'Restart the queue workers and check their logs for why they stopped taking jobs; retry or clear failed jobs once the cause is fixed.',
            es: 'Reiniciar los workers de cola y revisar en sus logs por qué dejaron de tomar jobs; reintentar o limpiar los fallidos cuando la causa esté resuelta.',
          },
          RUNBOOK.indexes,
          RUNBOOK.reduceLoad,
        ),
      );
    });
  },
};
