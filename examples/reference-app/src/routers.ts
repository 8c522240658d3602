/**
 * The app's procedures: auth (login, me, logout), leads (list, import), chat (list), campaigns (send, status).
 * The data procedures take the tenant from their input and need no session, so probes can call them directly.
 */
import { TRPCError } from '@trpc/server';
import type { ResultSetHeader, RowDataPacket } from 'mysql2/promise';
import { z } from 'zod';
import { verifyPassword } from './passwords.js';
import { SESSION_COOKIE, signSession, verifySession, type Session } from './session.js';
import { appError, publicProcedure, router, type Context } from './trpc.js';

const tenantId = z.coerce.number().int().positive();
const limit = z.coerce.number().int().min(1).max(200).default(50);

function tenantBlock(status: string): TRPCError | null {
  if (status === 'suspended') return appError('FORBIDDEN', 'TENANT_SUSPENDED');
  if (status === 'billing_locked') return appError('FORBIDDEN', 'TENANT_BILLING_LOCKED');
  return null;
}

/** The session in the request's cookie, or UNAUTHORIZED. A bad signature (cookie or JWT) is logged: it is what
 *  instances with different secrets, or a rotated secret, look like. */
async function requireSession(ctx: Context): Promise<Session> {
  const raw = ctx.req.cookies[SESSION_COOKIE];
  if (!raw) throw new TRPCError({ code: 'UNAUTHORIZED', message: 'no session' });
  const unsigned = ctx.req.unsignCookie(raw);
  if (!unsigned.valid || unsigned.value === null) {
    ctx.log.warn({ layer: 'cookie' }, 'invalid session signature');
    throw new TRPCError({ code: 'UNAUTHORIZED', message: 'invalid session' });
  }
  const result = await verifySession(ctx.config.jwtSecret, unsigned.value);
  if (!result.ok) {
    if (result.reason === 'signature') ctx.log.warn({ layer: 'jwt' }, 'invalid session signature');
    else ctx.log.info({ reason: result.reason }, 'session rejected');
    throw new TRPCError({ code: 'UNAUTHORIZED', message: 'invalid session' });
  }
  return result.session;
}

const auth = router({
  login: publicProcedure
    .input(
      z.object({
        email: z.string().trim().min(3).max(190),
        password: z.string().min(1).max(1024),
        tenantId: tenantId.optional(),
      }),
    )
    .mutation(async ({ ctx, input }) => {
      const [rows] = await ctx.pool.query<RowDataPacket[]>(
        `SELECT u.id, u.tenant_id, u.email, u.name, u.role, u.password_hash, t.status AS tenant_status
           FROM users u JOIN tenants t ON t.id = u.tenant_id
          WHERE u.email = ?${input.tenantId === undefined ? '' : ' AND u.tenant_id = ?'}`,
        input.tenantId === undefined
          ? [input.email.toLowerCase()]
          : [input.email.toLowerCase(), input.tenantId],
      );
      const user = rows[0];
      if (!user || !(await verifyPassword(input.password, String(user.password_hash))))
        throw new TRPCError({ code: 'UNAUTHORIZED', message: 'invalid credentials' });
      const blocked = tenantBlock(String(user.tenant_status));
      if (blocked) throw blocked;
      const session: Session = {
        userId: Number(user.id),
        tenantId: Number(user.tenant_id),
        email: String(user.email),
      };
      const token = await signSession(ctx.config.jwtSecret, session);
      const { cookieSecure, cookieSameSite } = ctx.config;
      if (cookieSecure && ctx.req.protocol !== 'https') {
        // What express-session/@fastify/session do: a Secure cookie is never sent over plain http.
        ctx.log.warn(
          { protocol: ctx.req.protocol, trustProxy: Boolean(ctx.config.trustProxy), cookieSecure },
          'session cookie withheld: COOKIE_SECURE=true but the request is not https (TRUST_PROXY unset behind a TLS proxy?)',
        );
      } else {
        ctx.res.setCookie(SESSION_COOKIE, token, {
          signed: true,
          path: '/',
          httpOnly: true,
          sameSite: cookieSameSite,
          secure: cookieSecure,
        });
      }
      return {
        user: {
          id: session.userId,
          tenantId: session.tenantId,
          email: session.email,
          name: user.name,
          role: user.role,
        },
      };
    }),

  me: publicProcedure.query(async ({ ctx }) => {
    const session = await requireSession(ctx);
    const [rows] = await ctx.pool.query<RowDataPacket[]>(
      `SELECT u.id, u.tenant_id, u.email, u.name, u.role, t.status AS tenant_status
         FROM users u JOIN tenants t ON t.id = u.tenant_id
        WHERE u.id = ? AND u.tenant_id = ?`,
      [session.userId, session.tenantId],
    );
    const user = rows[0];
    if (!user) throw new TRPCError({ code: 'UNAUTHORIZED', message: 'user no longer exists' });
    const blocked = tenantBlock(String(user.tenant_status));
    if (blocked) throw blocked;
    return {
      id: Number(user.id),
      tenantId: Number(user.tenant_id),
      email: String(user.email),
      name: String(user.name),
      role: String(user.role),
    };
  }),

  logout: publicProcedure.mutation(({ ctx }) => {
    ctx.res.clearCookie(SESSION_COOKIE, { path: '/' });
    return { ok: true };
  }),
});

/** A lead as imported. `email` is optional in the schema so the procedure can report which lead lacks one. */
const leadInput = z.object({
  name: z.string().max(160).optional(),
  email: z.string().max(190).optional(),
  phone: z.string().max(40).optional(),
  source: z.string().max(40).optional(),
});

/** Normalises an email. With FAULT_THROWING_PROCEDURE=1 this is reached with `undefined` and throws the
 *  runbook's "Error 500 frecuente": a real TypeError from `.trim()` on a missing value. */
