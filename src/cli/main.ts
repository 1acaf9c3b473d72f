/** The `stageline` command line. */
import { Command, InvalidArgumentError, Option } from 'commander';
import { AuthService } from '../app/auth-service.js';
import type { IssuedToken } from '../app/auth-service.js';
import { ConfigError, DEFAULTS, LOG_LEVELS, loadConfig } from '../config.js';
import type { Config, ConfigInput } from '../config.js';
import { readFile, writeFile } from 'node:fs/promises';
import { ImportError, exportData, importData } from '../app/transfer.js';
import type { Store } from '../domain/ports.js';
import { exitOnCrash } from '../logging.js';
import { VERSION, createStageline, openStore } from '../stageline.js';

const integer = (name: string) => (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n)) throw new InvalidArgumentError(`${name} must be an integer`);
  return n;
};

const databaseOption = () =>
  new Option('-d, --database <file|:memory:>', 'SQLite database file')
    .env('STAGELINE_DATABASE')
    .default(DEFAULTS.database);

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

async function serve(flags: ConfigInput): Promise<void> {
  const config = loadConfig(flags);
  const stageline = await createStageline(config);
  exitOnCrash(stageline.log);
  const shutdown = async (signal: string) => {
    stageline.app.log.info({ signal }, 'shutting down: draining in-flight requests');
    await stageline.close();
    process.exit(0);
  };
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
  process.once('SIGINT', () => void shutdown('SIGINT'));
  const issued = await stageline.auth.bootstrap();
  const address = await stageline.app.listen({ port: config.port, host: config.host });
  if (issued) printBootstrapToken(issued, address);
  stageline.app.log.info(
    { database: config.database, auth: config.auth },
    `Stageline ${VERSION} serving on ${address}`,
  );
}

/** Opens the database (running pending migrations), does one job, closes it. */
async function withStore<T>(database: string, work: (store: Store) => Promise<T>): Promise<T> {
  const store = await openStore(database, DEFAULTS);
  try {
    return await work(store);
  } finally {
    await store.close();
  }
}

const withTokens = <T>(database: string, work: (auth: AuthService) => Promise<T>): Promise<T> =>
  withStore(database, (store) => work(new AuthService(store, 'tokens', Date.now)));

