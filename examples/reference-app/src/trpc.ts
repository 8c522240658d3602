/**
 * tRPC setup: the context every procedure sees, and the error shape. Errors that carry an application code
 * (TENANT_SUSPENDED, TENANT_BILLING_LOCKED) expose it as `error.data.appCode` and as the message.
 */
import { initTRPC, TRPCError, type TRPC_ERROR_CODE_KEY } from '@trpc/server';
import type { CreateFastifyContextOptions } from '@trpc/server/adapters/fastify';
import type { Queue } from 'bullmq';
import type { Pool } from 'mysql2/promise';
import type { Config } from './config.js';
import type { CampaignJob } from './queue.js';

export interface AppDeps {
  config: Config;
  pool: Pool;
  queue: Queue<CampaignJob>;
}

export function contextFactory(deps: AppDeps) {
  return ({ req, res }: CreateFastifyContextOptions) => ({ ...deps, req, res, log: req.log });
}

export type Context = Awaited<ReturnType<ReturnType<typeof contextFactory>>>;

/** An error the client is meant to read by code. */
export class AppCodeError extends Error {
  constructor(readonly appCode: string) {
    super(appCode);
    this.name = 'AppCodeError';
  }
}

export function appError(code: TRPC_ERROR_CODE_KEY, appCode: string): TRPCError {
  return new TRPCError({ code, message: appCode, cause: new AppCodeError(appCode) });
}

export const t = initTRPC.context<Context>().create({
  isDev: false,
  errorFormatter({ shape, error }) {
    const appCode = error.cause instanceof AppCodeError ? error.cause.appCode : undefined;
    return { ...shape, data: { ...shape.data, stack: undefined, ...(appCode ? { appCode } : {}) } };
  },
});

export const router = t.router;
export const publicProcedure = t.procedure;
