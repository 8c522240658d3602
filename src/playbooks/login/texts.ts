/** Words of the login playbook: groups, titles and the runbook's mitigations ("No se puede iniciar sesión"). */
import type { Bilingual } from '../check.js';

export const GROUPS = {
  config: { en: 'Configuration', es: 'Configuración' },
  cookies: { en: 'Cookies and CORS', es: 'Cookies y CORS' },
  sessions: { en: 'Sessions', es: 'Sesiones' },
  logs: { en: 'Logs', es: 'Logs' },
  tenant: { en: 'Tenant', es: 'Tenant' },
} satisfies Record<string, Bilingual>;

export const TITLES = {
  node_env: { en: 'NODE_ENV is production', es: 'NODE_ENV es production' },
  secrets: {
    en: 'Session secrets are strong, not placeholders, and distinct',
    es: 'Secretos de sesión fuertes, no de ejemplo y distintos',
  },
  cookie_flags: {
    en: 'COOKIE_SAMESITE / COOKIE_SECURE are coherent',
    es: 'COOKIE_SAMESITE / COOKIE_SECURE coherentes',
  },
  urls: { en: 'Public URLs are HTTPS origins', es: 'URLs públicas son orígenes HTTPS' },
  cross_site: {
    en: 'Cross-site client and API use SameSite=None; Secure',
    es: 'Cliente y API cross-site usan SameSite=None; Secure',
  },
  cors: {
    en: 'CORS allows exactly CLIENT_URL with credentials',
    es: 'CORS permite exactamente CLIENT_URL con credenciales',
  },
  trust_proxy: {
    en: 'The app trusts the TLS proxy (TRUST_PROXY=1)',
    es: 'La app confía en el proxy TLS (TRUST_PROXY=1)',
  },
  set_cookie: {
    en: 'A real login returns a correct session cookie',
    es: 'Un login real devuelve una cookie de sesión correcta',
  },
  session_consistency: {
    en: 'Every instance uses the same session secrets',
    es: 'Todas las instancias usan los mismos secretos de sesión',
  },
  log_signatures: {
    en: 'No token/cookie signature errors in the logs',
    es: 'Sin errores de firma token/cookie en logs',
  },
  tenant: { en: 'The tenant is active', es: 'El tenant está activo' },
} satisfies Record<string, Bilingual>;

/** The runbook's mitigations, quoted (es) and translated (en). */
export const MITIGATIONS = {
  noCookie: {
    en: 'No cookie in the client: fix TRUST_PROXY, COOKIE_SECURE and the HTTPS URLs (runbook: "corregir TRUST_PROXY, COOKIE_SECURE, URL HTTPS").',
    es: 'Si no hay cookie en cliente: corregir `TRUST_PROXY`, `COOKIE_SECURE`, URL HTTPS.',
  },
  invalidToken: {
    en: 'Invalid token: rotate the user\'s session and verify the secrets are consistent across instances (runbook: "rotar sesión del usuario y verificar consistencia de secretos entre instancias").',
    es: 'Si hay token inválido: rotar sesión del usuario y verificar consistencia de secretos entre instancias.',
  },
  tenant: {
    en: 'Only one tenant affected: validate the tenant status (suspended/billing lock) (runbook: "validar estado del tenant (suspendido/billing lock)").',
    es: 'Si es solo un tenant: validar estado del tenant (suspendido/billing lock).',
  },
  productionVars: {
    en: 'Confirm the production variables: NODE_ENV=production; COOKIE_SECRET, JWT_SECRET, COOKIE_SAMESITE, COOKIE_SECURE, TRUST_PROXY=1 (runbook: "Confirmar variables en producción").',
    es: 'Confirmar variables en producción: `NODE_ENV=production`; `COOKIE_SECRET`, `JWT_SECRET`, `COOKIE_SAMESITE`, `COOKIE_SECURE`, `TRUST_PROXY=1`.',
  },
  secrets: {
    en: 'Confirm the production secrets (runbook: "Confirmar variables en producción: COOKIE_SECRET, JWT_SECRET"): give each a fresh random value of at least 32 bytes (e.g. `openssl rand -base64 48`), a different one per purpose and the same on every instance; changing JWT_SECRET/COOKIE_SECRET ends every session, so rotate sessions and verify consistency across instances.',
    es: 'Confirmar variables en producción: `COOKIE_SECRET`, `JWT_SECRET`: un valor aleatorio nuevo de al menos 32 bytes (p. ej. `openssl rand -base64 48`), distinto por uso e igual en todas las instancias; cambiar JWT_SECRET/COOKIE_SECRET cierra todas las sesiones: rotar sesión y verificar consistencia de secretos entre instancias.',
  },
  cookieFlags: {
    en: 'Fix COOKIE_SECURE (and COOKIE_SAMESITE): SameSite=None needs Secure (runbook: "corregir TRUST_PROXY, COOKIE_SECURE, URL HTTPS").',
    es: 'Si no hay cookie en cliente: corregir `TRUST_PROXY`, `COOKIE_SECURE`, URL HTTPS (SameSite=None requiere Secure).',
  },
  urls: {
    en: 'Verify the public URLs and CORS: CLIENT_URL, VITE_API_URL, VITE_OAUTH_PORTAL_URL, OAUTH_SERVER_URL must be the HTTPS origins users reach (runbook: "corregir … URL HTTPS").',
    es: 'Verificar URL pública y CORS: `CLIENT_URL`, `VITE_API_URL`, `VITE_OAUTH_PORTAL_URL`, `OAUTH_SERVER_URL`; corregir URL HTTPS.',
  },
  crossSite: {
    en: 'Client and API are on different sites: set COOKIE_SAMESITE=none and COOKIE_SECURE=true, or serve the API under the client’s site (runbook: "corregir COOKIE_SECURE, URL HTTPS").',
    es: 'Cliente y API en sitios distintos: `COOKIE_SAMESITE=none` y `COOKIE_SECURE=true`, o servir la API bajo el mismo sitio (corregir `COOKIE_SECURE`, URL HTTPS).',
  },
  cors: {
    en: 'Verify public URL and CORS: allow exactly CLIENT_URL with credentials; never reflect an arbitrary Origin.',
    es: 'Verificar URL pública y CORS: permitir exactamente `CLIENT_URL` con credenciales; nunca reflejar cualquier Origin.',
  },
} satisfies Record<string, Bilingual>;

export function both(en: string, es: string = en): Bilingual {
  return { en, es };
}
