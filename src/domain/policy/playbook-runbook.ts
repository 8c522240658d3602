/**
 * The runbook's three incident playbooks in its own words (Spanish, as the seed runbook writes them), with the
 * Guardia command that runs each diagnosis. `guardia policy render` prints them; `guardia diagnose` names the
 * playbook it runs by its runbook title.
 */

export interface RunbookPlaybook {
  /** The runbook's title. */
  title: string;
  /** The command that runs the diagnosis. */
  command: string;
  symptoms: string[];
  /** "Diagnóstico rápido (…)" heading and its steps. */
  diagnosisHeading: string;
  /** `{index_migrations}` stands for the policy's list, e.g. "`0040`, `0041`". */
  diagnosis: string[];
  mitigation: string[];
}

export const RUNBOOK_PLAYBOOKS = {
  login: {
    title: 'No se puede iniciar sesión',
    command: 'guardia diagnose login',
    symptoms: [
      'Usuario reporta loop de login o sesión expirada inmediatamente.',
      '`401/403` recurrentes en `/api/trpc/*`.',
    ],
    diagnosisHeading: 'Diagnóstico rápido (5-10 min)',
    diagnosis: [
      'Confirmar variables en producción: `NODE_ENV=production`; `COOKIE_SECRET`, `JWT_SECRET`, `COOKIE_SAMESITE`, `COOKIE_SECURE`, `TRUST_PROXY=1`',
      'Verificar URL pública y CORS: `CLIENT_URL`, `VITE_API_URL`, `VITE_OAUTH_PORTAL_URL`, `OAUTH_SERVER_URL`',
      'Revisar cabecera `Set-Cookie` en navegador (DevTools): cookie de sesión presente; dominio/path/samesite correctos',
      'Revisar logs backend para errores de firma token/cookie.',
    ],
    mitigation: [
      'Si no hay cookie en cliente: corregir `TRUST_PROXY`, `COOKIE_SECURE`, URL HTTPS.',
      'Si hay token inválido: rotar sesión del usuario y verificar consistencia de secretos entre instancias.',
      'Si es solo un tenant: validar estado del tenant (suspendido/billing lock).',
    ],
  },
  slow: {
    title: 'La app está lenta',
    command: 'guardia diagnose slow',
    symptoms: ['Dashboard/leads/chat con tiempos > 2-3s.', 'Timeouts intermitentes en listados o métricas.'],
    diagnosisHeading: 'Diagnóstico rápido (10-20 min)',
    diagnosis: [
      'Revisar salud de servicios: app CPU/RAM; MySQL conexiones activas; Redis latencia/errores',
      'Ejecutar verificaciones: `guardia verify tenant-indexes`; `guardia verify tenant-performance --tenant ID` (con `TENANT_ID` real)',
      'Revisar slow query log o `EXPLAIN` de consultas afectadas.',
      'Confirmar que migraciones de índices ({index_migrations}) están aplicadas.',
    ],
    mitigation: [
      'Aplicar índices faltantes y reiniciar workers de cola.',
      'Reducir carga temporal (batch sizes, concurrencia de campañas).',
      'Escalar verticalmente DB/app si hay saturación sostenida.',
    ],
  },
  errors: {
    title: 'Error 500 frecuente en módulo X',
    command: 'guardia diagnose errors',
    symptoms: [
      'Error 500 repetido en un router/página específica.',
      'Aumento de excepciones en logs/Sentry.',
    ],
    diagnosisHeading: 'Diagnóstico rápido (10-15 min)',
    diagnosis: [
      'Identificar módulo y endpoint exacto (`/api/trpc/<router>.<procedure>`).',
      'Correlacionar con `X-Request-Id` y stacktrace (`guardia diagnose errors --request-id ID`).',
      'Validar entrada esperada (payload) y permisos del usuario/rol.',
      'Reproducir en entorno controlado con mismo tenant/rol.',
    ],
    mitigation: [
      'Aplicar hotfix mínimo y seguro en el procedimiento afectado.',
      'Si no hay fix inmediato: feature flag/rollback del módulo.',
      'Documentar RCA con causa raíz + acción preventiva (`guardia incidents rca ID --cause … --action …`).',
    ],
  },
} as const satisfies Record<'login' | 'slow' | 'errors', RunbookPlaybook>;
