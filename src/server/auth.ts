/**
 * API authentication and authorization: `Authorization: Bearer <token>` on every /api/v1 route, and a minimum
 * role per route. Routes declare their role with `requireRole`, so the route table says who may do what.
 */
import type { FastifyReply, FastifyRequest, preHandlerHookHandler } from 'fastify';
import { roleAllows, type Role, type TokenIdentity, type TokenService } from '../services/tokens.js';
import { GuardiaError } from '../shared/errors.js';

declare module 'fastify' {
  interface FastifyRequest {
    identity?: TokenIdentity;
  }
}

/** Where a `requireRole` preHandler keeps its role, so the route table can say which role each route needs. */
export const REQUIRED_ROLE = Symbol('guardia.requiredRole');

/** The role a route's preHandler(s) require, if one of them came from `requireRole`. */
export function requiredRoleOf(preHandler: unknown): Role | undefined {
  const handlers = Array.isArray(preHandler) ? preHandler : [preHandler];
  for (const h of handlers) {
    const role = (h as { [REQUIRED_ROLE]?: Role } | undefined)?.[REQUIRED_ROLE];
    if (role) return role;
  }
  return undefined;
}

/** A preHandler that admits only tokens whose role is at least `role`. */
export function requireRole(tokens: TokenService, role: Role): preHandlerHookHandler {
  const handler = async (request: FastifyRequest, _reply: FastifyReply) => {
    const auth = request.headers.authorization;
    if (!auth)
      throw new GuardiaError(
        'unauthenticated',
        'missing API token: send "Authorization: Bearer <token>" (create one with `guardia tokens create`)',
      );
    const match = /^Bearer\s+(\S+)\s*$/i.exec(auth);
    if (!match)
      throw new GuardiaError('unauthenticated', 'malformed Authorization header: expected "Bearer <token>"');
    const identity = await tokens.verify(match[1]!);
    if (!identity) throw new GuardiaError('unauthenticated', 'invalid or revoked API token');
    if (!roleAllows(identity.role, role)) {
      throw new GuardiaError(
        'forbidden',
        `this needs the ${role} role; token "${identity.name}" has ${identity.role}`,
      );
    }
    request.identity = identity;
  };
  return Object.assign(handler, { [REQUIRED_ROLE]: role });
}

/** The actor name recorded on timelines for the authenticated caller. */
export function actorOf(request: FastifyRequest): string {
  return request.identity ? `token:${request.identity.name}` : 'anonymous';
}
