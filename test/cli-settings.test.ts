// The settings of the CLI's commands, in process: the options commander builds from SETTINGS,
// what they accept and refuse, and the database settings of the admin commands. The child
// processes of cli.test.ts check exit codes and what `serve` does with them.

import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import type { AddressInfo, Socket } from 'node:net';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

import { CommanderError } from 'commander';
import type { Command } from 'commander';

import { buildCli, commandConfig } from '../src/cli/main.js';
import { STORE_SETTINGS } from '../src/cli/options.js';
import { SETTINGS, SETTING_KEYS } from '../src/config.js';
import type { Config, ConfigInput } from '../src/config.js';

/** The CLI with everything commander would print kept in `errors` instead. */
function quietCli(): { program: Command; errors: () => string } {
  const program = buildCli();
  let errors = '';
  const quiet = (command: Command): void => {
    command.configureOutput({ writeOut: () => undefined, writeErr: (s) => (errors += s) });
    for (const sub of command.commands) quiet(sub);
  };
  quiet(program);
  return { program, errors: () => errors };
}

function command(program: Command, path: string): Command {
  const found = path
    .split(' ')
    .reduce<Command | undefined>((parent, name) => parent?.commands.find((c) => c.name() === name), program);
  assert.ok(found, `no command ${path}`);
  return found;
}

const helpText = (path: string) => command(buildCli(), path).helpInformation().replace(/\s+/g, ' ');

/**
 * Runs `work` in this process with only these of the settings' variables set (whatever the
 * environment of the test run), then restores them.
 */
async function withEnv<T>(env: NodeJS.ProcessEnv, work: () => Promise<T>): Promise<T> {
  const names = new Set([...SETTING_KEYS.map((key) => SETTINGS[key].env), ...Object.keys(env)]);
  const saved = new Map([...names].map((name) => [name, process.env[name]]));
  const apply = (values: Map<string, string | undefined>) => {
    for (const [name, value] of values) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  };
  apply(new Map([...names].map((name) => [name, env[name]])));
  try {
    return await work();
  } finally {
    apply(saved);
  }
}

/** Runs `stageline <argv…>` in this process with these variables set. */
async function parse(
  argv: string[],
  env: NodeJS.ProcessEnv = {},
): Promise<{ error: unknown; errors: string }> {
  const { program, errors } = quietCli();
  try {
    await withEnv(env, () => program.parseAsync(argv, { from: 'user' }));
    return { error: undefined, errors: errors() };
  } catch (error) {
    return { error, errors: errors() };
  }
}

const ADMIN_COMMANDS = ['tokens create', 'tokens list', 'tokens revoke', 'migrate', 'export', 'import'];

