/**
 * Configuration, parsed once at the edge from flags and the environment, then frozen.
 *
 * `SETTINGS` is the one description of every setting: its flag, environment variable, default,
 * parser and help. `loadConfig` resolves settings from it, and the CLI builds its commander options
 * from it, so a name or a default is written down once.
 */
import type { AuthMode } from './app/auth-service.js';
import { parseRateLimit } from './app/rate-limiter.js';
import { LOG_FORMATS } from './logging.js';
import type { LogFormat } from './logging.js';

export const AUTH_MODES = ['tokens', 'open'] as const satisfies readonly AuthMode[];
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface Config {
  readonly port: number;
  readonly host: string;
  readonly database: string;
  readonly auth: AuthMode;
  readonly logLevel: LogLevel;
  /** undefined: automatic, pretty when stdout is a terminal, JSON otherwise. */
  readonly logFormat: LogFormat | undefined;
  readonly bodyLimit: number;
  /** PostgreSQL only: connections per process. */
  readonly poolSize: number;
  /** PostgreSQL only: connect and statement timeout; past it a request answers 503. */
  readonly dbTimeoutMs: number;
  /** `off`, `hubspot` (HubSpot's numbers) or `<n>/10s`, per access token. */
  readonly rateLimit: string;
  /** Origins allowed to call from a browser (CORS); empty: CORS off. */
  readonly corsOrigins: readonly string[];
  /** A request must arrive whole within this; its headers within min(this, 10 s). */
  readonly requestTimeoutMs: number;
  /** The emulator control plane under `/_stageline/`. */
  readonly controlPlane: 'on' | 'off';
  /** A seed document file (YAML or JSON) portals start from; undefined: HubSpot's defaults. */
  readonly seed: string | undefined;
  /** Tokens mode: the portal `seed` applies to, on its first start. */
  readonly seedPortal: number;
  /** Requests the control plane's journal keeps per portal. */
  readonly journalSize: number;
  /** Open mode: portals new tokens may create; past it a new token's first write is refused. */
  readonly maxPortals: number;
}

/** Raw values as they come from flags or the environment (strings), or already typed. */
export type ConfigInput = { [K in keyof Config]?: Config[K] | string | undefined };

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

export interface Setting<T> {
  /** Commander's flags: the short and long name and the value's placeholder. */
  readonly flags: string;
  /** The environment variable. A variable that is set counts, even when empty. */
  readonly env: string;
  /**
   * What applies when neither the flag nor the variable is given: a value, or one derived from
   * the settings above it in `SETTINGS`, already resolved.
   */
  readonly default: T | ((above: Readonly<Partial<Config>>) => T);
  /** How `--help` and the README state the default when the value alone does not say it. */
  readonly defaultHelp?: string;
  /** The accepted values when they are a closed set (the CLI lists them in `--help`). */
  readonly choices?: readonly string[];
  /** Turns a flag or environment string, or an already typed value, into the setting; throws ConfigError. */
  readonly parse: (value: unknown) => T;
  readonly help: string;
}

const blank = (value: unknown): boolean => String(value).trim() === '';

/** A value as error messages show it: an empty string would read as nothing at all. */
const shown = (value: unknown): string => (blank(value) ? 'empty' : String(value));

function nonEmpty(name: string): (value: unknown) => string {
  return (value) => {
    if (blank(value)) throw new ConfigError(`Invalid ${name}: empty`);
    return String(value);
  };
}

/** An integer from `min` to `max`; the empty string is not 0. */
function integer(name: string, min: number, max = Number.MAX_SAFE_INTEGER): (value: unknown) => number {
  return (value) => {
    const raw = typeof value === 'number' ? value : String(value).trim();
    const n = raw === '' ? NaN : Number(raw);
    if (!Number.isInteger(n) || n < min || n > max) throw new ConfigError(`Invalid ${name}: ${shown(value)}`);
    return n;
  };
}

function oneOf<T extends string>(name: string, allowed: readonly T[]): Pick<Setting<T>, 'choices' | 'parse'> {
  return {
    choices: allowed,
    parse: (value) => {
      if (allowed.includes(value as T)) return value as T;
      throw new ConfigError(`Invalid ${name}: ${shown(value)} (expected one of ${allowed.join(', ')})`);
    },
  };
}

/** A comma-separated list (or an array) of origins such as https://app.example.com, or `*`. */
function origins(value: unknown): readonly string[] {
  const list = (Array.isArray(value) ? value : String(value).split(','))
    .map((o) => String(o).trim())
    .filter(Boolean);
  for (const o of list) {
    if (o !== '*' && !/^https?:\/\/[^/\s]+$/.test(o)) throw new ConfigError(`Invalid CORS origin: ${o}`);
  }
  return Object.freeze(list);
}

function rateLimit(value: unknown): string {
  const policy = String(value).trim();
  try {
    parseRateLimit(policy);
  } catch (err) {
    throw new ConfigError((err as Error).message);
  }
  return policy;
}

/**
 * Every setting, in the order `serve --help` lists them. A derived default may only read the
 * settings above it.
 */
