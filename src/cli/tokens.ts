/**
 * `guardia tokens create|list|revoke`: API tokens. A new token is printed once; only its hash is stored.
 */
import type { Command } from 'commander';
import { ROLES, type Role } from '../services/tokens.js';
import { GuardiaError } from '../shared/errors.js';
import { withServices, withStoreOptions, type StoreOptions } from './context.js';
import { printJson } from './output.js';

export function registerTokenCommands(program: Command): void {
  const tokens = program.command('tokens').description('create, list and revoke API tokens');

  withStoreOptions(
    tokens
      .command('create')
      .description('create an API token (printed once; store it safely)')
      .requiredOption('--role <role>', `one of ${ROLES.join(', ')}`)
      .requiredOption('--name <name>', 'who or what uses the token (shown on timelines)')
      .option('--json', 'print as JSON', false),
  ).action(async (options: StoreOptions & { role: string; name: string; json: boolean }) => {
    if (!ROLES.includes(options.role as Role)) {
      throw new GuardiaError(
        'invalid_input',
        `--role must be one of ${ROLES.join(', ')}, got "${options.role}"`,
      );
    }
    const created = await withServices(options, (s) => s.tokens.create(options.name, options.role as Role));
    if (options.json) return printJson({ ...created.identity, token: created.token });
    process.stdout.write(
      `Created ${created.identity.role} token "${created.identity.name}" (id ${created.identity.id}). It is shown only once:\n\n` +
        `  ${created.token}\n\nUse it as: Authorization: Bearer <token>   (or export GUARDIA_TOKEN=<token>)\n`,
    );
  });

  withStoreOptions(
    tokens
      .command('list')
      .description('list API tokens (never their values)')
      .option('--json', 'print as JSON', false),
  ).action(async (options: StoreOptions & { json: boolean }) => {
    const list = await withServices(options, (s) => s.tokens.list());
    if (options.json) return printJson({ tokens: list });
    if (list.length === 0)
      return void process.stdout.write(
        'No tokens. Create one: guardia tokens create --role admin --name you\n',
      );
    for (const t of list) {
      process.stdout.write(
        `${String(t.id).padStart(4)}  ${t.role.padEnd(9)}  ${t.name}  created ${t.created_at}${t.revoked_at ? `  REVOKED ${t.revoked_at}` : ''}\n`,
      );
    }
  });

  withStoreOptions(
    tokens
      .command('revoke')
      .description('revoke an API token')
      .argument('<id>', 'token id (see tokens list)'),
  ).action(async (id: string, options: StoreOptions) => {
    const tokenId = Number(id);
    if (!Number.isInteger(tokenId) || tokenId <= 0)
      throw new GuardiaError('invalid_input', `token id must be a positive integer, got "${id}"`);
    await withServices(options, (s) => s.tokens.revoke(tokenId));
    process.stdout.write(`Revoked token ${tokenId}.\n`);
  });
}
