/**
 * Session decisions across instances: same secret fingerprints, sessions accepted everywhere, signature errors in logs.
 * Pure: what a probe observed in, status/summary/evidence/mitigation out; no secret value in the output.
 */
import { both, MITIGATIONS } from '../texts.js';
import { type Decision, skip } from './common.js';

// ---------------------------------------------------------------------------------------------------------------
// Session consistency across instances

export type InstanceHealth =
  | { url: string; ok: true; name: string; fingerprints?: Record<string, string> }
  | { url: string; ok: false; error: string };

export type CrossSession =
  | { ran: false; reason: string }
  | { ran: true; from: string; results: { url: string; name: string; status?: number; error?: string }[] };

export function decideSessionConsistency(
  health: InstanceHealth[],
  cross: CrossSession | undefined,
): Decision {
  if (health.length < 2)
    return skip(
      `${health.length} instance${health.length === 1 ? '' : 's'} configured: nothing to compare (set playbooks.targets.instances to every instance's URL)`,
      `${health.length} instancia(s) configurada(s): nada que comparar (configurar playbooks.targets.instances con la URL de cada instancia)`,
    );
  const evidence: Record<string, unknown> = {
    instances: health.map((h) =>
      h.ok
        ? { url: h.url, name: h.name, fingerprints: h.fingerprints ?? 'not reported' }
        : { url: h.url, error: h.error },
    ),
    cross_instance_session: cross ?? 'not run',
  };
  const problems: { en: string; es: string }[] = [];
  for (const h of health)
    if (!h.ok)
      problems.push({
        en: `${h.url} /healthz got no answer (${h.error})`,
        es: `${h.url} /healthz no respondió (${h.error})`,
      });
  const up = health.filter((h): h is Extract<InstanceHealth, { ok: true }> => h.ok);
  const ref = up[0];
  const keys = [...new Set(up.flatMap((h) => Object.keys(h.fingerprints ?? {})))].sort();
  for (const key of keys) {
    const values = new Map<string, string[]>();
    for (const h of up) {
      const v = h.fingerprints?.[key] ?? '(not reported)';
      values.set(v, [...(values.get(v) ?? []), h.name]);
    }
    if (values.size > 1) {
      const parts = [...values].map(([fp, names]) => `${names.join(', ')}: ${fp}`).join(' vs ');
      problems.push({
        en: `${key} differs between instances (fingerprints ${parts})`,
        es: `${key} difiere entre instancias (huellas ${parts})`,
      });
    }
  }
  if (cross?.ran)
    for (const r of cross.results)
      if (r.status !== 200)
        problems.push({
          en: `a session from ${cross.from} is refused by ${r.name} (${r.status ?? r.error})`,
          es: `una sesión de ${cross.from} es rechazada por ${r.name} (${r.status ?? r.error})`,
        });
  if (problems.length)
    return {
      status: 'fail',
      summary: both(problems.map((p) => p.en).join('; '), problems.map((p) => p.es).join('; ')),
      evidence,
      mitigation: MITIGATIONS.invalidToken,
    };
  const what = keys.length ? `same fingerprints for ${keys.join(', ')}` : 'no fingerprints reported';
  const que = keys.length ? `mismas huellas para ${keys.join(', ')}` : 'sin huellas informadas';
  const crossText = cross?.ran
    ? {
        en: `; a session from ${ref?.name} is accepted by every other instance`,
        es: `; una sesión de ${ref?.name} es aceptada por las demás instancias`,
      }
    : {
        en: cross ? ` (cross-instance session not tried: ${cross.reason})` : '',
        es: cross ? ` (sesión entre instancias no probada: ${cross.reason})` : '',
      };
  return {
    status: 'pass',
    summary: both(
      `${up.length} instances: ${what}${crossText.en}`,
      `${up.length} instancias: ${que}${crossText.es}`,
    ),
    evidence,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Log signatures

/** Log messages that mean a token or cookie signature did not verify. */
export const SIGNATURE_PATTERNS: RegExp[] = [
  /invalid (session |cookie |token |jwt )?signature/i,
  /signature verification failed/i,
  /JWSSignatureVerificationFailed/,
  /ERR_JWS_SIGNATURE_VERIFICATION_FAILED/,
  /jwt malformed|invalid token|JWSInvalid|JWTInvalid/i,
  /(bad|invalid) (cookie|session) (signature|secret)/i,
  /unsign(ed)? cookie|cookie .*tampered/i,
];

export interface SignatureHit {
  time?: number;
  level?: unknown;
  msg: string;
  reqId?: string;
  /** Which signature failed, when the app says (`cookie` → COOKIE_SECRET, `jwt` → JWT_SECRET). */
  layer?: string;
  /** The instance that logged it, when the line says. */
  instance?: string;
  file: string;
}

const LAYER_SECRET: Record<string, string> = { cookie: 'COOKIE_SECRET', jwt: 'JWT_SECRET' };

export function matchesSignatureError(text: string): boolean {
  return SIGNATURE_PATTERNS.some((p) => p.test(text));
}

export function decideLogSignatures(hits: SignatureHit[], windowMs: number, linesScanned: number): Decision {
  const minutes = Math.round(windowMs / 60_000);
  const times = hits.map((h) => h.time).filter((t): t is number => t !== undefined);
  const byMessage: Record<string, number> = {};
  const byLayer: Record<string, number> = {};
  const byInstance: Record<string, number> = {};
  for (const h of hits) {
    byMessage[h.msg] = (byMessage[h.msg] ?? 0) + 1;
    if (h.layer) byLayer[h.layer] = (byLayer[h.layer] ?? 0) + 1;
    const where = h.instance ?? h.file;
    byInstance[where] = (byInstance[where] ?? 0) + 1;
  }
  const evidence = {
    window_minutes: minutes,
    lines_scanned: linesScanned,
    count: hits.length,
    by_message: byMessage,
    ...(Object.keys(byLayer).length ? { by_layer: byLayer } : {}),
    by_instance: byInstance,
    first_seen: times.length ? new Date(Math.min(...times)).toISOString() : null,
    last_seen: times.length ? new Date(Math.max(...times)).toISOString() : null,
    samples: hits.slice(0, 5).map((h) => ({
      time: h.time !== undefined ? new Date(h.time).toISOString() : null,
      level: h.level ?? null,
      msg: h.msg,
      req_id: h.reqId ?? null,
      ...(h.layer ? { layer: h.layer } : {}),
      ...(h.instance ? { instance: h.instance } : {}),
      file: h.file,
    })),
  };
  if (!hits.length)
    return {
      status: 'pass',
      summary: both(
        `no token/cookie signature errors in the last ${minutes} min (${linesScanned} lines)`,
        `sin errores de firma token/cookie en los últimos ${minutes} min (${linesScanned} líneas)`,
      ),
      evidence,
    };
  const top = Object.entries(byMessage).sort((a, b) => b[1] - a[1])[0]?.[0] ?? '';
  const secrets = Object.keys(byLayer)
    .map((l) => LAYER_SECRET[l] ?? l)
    .join(', ');
  const instances = Object.keys(byInstance).join(', ');
  return {
    status: 'fail',
    summary: both(
      `${hits.length} token/cookie signature error${hits.length === 1 ? '' : 's'} in the last ${minutes} min on ${instances} (e.g. "${top}"${secrets ? `; ${secrets} did not verify` : ''}): sessions signed with another secret`,
      `${hits.length} error(es) de firma token/cookie en los últimos ${minutes} min en ${instances} (p. ej. "${top}"${secrets ? `; no verificó ${secrets}` : ''}): sesiones firmadas con otro secreto`,
    ),
    evidence,
    mitigation: MITIGATIONS.invalidToken,
  };
}
