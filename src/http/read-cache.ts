import { ExternalChanges } from '../domain/external-changes.js';
import type { DataVersionWatch } from '../domain/external-changes.js';
import { StorageUnavailableError } from '../domain/ports.js';
import type { Repository, Store, WriteScope } from '../domain/ports.js';
import type { Answer } from './compression.js';

/**
 * Serialized answers of the pipeline reads, per portal, so a repeated GET costs a map lookup
 * instead of a query and a serialization. Only for a store this process is the main writer of
 * (SQLite): every write through it invalidates its portal after commit, and a commit by another
 * connection (an admin command on the same file, say) empties the cache once the store's data
 * version shows it, which is checked at most every EXTERNAL_CHECK_MS.
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
  readonly external: DataVersionWatch;
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
  private readonly external: ExternalChanges;

  constructor(private readonly options: ReadCacheOptions) {
    this.external = ExternalChanges.throttled(options.external);
  }

  get(portalId: number, key: string): Answer | undefined {
    if (this.external.changed()) this.clear();
    return this.portals.get(portalId)?.entries.get(key);
  }

  ticket(portalId: number): CacheTicket {
    let portal = this.portals.get(portalId);
    if (portal === undefined) {
      portal = { generation: 0, entries: new Map() };
      this.portals.set(portalId, portal);
    }
    return { portal, generation: portal.generation };
  }

  set(portalId: number, key: string, ticket: CacheTicket, answer: Answer): void {
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
    ping: () => store.ping(),
    close: () => store.close(),
  };
}
