/** The `stageline` command line. */
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { AuthService } from '../app/auth-service.js';
import type { IssuedToken } from '../app/auth-service.js';
import { ConfigError, SETTING_KEYS, loadConfig } from '../config.js';
import type { Config, ConfigInput } from '../config.js';
import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { finished } from 'node:stream/promises';
import { ImportError, importFile, writeExport } from '../app/transfer.js';
import { SeedError } from '../seed/seed-document.js';
import type { Store } from '../domain/ports.js';
import { exitAfterLogs, exitOnCrash } from '../logging.js';
import { VERSION, createStageline, openStore } from '../stageline.js';
import { EXEC_DEFAULTS, runExec } from './exec.js';
import { STORE_SETTINGS, addSettings } from './options.js';
import { addPipelinesCommands } from './pipelines.js';

const integer = (name: string) => (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n)) throw new InvalidArgumentError(`${name} must be an integer`);
  return n;
};

export function sdkSnippet(url: string, token: string): string {
  return [
    "import { Client } from '@hubspot/api-client';",
    `const hubspot = new Client({ accessToken: '${token}', basePath: '${url}' });`,
    "const { results } = await hubspot.crm.pipelines.pipelinesApi.getAll('deals');",
  ].join('\n');
}

function printBootstrapToken(issued: IssuedToken, url: string): void {
  // stderr, not the structured log on stdout: the token is shown once and never logged.
  process.stderr.write(
    [
      '',
      'First start: created portal 1 and an admin token (all scopes). It is shown only this once:',
      '',
      `  ${issued.token}`,
      '',
      'Use it with the official SDK:',
      '',
      sdkSnippet(url, issued.token).replace(/^/gm, '  '),
      '',
      'More tokens: stageline tokens create --portal <id> [--scopes a,b] [--user <id>]',
      '',
    ].join('\n'),
  );
}

/**
 * The configuration of a command's options. Commander has already read the variable of each
 * option it declares; a command's other settings keep their defaults, whatever the environment.
 */
export const commandConfig = (opts: ConfigInput): Config => loadConfig(opts, {});

async function serve(flags: ConfigInput): Promise<void> {
  const config = commandConfig(flags);
  const stageline = await createStageline(config);
  exitOnCrash(stageline.log);
  const shutdown = async (signal: string) => {
    stageline.app.log.info({ signal }, 'shutting down: draining in-flight requests');
    await stageline.close();
    exitAfterLogs(stageline.log, 0);
  };
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
  process.once('SIGINT', () => void shutdown('SIGINT'));
  const issued = await stageline.bootstrap();
  const address = await stageline.app.listen({ port: config.port, host: config.host });
  if (issued) printBootstrapToken(issued, address);
  stageline.app.log.info(
    { database: config.database, auth: config.auth },
    `Stageline ${VERSION} serving on ${address}`,
  );
}

type StoreOptions = Pick<ConfigInput, (typeof STORE_SETTINGS)[number]>;

/** Opens the database its options name (running pending migrations), does one job, closes it. */
async function withStore<T>(opts: StoreOptions, work: (store: Store) => Promise<T>): Promise<T> {
  const config = commandConfig(opts);
  const store = await openStore(config.database, config);
  try {
    return await work(store);
  } finally {
    await store.close();
  }
}

const withTokens = <T>(opts: StoreOptions, work: (auth: AuthService) => Promise<T>): Promise<T> =>
  withStore(opts, (store) => work(new AuthService(store, 'tokens', Date.now)));

