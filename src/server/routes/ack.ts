/**
 * One-click acknowledge from an email page: `GET /ack/{token}` shows the incident and a form that POSTs back to
 * the same URL; a tiny inline script submits it at once in a browser, so a person clicks once, while link
 * scanners that fetch URLs without running scripts acknowledge nothing. `POST /ack/{token}` acknowledges as
 * `person:<id>`. The token is the credential (see src/notify/ack-link.ts): pages are never cached, never sent
 * as a referrer, and allow only this one inline script (CSP nonce).
 */
import crypto from 'node:crypto';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { PersonPolicy } from '../../domain/policy/schema.js';
import { verifyAckToken } from '../../notify/ack-link.js';
import { actorName, escapeHtml, formatTime, type Language } from '../../notify/messages.js';
import { GuardiaError } from '../../shared/errors.js';
import type { Incident } from '../../store/incidents-repo.js';
import type { AppServices } from '../context.js';
import type { RouteDoc } from '../openapi.js';

interface PageText {
  confirmTitle: (id: number) => string;
  confirmLead: (name: string) => string;
  button: string;
  noscript: string;
  doneTitle: string;
  done: (id: number, name: string, at: string) => string;
  alreadyTitle: string;
  already: (id: number, status: string, by: string, at: string) => string;
  statuses: Record<string, string>;
  notFound: (id: number) => string;
  severity: string;
  started: string;
  ackDue: string;
}

const TEXT: Record<Language, PageText> = {
  en: {
    confirmTitle: (id) => `Acknowledge incident #${id}`,
    confirmLead: (name) => `Acknowledging as ${name}…`,
    button: 'Acknowledge',
    noscript: 'Press the button to acknowledge.',
    doneTitle: 'Acknowledged',
    done: (id, name, at) => `Incident #${id} is acknowledged by ${name} at ${at}.`,
    alreadyTitle: 'Already acknowledged',
    already: (id, status, by, at) =>
      `Incident #${id} is already ${status}${by ? ` by ${by}` : ''}${at ? ` at ${at}` : ''}.`,
    statuses: { acknowledged: 'acknowledged', mitigated: 'mitigated', resolved: 'resolved' },
    notFound: (id) => `Incident #${id} does not exist on this Guardia.`,
    severity: 'Severity',
    started: 'Started',
    ackDue: 'Acknowledgement due',
  },
  es: {
    confirmTitle: (id) => `Reconocer el incidente #${id}`,
    confirmLead: (name) => `Reconociendo como ${name}…`,
    button: 'Reconocer',
    noscript: 'Pulsa el botón para reconocerlo.',
    doneTitle: 'Reconocido',
    done: (id, name, at) => `El incidente #${id} quedó reconocido por ${name} (${at}).`,
    alreadyTitle: 'Ya reconocido',
    already: (id, status, by, at) =>
      `El incidente #${id} ya está ${status}${by ? ` por ${by}` : ''}${at ? ` (${at})` : ''}.`,
    statuses: { acknowledged: 'reconocido', mitigated: 'mitigado', resolved: 'resuelto' },
    notFound: (id) => `El incidente #${id} no existe en este Guardia.`,
    severity: 'Severidad',
    started: 'Inicio',
    ackDue: 'Vence el reconocimiento',
  },
};