export const SETTINGS: { readonly [K in keyof Config]: Setting<Config[K]> } = Object.freeze({
  port: {
    flags: '-p, --port <port>',
    env: 'PORT',
    default: 8080,
    parse: integer('port', 0, 65535),
    help: 'port to listen on (0 picks a free one)',
  },
  host: {
    flags: '-H, --host <host>',
    env: 'HOST',
    default: '127.0.0.1',
    parse: nonEmpty('host'),
    help: 'interface to bind',
  },
  database: {
    flags: '-d, --database <file|url>',
    env: 'STAGELINE_DATABASE',
    default: './stageline.db',
    parse: nonEmpty('database'),
    help: 'SQLite file, :memory: for a throwaway database, or a postgres:// URL',
  },
  auth: {
    flags: '-a, --auth <mode>',
    env: 'STAGELINE_AUTH',
    default: 'tokens',
    ...oneOf('auth mode', AUTH_MODES),
    help: 'tokens: issued tokens only; open: any bearer token is its own portal',
  },
  logLevel: {
    flags: '-l, --log-level <level>',
    env: 'LOG_LEVEL',
    default: 'info',
    ...oneOf('log level', LOG_LEVELS),
    help: 'log level',
  },
  logFormat: {
    flags: '--log-format <format>',
    env: 'STAGELINE_LOG_FORMAT',
    default: undefined,
    defaultHelp: 'pretty on a terminal, JSON otherwise',
    ...oneOf('log format', LOG_FORMATS),
    help: 'log format',
  },
  bodyLimit: {
    flags: '--body-limit <bytes>',
    env: 'STAGELINE_BODY_LIMIT',
    default: 1024 * 1024,
    parse: integer('body limit', 1),
    help: 'largest accepted request body; larger ones get a 413',
  },
  poolSize: {
    flags: '--pool-size <n>',
    env: 'STAGELINE_POOL_SIZE',
    default: 10,
    parse: integer('pool size', 1),
    help: 'PostgreSQL connections per process',
  },
  dbTimeoutMs: {
    flags: '--db-timeout-ms <ms>',
    env: 'STAGELINE_DB_TIMEOUT_MS',
    default: 5000,
    parse: integer('database timeout', 1),
    help: 'PostgreSQL connect/statement/lock timeout; past it requests answer 503',
  },
  rateLimit: {
    flags: '--rate-limit <policy>',
    env: 'STAGELINE_RATE_LIMIT',
    // An emulator's test suites call in bursts, as startStageline() assumes; a server that issues
    // tokens stands in for HubSpot, limits included.
    default: ({ auth }) => (auth === 'open' ? 'off' : 'hubspot'),
    defaultHelp: 'hubspot, off with --auth open',
    parse: rateLimit,
    help: 'per-token limits: off, hubspot (100 per 10 s, 250,000 a day) or <n>/10s',
  },
  corsOrigins: {
    flags: '--cors-origins <list>',
    env: 'STAGELINE_CORS_ORIGINS',
    default: Object.freeze([]),
    defaultHelp: 'none: CORS off',
    parse: origins,
    help: 'comma-separated origins browsers may call from, or *',
  },
  requestTimeoutMs: {
    flags: '--request-timeout-ms <ms>',
    env: 'STAGELINE_REQUEST_TIMEOUT_MS',
    default: 30_000,
    parse: integer('request timeout', 1),
    help: 'a request must arrive whole within this (headers within 10 s)',
  },
  controlPlane: {
    flags: '--control-plane <state>',
    env: 'STAGELINE_CONTROL_PLANE',
    // An emulator's tests drive it; a server that issues tokens keeps it off unless asked.
    default: ({ auth }) => (auth === 'open' ? 'on' : 'off'),
    defaultHelp: 'off, on with --auth open',
    ...oneOf('control plane state', ['on', 'off'] as const),
    help: 'the emulator control plane under /_stageline/ (tokens mode: scope stageline.admin)',
  },
  seed: {
    flags: '--seed <file>',
    env: 'STAGELINE_SEED',
    default: undefined,
    defaultHelp: "none: HubSpot's default pipelines",
    parse: nonEmpty('seed file'),
    help: 'seed document (YAML or JSON) every new portal starts from (tokens mode: --seed-portal)',
  },
  seedPortal: {
    flags: '--seed-portal <id>',
    env: 'STAGELINE_SEED_PORTAL',
    default: 1,
    parse: integer('seed portal', 1, 2_147_483_647),
    help: 'tokens mode: the portal --seed applies to, on its first start',
  },
  journalSize: {
    flags: '--journal-size <n>',
    env: 'STAGELINE_JOURNAL_SIZE',
    default: 1000,
    parse: integer('journal size', 1, 1_000_000),
    help: 'requests the control plane journal keeps per portal',
  },
  maxPortals: {
    flags: '--max-portals <n>',
    env: 'STAGELINE_MAX_PORTALS',
    default: 10_000,
    parse: integer('max portals', 1, 2_147_483_647),
    help: "open mode: portals new tokens may create; past it a new token's first write gets a 403",
  },
});

export const SETTING_KEYS = Object.freeze(Object.keys(SETTINGS) as (keyof Config)[]);

/**
 * Flags win over the environment, the environment over defaults. Bad values fail here, at start,
 * with a ConfigError; defaults go through the same parser.
 */
export function loadConfig(flags: ConfigInput, env: NodeJS.ProcessEnv = process.env): Config {
  const config: Partial<Record<keyof Config, unknown>> = {};
  for (const key of SETTING_KEYS) {
    const setting = SETTINGS[key] as Setting<unknown>;
    const { default: fallback } = setting;
    const value =
      flags[key] ??
      env[setting.env] ??
      (typeof fallback === 'function' ? fallback(config as Partial<Config>) : fallback);
    config[key] = value === undefined ? undefined : setting.parse(value);
  }
  return Object.freeze(config) as Config;
}

/** The configuration when nothing is given: tokens mode, so with HubSpot's rate limits. */
export const DEFAULTS: Config = loadConfig({}, {});
