/**
 * Access tokens and the portals they open. Tokens are random secrets shown once; only their
 * SHA-256 is stored. In open mode every distinct bearer token is its own portal.
 */
import { createHash, randomBytes } from 'node:crypto';
import { DomainError } from '../domain/errors.js';
import type { Actor } from '../domain/model.js';
import { scopesFor } from '../domain/object-types.js';
import type { Access, ObjectType } from '../domain/object-types.js';
import type { Repository, Store, TokenRecord } from '../domain/ports.js';
import type { Clock } from '../domain/time.js';
import { ExternalChanges } from '../domain/external-changes.js';
import type { ChangeFeed, DataVersionWatch } from '../domain/external-changes.js';
import { defaultStart, seedPortal } from './seed-portal.js';
import type { PortalStarter } from './seed-portal.js';

export type AuthMode = 'tokens' | 'open';

export interface Principal extends Actor {
  readonly tokenId: string;
  /** null: every scope. */
  readonly scopes: ReadonlySet<string> | null;
}

export interface IssueTokenOptions {
  readonly portalId: number;
  readonly userId?: number;
  readonly scopes?: readonly string[];
}

export interface IssuedToken {
  /** The secret: shown once, never stored. */
  readonly token: string;
  readonly record: TokenRecord;
}

const MAX_INT32 = 2_147_483_647;
export const DEFAULT_USER_ID = 1;
/** Principals kept in memory; past this many a map starts over (they reload by hash). */
const MAX_CACHED_PRINCIPALS = 100_000;

export interface AuthServiceOptions {
  /**
   * The store's data version (SQLite), which changes when another connection commits. Given,
   * token-mode principals are kept between requests and dropped when it changes, so a token
   * revoked by an admin command on the same file is refused within EXTERNAL_CHECK_MS. Without
   * it, and without a feed, every request looks its token up.
   */
  readonly external?: DataVersionWatch;
  /**
   * Other processes' commits (PostgreSQL): token-mode principals are kept while the feed is live,
   * and dropped when it announces a change not limited to portals (a revoked token) or goes down.
   */
  readonly feed?: ChangeFeed;
  /** Gives new portals their first state: HubSpot's default pipelines when absent. */
  readonly startPortal?: PortalStarter;
  /**
   * Open mode: the time new portals' starting state is stamped with (items of a `--seed` that give
   * no time of their own), the same for every portal this process creates, so that what a token
   * reads before its first write and after it agree. Default: when the service was built.
   */
  readonly stampedAt?: number;
  /** Open mode: past this many portals, a token's first write is refused (403). */
  readonly maxPortals?: number;
}

export const hashToken = (token: string): string => createHash('sha256').update(token).digest('hex');

export function checkPortalId(portalId: number): number {
  if (!Number.isInteger(portalId) || portalId < 1 || portalId > MAX_INT32) {
    throw new RangeError(`portal id must be an integer from 1 to ${MAX_INT32}`);
  }
  return portalId;
}

/** A stable number in [1, 2^31-1) taken from 4 bytes of the token's hash. */
const derivedInt = (hash: string, offset: number): number =>
  (Number.parseInt(hash.slice(offset, offset + 8), 16) % (MAX_INT32 - 1)) + 1;

export class AuthService {
  /**
   * Open mode only: tokens never change there, so their principals are kept in memory, keyed
   * by the token itself to spare hashing on every request (only hashes are ever stored).
   */
  private readonly openCache = new Map<string, Principal>();
  /**
   * Token mode, with a data version to watch: valid tokens' principals by token hash. Emptied
   * (and its generation moved on) when a token changes here or another connection commits.
   */
  private readonly tokenCache = new Map<string, Principal>();
  private tokenGeneration = 0;
  private readonly external: ExternalChanges | undefined;
  private readonly feed: ChangeFeed | undefined;
  private readonly startPortal: PortalStarter | undefined;
  private readonly stampedAt: number;
  private readonly maxPortals: number | undefined;

