/**
 * `slow.redis.eviction`: the eviction policy. BullMQ queues need `noeviction`; any other policy can silently drop
 * jobs under memory pressure. Part of the Redis checks of `diagnose slow`.
 */
import type { CheckContext, CheckDefinition } from '../check.js';
import { parseInfo } from '../probes/redis.js';
import {
  GROUPS,
  RUNBOOK,
  fromDecision,
  mitigation,
  optional,
  redisCheck,
  type CheckMeta,
  type Decision,
} from './common.js';

/** Decides the eviction check (pure): the policy, the queues the policy names, and INFO memory's figures. */
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
