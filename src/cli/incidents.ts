/**
 * `guardia incidents list|show|declare|ack|mitigate|resolve|rca`: the incident loop from a terminal.
 * Every command has `--json`; acting twice exits 1 and says who acted first.
 */
import type { Command } from 'commander';
import { z } from 'zod';
import type { IncidentAction } from '../domain/incidents/incident.js';
import { presentIncident, presentTimeline, type PresentedIncident } from '../server/present.js';
import { declareBodySchema, listQuerySchema } from '../server/routes/incidents.js';
import { rcaBodySchema } from '../services/playbooks.js';
import { parseOrThrow } from '../shared/validate.js';
import { cliActor, withServices, withStoreOptions, type StoreOptions } from './context.js';
import { printJson } from './output.js';

type JsonOption = { json: boolean };

export function registerIncidentCommands(program: Command): void {
  const incidents = program.command('incidents').description('list, inspect, declare and act on incidents');

  withStoreOptions(
    incidents
      .command('list')
      .description('list incidents, newest first')
      .option('--status <status>', 'open, all, triggered, acknowledged, mitigated or resolved', 'open')
      .option('--severity <sev>', 'sev1, sev2 or sev3')
      .option('--limit <n>', 'at most this many (1-500)', '50')
      .option('--before <id>', "page: incidents older than this id (the previous page's next_cursor)")
      .option('--json', 'print as JSON', false),
  ).action(async (options: StoreOptions & JsonOption & Record<string, string | undefined>) => {
    const query = parseOrThrow(listQuerySchema, {
      status: options.status,
      severity: options.severity,
      limit: options.limit,
      before: options.before,
    });
    await withServices(options, async (s) => {
      const now = s.clock.now();
      const list = (await s.incidents.list(query)).map((i) => presentIncident(i, now));
      const last = list[list.length - 1];
      const next_cursor = list.length === query.limit && last ? String(last.id) : null;
      if (options.json) return printJson({ incidents: list, next_cursor });
      if (list.length === 0)
        return void process.stdout.write(
          `No ${query.status === 'all' ? '' : query.status + ' '}incidents.\n`,
        );
      process.stdout.write(`${'ID'.padStart(5)}  SEV   STATUS        ACK            MITIGATION     TITLE\n`);
      for (const i of list) {
        process.stdout.write(
          `${String(i.id).padStart(5)}  ${i.severity}  ${i.status.padEnd(12)}  ${clockCell(i.sla.ack, now)}  ${clockCell(i.sla.mitigate, now)}  ${i.title}${i.alert_count > 1 ? ` (x${i.alert_count})` : ''}\n`,
        );
      }
      if (next_cursor) process.stdout.write(`More: --before ${next_cursor}\n`);
    });
  });

  withStoreOptions(
    incidents
      .command('show')
      .description('an incident with its SLA clocks and timeline')
      .argument('<id>')
      .option('--json', 'print as JSON', false),
  ).action(async (id: string, options: StoreOptions & JsonOption) => {
    const incidentId = parseId(id);
    await withServices(options, async (s) => {
      const { incident, timeline } = await s.incidents.get(incidentId);
      const presented = { ...presentIncident(incident, s.clock.now()), timeline: presentTimeline(timeline) };
      if (options.json) return printJson(presented);
      process.stdout.write(describeIncident(presented, s.clock.now()));
      process.stdout.write('\nTimeline:\n');
      for (const e of presented.timeline)
        process.stdout.write(`  ${e.at}  ${e.actor.padEnd(22)}  ${e.message}\n`);
    });
  });

  withStoreOptions(
    incidents
      .command('declare')
      .description('declare an incident by hand')
      .requiredOption('--title <title>', 'what is wrong, in one line')
      .requiredOption('--severity <sev>', 'sev1, sev2 or sev3')
      .option('--started-at <time>', 'when impact started (ISO-8601; default now)')
      .option('--dedup-key <key>', 'group later alerts with this key into this incident')
      .option('--as <actor>', 'who declares (default: cli:$USER)')
      .option('--json', 'print as JSON', false),
  ).action(
    async (
      options: StoreOptions &
        JsonOption & { title: string; severity: string; startedAt?: string; dedupKey?: string; as?: string },
    ) => {
      const body = parseOrThrow(declareBodySchema, {
        title: options.title,
        severity: options.severity,
        started_at: options.startedAt,
        dedup_key: options.dedupKey,
      });
      await withServices(options, async (s) => {
        const incident = await s.incidents.declare(
          { ...body, started_at: body.started_at ? new Date(body.started_at) : undefined },
          cliActor(options.as),
        );
        const presented = presentIncident(incident, s.clock.now());
        if (options.json) return printJson(presented);
        process.stdout.write(
          `Declared incident ${incident.id}.\n` + describeIncident(presented, s.clock.now()),
        );
      });
    },
  );

  const verbs: [string, IncidentAction, string][] = [
    ['ack', 'acknowledge', 'acknowledge: someone is on it (stops the acknowledgement clock)'],
    ['mitigate', 'mitigate', 'mark impact stopped (stops the mitigation clock)'],
    ['resolve', 'resolve', 'close the incident'],
  ];
  for (const [verb, action, description] of verbs) {
    withStoreOptions(
      incidents
        .command(verb)
        .description(description)
        .argument('<id>')
        .option('--note <text>', 'a note for the timeline')
        .option('--as <actor>', 'who acts (default: cli:$USER)')
        .option('--json', 'print as JSON', false),
    ).action(async (id: string, options: StoreOptions & JsonOption & { note?: string; as?: string }) => {
      const incidentId = parseId(id);
      await withServices(options, async (s) => {
        const incident = await s.incidents.act(incidentId, action, cliActor(options.as), options.note);
        const presented = presentIncident(incident, s.clock.now());
        if (options.json) return printJson(presented);
        process.stdout.write(
          `Incident ${incident.id} is now ${incident.status}.\n` + describeIncident(presented, s.clock.now()),
        );
      });
    });
  }

  withStoreOptions(
    incidents
      .command('rca')
      .description('record the root cause and the preventive action (the runbook: "Documentar RCA")')
      .argument('<id>')
      .requiredOption('--cause <text>', 'the root cause')
      .requiredOption('--action <text>', 'the preventive action that stops it from happening again')
      .option('--as <actor>', 'who records it (default: cli:$USER)')
      .option('--json', 'print the incident as JSON', false),
  ).action(
    async (
      id: string,
      options: StoreOptions & JsonOption & { cause: string; action: string; as?: string },
    ) => {
      const incidentId = parseId(id);
      const body = parseOrThrow(rcaBodySchema, {
        root_cause: options.cause,
        preventive_action: options.action,
      });
      await withServices(options, async (s) => {
        const incident = await s.playbooks.recordRca(incidentId, body, cliActor(options.as));
        const presented = presentIncident(incident, s.clock.now());
        if (options.json) return printJson(presented);
        process.stdout.write(
          `RCA recorded on incident ${incident.id}.\n  root cause:        ${body.root_cause}\n  preventive action: ${body.preventive_action}\n`,
        );
      });
    },
  );
}

