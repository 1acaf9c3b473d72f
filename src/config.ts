/** Configuration, parsed once at the edge from flags and the environment, then frozen. */
import type { AuthMode } from './app/auth-service.js';
import { parseRateLimit } from './app/rate-limiter.js';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface Config {
  readonly port: number;
  readonly host: string;
  readonly database: string;
  readonly auth: AuthMode;
  readonly logLevel: LogLevel;
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
}

export const DEFAULTS: Config = Object.freeze({
  port: 8080,
  host: '127.0.0.1',
  database: './stageline.db',
  auth: 'tokens',
  logLevel: 'info',
  bodyLimit: 1024 * 1024,
  poolSize: 10,
  dbTimeoutMs: 5000,
  rateLimit: 'hubspot',
  corsOrigins: [],
  requestTimeoutMs: 30_000,
});

/** Raw values as they come from flags or the environment (strings), or already typed. */
export type ConfigInput = { [K in keyof Config]?: Config[K] | string | undefined };

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

function port(value: unknown): number {
  const n = typeof value === 'number' ? value : Number(String(value).trim());
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new ConfigError(`Invalid port: ${String(value)}`);
  return n;
}

function oneOf<T extends string>(name: string, allowed: readonly T[], value: unknown): T {
  if (allowed.includes(value as T)) return value as T;
  throw new ConfigError(`Invalid ${name}: ${String(value)} (expected one of ${allowed.join(', ')})`);
}

/** A comma-separated list (or an array) of origins such as https://app.example.com, or `*`. */
function origins(value: unknown): string[] {
  const list = (Array.isArray(value) ? value : String(value).split(','))
    .map((o) => String(o).trim())
    .filter(Boolean);
  for (const o of list) {
    if (o !== '*' && !/^https?:\/\/[^/\s]+$/.test(o)) throw new ConfigError(`Invalid CORS origin: ${o}`);
  }
  return list;
}

function rateLimit(value: unknown): string {
  const text = String(value).trim();
  try {
    parseRateLimit(text);
  } catch (err) {
    throw new ConfigError((err as Error).message);
  }
  return text;
}

function positive(name: string, value: unknown): number {
  const n = typeof value === 'number' ? value : Number(String(value).trim());
  if (!Number.isInteger(n) || n <= 0) throw new ConfigError(`Invalid ${name}: ${String(value)}`);
  return n;
}

/** Flags win over the environment, the environment over defaults. Bad values fail here, at start. */
export function loadConfig(flags: ConfigInput, env: NodeJS.ProcessEnv = process.env): Config {
  const pick = <K extends keyof Config>(key: K, envName: string): unknown =>
    flags[key] ??
    (env[envName] === undefined || env[envName] === '' ? undefined : env[envName]) ??
    DEFAULTS[key];
  const database = String(pick('database', 'STAGELINE_DATABASE'));
  if (database.trim() === '') throw new ConfigError('Invalid database: empty');
  return Object.freeze({
    port: port(pick('port', 'PORT')),
    host: String(pick('host', 'HOST')),
    database,
    auth: oneOf('auth mode', ['tokens', 'open'] as const, pick('auth', 'STAGELINE_AUTH')),
    logLevel: oneOf('log level', LOG_LEVELS, pick('logLevel', 'LOG_LEVEL')),
    bodyLimit: positive('body limit', pick('bodyLimit', 'STAGELINE_BODY_LIMIT')),
    poolSize: positive('pool size', pick('poolSize', 'STAGELINE_POOL_SIZE')),
    dbTimeoutMs: positive('database timeout', pick('dbTimeoutMs', 'STAGELINE_DB_TIMEOUT_MS')),
    rateLimit: rateLimit(pick('rateLimit', 'STAGELINE_RATE_LIMIT')),
    corsOrigins: Object.freeze(origins(pick('corsOrigins', 'STAGELINE_CORS_ORIGINS'))),
    requestTimeoutMs: positive('request timeout', pick('requestTimeoutMs', 'STAGELINE_REQUEST_TIMEOUT_MS')),
  });
}
