// loadConfig and the settings table: precedence, defaults (one of them derived from the auth
// mode), validation, and the README's Configuration table against the table in the code.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';

import { ConfigError, DEFAULTS, SETTINGS, SETTING_KEYS, loadConfig } from '../src/config.js';
import type { Config } from '../src/config.js';
import { startStageline } from '../src/index.js';

/** For each setting: a flag value, a different variable value (not the default), and what each parses to. */
const SAMPLES: { [K in keyof Config]: [string, string, Config[K], Config[K]] } = {
  port: ['81', '82', 81, 82],
  host: ['0.0.0.0', '::1', '0.0.0.0', '::1'],
  database: ['a.db', 'postgres://db/x', 'a.db', 'postgres://db/x'],
  auth: ['tokens', 'open', 'tokens', 'open'],
  logLevel: ['debug', 'warn', 'debug', 'warn'],
  logFormat: ['json', 'pretty', 'json', 'pretty'],
  bodyLimit: ['100', '200', 100, 200],
  poolSize: ['2', '3', 2, 3],
  dbTimeoutMs: ['100', '200', 100, 200],
  rateLimit: ['5/10s', 'off', '5/10s', 'off'],
  corsOrigins: [
    'https://a.example',
    'https://b.example, *',
    ['https://a.example'],
    ['https://b.example', '*'],
  ],
  requestTimeoutMs: ['1000', '2000', 1000, 2000],
  controlPlane: ['off', 'on', 'off', 'on'],
  seed: ['a.yaml', 'b.json', 'a.yaml', 'b.json'],
  seedPortal: ['2', '3', 2, 3],
  journalSize: ['10', '20', 10, 20],
  maxPortals: ['5', '6', 5, 6],
};

describe('loadConfig', () => {
  it('takes each setting from its flag over its variable, and its variable over the default', () => {
    for (const key of SETTING_KEYS) {
      const [flag, variable, fromFlag, fromVariable] = SAMPLES[key];
      const env = { [SETTINGS[key].env]: variable };
      assert.deepEqual(loadConfig({ [key]: flag }, env)[key], fromFlag, `${key}: flag`);
      assert.deepEqual(loadConfig({}, env)[key], fromVariable, `${key}: variable`);
      assert.notDeepEqual(DEFAULTS[key], fromVariable, `${key}: the sample equals the default`);
    }
  });

  it('defaults to tokens mode on ./stageline.db with HubSpot’s rate limits and automatic log format', () => {
    assert.deepEqual(
      { ...DEFAULTS },
      {
        port: 8080,
        host: '127.0.0.1',
        database: './stageline.db',
        auth: 'tokens',
        logLevel: 'info',
        logFormat: undefined,
        bodyLimit: 1048576,
        poolSize: 10,
        dbTimeoutMs: 5000,
        rateLimit: 'hubspot',
        corsOrigins: [],
        requestTimeoutMs: 30000,
        controlPlane: 'off',
        seed: undefined,
        seedPortal: 1,
        journalSize: 1000,
        maxPortals: 10000,
      },
    );
    assert.deepEqual(loadConfig({}, {}), DEFAULTS);
  });

  it('rate limits default to off in open mode and to HubSpot’s in tokens mode; a given policy wins', () => {
    const rateLimit = (flags: Parameters<typeof loadConfig>[0], env: NodeJS.ProcessEnv = {}) =>
      loadConfig(flags, env).rateLimit;
    assert.equal(rateLimit({}), 'hubspot');
    assert.equal(rateLimit({ auth: 'tokens' }), 'hubspot');
    assert.equal(rateLimit({ auth: 'open' }), 'off');
    assert.equal(rateLimit({}, { STAGELINE_AUTH: 'open' }), 'off');
    assert.equal(rateLimit({ auth: 'tokens' }, { STAGELINE_AUTH: 'open' }), 'hubspot');
    assert.equal(rateLimit({ auth: 'open', rateLimit: 'hubspot' }), 'hubspot');
    assert.equal(rateLimit({ auth: 'open' }, { STAGELINE_RATE_LIMIT: '7/10s' }), '7/10s');
    assert.equal(rateLimit({}, { STAGELINE_AUTH: 'open', STAGELINE_RATE_LIMIT: 'hubspot' }), 'hubspot');
    assert.equal(rateLimit({ rateLimit: 'off' }), 'off');
  });

  it('log format: unset means automatic; json or pretty; anything else is refused', () => {
    assert.equal(loadConfig({}, {}).logFormat, undefined);
    assert.equal(loadConfig({ logFormat: 'pretty' }, {}).logFormat, 'pretty');
    assert.equal(loadConfig({}, { STAGELINE_LOG_FORMAT: 'json' }).logFormat, 'json');
    assert.throws(
      () => loadConfig({}, { STAGELINE_LOG_FORMAT: 'xml' }),
      (err: unknown) =>
        err instanceof ConfigError &&
        err.message === 'Invalid log format: xml (expected one of json, pretty)',
    );
  });

  it('refuses bad values with a ConfigError that names the setting and the value', () => {
    const cases: [Parameters<typeof loadConfig>[0], NodeJS.ProcessEnv, string][] = [
      [{ port: 'eighty' }, {}, 'Invalid port: eighty'],
      [{ port: 65536 }, {}, 'Invalid port: 65536'],
      [{}, { PORT: '80.5' }, 'Invalid port: 80.5'],
      [{ host: '' }, {}, 'Invalid host: empty'],
      [{}, { STAGELINE_DATABASE: ' ' }, 'Invalid database: empty'],
      [{ auth: 'closed' }, {}, 'Invalid auth mode: closed (expected one of tokens, open)'],
      [
        {},
        { LOG_LEVEL: 'verbose' },
        'Invalid log level: verbose (expected one of fatal, error, warn, info, debug, trace, silent)',
      ],
      [{ bodyLimit: '0' }, {}, 'Invalid body limit: 0'],
      [{}, { STAGELINE_POOL_SIZE: '-1' }, 'Invalid pool size: -1'],
      [{ dbTimeoutMs: 'soon' }, {}, 'Invalid database timeout: soon'],
      [{ rateLimit: '100/1m' }, {}, 'Invalid rate limit: 100/1m (expected off, hubspot or <n>/10s)'],
      [{}, { STAGELINE_CORS_ORIGINS: 'https://a.example,example.com' }, 'Invalid CORS origin: example.com'],
      [{ requestTimeoutMs: '1e3.5' }, {}, 'Invalid request timeout: 1e3.5'],
      [{}, { STAGELINE_MAX_PORTALS: '0' }, 'Invalid max portals: 0'],
    ];
    for (const [flags, env, message] of cases) {
      assert.throws(
        () => loadConfig(flags, env),
        (err: unknown) => err instanceof ConfigError && err.message === message,
        message,
      );
    }
  });

  it('a variable that is set counts even when empty: the empty string is not a port, nor a default', () => {
    assert.throws(() => loadConfig({}, { PORT: '' }), /^ConfigError: Invalid port: empty$/);
    assert.throws(() => loadConfig({}, { STAGELINE_AUTH: '' }), /Invalid auth mode: empty/);
    assert.deepEqual(loadConfig({}, { STAGELINE_CORS_ORIGINS: '' }).corsOrigins, []);
    assert.equal(loadConfig({ port: undefined }, {}).port, 8080, 'an undefined flag is no flag');
  });

  it('returns a frozen configuration', () => {
    const config = loadConfig({ corsOrigins: 'https://a.example' }, {});
    assert.ok(Object.isFrozen(config));
    assert.ok(Object.isFrozen(config.corsOrigins));
    assert.throws(() => {
      (config as { port: number }).port = 1;
    }, TypeError);
  });
});

