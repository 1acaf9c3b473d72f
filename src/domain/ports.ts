/**
 * The storage contract. Every adapter (SQLite now, PostgreSQL next) implements it and is
 * proven by the same suite in test/contract/. Methods speak domain types only.
 */
import type { RecordAssociation } from './associations.js';
import type { Actor, AuditEntry, AuditKind, Pipeline, Stage } from './model.js';
import type { CrmRecord } from './records.js';
import type { ChangeFeed } from './external-changes.js';
import type { StorageFault } from './storage-faults.js';

export interface TokenRecord {
  /** Public identifier, safe to print and log (`tok_…`). */
  readonly id: string;
  /** SHA-256 of the secret, hex. The secret itself is never stored. */
  readonly hash: string;
  readonly portalId: number;
  readonly userId: number;
  /** null: every scope. */
  readonly scopes: readonly string[] | null;
  readonly createdAt: number;
  readonly revokedAt: number | null;
}

export interface PortalRecord {
  readonly id: number;
  /** The next generated id the portal hands out. */
  readonly nextId: number;
  readonly createdAt: number;
}

/** What portalCounts answers. */
export interface PortalCounts {
  readonly records: number;
  readonly associations: number;
  readonly audit: number;
}

/** The operations available inside one unit of work. */
export interface Repository {
  /** Creates the portal if missing; true when this call created it. */
  ensurePortal(portalId: number, now: number): Promise<boolean>;
  /** Numeric ids, unique within the portal, never used before by any pipeline or stage of it. */
  allocateIds(portalId: number, count: number): Promise<string[]>;

  /** Live pipelines of a type, each with its live stages. */
  listPipelines(portalId: number, typeKey: string): Promise<Pipeline[]>;
  /**
   * A pipeline, archived or not, with all its stages, or with its live stages only when
   * `archivedStages` is false (what every request needs, and cheap however many were archived).
   */
  getPipeline(
    portalId: number,
    typeKey: string,
    pipelineId: string,
    options?: { archivedStages?: boolean },
  ): Promise<Pipeline | undefined>;
  /** A stage of the type, whichever pipeline holds it. */
  findStage(
    portalId: number,
    typeKey: string,
    stageId: string,
  ): Promise<{ pipelineId: string; stage: Stage } | undefined>;
  /** The id of the live pipeline of the type whose label key (trimmed, lower-cased) matches. */
  findLivePipelineByLabel(portalId: number, typeKey: string, labelKey: string): Promise<string | undefined>;
  pipelineIdExists(portalId: number, typeKey: string, pipelineId: string): Promise<boolean>;
  stageIdExists(portalId: number, typeKey: string, stageId: string): Promise<boolean>;

  /**
   * Resolves once every write made so far through this repository is applied, or rejects with
   * the first that failed. An adapter may send a write and resolve it before the database has
   * answered (PostgreSQL pipelines them); its failure then fails the transaction at commit at
   * the latest. Long writers (an import) call this between batches.
   */
  settled(): Promise<void>;

  /** Inserts or updates the pipeline row only. */
  savePipeline(portalId: number, typeKey: string, pipeline: Pipeline): Promise<void>;
  /** Inserts or updates the given stages of a pipeline. */
  saveStages(portalId: number, typeKey: string, pipelineId: string, stages: readonly Stage[]): Promise<void>;

  appendAudit(entries: readonly AuditEntry[]): Promise<void>;
  /** Newest first. */
  listAudit(portalId: number, typeKey: string, kind: AuditKind, objectId: string): Promise<AuditEntry[]>;
  /**
   * A pipeline's audit (archived pipelines have one too), newest first; undefined when the
   * pipeline does not exist. One statement where the adapter can.
   */
  pipelineAudit(portalId: number, typeKey: string, pipelineId: string): Promise<AuditEntry[] | undefined>;
  /** A stage's pipeline and audit, newest first; undefined when the stage does not exist. */
  stageAudit(
    portalId: number,
    typeKey: string,
    stageId: string,
  ): Promise<{ pipelineId: string; entries: AuditEntry[] } | undefined>;
  /** The newest entry of one pipeline or stage, if any. */
  latestAudit(
    portalId: number,
    typeKey: string,
    kind: AuditKind,
    objectId: string,
  ): Promise<AuditEntry | undefined>;