export function buildCli(): Command {
  const program = new Command('stageline')
    .description("A self-hostable server that speaks HubSpot's CRM Pipelines API.")
    .version(VERSION)
    .showHelpAfterError()
    // Throw instead of exiting, so that main() gives usage errors the exit code of bad settings.
    .exitOverride()
    .addHelpText(
      'after',
      `
Examples:
  stageline serve                              embedded SQLite in ./stageline.db, token auth
  stageline serve --auth open --database :memory:   throwaway emulator: any token is its own portal
  stageline tokens create --portal 42 --scopes crm.schemas.deals.read,crm.schemas.deals.write`,
    );

  addSettings(program.command('serve').description('Run the HTTP server'), SETTING_KEYS).action(
    (opts: ConfigInput) => serve(opts),
  );

  addSettings(
    program
      .command('exec')
      .description(
        'Start a throwaway Stageline on a free port, run a command with STAGELINE_URL set, stop it, and exit with its code',
      )
      .argument('<command...>', 'the command, after --')
      .addHelpText(
        'after',
        `
Defaults differ from serve: --auth open, --database :memory:, --port 0 (a free one), --log-level warn.

Example:
  stageline exec --seed pipelines.yaml -- npm test`,
      ),
    SETTING_KEYS,
  ).action(async (command: string[], opts: ConfigInput, cmd: Command) => {
    const flags: Record<string, unknown> = { ...opts };
    for (const [key, value] of Object.entries(EXEC_DEFAULTS)) {
      const source = cmd.getOptionValueSource(key);
      if (source === undefined || source === 'default') flags[key] = value;
    }
    const code = await runExec(commandConfig(flags as ConfigInput), command);
    process.exit(code);
  });

  const tokens = program.command('tokens').description('Manage access tokens (token auth mode)');

  addSettings(
    tokens
      .command('create')
      .description('Create an access token; the secret is printed once, only its hash is stored')
      .requiredOption(
        '--portal <id>',
        'portal the token opens (created with default pipelines if new)',
        integer('portal'),
      )
      .option('--scopes <list>', 'comma-separated scopes (default: every scope)', (v: string) =>
        v
          .split(',')
          .map((s) => s.trim())
          .filter((s) => s !== ''),
      )
      .option('--user <id>', 'user id recorded as fromUserId in audit entries', integer('user'), 1),
    STORE_SETTINGS,
  ).action(async (opts: StoreOptions & { portal: number; scopes?: string[]; user: number }) => {
    const issued = await withTokens(opts, (auth) =>
      auth.issueToken({ portalId: opts.portal, userId: opts.user, scopes: opts.scopes }),
    );
    const scopes = issued.record.scopes === null ? 'all scopes' : issued.record.scopes.join(', ');
    process.stderr.write(
      `Created ${issued.record.id} for portal ${issued.record.portalId}, user ${issued.record.userId} (${scopes}). The secret is shown only once:\n`,
    );
    process.stdout.write(`${issued.token}\n`);
  });

  addSettings(
    tokens
      .command('list')
      .description('List tokens (ids and scopes, never secrets)')
      .option('--json', 'print JSON'),
    STORE_SETTINGS,
  ).action(async (opts: StoreOptions & { json?: boolean }) => {
    const list = await withTokens(opts, (auth) => auth.listTokens());
    const rows = list.map(({ hash: _hash, ...rest }) => ({
      ...rest,
      createdAt: new Date(rest.createdAt).toISOString(),
      revokedAt: rest.revokedAt === null ? null : new Date(rest.revokedAt).toISOString(),
    }));
    if (opts.json) {
      process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
      return;
    }
    if (rows.length === 0) process.stdout.write('No tokens.\n');
    for (const r of rows) {
      const scopes = r.scopes === null ? 'all scopes' : r.scopes.join(',');
      const state = r.revokedAt === null ? 'active' : `revoked ${r.revokedAt}`;
      process.stdout.write(`${r.id}\tportal ${r.portalId}\tuser ${r.userId}\t${state}\t${scopes}\n`);
    }
  });

  addSettings(
    tokens
      .command('revoke')
      .description('Revoke a token by its id (tok_…); it stops working at once')
      .argument('<tokenId>', 'the token id shown by `tokens list`'),
    STORE_SETTINGS,
  ).action(async (tokenId: string, opts: StoreOptions) => {
    const revoked = await withTokens(opts, (auth) => auth.revokeToken(tokenId));
    if (!revoked) throw new Error(`No active token with id ${tokenId}`);
    process.stdout.write(`Revoked ${tokenId}\n`);
  });

  addSettings(
    program
      .command('migrate')
      .description('Run pending database migrations and exit (serve also runs them at start)'),
    STORE_SETTINGS,
  ).action(async (opts: StoreOptions) => {
    await withStore(opts, async () => undefined);
    process.stdout.write('Migrations are up to date.\n');
  });

  addSettings(
    program
      .command('export')
      .description(
        "Write a portal's (or every portal's) pipelines, stages, records, audit and tokens as JSON Lines",
      )
      .option('--portal <id>', 'only this portal', integer('portal'))
      .option('-o, --out <file>', 'output file (default: stdout)')
      .addHelpText(
        'after',
        `
The export is read from one consistent snapshot and written a line at a time, so its size is not
bound by memory. Its last line counts what came before: \`stageline import\` refuses a file cut short.`,
      ),
    STORE_SETTINGS,
  ).action(async (opts: StoreOptions & { portal?: number; out?: string }) => {
    const file = opts.out;
    const out = file === undefined ? process.stdout : createWriteStream(file);
    let written;
    try {
      written = await withStore(opts, (store) => writeExport(store, out, { portalId: opts.portal }));
      if (file !== undefined) await finished(out.end());
    } catch (err) {
      // A file without its end line would be refused by an import anyway: leave none behind.
      if (file !== undefined) {
        out.destroy();
        await rm(file, { force: true });
      }
      throw err;
    }
    process.stderr.write(`Exported ${written.portals} portal(s), ${written.lines + 1} lines.\n`);
  });

  addSettings(
    program
      .command('import')
      .description('Load an export into a database (any backend); existing portals are never overwritten')
      .argument('<file>', 'a file written by `stageline export`')
      .addHelpText(
        'after',
        `
The file is read a line at a time and loaded in one transaction: a file that is damaged or cut
short is refused and nothing of it is loaded. Files of version 1 (one JSON document, written by
Stageline before the line format) still import, but are read whole into memory.`,
      ),
    STORE_SETTINGS,
  ).action(async (file: string, opts: StoreOptions) => {
    // A line per batch on stderr, so stdout keeps only the result.
    const counts = await withStore(opts, (store) =>
      importFile(store, file, (p) =>
        process.stderr.write(`Portal ${p.portalId}: ${p.kind} ${p.done} of ${p.total}\n`),
      ),
    );
    process.stdout.write(
      `Imported ${counts.portals} portal(s): ${counts.pipelines} pipelines, ${counts.records} records, ${counts.audit} audit entries.\n`,
    );
  });

  addPipelinesCommands(program);

  return program;
}

/** The exit code of a bad flag, setting or input file, whoever finds it: commander or Stageline. */
const USAGE_ERROR = 2;

export async function main(argv: string[]): Promise<void> {
  try {
    await buildCli().parseAsync(argv);
  } catch (err) {
    // Commander has printed its message (or the help, or the version) already.
    if (err instanceof CommanderError) process.exit(err.exitCode === 0 ? 0 : USAGE_ERROR);
    if (
      err instanceof ConfigError ||
      err instanceof RangeError ||
      err instanceof ImportError ||
      err instanceof SeedError
    ) {
      process.stderr.write(`stageline: ${err.message}\n`);
      process.exit(USAGE_ERROR);
    }
    throw err;
  }
}