describe('startStageline options', () => {
  it('rate limits are off in either auth mode unless asked', async () => {
    const limitOf = async (options: Parameters<typeof startStageline>[0]) => {
      const server = await startStageline(options);
      try {
        const token = options?.auth === 'tokens' ? await server.issueToken({ portalId: 5 }) : 'any-token';
        const res = await fetch(`${server.url}/crm/v3/pipelines/deals`, {
          headers: { authorization: `Bearer ${token}` },
        });
        assert.equal(res.status, 200);
        return res.headers.get('x-hubspot-ratelimit-max');
      } finally {
        await server.close();
      }
    };
    assert.equal(await limitOf({}), null, 'open mode');
    assert.equal(await limitOf({ auth: 'tokens' }), null, 'tokens mode');
    assert.equal(await limitOf({ rateLimit: 'hubspot' }), '100', "rateLimit: 'hubspot'");
  });

  it('logFormat is checked like the CLI’s --log-format', async () => {
    await assert.rejects(
      startStageline({ logFormat: 'xml' as 'json' }),
      (err: unknown) => err instanceof ConfigError && /Invalid log format: xml/.test(err.message),
    );
  });
});

describe('README Configuration table', () => {
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
  const section = /\n## Configuration\n([\s\S]*?)\n## /.exec(readme)?.[1] ?? '';
  const rows = section
    .split('\n')
    .filter((line) => line.startsWith('| `--'))
    .map((line) =>
      line
        .split('|')
        .slice(1, -1)
        .map((cell) => cell.trim()),
    );

  it('lists every setting once, with its flag, variable and default', () => {
    assert.deepEqual(
      rows.map(([flag]) => flag),
      SETTING_KEYS.map((key) => `\`${/--[a-z-]+/.exec(SETTINGS[key].flags)?.[0]}\``),
    );
    for (const [i, key] of SETTING_KEYS.entries()) {
      const [, env, fallback, meaning] = rows[i] ?? [];
      const setting = SETTINGS[key];
      assert.equal(env, `\`${setting.env}\``, key);
      assert.equal(fallback?.replaceAll('`', ''), setting.defaultHelp ?? String(setting.default), key);
      assert.ok(meaning, `${key} has no meaning`);
    }
  });
});
