import { ExternalChanges } from '../domain/external-changes.js';
import type { ChangeFeed, DataVersionWatch } from '../domain/external-changes.js';
import { StorageUnavailableError } from '../domain/ports.js';
import type { Repository, Store, WriteScope } from '../domain/ports.js';
import type { Answer } from './compression.js';

/**
 * Serialized answers of the pipeline reads, per portal, so a repeated GET costs a map lookup
 * instead of a query and a serialization. Every write through this process invalidates its portal
 * after commit. Other writers are noticed in one of two ways:
 * - SQLite, which this process is the main writer of: a commit by another connection (an admin
 *   command on the same file, say) empties the cache once the store's data version shows it,
 *   which is checked at most every EXTERNAL_CHECK_MS;
 * - PostgreSQL, shared by several processes: each commit's notification drops its portals'
 *   answers, and while the notification connection is down the cache is bypassed (no hit, nothing
 *   stored) and emptied.
 *
 * A read that started before a write and finishes after it must not store what it read: each
 * portal has a generation, taken before the read and checked when storing.
 */
export interface ReadCacheOptions {
  /**
   * Upper bound of the text the cache holds, in UTF-16 code units (about 2 bytes each). The
   * compressed copies of large answers come on top, at about a tenth of their text.
   */
  readonly maxChars: number;
  /** Another connection's commits, which empty the cache. */
  readonly external?: DataVersionWatch;
  /** Other processes' commits, per portal; the cache is used only while it is live. */
  readonly feed?: ChangeFeed;
}

/** The cache key of a pipeline read within its portal; the API version does not change answers. */
export const readKey = (op: string, typeKey: string, pipelineId?: string, stageId?: string): string =>
  `${op}|${typeKey}|${pipelineId ?? ''}|${stageId ?? ''}`;

interface PortalEntries {
  generation: number;
  readonly entries: Map<string, Answer>;
}

/** Taken before reading; storing succeeds only if the portal saw no write since. */
export interface CacheTicket {
  readonly portal: PortalEntries;
  readonly generation: number;
}

export class ReadCache {
  private readonly portals = new Map<number, PortalEntries>();
  private chars = 0;
  private readonly external: ExternalChanges | undefined;
  private readonly feed: ChangeFeed | undefined;

  constructor(private readonly options: ReadCacheOptions) {
    this.external = options.external === undefined ? undefined : ExternalChanges.throttled(options.external);
    this.feed = options.feed;
    this.feed?.subscribe((portalId) => this.invalidate(portalId));
  }

  get(portalId: number, key: string): Answer | undefined {
    if (this.feed !== undefined && !this.feed.live()) return undefined;
    if (this.external?.changed()) this.clear();
    return this.portals.get(portalId)?.entries.get(key);
  }

  /** Undefined while other processes' changes may go unseen: what is read then is not stored. */
  ticket(portalId: number): CacheTicket | undefined {
    if (this.feed !== undefined && !this.feed.live()) return undefined;
    let portal = this.portals.get(portalId);
    if (portal === undefined) {
      portal = { generation: 0, entries: new Map() };
      this.portals.set(portalId, portal);
    }
    return { portal, generation: portal.generation };
  }

  /** Stores the answer unless the ticket is missing or its portal saw a write since. */
  set(portalId: number, key: string, ticket: CacheTicket | undefined, answer: Answer): void {
    if (ticket === undefined) return;
    const { body } = answer;
    const portal = this.portals.get(portalId);
    if (portal !== ticket.portal || portal.generation !== ticket.generation) return;
    if (body.length > this.options.maxChars) return;
    if (this.chars + body.length > this.options.maxChars) {
      this.clear();
      return;
    }
    const previous = portal.entries.get(key);
    if (previous !== undefined) this.chars -= previous.body.length;
    portal.entries.set(key, answer);
    this.chars += body.length;
  }

  /** After a write to the portal has committed; without a portal, everything goes. */
  invalidate(portalId: number | undefined): void {
    if (portalId === undefined) {
      this.clear();
      return;
    }
    const portal = this.portals.get(portalId);
    if (portal === undefined) return;
    portal.generation += 1;
    for (const answer of portal.entries.values()) this.chars -= answer.body.length;
    this.portals.delete(portalId);
  }

  private clear(): void {
    for (const portal of this.portals.values()) portal.generation += 1;
    this.portals.clear();
    this.chars = 0;
  }
}

/**
 * The store, with every write invalidating its portal's cached answers once it has settled. A
 * write the store could not make durable empties the whole cache: what it holds may not be on
 * disk either, and the store refuses every read from then on.
 */
export function invalidatingStore(store: Store, cache: ReadCache): Store {
  return {
    write: async <T>(work: (repo: Repository) => Promise<T>, scope?: WriteScope) => {
      let portalId = scope?.portalId;
      try {
        return await store.write(work, scope);
      } catch (err) {
        if (err instanceof StorageUnavailableError) portalId = undefined;
        throw err;
      } finally {
        cache.invalidate(portalId);
      }
    },
    read: (work) => store.read(work),
    snapshot: (work) => store.snapshot(work),
    changes: store.changes,
    ping: () => store.ping(),
    close: () => store.close(),
  };
}