export function buildCli(): Command {
  const program = new Command('stageline')
    .description("A self-hostable server that speaks HubSpot's CRM Pipelines API.")
    .version(VERSION)
    .showHelpAfterError()
    .addHelpText(
      'after',
      `
Examples:
  stageline serve                              embedded SQLite in ./stageline.db, token auth
  stageline serve --auth open --database :memory:   throwaway emulator: any token is its own portal
  stageline tokens create --portal 42 --scopes crm.schemas.deals.read,crm.schemas.deals.write`,
    );

  program
    .command('serve')
    .description('Run the HTTP server')
    .addOption(
      new Option('-p, --port <port>', 'port to listen on (0 picks a free one)')
        .env('PORT')
        .default(String(DEFAULTS.port)),
    )
    .addOption(new Option('-H, --host <host>', 'interface to bind').env('HOST').default(DEFAULTS.host))
    .addOption(databaseOption())
    .addOption(
      new Option('-a, --auth <mode>', 'tokens: issued tokens only; open: any bearer token is its own portal')
        .choices(['tokens', 'open'])
        .env('STAGELINE_AUTH')
        .default(DEFAULTS.auth),
    )
    .addOption(
      new Option('-l, --log-level <level>', 'log level')
        .choices(LOG_LEVELS)
        .env('LOG_LEVEL')
        .default(DEFAULTS.logLevel),
    )
    .addOption(
      new Option('--body-limit <bytes>', 'largest accepted request body')
        .env('STAGELINE_BODY_LIMIT')
        .default(String(DEFAULTS.bodyLimit)),
    )
    .addOption(
      new Option('--pool-size <n>', 'PostgreSQL connections per process')
        .env('STAGELINE_POOL_SIZE')
        .default(String(DEFAULTS.poolSize)),
    )
    .addOption(
      new Option(
        '--db-timeout-ms <ms>',
        'PostgreSQL connect/statement/lock timeout; past it requests answer 503',
      )
        .env('STAGELINE_DB_TIMEOUT_MS')
        .default(String(DEFAULTS.dbTimeoutMs)),
    )
    .addOption(
      new Option(
        '--rate-limit <policy>',
        'per-token limits: off, hubspot (100 per 10 s, 250,000 a day) or <n>/10s',
      )
        .env('STAGELINE_RATE_LIMIT')
        .default(DEFAULTS.rateLimit),
    )
    .addOption(
      new Option(
        '--cors-origins <list>',
        'comma-separated origins browsers may call from, or * (default: CORS off)',
      ).env('STAGELINE_CORS_ORIGINS'),
    )
    .addOption(
      new Option('--request-timeout-ms <ms>', 'a request must arrive whole within this (headers within 10 s)')
        .env('STAGELINE_REQUEST_TIMEOUT_MS')
        .default(String(DEFAULTS.requestTimeoutMs)),
    )
    .action((opts: Record<keyof Config, string>) => serve({ ...opts }));

  const tokens = program.command('tokens').description('Manage access tokens (token auth mode)');

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
    .option('--user <id>', 'user id recorded as fromUserId in audit entries', integer('user'), 1)
    .addOption(databaseOption())
    .action(async (opts: { portal: number; scopes?: string[]; user: number; database: string }) => {
      const issued = await withTokens(opts.database, (auth) =>
        auth.issueToken({ portalId: opts.portal, userId: opts.user, scopes: opts.scopes }),
      );
      const scopes = issued.record.scopes === null ? 'all scopes' : issued.record.scopes.join(', ');
      process.stderr.write(
        `Created ${issued.record.id} for portal ${issued.record.portalId}, user ${issued.record.userId} (${scopes}). The secret is shown only once:\n`,
      );
      process.stdout.write(`${issued.token}\n`);
    });

  tokens
    .command('list')
    .description('List tokens (ids and scopes, never secrets)')
    .option('--json', 'print JSON')
    .addOption(databaseOption())
    .action(async (opts: { json?: boolean; database: string }) => {
      const list = await withTokens(opts.database, (auth) => auth.listTokens());
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

  tokens
    .command('revoke')
    .description('Revoke a token by its id (tok_…); it stops working at once')
    .argument('<tokenId>', 'the token id shown by `tokens list`')
    .addOption(databaseOption())
    .action(async (tokenId: string, opts: { database: string }) => {
      const revoked = await withTokens(opts.database, (auth) => auth.revokeToken(tokenId));
      if (!revoked) throw new Error(`No active token with id ${tokenId}`);
      process.stdout.write(`Revoked ${tokenId}\n`);
    });

  program
    .command('migrate')
    .description('Run pending database migrations and exit (serve also runs them at start)')
    .addOption(databaseOption())
    .action(async (opts: { database: string }) => {
      await withStore(opts.database, async () => undefined);
      process.stdout.write('Migrations are up to date.\n');
    });

  program
    .command('export')
    .description("Write a portal's (or every portal's) pipelines, stages, records, audit and tokens to JSON")
    .option('--portal <id>', 'only this portal', integer('portal'))
    .option('-o, --out <file>', 'output file (default: stdout)')
    .addOption(databaseOption())
    .action(async (opts: { portal?: number; out?: string; database: string }) => {
      const doc = await withStore(opts.database, (store) => exportData(store, opts.portal));
      const json = `${JSON.stringify(doc)}\n`;
      if (opts.out === undefined) process.stdout.write(json);
      else await writeFile(opts.out, json);
      process.stderr.write(`Exported ${doc.portals.length} portal(s).\n`);
    });

  program
    .command('import')
    .description('Load an export into a database (any backend); existing portals are never overwritten')
    .argument('<file>', 'a file written by `stageline export`')
    .addOption(databaseOption())
    .action(async (file: string, opts: { database: string }) => {
      const doc: unknown = JSON.parse(await readFile(file, 'utf8'));
      const counts = await withStore(opts.database, (store) => importData(store, doc));
      process.stdout.write(
        `Imported ${counts.portals} portal(s): ${counts.pipelines} pipelines, ${counts.records} records, ${counts.audit} audit entries.\n`,
      );
    });

  return program;
}

export async function main(argv: string[]): Promise<void> {
  try {
    await buildCli().parseAsync(argv);
  } catch (err) {
    if (err instanceof ConfigError || err instanceof RangeError || err instanceof ImportError) {
      process.stderr.write(`stageline: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
}
