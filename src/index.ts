/**
 * The library API: start an in-process Stageline for an integration's test suite.
 *
 *   const stageline = await startStageline();
 *   const client = new Client({ accessToken: 'any-token', basePath: stageline.url });
 *   …
 *   await stageline.close();
 */
import { loadConfig } from './config.js';
import type { LogLevel } from './config.js';
import type { LogFormat } from './logging.js';
import { createStageline } from './stageline.js';
import type { StagelinePlugin } from './http/build-app.js';
import type { AuthMode, IssueTokenOptions } from './app/auth-service.js';
import { loadSeedFile } from './app/control-plane.js';
import type { SeedDocument } from './seed/seed-document.js';
import { connectStageline } from './testing.js';
import type { PortalControl } from './testing.js';

export interface StartOptions {
  /** 0 (the default) picks a free port. */
  port?: number;
  host?: string;
  /** A file path, or ':memory:' (the default) for a throwaway database. */
  database?: string;
  /** 'open' (the default): every bearer token is its own portal. */
  auth?: AuthMode;
  logLevel?: LogLevel;
  /** Unset (the default): pretty when stdout is a terminal, JSON otherwise. */
  logFormat?: LogFormat;
  bodyLimit?: number;
  /** 'off' (the default here: test suites call in bursts), 'hubspot', or '<n>/10s'. */
  rateLimit?: string;
  /** Origins a browser may call from (CORS); none by default. */
  corsOrigins?: string[];
  /**
   * Fastify plugins registered on the server's root before Stageline's routes: a hook added
   * there sees every request (to record, time or alter them in your tests).
   */
  plugins?: StagelinePlugin[];
  /** The state new portals start from: a seed document, or the path of a YAML or JSON file. */
  seed?: SeedDocument | string;
  /** The control plane under /_stageline/: on by default in open mode. */
  controlPlane?: 'on' | 'off';
  /** Requests the journal keeps per portal (default 1000). */
  journalSize?: number;
  /** Portals new tokens may create (default 10,000); past it a new token's first write gets a 403. */
  maxPortals?: number;
}

export interface RunningStageline {
  /** The base URL to give the HubSpot SDK as `basePath`. */
  readonly url: string;
  readonly port: number;
  /** Creates an access token (tokens mode) and returns its secret. */
  issueToken(options: IssueTokenOptions): Promise<string>;
  /** The control plane of the portal the token opens: reset, seed, snapshots, clock, faults, journal. */
  portal(token: string): PortalControl;
  close(): Promise<void>;
}

export async function startStageline(options: StartOptions = {}): Promise<RunningStageline> {
  const config = loadConfig(
    {
      port: options.port ?? 0,
      host: options.host ?? '127.0.0.1',
      database: options.database ?? ':memory:',
      auth: options.auth ?? 'open',
      logLevel: options.logLevel ?? 'silent',
      logFormat: options.logFormat,
      bodyLimit: options.bodyLimit,
      rateLimit: options.rateLimit ?? 'off',
      corsOrigins: options.corsOrigins,
      controlPlane: options.controlPlane,
      journalSize: options.journalSize,
      maxPortals: options.maxPortals,
    },
    {},
  );
  const seed = typeof options.seed === 'string' ? await loadSeedFile(options.seed) : options.seed;
  const stageline = await createStageline(config, { plugins: options.plugins, seed });
  try {
    await stageline.app.listen({ port: config.port, host: config.host });
  } catch (err) {
    await stageline.close();
    throw err;
  }
  const address = stageline.app.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : config.port;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  const url = `http://${host}:${port}`;
  const connection = connectStageline(url);
  return {
    url,
    port,
    issueToken: async (opts) => (await stageline.auth.issueToken(opts)).token,
    portal: (token) => connection.portal(token),
    close: () => stageline.close(),
  };
}

export { createStageline } from './stageline.js';
export type { BuildOverrides, Stageline } from './stageline.js';
export type { StagelinePlugin } from './http/build-app.js';
export { loadConfig } from './config.js';
export { connectStageline, StagelineControlError } from './testing.js';
export type {
  ClockState,
  Fault,
  FaultSpec,
  JournalEntry,
  PortalControl,
  RequestFilter,
  SeedDocument,
  StagelineConnection,
} from './testing.js';
export { SEED_SCHEMA } from './seed/seed-document.js';
export type { Config } from './config.js';