function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

const leads = router({
  list: publicProcedure
    .input(
      z.object({
        tenantId,
        limit,
        status: z.enum(['new', 'contacted', 'qualified', 'lost', 'won']).optional(),
      }),
    )
    .query(async ({ ctx, input }) => {
      const [rows] = await ctx.pool.query<RowDataPacket[]>(
        `SELECT id, name, email, phone, status, source, created_at AS createdAt
           FROM leads WHERE tenant_id = ?${input.status ? ' AND status = ?' : ''}
          ORDER BY created_at DESC LIMIT ?`,
        input.status ? [input.tenantId, input.status, input.limit] : [input.tenantId, input.limit],
      );
      return { items: rows };
    }),

  import: publicProcedure
    .input(z.object({ tenantId, leads: z.array(leadInput).min(1).max(1_000) }))
    .mutation(async ({ ctx, input }) => {
      const rows = input.leads.map((lead, i) => {
        if (!ctx.config.faults.throwingProcedure && !lead.email)
          throw new TRPCError({ code: 'BAD_REQUEST', message: `lead ${i} has no email` });
        const email = normalizeEmail(lead.email as string);
        if (!/^[^@\s]+@[^@\s]+$/.test(email))
          throw new TRPCError({ code: 'BAD_REQUEST', message: `lead ${i} has an invalid email` });
        return [
          input.tenantId,
          lead.name?.trim() || email,
          email,
          lead.phone ?? null,
          lead.source ?? 'import',
        ];
      });
      const [tenant] = await ctx.pool.query<RowDataPacket[]>('SELECT status FROM tenants WHERE id = ?', [
        input.tenantId,
      ]);
      if (!tenant[0]) throw new TRPCError({ code: 'NOT_FOUND', message: 'no such tenant' });
      const [res] = await ctx.pool.query<ResultSetHeader>(
        'INSERT INTO leads (tenant_id, name, email, phone, source) VALUES ?',
        [rows],
      );
      return { imported: res.affectedRows };
    }),
});

const chat = router({
  list: publicProcedure
    .input(z.object({ tenantId, limit, threadId: z.coerce.number().int().positive().optional() }))
    .query(async ({ ctx, input }) => {
      const [rows] = await ctx.pool.query<RowDataPacket[]>(
        `SELECT id, thread_id AS threadId, sender, body, created_at AS createdAt
           FROM chat_messages WHERE tenant_id = ?${input.threadId ? ' AND thread_id = ?' : ''}
          ORDER BY created_at DESC LIMIT ?`,
        input.threadId ? [input.tenantId, input.threadId, input.limit] : [input.tenantId, input.limit],
      );
      return { items: rows };
    }),
});

const campaigns = router({
  send: publicProcedure
    .input(
      z.object({
        tenantId,
        name: z.string().trim().min(1).max(160).optional(),
        leadIds: z.array(z.coerce.number().int().positive()).min(1).max(1_000),
      }),
    )
    .mutation(async ({ ctx, input }) => {
      const [found] = await ctx.pool.query<RowDataPacket[]>(
        'SELECT id FROM leads WHERE tenant_id = ? AND id IN (?)',
        [input.tenantId, input.leadIds],
      );
      if (found.length === 0) throw new TRPCError({ code: 'BAD_REQUEST', message: 'no lead of this tenant' });
      const conn = await ctx.pool.getConnection();
      let campaignId: number;
      let sendIds: number[];
      try {
        await conn.beginTransaction();
        const [campaign] = await conn.query<ResultSetHeader>(
          'INSERT INTO campaigns (tenant_id, name) VALUES (?, ?)',
          [input.tenantId, input.name ?? `Campaign ${new Date().toISOString()}`],
        );
        campaignId = campaign.insertId;
        await conn.query('INSERT INTO campaign_sends (tenant_id, campaign_id, lead_id) VALUES ?', [
          found.map((l) => [input.tenantId, campaignId, Number(l.id)]),
        ]);
        const [sends] = await conn.query<RowDataPacket[]>(
          'SELECT id FROM campaign_sends WHERE campaign_id = ? AND tenant_id = ? ORDER BY id',
          [campaignId, input.tenantId],
        );
        sendIds = sends.map((s) => Number(s.id));
        await conn.commit();
      } catch (err) {
        await conn.rollback();
        throw err;
      } finally {
        conn.release();
      }
      await ctx.queue.addBulk(
        sendIds.map((sendId) => ({
          name: 'send',
          data: { tenantId: input.tenantId, campaignId, sendId },
          opts: { jobId: `send-${sendId}` },
        })),
      );
      return { campaignId, queued: sendIds.length };
    }),

  status: publicProcedure
    .input(z.object({ tenantId, campaignId: z.coerce.number().int().positive() }))
    .query(async ({ ctx, input }) => {
      const [rows] = await ctx.pool.query<RowDataPacket[]>(
        `SELECT c.status, s.status AS send_status, COUNT(s.id) AS n
           FROM campaigns c LEFT JOIN campaign_sends s ON s.campaign_id = c.id AND s.tenant_id = c.tenant_id
          WHERE c.id = ? AND c.tenant_id = ?
          GROUP BY c.status, s.status`,
        [input.campaignId, input.tenantId],
      );
      if (rows.length === 0) throw new TRPCError({ code: 'NOT_FOUND', message: 'no such campaign' });
      const counts: Record<string, number> = { queued: 0, sent: 0, failed: 0 };
      for (const r of rows) if (r.send_status) counts[String(r.send_status)] = Number(r.n);
      return { campaignId: input.campaignId, status: String(rows[0]?.status), ...counts };
    }),
});

export const appRouter = router({ auth, leads, chat, campaigns });
export type AppRouter = typeof appRouter;
