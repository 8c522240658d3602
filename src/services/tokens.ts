/**
 * API tokens: random, shown once, stored only as a SHA-256 hash (a token has 256 bits of entropy, so a slow
 * password hash adds nothing). Roles are ordered: viewer < responder < admin.
 */
import crypto from 'node:crypto';
import type { Clock } from '../shared/clock.js';
import { GuardiaError } from '../shared/errors.js';
import type { Store } from '../store/db.js';

export const ROLES = ['viewer', 'responder', 'admin'] as const;
export type Role = (typeof ROLES)[number];

export interface TokenIdentity {
  id: number;
  name: string;
  role: Role;
}

const PREFIX = 'gdn_';
/** Verified tokens are remembered briefly so a busy API does not hit the store on every request. */
const CACHE_MS = 5_000;

/** True when `role` may do what `required` allows. */
export function roleAllows(role: Role, required: Role): boolean {
  return ROLES.indexOf(role) >= ROLES.indexOf(required);
}

function hashToken(token: string): string {
  return crypto.createHash('sha256').update(token).digest('hex');
}

export class TokenService {
  private cache = new Map<string, { identity: TokenIdentity | null; until: number }>();

  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
  ) {}

  /** Creates a token; the plain value is returned once and never stored. */
  async create(name: string, role: Role): Promise<{ token: string; identity: TokenIdentity }> {
    if (!name.trim()) throw new GuardiaError('invalid_input', 'token name must not be empty');
    if (!ROLES.includes(role)) {
      throw new GuardiaError('invalid_input', `role must be one of ${ROLES.join(', ')}, got "${role}"`);
    }
    const token = PREFIX + crypto.randomBytes(32).toString('base64url');
    const { id } = await this.store.db
      .insertInto('api_tokens')
      .values({
        name,
        role,
        token_hash: hashToken(token),
        created_at: this.clock.now().toISOString(),
        last_used_at: null,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    return { token, identity: { id: Number(id), name, role } };
  }

  /** The identity behind a token, or null when it is unknown or revoked. */
  async verify(token: string): Promise<TokenIdentity | null> {
    const hash = hashToken(token);
    const now = Date.now();
    const cached = this.cache.get(hash);
    if (cached && cached.until > now) return cached.identity;
    const row = await this.store.db
      .selectFrom('api_tokens')
      .select(['id', 'name', 'role', 'revoked_at'])
      .where('token_hash', '=', hash)
      .executeTakeFirst();
    const identity =
      row && row.revoked_at === null ? { id: Number(row.id), name: row.name, role: row.role as Role } : null;
    if (this.cache.size > 10_000) this.cache.clear();
    this.cache.set(hash, { identity, until: now + CACHE_MS });
    return identity;
  }

  async list(): Promise<(TokenIdentity & { created_at: string; revoked_at: string | null })[]> {
    const rows = await this.store.db
      .selectFrom('api_tokens')
      .select(['id', 'name', 'role', 'created_at', 'revoked_at'])
      .orderBy('id')
      .execute();
    return rows.map((r) => ({ ...r, id: Number(r.id), role: r.role as Role }));
  }

  async revoke(id: number): Promise<void> {
    const result = await this.store.db
      .updateTable('api_tokens')
      .set({ revoked_at: this.clock.now().toISOString() })
      .where('id', '=', id)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    if (Number(result.numUpdatedRows) === 0)
      throw new GuardiaError('not_found', `no active token with id ${id}`);
    this.cache.clear();
  }
}