describe('CLI settings', () => {
  it('serve has an option for every setting, with its variable and default in --help', () => {
    const help = helpText('serve');
    for (const key of SETTING_KEYS) {
      const { flags, env, default: fallback, defaultHelp } = SETTINGS[key];
      assert.ok(help.includes(`${flags} `), `${key}: ${flags}`);
      assert.ok(help.includes(`env: ${env})`), `${key}: ${env}`);
      const shown = defaultHelp ?? (typeof fallback === 'string' ? JSON.stringify(fallback) : fallback);
      if (shown !== undefined) assert.ok(help.includes(`default: ${String(shown)}`), `${key}'s default`);
    }
    assert.match(help, /--port <port> .*\(default: 8080, env: PORT\)/);
    assert.match(help, /--rate-limit <policy> .*\(default: hubspot, off with --auth open\)/);
    assert.match(
      help,
      /--log-format <format> .*\(default: pretty on a terminal, JSON otherwise\) \(choices: "json", "pretty", env: STAGELINE_LOG_FORMAT\)/,
    );
  });

  it('every admin command takes the database settings of serve, and only those', () => {
    for (const path of ADMIN_COMMANDS) {
      const help = helpText(path);
      for (const key of SETTING_KEYS) {
        const { flags, env } = SETTINGS[key];
        const expected = (STORE_SETTINGS as readonly string[]).includes(key);
        assert.equal(help.includes(`env: ${env})`), expected, `${path}: ${flags}`);
      }
    }
  });

  it('serve: flags over variables over defaults, the rate limit following the auth mode', async () => {
    /** The configuration `serve <argv…>` would start with, these variables set. */
    const served = async (argv: string[], env: NodeJS.ProcessEnv = {}): Promise<Config> => {
      const { program } = quietCli();
      let config: Config | undefined;
      command(program, 'serve').action((opts: ConfigInput) => void (config = commandConfig(opts)));
      await withEnv(env, () => program.parseAsync(['serve', ...argv], { from: 'user' }));
      assert.ok(config, `serve ${argv.join(' ')} did not run`);
      return config;
    };
    const cases: [string[], NodeJS.ProcessEnv, Partial<Config>][] = [
      [[], {}, { port: 8080, auth: 'tokens', rateLimit: 'hubspot', logFormat: undefined, corsOrigins: [] }],
      [['--port', '81'], { PORT: '82' }, { port: 81 }],
      [[], { PORT: '82' }, { port: 82 }],
      [['--auth', 'open'], {}, { auth: 'open', rateLimit: 'off' }],
      [[], { STAGELINE_AUTH: 'open' }, { auth: 'open', rateLimit: 'off' }],
      [['--auth', 'tokens'], { STAGELINE_AUTH: 'open' }, { auth: 'tokens', rateLimit: 'hubspot' }],
      [['--auth', 'open', '--rate-limit', 'hubspot'], {}, { rateLimit: 'hubspot' }],
      [['--auth', 'open'], { STAGELINE_RATE_LIMIT: '7/10s' }, { rateLimit: '7/10s' }],
      [['--rate-limit', 'off'], {}, { auth: 'tokens', rateLimit: 'off' }],
      [['--log-format', 'json'], { STAGELINE_LOG_FORMAT: 'pretty' }, { logFormat: 'json' }],
      [['--cors-origins', 'https://a.example, *'], {}, { corsOrigins: ['https://a.example', '*'] }],
      [
        ['-d', ':memory:', '--pool-size', '3'],
        { STAGELINE_DB_TIMEOUT_MS: '250' },
        { database: ':memory:', poolSize: 3, dbTimeoutMs: 250 },
      ],
    ];
    for (const [argv, env, expected] of cases) {
      const config = await served(argv, env);
      const actual = Object.fromEntries(
        Object.keys(expected).map((key) => [key, config[key as keyof Config]]),
      );
      assert.deepEqual(actual, expected, `serve ${argv.join(' ')} ${JSON.stringify(env)}`);
    }
  });

  it('refuses bad values from flags and variables, naming where they came from', async () => {
    const cases: [string[], NodeJS.ProcessEnv, string][] = [
      [
        ['serve', '--port', 'eighty'],
        {},
        `option '-p, --port <port>' argument 'eighty' is invalid. Invalid port: eighty`,
      ],
      [['serve', '--port', '70000'], {}, 'Invalid port: 70000'],
      [['serve'], { PORT: '' }, `value '' from env 'PORT' is invalid. Invalid port: empty`],
      [['serve', '--auth', 'foo'], {}, `argument 'foo' is invalid. Allowed choices are tokens, open.`],
      [['serve', '--log-format', 'xml'], {}, `argument 'xml' is invalid. Allowed choices are json, pretty.`],
      [
        ['serve'],
        { STAGELINE_LOG_FORMAT: 'pretty ' },
        `from env 'STAGELINE_LOG_FORMAT' is invalid. Allowed choices`,
      ],
      [
        ['serve', '--rate-limit', '5/min'],
        {},
        'Invalid rate limit: 5/min (expected off, hubspot or <n>/10s)',
      ],
      [['serve', '--cors-origins', 'ftp://x'], {}, 'Invalid CORS origin: ftp://x'],
      [['serve', '--host', ' '], {}, 'Invalid host: empty'],
      [
        ['migrate', '--pool-size', '0'],
        {},
        `option '--pool-size <n>' argument '0' is invalid. Invalid pool size: 0`,
      ],
      [
        ['export'],
        { STAGELINE_DB_TIMEOUT_MS: '1.5' },
        `from env 'STAGELINE_DB_TIMEOUT_MS' is invalid. Invalid database timeout: 1.5`,
      ],
      [['tokens', 'list', '--database', ''], {}, 'Invalid database: empty'],
    ];
    for (const [argv, env, message] of cases) {
      const what = `${argv.join(' ')} ${JSON.stringify(env)}`;
      const { error, errors } = await parse(argv, env);
      assert.ok(error instanceof CommanderError, `${what}: ${String(error)}`);
      assert.equal(error.code, 'commander.invalidArgument', what);
      assert.ok(errors.includes(message), `${what}: ${errors}`);
    }
  });
});

/**
 * A TCP server that accepts connections and never answers, as a PostgreSQL server that hangs
 * would. `held` resolves with how long the first connection stayed open before the client gave up.
 */
async function silentServer(): Promise<{ url: string; held: Promise<number> }> {
  const sockets = new Set<Socket>();
  let heldFor: (ms: number) => void = () => undefined;
  const held = new Promise<number>((resolveHeld) => (heldFor = resolveHeld));
  const server = createServer((socket) => {
    const accepted = Date.now();
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.resume(); // read and drop the startup message, so that the client's hang-up is seen
    socket.on('close', () => {
      sockets.delete(socket);
      heldFor(Date.now() - accepted);
    });
  });
  await new Promise<void>((listening) => server.listen(0, '127.0.0.1', listening));
  after(() => {
    for (const socket of sockets) socket.destroy();
    server.close();
  });
  const { port } = server.address() as AddressInfo;
  return { url: `postgres://postgres@127.0.0.1:${port}/test`, held };
}

describe('admin commands give up on a database that does not answer after --db-timeout-ms', () => {
  // The connection is accepted and never answered, so only the timeout ends the wait: 5 s if
  // the setting were ignored. The flag or the variable, on every command that opens the database
  // (each with --pool-size, which reaches the pool the same way).
  const importFile = fileURLToPath(new URL('../package.json', import.meta.url));
  const byEnv = { STAGELINE_DB_TIMEOUT_MS: '300' };
  const cases: [string, string[], NodeJS.ProcessEnv][] = [
    ['migrate', ['--db-timeout-ms', '300'], {}],
    ['tokens create', ['--portal', '1', '--db-timeout-ms', '300'], {}],
    ['tokens list', [], byEnv],
    ['tokens revoke', ['tok_0'], byEnv],
    ['export', ['--db-timeout-ms', '300'], {}],
    ['import', [importFile], byEnv],
  ];
  for (const [path, args, env] of cases) {
    it(`${path} ${args.join(' ')} ${JSON.stringify(env)}`, async () => {
      const db = await silentServer();
      const { error } = await parse(
        [...path.split(' '), ...args, '--database', db.url, '--pool-size', '1'],
        env,
      );
      assert.match(String(error), /not reachable/);
      const held = await db.held;
      assert.ok(held < 2000, `waited ${held} ms for the database`);
    });
  }
});
