/**
 * The tenant decision: a suspended or billing-locked tenant cannot log in.
 * Pure: what a probe observed in, status/summary/evidence/mitigation out; no secret value in the output.
 */
import { both, MITIGATIONS } from '../texts.js';
import { type Decision, skip } from './common.js';
import { TENANT_CODES } from './login.js';

// ---------------------------------------------------------------------------------------------------------------
// Tenant

export type TenantRow = { found: true; status: string } | { found: false } | { error: string };

/** suspended / billing_locked (any spelling) → the blocking state, else undefined. */
export function blockingTenantState(status: string): 'suspended' | 'billing_locked' | undefined {
  const s = status
    .trim()
    .toLowerCase()
    .replace(/[\s-]+/g, '_');
  if (/suspend/.test(s)) return 'suspended';
  if (/billing|locked|lock/.test(s)) return 'billing_locked';
  return undefined;
}

export function decideTenant(
  tenantId: string | undefined,
  row: TenantRow | undefined,
  login?: { tenantId?: string; status: number; appCode?: string },
): Decision {
  if (!tenantId)
    return skip(
      'no tenant given: pass --tenant ID or set playbooks.targets.login.tenant_id',
      'sin tenant: pasar --tenant ID o configurar playbooks.targets.login.tenant_id',
    );
  const loginState = login?.appCode ? TENANT_CODES[login.appCode] : undefined;
  const evidence: Record<string, unknown> = {
    tenant_id: tenantId,
    database: !row
      ? 'not queried (no mysql DSN)'
      : 'error' in row
        ? { error: row.error }
        : row.found
          ? { status: row.status }
          : { found: false },
    ...(login
      ? {
          login: { tenant_id: login.tenantId ?? null, status: login.status, app_code: login.appCode ?? null },
        }
      : {}),
  };
  const fail = (en: string, es: string): Decision => ({
    status: 'fail',
    summary: both(en, es),
    evidence,
    mitigation: MITIGATIONS.tenant,
  });
  if (row && 'found' in row && row.found) {
    const state = blockingTenantState(row.status);
    if (state)
      return fail(
        `tenant ${tenantId} is ${row.status} in the app database: its users cannot log in`,
        `el tenant ${tenantId} está ${row.status} en la base de la app: sus usuarios no pueden iniciar sesión`,
      );
  }
  if (loginState && (login?.tenantId === undefined || login.tenantId === tenantId))
    return fail(
      `login for tenant ${login?.tenantId ?? tenantId} answered ${login?.status} ${login?.appCode}: the tenant is ${loginState}`,
      `el login del tenant ${login?.tenantId ?? tenantId} respondió ${login?.status} ${login?.appCode}: el tenant está ${loginState}`,
    );
  if (row && 'found' in row && !row.found)
    return fail(
      `tenant ${tenantId} does not exist in the tenants table`,
      `el tenant ${tenantId} no existe en la tabla tenants`,
    );
  if (row && 'error' in row)
    return {
      status: 'fail',
      summary: both(
        `could not read tenant ${tenantId}'s status: ${row.error}`,
        `no se pudo leer el estado del tenant ${tenantId}: ${row.error}`,
      ),
      evidence,
      mitigation: MITIGATIONS.tenant,
    };
  if (!row)
    return skip(
      'no app database DSN (playbooks.targets.mysql_dsn) and the login did not report the tenant state',
      'sin DSN de la base de la app (playbooks.targets.mysql_dsn) y el login no informó el estado del tenant',
      evidence,
    );
  return {
    status: 'pass',
    summary: both(
      `tenant ${tenantId} is ${(row as { status: string }).status}`,
      `el tenant ${tenantId} está ${(row as { status: string }).status}`,
    ),
    evidence,
  };
}
