/**
 * Open mode's portals come into the database with their token's first write. Until then a
 * portal exists only as its starting state, and its reads are answered from one in-memory copy
 * of that state (the template portal), so a stream of distinct tokens that only read writes
 * nothing. The template is built once per process, on the first such read, by the same code and
 * with the same time stamp as a created portal, so a read before the first write and one after
 * it answer the same (docs/decisions/0008-bounded-open-mode.md).
 */
import type { Actor } from '../domain/model.js';
import type { Repository, Store } from '../domain/ports.js';

/** The template's portal id in its own database. */
const TEMPLATE_PORTAL = 1;

/** Portals known to be in the database, so that their reads skip the check (they are never deleted). */
const MAX_KNOWN_PORTALS = 100_000;

/** The repository's reads of one portal's data: the portal id is their first argument. */
const PORTAL_READS = new Set<keyof Repository>([
  'listPipelines',
  'getPipeline',
  'findStage',
  'findLivePipelineByLabel',
  'pipelineIdExists',
  'stageIdExists',
  'listAudit',
  'pipelineAudit',
  'stageAudit',
  'latestAudit',
  'getRecord',
  'listRecords',
  'liveRecords',
  'stagesInUse',
  'listAssociations',
  'portalPipelines',
  'portalRecords',
  'portalAssociations',
  'portalAudit',
  'portalCounts',
  'portalRecordsPage',
  'portalAssociationsPage',
  'portalAuditPage',
  'getPortal',
  'portalSeed',
]);

export interface OpenPortalsOptions {
  /** Opens the template's own database (an in-memory one). */
  readonly openTemplate: () => Store;
  /** Writes a new portal's starting state, as a token's first write does. */
  readonly startingState: (repo: Repository, portalId: number, now: number) => Promise<void>;
  /** Creates the actor's portal, in the write's transaction, when its token has only read so far. */
  readonly createPortal: (repo: Repository, actor: Actor) => Promise<void>;
}

type AnyMethod = (...args: unknown[]) => Promise<unknown>;

/** What the template answered, as the portal's own: its id where the answer names one. */
function asPortal(method: keyof Repository, answer: unknown, portalId: number): unknown {
  if (answer === undefined || answer === null) return answer;
  const relabel = <T extends object>(item: T): T => ({ ...item, portalId });
  switch (method) {
    case 'listAudit':
    case 'pipelineAudit':
    case 'portalAudit':
      return (answer as object[]).map(relabel);
    case 'portalAuditPage':
      return (answer as { seq: number; entry: object }[]).map((e) => ({ ...e, entry: relabel(e.entry) }));
    case 'latestAudit':
      return relabel(answer as object);
    case 'stageAudit': {
      const found = answer as { entries: object[] };
      return { ...found, entries: found.entries.map(relabel) };
    }
    case 'getPortal':
      return { ...(answer as object), id: portalId };
    default:
      return answer;
  }
}

/**
 * The store open mode serves from: reads of a portal that is not in the database answer its
 * starting state, and a write by an actor whose token has only read creates its portal first,
 * in the same transaction.
 */
export function openPortalStore(store: Store, options: OpenPortalsOptions): Store {
  const known = new Set<number>();
  let template: Promise<Store> | undefined;

  const templateStore = (): Promise<Store> =>
    (template ??= (async () => {
      const opened = options.openTemplate();
      await opened.write((repo) => options.startingState(repo, TEMPLATE_PORTAL, 0));
      return opened;
    })().catch((err: unknown) => {
      template = undefined;
      throw err;
    }));

  const remember = (portalId: number): void => {
    if (known.size >= MAX_KNOWN_PORTALS) known.clear();
    known.add(portalId);
  };

  const inDatabase = async (repo: Repository, portalId: number): Promise<boolean> => {
    if (known.has(portalId)) return true;
    if (!(await repo.portalExists(portalId))) return false;
    remember(portalId);
    return true;
  };

  /** The repository, with the reads of portals not in the database answered by the template. */
  const reading = (repo: Repository): Repository =>
    new Proxy(repo, {
      get(target, name, receiver) {
        const value = Reflect.get(target, name, receiver) as unknown;
        if (typeof value !== 'function') return value;
        const method = name as keyof Repository;
        if (!PORTAL_READS.has(method)) return (value as AnyMethod).bind(target);
        const own = (portalId: number, rest: unknown[]) =>
          (value as AnyMethod).call(target, portalId, ...rest);
        return (portalId: number, ...rest: unknown[]) => {
          // The common case, a portal already seen in the database, costs one set lookup.
          if (known.has(portalId)) return own(portalId, rest);
          return (async () => {
            if (await inDatabase(target, portalId)) return own(portalId, rest);
            const templ = await templateStore();
            const answer = await templ.read((t) =>
              (t[method] as AnyMethod).call(t, TEMPLATE_PORTAL, ...rest),
            );
            return asPortal(method, answer, portalId);
          })();
        };
      },
    });

  return {
    read: (work) => store.read((repo) => work(reading(repo))),
    snapshot: (work) => store.snapshot((repo) => work(reading(repo))),
    write: async (work, scope) => {
      const actor = scope?.actor;
      const result = await (actor?.unseenTokenHash === undefined
        ? store.write(work, scope)
        : store.write(async (repo) => {
            await options.createPortal(repo, actor);
            return work(repo);
          }, scope));
      // A portal's write committed: the portal is in the database, and its reads need not check.
      if (scope?.portalId !== undefined) remember(scope.portalId);
      return result;
    },
    ...(store.externalVersion === undefined ? {} : { externalVersion: store.externalVersion }),
    ...(store.changes === undefined ? {} : { changes: store.changes }),
    ...(store.takeRate === undefined ? {} : { takeRate: store.takeRate }),
    ping: () => store.ping(),
    close: async () => {
      const opened = template;
      template = undefined;
      await Promise.all([
        store.close(),
        opened?.then(
          (t) => t.close(),
          () => undefined,
        ),
      ]);
    },
  };
}
