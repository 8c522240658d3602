/**
 * Slack interactivity: `POST /hooks/slack/interactions`, where Slack sends the Acknowledge / Resolve button
 * presses of Guardia's messages. Order: signing secret configured → signature and timestamp verified over the raw
 * bytes → payload parsed → Slack user mapped to a policy person (a contact with that `slack_user`) → the incident
 * action taken as `person:<id>`. The answer is an ephemeral message only the presser sees. A repeated press
 * (Slack retry, a second person) is refused by the incident's own transition and says who acted first.
 */
import type { FastifyInstance } from 'fastify';
import type { PersonPolicy } from '../../domain/policy/schema.js';
import { actorName, formatTime, type Language } from '../../notify/messages.js';
import { escapeMrkdwn } from '../../notify/slack.js';
import { parseSlackInteraction, verifySlackRequest } from '../../notify/slack-interactivity.js';
import { GuardiaError } from '../../shared/errors.js';
import type { Incident } from '../../store/incidents-repo.js';
import type { AppServices } from '../context.js';
import type { RouteDoc } from '../openapi.js';

/** The environment variable holding the Slack app's signing secret. */
export const SLACK_SIGNING_SECRET_ENV = 'SLACK_SIGNING_SECRET';

const TEXT: Record<
  Language,
  {
    done: Record<'acknowledge' | 'resolve', (id: number, name: string) => string>;
    already: (id: number, status: string, by: string, at: string) => string;
    statuses: Record<string, string>;
    notFound: (id: number) => string;
  }
> = {
  en: {
    done: {
      acknowledge: (id, name) => `Incident #${id} acknowledged by ${name}.`,
      resolve: (id, name) => `Incident #${id} resolved by ${name}.`,
    },
    already: (id, status, by, at) =>
      `Incident #${id} is already ${status}${by ? ` by ${by}` : ''}${at ? ` at ${at}` : ''}.`,
    statuses: { acknowledged: 'acknowledged', mitigated: 'mitigated', resolved: 'resolved' },
    notFound: (id) => `Incident #${id} does not exist on this Guardia.`,
  },
  es: {
    done: {
      acknowledge: (id, name) => `Incidente #${id} reconocido por ${name}.`,
      resolve: (id, name) => `Incidente #${id} resuelto por ${name}.`,
    },
    already: (id, status, by, at) =>
      `El incidente #${id} ya está ${status}${by ? ` por ${by}` : ''}${at ? ` (${at})` : ''}.`,
    statuses: { acknowledged: 'reconocido', mitigated: 'mitigado', resolved: 'resuelto' },
    notFound: (id) => `El incidente #${id} no existe en este Guardia.`,
  },
};

/** An answer only the presser sees; the text is escaped because Slack reads it as mrkdwn. */
const ephemeral = (text: string) => ({
  response_type: 'ephemeral',
  replace_original: false,
  text: escapeMrkdwn(text),
});

export async function slackRoutes(app: FastifyInstance, services: AppServices): Promise<void> {
  // The signature covers the exact bytes Slack sent, so the body is kept raw and parsed only after verification.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));

  const doc: RouteDoc = {
    tag: 'Alerts',
    summary: "Slack interactivity: the Acknowledge / Resolve buttons on Guardia's messages",
    description:
      'Verified with `X-Slack-Signature` (v0, HMAC-SHA256 of the raw body) within 300 s; acts as the person ' +
      'whose Slack user id the policy maps.',
    body: { raw: "Slack's form-encoded `payload` (block_actions)" },
    responses: { 200: 'Slack shows the answer', 401: 'Bad, stale or missing signature' },
  };
  app.post('/hooks/slack/interactions', { config: { doc } }, async (request, reply) => {
    const secret = services.env[SLACK_SIGNING_SECRET_ENV];
    if (!secret)
      throw new GuardiaError(
        'unauthenticated',
        `Slack interactivity refuses all requests until its signing secret is set: set ${SLACK_SIGNING_SECRET_ENV} on the Guardia server (Slack app → Basic Information → Signing Secret)`,
      );
    const rawBody = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
    const header = (name: string) => {
      const value = request.headers[name];
      return Array.isArray(value) ? value[0] : value;
    };
    const verified = verifySlackRequest(
      rawBody,
      header('x-slack-request-timestamp'),
      header('x-slack-signature'),
      secret,
      services.clock.now(),
    );
    if (!verified.ok) throw new GuardiaError('unauthenticated', verified.reason);

    let interaction;
    try {
      interaction = parseSlackInteraction(rawBody);
    } catch (err) {
      throw new GuardiaError('invalid_input', (err as Error).message);
    }
    if (interaction.kind === 'ignored') return reply.status(200).send('');

    const person = services.policy.people.find((p) =>
      p.contacts.some((c) => c.slack_user === interaction.slackUser),
    );
    if (!person)
      return ephemeral(
        `Your Slack user ${interaction.slackUser} is not mapped to a person in guardia.yaml, so nothing was done: add "slack_user: ${interaction.slackUser}" to your contacts. · Tu usuario de Slack ${interaction.slackUser} no corresponde a ninguna persona de guardia.yaml; no se hizo nada.`,
      );

    const { action, incidentId } = interaction.command;
    const t = TEXT[person.language];
    try {
      await services.incidents.act(incidentId, action, `person:${person.id}`, 'from Slack');
      return ephemeral(t.done[action](incidentId, person.name));
    } catch (err) {
      if (err instanceof GuardiaError && err.code === 'not_found') return ephemeral(t.notFound(incidentId));
      if (!(err instanceof GuardiaError && err.code === 'invalid_transition')) throw err;
      const { incident } = await services.incidents.get(incidentId);
      return ephemeral(
        alreadyText(incident, person, services.policy.people, services.policy.calendar.timezone),
      );
    }
  });
}

function alreadyText(incident: Incident, person: PersonPolicy, people: PersonPolicy[], tz: string): string {
  const t = TEXT[person.language];
  const [by, at] = {
    acknowledged: [incident.acknowledged_by, incident.acknowledged_at],
    mitigated: [incident.mitigated_by, incident.mitigated_at],
    resolved: [incident.resolved_by, incident.resolved_at],
  }[incident.status as 'acknowledged' | 'mitigated' | 'resolved'] ?? [null, null];
  return t.already(
    incident.id,
    t.statuses[incident.status] ?? incident.status,
    actorName(by ?? null, people),
    at ? formatTime(at, tz) : '',
  );
}