  /** Inserts or updates a record. */
  saveRecord(portalId: number, typeKey: string, record: CrmRecord): Promise<void>;
  /** A record, archived or not. */
  getRecord(portalId: number, typeKey: string, id: string): Promise<CrmRecord | undefined>;
  /** One page of records in id order, live or archived ones, starting after `afterId`. */
  listRecords(
    portalId: number,
    typeKey: string,
    page: { archived: boolean; afterId: number; limit: number },
  ): Promise<CrmRecord[]>;
  /** Every live record of the type, in id order (search works over these). */
  liveRecords(portalId: number, typeKey: string): Promise<CrmRecord[]>;
  /**
   * Which of the stages hold live records (all of them), and the ids of the first `limit` such
   * records in id order.
   */
  stagesInUse(
    portalId: number,
    typeKey: string,
    stageIds: readonly string[],
    limit: number,
  ): Promise<{ stageIds: string[]; objectIds: string[] }>;

  /** Stores links (each row is one direction); a link already stored is left as it is. */
  saveAssociations(portalId: number, links: readonly RecordAssociation[]): Promise<void>;
  /**
   * The links from one record to records of one type whose target is live, by target id (in
   * numeric order) then type id.
   */
  listAssociations(
    portalId: number,
    fromTypeKey: string,
    fromId: string,
    toTypeKey: string,
  ): Promise<RecordAssociation[]>;

  // Export and import: whole portals, every object type, archived items included.
  listPortals(): Promise<PortalRecord[]>;
  /** Creates the portal, or raises its id sequence to at least `nextId`. */
  putPortal(portal: PortalRecord): Promise<void>;
  portalPipelines(portalId: number): Promise<{ objectTypeKey: string; pipeline: Pipeline }[]>;
  portalRecords(portalId: number): Promise<{ objectTypeKey: string; record: CrmRecord }[]>;
  /** Every stored link of the portal, archived records' included. */
  portalAssociations(portalId: number): Promise<RecordAssociation[]>;
  /** Oldest first. */
  portalAudit(portalId: number): Promise<AuditEntry[]>;
  // The same, a page at a time (keyset paging, each page one statement), for an export of any size.
  /** How many records (of every type), stored links and audit entries the portal holds. */
  portalCounts(portalId: number): Promise<PortalCounts>;
  /** Up to `limit` records in portalRecords' order (type, then id), after the record `after`. */
  portalRecordsPage(
    portalId: number,
    after: { objectTypeKey: string; id: string } | undefined,
    limit: number,
  ): Promise<{ objectTypeKey: string; record: CrmRecord }[]>;
  /** Up to `limit` links in portalAssociations' order, after the link `after`. */
  portalAssociationsPage(
    portalId: number,
    after: RecordAssociation | undefined,
    limit: number,
  ): Promise<RecordAssociation[]>;
  /** Up to `limit` audit entries, oldest first, after the one numbered `afterSeq` (0: from the first). */
  portalAuditPage(
    portalId: number,
    afterSeq: number,
    limit: number,
  ): Promise<{ seq: number; entry: AuditEntry }[]>;

  insertToken(token: TokenRecord): Promise<void>;
  findTokenByHash(hash: string): Promise<TokenRecord | undefined>;
  listTokens(): Promise<TokenRecord[]>;
  /** True when a live token was revoked. */
  revokeToken(id: string, now: number): Promise<boolean>;
  countTokens(): Promise<number>;
  /** Whether any portal with this id exists. */
  portalExists(portalId: number): Promise<boolean>;
  /** How many portals exist (open mode's `--max-portals` counts them). */
  countPortals(): Promise<number>;

