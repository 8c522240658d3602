/**
 * The playbooks Guardia can run: name → the command that runs it, its title in both languages, and its checks.
 * Check lists are imported on demand, so `guardia diagnose errors` does not load the MySQL and Redis drivers.
 */
import type { Bilingual, CheckDefinition, PlaybookName } from './check.js';

export interface PlaybookInfo {
  name: PlaybookName;
  /** The command that runs it, e.g. `guardia diagnose login`. */
  command: string;
  title: Bilingual;
  /** The runbook section it follows (playbooks of the runbook only). */
  runbook?: 'login' | 'slow' | 'errors';
  load(): Promise<CheckDefinition[]>;
}

export const PLAYBOOKS: Record<PlaybookName, PlaybookInfo> = {
  login: {
    name: 'login',
    command: 'guardia diagnose login',
    title: { en: 'Cannot log in', es: 'No se puede iniciar sesión' },
    runbook: 'login',
    load: async () => (await import('./login/index.js')).loginChecks,
  },
  slow: {
    name: 'slow',
    command: 'guardia diagnose slow',
    title: { en: 'The app is slow', es: 'La app está lenta' },
    runbook: 'slow',
    load: async () => (await import('./slow/index.js')).slowChecks,
  },
  errors: {
    name: 'errors',
    command: 'guardia diagnose errors',
    title: { en: 'Frequent 500 errors in module X', es: 'Error 500 frecuente en módulo X' },
    runbook: 'errors',
    load: async () => (await import('./errors/index.js')).errorsChecks,
  },
  'tenant-indexes': {
    name: 'tenant-indexes',
    command: 'guardia verify tenant-indexes',
    title: { en: 'Tenant indexes', es: 'Índices por tenant' },
    load: async () => (await import('./verify/index.js')).tenantIndexesChecks,
  },
  'tenant-performance': {
    name: 'tenant-performance',
    command: 'guardia verify tenant-performance',
    title: { en: 'Tenant query performance', es: 'Rendimiento de consultas por tenant' },
    load: async () => (await import('./verify/index.js')).tenantPerformanceChecks,
  },
};

export const PLAYBOOK_NAMES = Object.keys(PLAYBOOKS) as PlaybookName[];

/** The checks of a playbook. */
export function loadChecks(name: PlaybookName): Promise<CheckDefinition[]> {
  return PLAYBOOKS[name].load();
}