export async function ackRoutes(app: FastifyInstance, services: AppServices): Promise<void> {
  // The form posts an empty urlencoded body; nothing in it is read, so any body is accepted and ignored.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: 16 * 1024 }, (_req, _body, done) =>
    done(null, null),
  );

  const tz = services.policy.calendar.timezone;

  /** Resolves a token to its person and incident, or answers with the right error page. */
  async function load(
    token: string,
    reply: FastifyReply,
  ): Promise<{ person: PersonPolicy; incident: Incident } | undefined> {
    let claims;
    try {
      claims = verifyAckToken(token, services.settings.secretKey, services.clock.now());
    } catch (err) {
      const message = err instanceof GuardiaError ? err.message : 'this acknowledge link is not valid';
      const expired = message.includes('expired');
      await page(
        reply,
        401,
        'en',
        expired ? 'Link expired · Enlace caducado' : 'Link not valid · Enlace no válido',
        [
          `${capitalize(message)}.`,
          expired ? 'Este enlace para reconocer ha caducado.' : 'Este enlace para reconocer no es válido.',
          'Acknowledge in Slack, the CLI or the API instead. · Reconoce el incidente desde Slack, la CLI o la API.',
        ],
      );
      return undefined;
    }
    const person = services.policy.people.find((p) => p.id === claims.personId);
    if (!person) {
      await page(reply, 403, 'en', 'Not allowed · No permitido', [
        `This link was made for "${claims.personId}", who is no longer a person in the policy.`,
        `Este enlace se hizo para "${claims.personId}", que ya no figura en la política.`,
      ]);
      return undefined;
    }
    try {
      const { incident } = await services.incidents.get(claims.incidentId);
      return { person, incident };
    } catch (err) {
      if (!(err instanceof GuardiaError && err.code === 'not_found')) throw err;
      const t = TEXT[person.language];
      await page(reply, 404, person.language, t.notFound(claims.incidentId), []);
      return undefined;
    }
  }

  function facts(incident: Incident, t: PageText): string[] {
    return [
      `${t.severity}: ${incident.severity.toUpperCase()}`,
      `${t.started}: ${formatTime(incident.started_at, tz)}`,
      `${t.ackDue}: ${formatTime(incident.ack_due_at, tz)}`,
    ];
  }

  function already(reply: FastifyReply, person: PersonPolicy, incident: Incident) {
    const t = TEXT[person.language];
    const who = {
      acknowledged: [incident.acknowledged_by, incident.acknowledged_at],
      mitigated: [incident.mitigated_by, incident.mitigated_at],
      resolved: [incident.resolved_by, incident.resolved_at],
    }[incident.status as 'acknowledged' | 'mitigated' | 'resolved'] ?? [null, null];
    return page(reply, 409, person.language, t.alreadyTitle, [
      t.already(
        incident.id,
        t.statuses[incident.status] ?? incident.status,
        actorName(who[0] ?? null, services.policy.people),
        who[1] ? formatTime(who[1], tz) : '',
      ),
      `#${incident.id} ${incident.title}`,
    ]);
  }

  const doc = (summary: string): { doc: RouteDoc } => ({
    doc: {
      tag: 'Alerts',
      summary,
      description:
        'The token is signed and expires; GET only shows a confirmation page, so a mail scanner that follows ' +
        'links acknowledges nothing.',
      responses: {
        200: 'An HTML page',
        401: 'An altered or expired link (an HTML page)',
        403: 'The person is no longer in the policy (an HTML page)',
        404: 'No such incident (an HTML page)',
      },
      ownErrorFormat: true,
    },
  });
  // A wildcard, not ":token": Fastify caps named parameters at 100 characters and a token with a long person id
  // is longer.
  app.get<{ Params: { '*': string } }>(
    '/ack/*',
    { config: doc('The one-click acknowledge link from a page email: confirmation page') },
    async (request, reply) => {
      const loaded = await load(request.params['*'], reply);
      if (!loaded) return reply;
      const { person, incident } = loaded;
      if (incident.status !== 'triggered') return already(reply, person, incident);
      const t = TEXT[person.language];
      return page(
        reply,
        200,
        person.language,
        t.confirmTitle(incident.id),
        [`#${incident.id} ${incident.title}`, ...facts(incident, t)],
        {
          lead: t.confirmLead(person.name),
          button: t.button,
          noscript: t.noscript,
        },
      );
    },
  );

  app.post<{ Params: { '*': string } }>(
    '/ack/*',
    { config: doc('Acknowledge through the link (the button of the confirmation page)') },
    async (request, reply) => {
      const loaded = await load(request.params['*'], reply);
      if (!loaded) return reply;
      const { person, incident } = loaded;
      try {
        const updated = await services.incidents.act(
          incident.id,
          'acknowledge',
          `person:${person.id}`,
          'acknowledged from the email link',
        );
        const t = TEXT[person.language];
        return page(reply, 200, person.language, t.doneTitle, [
          t.done(
            updated.id,
            person.name,
            formatTime(updated.acknowledged_at ?? services.clock.now().toISOString(), tz),
          ),
          `#${updated.id} ${updated.title}`,
        ]);
      } catch (err) {
        if (!(err instanceof GuardiaError && err.code === 'invalid_transition')) throw err;
        const { incident: now } = await services.incidents.get(incident.id);
        return already(reply, person, now);
      }
    },
  );
}

/**
 * Sends one small HTML page. Every piece of text is escaped; with `form`, the page carries the POST form and the
 * one inline script the CSP allows (by nonce).
 */
function page(
  reply: FastifyReply,
  status: number,
  language: Language,
  title: string,
  lines: string[],
  form?: { lead: string; button: string; noscript: string },
): FastifyReply {
  const nonce = crypto.randomBytes(16).toString('base64');
  const body = [
    '<!doctype html>',
    `<html lang="${language}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">`,
    '<meta name="robots" content="noindex">',
    `<title>${escapeHtml(title)} · Guardia</title>`,
    `<style nonce="${nonce}">body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem;color:#1f2328}button{font-size:1rem;padding:.6rem 1.2rem;background:#1f6feb;color:#fff;border:0;border-radius:6px;cursor:pointer}p.muted{color:#59636e}</style>`,
    '</head><body>',
    `<h1>${escapeHtml(title)}</h1>`,
    ...lines.map((l) => `<p>${escapeHtml(l)}</p>`),
    ...(form
      ? [
          `<p class="muted">${escapeHtml(form.lead)}</p>`,
          // No action attribute: the form posts to this very URL (works behind any path prefix).
          `<form id="ack" method="post"><button type="submit">${escapeHtml(form.button)}</button></form>`,
          `<noscript><p>${escapeHtml(form.noscript)}</p></noscript>`,
          `<script nonce="${nonce}">document.getElementById('ack').submit();</script>`,
        ]
      : []),
    '</body></html>',
    '',
  ].join('\n');
  return reply
    .status(status)
    .header('content-type', 'text/html; charset=utf-8')
    .header(
      'content-security-policy',
      `default-src 'none'; script-src 'nonce-${nonce}'; style-src 'nonce-${nonce}'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'`,
    )
    .header('cache-control', 'no-store')
    .header('referrer-policy', 'no-referrer')
    .header('x-content-type-options', 'nosniff')
    .send(body);
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