  constructor(
    private readonly store: Store,
    readonly mode: AuthMode,
    private readonly clock: Clock,
    options: AuthServiceOptions = {},
  ) {
    const { external } = options;
    this.startPortal = options.startPortal;
    this.stampedAt = options.stampedAt ?? Date.now();
    this.maxPortals = options.maxPortals;
    this.external = mode === 'tokens' && external ? ExternalChanges.throttled(external) : undefined;
    this.feed = mode === 'tokens' ? options.feed : undefined;
    this.feed?.subscribe((portalId) => {
      if (portalId === undefined) this.forgetTokens();
    });
  }

  /** Whether principals may be kept and served from memory right now. */
  private caching(): boolean {
    if (this.feed !== undefined) return this.feed.live();
    return this.external !== undefined;
  }

  /**
   * The principal of a token already known to this process (open mode), without waiting:
   * undefined when it has to be looked up.
   */
  knownPrincipal(token: string): Principal | undefined {
    return this.mode === 'open' ? this.openCache.get(token) : undefined;
  }

  /** The principal for a bearer token, or undefined when the token is not valid. */
  async authenticate(token: string): Promise<Principal | undefined> {
    if (this.mode === 'open') return this.openCache.get(token) ?? this.openPrincipal(token);
    const hash = hashToken(token);
    if (this.external?.changed()) this.forgetTokens();
    const caching = this.caching();
    const cached = caching ? this.tokenCache.get(hash) : undefined;
    if (cached !== undefined) return cached;
    const generation = this.tokenGeneration;
    const record = await this.store.read((repo) => repo.findTokenByHash(hash));
    if (record === undefined || record.revokedAt !== null) return undefined;
    const principal = toPrincipal(record);
    // Not kept if a token changed while it was being read: what was read may be out of date.
    if (caching && generation === this.tokenGeneration) {
      if (this.tokenCache.size >= MAX_CACHED_PRINCIPALS) this.tokenCache.clear();
      this.tokenCache.set(hash, principal);
    }
    return principal;
  }

  private forgetTokens(): void {
    this.tokenCache.clear();
    this.tokenGeneration += 1;
  }

  async issueToken(options: IssueTokenOptions): Promise<IssuedToken> {
    const portalId = checkPortalId(options.portalId);
    const userId = checkPortalId(options.userId ?? DEFAULT_USER_ID);
    return this.store.write(async (repo) => {
      const now = this.clock(portalId);
      await seedPortal(repo, portalId, now, this.startPortal);
      const token = `stl_${randomBytes(32).toString('base64url')}`;
      const record: TokenRecord = {
        id: `tok_${randomBytes(6).toString('hex')}`,
        hash: hashToken(token),
        portalId,
        userId,
        scopes: options.scopes === undefined ? null : [...new Set(options.scopes)].sort(),
        createdAt: now,
        revokedAt: null,
      };
      await repo.insertToken(record);
      return { token, record };
    });
  }

  listTokens(): Promise<TokenRecord[]> {
    return this.store.read((repo) => repo.listTokens());
  }

  async revokeToken(id: string): Promise<boolean> {
    try {
      return await this.store.write((repo) => repo.revokeToken(id, Date.now()));
    } finally {
      this.forgetTokens();
    }
  }

  /**
   * First start of a token-mode server on an empty database: portal 1 and an admin token.
   * Returns the token to print once; undefined on every later start.
   */
  async bootstrap(): Promise<IssuedToken | undefined> {
    if (this.mode !== 'tokens') return undefined;
    const empty = await this.store.read(
      async (repo) => (await repo.countTokens()) === 0 && !(await repo.portalExists(1)),
    );
    return empty ? this.issueToken({ portalId: 1 }) : undefined;
  }

  /**
   * Open mode, a token this process does not know: its stored principal, or, for a token never
   * written with, one whose portal is not in the database yet (it reads as its starting state).
   * Looking it up writes nothing; only stored principals are kept in memory, since another
   * request or process may create the portal at any time.
   */
  private async openPrincipal(token: string): Promise<Principal> {
    const hash = hashToken(token);
    const principal = await this.store.read(async (repo): Promise<Principal> => {
      const known = await repo.findTokenByHash(hash);
      if (known !== undefined) return toPrincipal(known);
      return {
        ...toPrincipal(openToken(hash, await freePortalId(repo, derivedInt(hash, 0)), 0)),
        unseenTokenHash: hash,
      };
    });
    if (principal.unseenTokenHash === undefined) {
      if (this.openCache.size >= MAX_CACHED_PRINCIPALS) this.openCache.clear();
      this.openCache.set(token, principal);
    }
    return principal;
  }