function parseId(id: string): number {
  return parseOrThrow(z.coerce.number().int().positive('expected a positive incident id'), id, 'id');
}

function describeIncident(i: PresentedIncident, now: Date): string {
  const lines = [
    `#${i.id} [${i.severity}] ${i.title}`,
    `  status:      ${i.status}${i.alert_count ? `   alerts: ${i.alert_count}` : ''}${i.dedup_key ? `   dedup_key: ${i.dedup_key}` : ''}`,
    `  started:     ${i.started_at}`,
    `  ack:         ${clockLine(i.sla.ack, now)}`,
    `  mitigation:  ${clockLine(i.sla.mitigate, now)}`,
  ];
  if (i.resolved_at) lines.push(`  resolved:    ${i.resolved_at} by ${i.resolved_by}`);
  return lines.join('\n') + '\n';
}

type Clock = PresentedIncident['sla']['ack'];

function clockLine(c: Clock, now: Date): string {
  if (c.done_at) return `${c.state} (done ${c.done_at}, due ${c.due_at})`;
  return `${c.state}, due ${c.due_at} (${relative(new Date(c.due_at), now)})`;
}

function clockCell(c: Clock, now: Date): string {
  const text = c.done_at
    ? c.state
    : c.state === 'breached'
      ? `BREACHED`
      : `due ${relative(new Date(c.due_at), now)}`;
  return text.padEnd(13);
}

/** "in 4m", "12m ago", "in 2h 5m": enough precision for someone deciding what to do next. */
export function relative(at: Date, now: Date): string {
  const diff = at.getTime() - now.getTime();
  const abs = Math.abs(diff);
  const minutes = Math.round(abs / 60_000);
  const text =
    minutes < 1
      ? '<1m'
      : minutes < 60
        ? `${minutes}m`
        : minutes < 48 * 60
          ? `${Math.floor(minutes / 60)}h ${minutes % 60}m`
          : `${Math.round(minutes / 1440)}d`;
  return diff >= 0 ? `in ${text}` : `${text} ago`;
}