  // The emulator control plane: resets, seeds and snapshot restores of one portal.
  /**
   * Deletes the portal's pipelines, stages, records, associations (those touching a record of
   * the types) and audit entries, of the given types or of every type. Tokens stay.
   */
  clearPortal(portalId: number, typeKeys?: readonly string[]): Promise<void>;
  getPortal(portalId: number): Promise<PortalRecord | undefined>;
  /** Sets the next generated id of the portal exactly, lower or higher. */
  setNextId(portalId: number, nextId: number): Promise<void>;
  /** The portal's own starting state (a seed document as JSON), when one was set. */
  portalSeed(portalId: number): Promise<string | undefined>;
  setPortalSeed(portalId: number, document: string): Promise<void>;
  /** Rewrites the health probe's one row: a small write that proves the database takes writes. */
  writeHealthProbe(at: number): Promise<void>;
}

/** What a write transaction works on. */
export interface WriteScope {
  /**
   * The portal whose invariants the write checks. Adapters serialise the writers of one portal
   * (across processes, for a shared database) so read-check-write is safe.
   */
  readonly portalId?: number;
  /**
   * Who writes. Adapters ignore it; in open mode, a wrapper creates the actor's portal first, in
   * the same transaction, when it is not in the database yet (src/app/open-portals.ts).
   */
  readonly actor?: Actor;
}

/**
 * Storage refused the request for a reason of its own (full, read-only, unreachable…, see
 * StorageFault), not because the request was wrong: nothing of it was saved, and it may be
 * retried. The fault defaults to `unreachable`.
 */
export class StorageUnavailableError extends Error {
  override readonly name = 'StorageUnavailableError';
  readonly fault: StorageFault;

  constructor(message: string, options: { cause?: unknown; fault?: StorageFault } = {}) {
    super(message, { cause: options.cause });
    this.fault = options.fault ?? 'unreachable';
  }
}

/** What a shared rate counter is asked: count one request of `key` at `now` if the limits allow. */
export interface RateTake {
  readonly key: string;
  /** The request's time, in ms (the portal's clock). */
  readonly now: number;
  /** The UTC day of `now`: a new day starts a new daily count. */
  readonly day: number;
  readonly windowMs: number;
  readonly perWindow: number;
  readonly daily: number;
}

export interface RateCount {
  /** null when the request was counted; otherwise the limit it broke. */
  readonly exceeded: 'TEN_SECONDLY_ROLLING' | 'DAILY' | null;
  readonly remaining: number;
  readonly dailyRemaining: number;
}

export interface Store {
  /**
   * Runs `work` in one transaction: all its writes commit together or not at all. Adapters may
   * run `work` again after a transient conflict, so it must not have effects outside `repo`.
   */
  write<T>(work: (repo: Repository) => Promise<T>, scope?: WriteScope): Promise<T>;
  /** Runs `work` against a consistent view, never interleaved with a write. */
  read<T>(work: (repo: Repository) => Promise<T>): Promise<T>;
  /**
   * Runs `work` exactly once against one consistent view, however many statements it issues and
   * however long it takes: for work with effects outside `repo` that must not happen twice (an
   * export writing its output as it reads). `read` may instead stop work and run it again.
   */
  snapshot<T>(work: (repo: Repository) => Promise<T>): Promise<T>;
  /**
   * Present when this process is the only writer through this store but for other connections
   * it can detect: a number that changes whenever another connection commits. Answers may be
   * cached only then.
   */
  readonly externalVersion?: () => number;
  /**
   * Present when other processes write the same database and announce their commits (PostgreSQL):
   * answers may be cached while the feed is live, and dropped per portal as changes arrive.
   */
  readonly changes?: ChangeFeed;
  /**
   * Present when several processes share the database (PostgreSQL): rate-limit counts kept in
   * it, so that together they admit what one process would.
   */
  readonly takeRate?: (take: RateTake) => Promise<RateCount>;
  /** Cheap liveness probe for /health. */
  ping(): Promise<void>;
  close(): Promise<void>;
}
