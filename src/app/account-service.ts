/**
 * What clients ask before anything else: the account, its owners, and what a token is (its
 * portal, user, app and scopes). Every answer is derived from the token's principal: Stageline
 * keeps no users or apps of its own.
 */
import { createHash } from 'node:crypto';

import type { Actor } from '../domain/model.js';
import { resolveObjectType, STANDARD_TYPES } from '../domain/object-types.js';
import type { ObjectType } from '../domain/object-types.js';
import { ownerView, userEmail } from '../domain/owners.js';
import type { OwnerView } from '../domain/owners.js';
import type { AuthService, Principal } from './auth-service.js';

/** HubSpot's `PortalInformationResponse` (`GET /account-info/v3/details`). */
export interface AccountDetails {
  portalId: number;
  accountType: 'STANDARD';
  timeZone: string;
  companyCurrency: string;
  additionalCurrencies: string[];
  utcOffset: string;
  utcOffsetMilliseconds: number;
  uiDomain: string;
  dataHostingLocation: string;
}

/** What the token-info endpoints report about a token. */
export interface TokenInfo {
  readonly portalId: number;
  readonly userId: number;
  readonly appId: number;
  /** Sorted; every scope Stageline checks for a token that holds them all. */
  readonly scopes: readonly string[];
  /** The user's email address. */
  readonly user: string;
}

/** Scopes of the routes without an object type. */
export const ACCOUNT_SCOPES = ['oauth'] as const;
export const OWNER_SCOPES = ['crm.objects.owners.read'] as const;

const MAX_INT32 = 2_147_483_647;

/** A stable number in [1, 2^31 - 1) for a text: ids Stageline derives rather than stores. */
const derivedId = (text: string): number =>
  (Number.parseInt(createHash('sha256').update(text).digest('hex').slice(0, 8), 16) % (MAX_INT32 - 1)) + 1;

const typeScopes = (t: ObjectType): string[] => [
  ...t.readScopes,
  ...t.writeScopes,
  ...t.recordReadScopes,
  ...t.recordWriteScopes,
  ...t.propertyReadScopes,
];

/** Every scope some Stageline route accepts: what a token holding every scope reports. */
export const ALL_SCOPES: readonly string[] = Object.freeze(
  [
    ...new Set([
      ...STANDARD_TYPES.flatMap(typeScopes),
      ...typeScopes(resolveObjectType('2-1', 1)),
      ...ACCOUNT_SCOPES,
      ...OWNER_SCOPES,
    ]),
  ].sort(),
);

export class AccountService {
  constructor(private readonly auth: AuthService) {}

  /**
   * The account of the actor's portal. Stageline keeps every timestamp in UTC, so that is the
   * portal's time zone; `uiDomain` is where the client reached Stageline.
   */
  details(actor: Actor, uiDomain: string): AccountDetails {
    return {
      portalId: actor.portalId,
      accountType: 'STANDARD',
      timeZone: 'UTC',
      companyCurrency: 'USD',
      additionalCurrencies: [],
      utcOffset: '+00:00',
      utcOffsetMilliseconds: 0,
      uiDomain,
      dataHostingLocation: 'na1',
    };
  }

  /** The portal's owners Stageline knows: the actor's own user. */
  owners(actor: Actor): OwnerView[] {
    return [
      ownerView({
        portalId: actor.portalId,
        userId: actor.userId,
        ownerId: String(derivedId(`owner:${actor.portalId}:${actor.userId}`)),
      }),
    ];
  }

  /**
   * What a token is: in open mode any token (its own portal, created on first use), in tokens
   * mode a stored, unrevoked one; undefined for any other.
   */
  async tokenInfo(token: string): Promise<{ principal: Principal; info: TokenInfo } | undefined> {
    const principal = await this.auth.authenticate(token);
    if (principal === undefined) return undefined;
    return {
      principal,
      info: {
        portalId: principal.portalId,
        userId: principal.userId,
        appId: derivedId(`app:${principal.tokenId}`),
        scopes: principal.scopes === null ? ALL_SCOPES : [...principal.scopes].sort(),
        user: userEmail(principal.portalId, principal.userId),
      },
    };
  }
}