  /**
   * A new portal's first state, as open mode creates it: HubSpot's default pipelines or the
   * seed, stamped at `stampedAt`. The portal must not exist yet.
   */
  async startingState(repo: Repository, portalId: number, now: number): Promise<void> {
    await repo.ensurePortal(portalId, now);
    await (this.startPortal ?? defaultStart)(repo, portalId, this.stampedAt);
  }

  /**
   * Open mode: creates the portal of an actor whose token has only read so far, with its token,
   * in the caller's write transaction (before the write itself). Refused past `maxPortals`.
   */
  async createOpenPortal(repo: Repository, actor: Actor): Promise<void> {
    const hash = actor.unseenTokenHash;
    if (hash === undefined) return;
    const { portalId } = actor;
    const now = this.clock(portalId);
    // The portal row first: on PostgreSQL its insert waits for another transaction inserting it
    // (another first write of this token, in this process or another), so what is read next
    // includes what that one committed.
    const created = await repo.ensurePortal(portalId, now);
    const known = await repo.findTokenByHash(hash);
    if (!created && known?.portalId === portalId) return; // another request of this token created it
    // The id this token was given is now another token's (two new tokens on one id at once): a
    // 503, which clients retry; the token's next request gets a free id. Not a storage fault.
    if (!created || known !== undefined) {
      throw Object.assign(new Error("the new portal's id was taken meanwhile: retry"), { statusCode: 503 });
    }
    if (this.maxPortals !== undefined && (await repo.countPortals()) > this.maxPortals) {
      throw portalLimit(this.maxPortals);
    }
    await (this.startPortal ?? defaultStart)(repo, portalId, this.stampedAt);
    await repo.insertToken(openToken(hash, portalId, now));
  }
}

/** The stored record of an open-mode token: every scope, a user id derived from the hash. */
const openToken = (hash: string, portalId: number, createdAt: number): TokenRecord => ({
  id: `open_${hash.slice(0, 16)}`,
  hash,
  portalId,
  userId: derivedInt(hash, 8),
  scopes: null,
  createdAt,
  revokedAt: null,
});

function portalLimit(max: number): DomainError {
  return new DomainError(
    'FORBIDDEN',
    `This server already holds its limit of ${max} portals (--max-portals), so this access token cannot create one: its portal would be created by this write. Tokens that already have a portal keep working.`,
    { subCategory: 'Stageline.PORTAL_LIMIT', context: { maxPortals: [String(max)] } },
  );
}

/** The derived id, or the next free one when another token already holds it. */
async function freePortalId(repo: Repository, wanted: number): Promise<number> {
  let id = wanted;
  while (await repo.portalExists(id)) id = id >= MAX_INT32 ? 1 : id + 1;
  return id;
}

const toPrincipal = (r: TokenRecord): Principal => ({
  portalId: r.portalId,
  userId: r.userId,
  tokenId: r.id,
  scopes: r.scopes === null ? null : new Set(r.scopes),
});

export const MISSING_SCOPES_MESSAGE =
  "This app hasn't been granted all required scopes to make this call. Read more about required scopes here: https://developers.hubspot.com/scopes.";

/** Throws MISSING_SCOPES unless the principal holds one of the scopes the operation accepts. */
export function requireScope(principal: Principal, type: ObjectType, access: Access): void {
  requireAnyScope(principal, scopesFor(type, access));
}

/** Throws MISSING_SCOPES unless the principal holds one of `accepted`. */
export function requireAnyScope(principal: Principal, accepted: readonly string[]): void {
  if (principal.scopes === null) return;
  if (accepted.some((s) => principal.scopes!.has(s))) return;
  throw new DomainError('MISSING_SCOPES', MISSING_SCOPES_MESSAGE, {
    errors: [
      {
        message: 'One or more of the following scopes are required.',
        context: { requiredGranularScopes: [...accepted] },
      },
    ],
    links: { scopes: 'https://developers.hubspot.com/scopes' },
  });
}
