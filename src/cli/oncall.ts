/**
 * `guardia oncall [--at TIME]`, `guardia oncall simulate`, `guardia oncall override|overrides|cancel`: who is on
 * call, what an incident would page, and temporary cover. Times typed without an offset ("2026-11-29 03:00") are
 * read on the policy's wall clock, and every answer says which time zone that is.
 */
import type { Command } from 'commander';
import { z } from 'zod';
import { formatLocal, formatOffset, parseTimeInput } from '../domain/oncall/local-time.js';
import type { SimulatedContact, SimulatedStep, Simulation } from '../domain/oncall/simulate.js';
import { severitySchema } from '../domain/policy/schema.js';
import { presentOnCall } from '../server/routes/oncall.js';
import type { OverrideWithState, RoleOnCall } from '../services/oncall.js';
import { GuardiaError, invalidInput, type FieldIssue } from '../shared/errors.js';
import { parseOrThrow } from '../shared/validate.js';
import { cliActor, withServices, withStoreOptions, type StoreOptions } from './context.js';
import { printJson } from './output.js';

type JsonOption = { json: boolean };

const TIME_HELP =
  'ISO-8601 ("2026-11-29T03:00:00Z") or local time in the policy time zone ("2026-11-29 03:00")';

export function registerOnCallCommands(program: Command): void {
  const oncall = program
    .command('oncall')
    .description('who is on call (now or at --at); also: simulate, override, overrides, cancel');

  // The default subcommand, so that `guardia oncall --at …` works while `oncall simulate --at …` keeps its own
  // --at (options on `oncall` itself would swallow the subcommands' options of the same name).
  withStoreOptions(
    oncall
      .command('show', { isDefault: true })
      .description(
        'who holds each role now, or at --at (the default: `guardia oncall` = `guardia oncall show`)',
      )
      .option('--at <time>', `when to ask about (default now): ${TIME_HELP}`)
      .option('--json', 'print as JSON', false),
  ).action(async (options: StoreOptions & JsonOption & { at?: string }) => {
    await withServices(options, async (s) => {
      const zone = s.policy.calendar.timezone;
      const at = options.at === undefined ? s.clock.now() : parseTime(options.at, zone, '--at');
      const roles = await s.oncall.whoIsOnCall(at);
      if (options.json) return printJson(presentOnCall(at, zone, roles));
      process.stdout.write(
        `On call at ${formatLocal(at, zone)}. Times are in ${zone}, the policy's time zone.\n\n`,
      );
      process.stdout.write(describeRoles(roles, zone));
    });
  });

  withStoreOptions(
    oncall
      .command('simulate')
      .description(
        'print the escalation an incident would follow — who, when, through which channel; sends nothing',
      )
      .requiredOption('--severity <sev>', 'sev1, sev2 or sev3')
      .option('--at <time>', `when the incident starts (default now): ${TIME_HELP}`)
      .option('--json', 'print as JSON', false),
  ).action(async (options: StoreOptions & JsonOption & { severity: string; at?: string }) => {
    const severity = parseOrThrow(severitySchema, options.severity, '--severity');
    await withServices(options, async (s) => {
      const zone = s.policy.calendar.timezone;
      const at = options.at === undefined ? s.clock.now() : parseTime(options.at, zone, '--at');
      const simulation = await s.oncall.simulate(severity, at, process.env);
      if (options.json) return printJson({ dry_run: true, ...simulation });
      process.stdout.write(describeSimulation(simulation));
    });
  });

  withStoreOptions(
    oncall
      .command('override')
      .description('put someone on call for a role for a while (audited)')
      .requiredOption('--role <role>', 'the role id, e.g. primary')
      .requiredOption('--person <person>', 'the person id, e.g. sre')
      .option('--from <time>', `start (default now): ${TIME_HELP}`)
      .requiredOption('--to <time>', `end (at most 31 days after the start): ${TIME_HELP}`)
      .requiredOption('--reason <text>', 'why (kept in the audit log)')
      .option('--as <actor>', 'who makes the change (default: cli:$USER)')
      .option('--json', 'print as JSON', false),
  ).action(
    async (
      options: StoreOptions &
        JsonOption & { role: string; person: string; from?: string; to: string; reason: string; as?: string },
    ) => {
      await withServices(options, async (s) => {
        const zone = s.policy.calendar.timezone;
        const override = await s.oncall
          .createOverride(
            {
              role: options.role,
              person_id: options.person,
              ...(options.from === undefined ? {} : { starts_at: parseTime(options.from, zone, '--from') }),
              ends_at: parseTime(options.to, zone, '--to'),
              reason: options.reason,
            },
            cliActor(options.as),
          )
          .catch((err: unknown) => {
            throw asFlagErrors(err);
          });
        if (options.json) return printJson(override);
        process.stdout.write(`Override ${override.id} recorded.\n${describeOverride(override, zone)}`);
      });
    },
  );

  withStoreOptions(
    oncall
      .command('overrides')
      .description('list overrides, newest first (default: those not cancelled and not over)')
      .option('--all', 'include cancelled and ended overrides', false)
      .option('--json', 'print as JSON', false),
  ).action(async (options: StoreOptions & JsonOption & { all: boolean }) => {
    await withServices(options, async (s) => {
      const zone = s.policy.calendar.timezone;
      const overrides = await s.oncall.listOverrides({ status: options.all ? 'all' : 'active' });
      if (options.json) return printJson({ overrides });
      if (overrides.length === 0)
        return void process.stdout.write(
          options.all ? 'No overrides.\n' : 'No current or upcoming overrides.\n',
        );
      process.stdout.write(`Times are in ${zone}, the policy's time zone.\n`);
      for (const o of overrides) process.stdout.write(describeOverride(o, zone));
    });
  });

  withStoreOptions(
    oncall
      .command('cancel')
      .description('cancel an override (an active one ends now; audited)')
      .argument('<id>')
      .option('--note <text>', 'why (kept in the audit log)')
      .option('--as <actor>', 'who makes the change (default: cli:$USER)')
      .option('--json', 'print as JSON', false),
  ).action(async (id: string, options: StoreOptions & JsonOption & { note?: string; as?: string }) => {
    const overrideId = parseOrThrow(
      z.coerce.number().int().positive('expected a positive override id'),
      id,
      'id',
    );
    await withServices(options, async (s) => {
      const override = await s.oncall.cancelOverride(overrideId, cliActor(options.as), options.note);
      if (options.json) return printJson(override);
      process.stdout.write(
        `Override ${override.id} cancelled.\n${describeOverride(override, s.policy.calendar.timezone)}`,
      );
    });
  });
}

