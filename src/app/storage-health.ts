/**
 * Episodes of storage faults, as the store reports them: each one logged once at `error` level
 * with its cause when it starts, and once at `info` when it ends, however many requests it
 * refused meanwhile; `/health` reports the one in progress.
 */
import type { Logger } from 'pino';

import { StorageUnavailableError } from '../domain/ports.js';
import type { RateTake, Repository, Store, WriteScope } from '../domain/ports.js';
import { STORAGE_FAULTS } from '../domain/storage-faults.js';
import type { StorageFault } from '../domain/storage-faults.js';

export interface StorageEpisode {
  readonly fault: StorageFault;
  /** When it began (ms since the epoch). */
  readonly since: number;
  /** Requests storage refused during it. */
  readonly refused: number;
}

/**
 * How long operations must go without failing, once one has succeeded, for an episode to end.
 * On a full disk a small write can fit now and then between refused ones (SQLite reuses the
 * space a failed write took in its log): that is the same episode, not an end and a new start.
 */
export const SETTLE_MS = 1000;

export class StorageHealth {
  private episode:
    | { fault: StorageFault; since: number; refused: number; lastFailure: number; succeeded: boolean }
    | undefined;

  constructor(
    private readonly log: Pick<Logger, 'error' | 'info'> | undefined,
    private readonly now: () => number = Date.now,
  ) {}

  /** The episode in progress, if any. */
  current(): StorageEpisode | undefined {
    this.settle();
    const episode = this.episode;
    return episode && { fault: episode.fault, since: episode.since, refused: episode.refused };
  }

  /** Storage refused an operation: starts an episode, or counts one more refusal of it. */
  failed(err: StorageUnavailableError): void {
    const now = this.now();
    const episode = this.episode;
    if (episode !== undefined && episode.fault === err.fault) {
      episode.refused += 1;
      episode.lastFailure = now;
      episode.succeeded = false;
      return;
    }
    this.episode = { fault: err.fault, since: now, refused: 1, lastFailure: now, succeeded: false };
    this.log?.error(
      { storageFault: err.fault, err: err.cause ?? err },
      `storage fault (${err.fault}): ${STORAGE_FAULTS[err.fault].reason}`,
    );
  }

  /**
   * An operation reached storage. A write that stored something counts against any fault, anything
   * else only against one whose fault is that the database was away; the episode ends once that
   * has happened and nothing failed for SETTLE_MS.
   */
  succeeded(kind: 'write' | 'read'): void {
    const episode = this.episode;
    if (episode === undefined) return;
    if (kind === 'read' && STORAGE_FAULTS[episode.fault].endedBy === 'write') return;
    episode.succeeded = true;
    this.settle();
  }

  private settle(): void {
    const episode = this.episode;
    if (episode === undefined || !episode.succeeded) return;
    const now = this.now();
    if (now - episode.lastFailure < SETTLE_MS) return;
    this.episode = undefined;
    this.log?.info(
      { storageFault: episode.fault, refused: episode.refused, ms: now - episode.since },
      `storage recovered from ${episode.fault}: ${STORAGE_FAULTS[episode.fault].endedBy === 'write' ? 'writes succeed' : 'the database answers'} again`,
    );
  }
}

/**
 * Which repository methods store something (a Record, so that a new method must be placed). A
 * write that called none of them, or only `ensurePortal` on a portal that exists, may succeed on
 * a full or read-only database, so it proves no more than a read.
 */
const STORES: Readonly<Record<keyof Repository, boolean>> = {
  ensurePortal: false,
  allocateIds: true,
  listPipelines: false,
  getPipeline: false,
  findStage: false,
  findLivePipelineByLabel: false,
  pipelineIdExists: false,
  stageIdExists: false,
  savePipeline: true,
  saveStages: true,
  appendAudit: true,
  listAudit: false,
  pipelineAudit: false,
  stageAudit: false,
  latestAudit: false,
  saveRecord: true,
  getRecord: false,
  listRecords: false,
  liveRecords: false,
  stagesInUse: false,
  saveAssociations: true,
  listAssociations: false,
  listPortals: false,
  putPortal: true,
  portalPipelines: false,
  portalRecords: false,
  portalAssociations: false,
  portalAudit: false,
  portalCounts: false,
  portalRecordsPage: false,
  portalAssociationsPage: false,
  portalAuditPage: false,
  insertToken: true,
  findTokenByHash: false,
  listTokens: false,
  revokeToken: true,
  countTokens: false,
  countPortals: false,
  portalExists: false,
  clearPortal: true,
  getPortal: false,
  setNextId: true,
  portalSeed: false,
  setPortalSeed: true,
  writeHealthProbe: true,
  settled: false,
};
const STORING: ReadonlySet<PropertyKey> = new Set(
  Object.entries(STORES)
    .filter(([, stores]) => stores)
    .map(([name]) => name),
);

/** The repository, calling `stored` when a method that stores something is called. */
function noting(repo: Repository, stored: () => void): Repository {
  return new Proxy(repo, {
    get(target, name) {
      const value: unknown = Reflect.get(target, name);
      if (typeof value !== 'function') return value;
      const method = value as (...args: unknown[]) => unknown;
      if (!STORING.has(name)) return method.bind(target);
      return (...args: unknown[]) => {
        stored();
        return method.apply(target, args);
      };
    },
  });
}

/** The store, with every outcome reported to `health`. */
export function watchedStore(store: Store, health: StorageHealth): Store {
  const watch = async <T>(kind: () => 'write' | 'read', run: () => Promise<T>): Promise<T> => {
    try {
      const value = await run();
      health.succeeded(kind());
      return value;
    } catch (err) {
      if (err instanceof StorageUnavailableError) health.failed(err);
      throw err;
    }
  };
  const read = () => 'read' as const;
  return {
    write: <T>(work: (repo: Repository) => Promise<T>, scope?: WriteScope) => {
      let stored = false;
      const note = () => (stored = true);
      return watch(
        () => (stored ? 'write' : 'read'),
        () => store.write((repo) => work(noting(repo, note)), scope),
      );
    },
    read: <T>(work: (repo: Repository) => Promise<T>) => watch(read, () => store.read(work)),
    snapshot: <T>(work: (repo: Repository) => Promise<T>) => watch(read, () => store.snapshot(work)),
    ping: () => watch(read, () => store.ping()),
    close: () => store.close(),
    ...(store.externalVersion !== undefined && { externalVersion: store.externalVersion }),
    ...(store.changes !== undefined && { changes: store.changes }),
    ...(store.takeRate !== undefined && {
      takeRate: (take: RateTake) => watch(read, () => store.takeRate!(take)),
    }),
  };
}