/** The API's field names (person_id, ends_at…) as the flags the user typed (--person, --to…). */
const FLAG_OF: Record<string, string> = {
  role: '--role',
  person_id: '--person',
  starts_at: '--from',
  ends_at: '--to',
  reason: '--reason',
};

function asFlagErrors(err: unknown): unknown {
  const issues = err instanceof GuardiaError && err.code === 'invalid_input' ? issuesOf(err) : undefined;
  if (!issues) return err;
  return invalidInput(issues.map((i) => ({ ...i, field: FLAG_OF[i.field] ?? i.field })));
}

function issuesOf(err: GuardiaError): FieldIssue[] | undefined {
  const details = err.details as { issues?: FieldIssue[] } | undefined;
  return details?.issues;
}

function parseTime(text: string, zone: string, field: string): Date {
  const parsed = parseTimeInput(text, zone);
  if ('error' in parsed) throw invalidInput([{ field, message: parsed.error, received: `"${text}"` }]);
  return parsed;
}

function describeRoles(roles: RoleOnCall[], zone: string): string {
  const rows = roles.map((r) => [
    `${r.role_name} (${r.role})`,
    r.people.length === 0
      ? 'NOBODY (no members, no rotation shift)'
      : r.people.map((p) => `${p.name} (${p.id})`).join(', '),
    r.source === 'members' ? 'role members' : r.source,
    r.until === null ? '-' : formatLocal(new Date(r.until), zone),
  ]);
  const header = ['ROLE', 'ON CALL', 'FROM', 'UNTIL'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  return [header, ...rows]
    .map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  '))
    .join('\n')
    .concat('\n');
}

function describeOverride(o: OverrideWithState, zone: string): string {
  const lines = [
    `#${o.id} [${o.state}] ${o.person_id} holds ${o.role} from ${formatLocal(new Date(o.starts_at), zone)} until ${formatLocal(new Date(o.ends_at), zone)}`,
    `  reason: ${o.reason}   by ${o.created_by} at ${formatLocal(new Date(o.created_at), zone)}`,
  ];
  if (o.cancelled_at)
    lines.push(`  cancelled by ${o.cancelled_by} at ${formatLocal(new Date(o.cancelled_at), zone)}`);
  return lines.join('\n') + '\n';
}

const LANGUAGE: Record<string, string> = { en: 'English', es: 'Spanish' };

function describeSimulation(sim: Simulation): string {
  const zone = sim.timezone;
  const start = new Date(sim.started_at);
  const due = (iso: string): string =>
    `${formatLocal(new Date(iso), zone)} (${formatOffset(Date.parse(iso) - start.getTime())})`;
  const lines = [
    `Dry run: a ${sim.severity_name} (${sim.severity}) incident starting ${formatLocal(start, zone)}. Nothing is sent.`,
    `Times are in ${zone}, the policy's time zone. Acknowledge by ${due(sim.ack_due_at)}; mitigate by ${due(sim.mitigate_due_at)}.`,
    '',
  ];
  for (const step of sim.steps) lines.push(...describeStep(step));
  return lines.join('\n') + '\n';
}

function describeStep(step: SimulatedStep): string[] {
  const unless = step.unless ? `, unless ${step.unless} by then` : '';
  const lines = [`Step ${step.index + 1} at ${step.due_local}, ${step.offset} (${step.rule}${unless}):`];
  for (const page of step.pages) {
    const how =
      page.via === 'direct'
        ? 'named directly'
        : `as ${page.via} (${page.source === 'members' ? 'role members' : page.source})`;
    lines.push(
      `  page ${page.person.name} (${page.person.id}) ${how}, in ${LANGUAGE[page.person.language] ?? page.person.language}`,
    );
    if (page.contacts.length === 0) lines.push('    NO CONTACT METHODS: this person cannot be paged');
    page.contacts.forEach((c, i) => lines.push(`    ${i === 0 ? 'via' : 'then'} ${describeContact(c)}`));
  }
  for (const id of step.unresolved)
    lines.push(`  NOBODY for "${id}": not a role or person, or nobody holds it then`);
  return lines;
}

function describeContact(c: SimulatedContact): string {
  const target = c.to ? ` → ${c.to}` : '';
  const state = c.configured
    ? ''
    : c.missing_secret
      ? `  [not configured: ${c.missing_secret} is unset, would fail over]`
      : '  [unknown channel]';
  return `${c.channel} (${c.type}${target})${state}`;
}
