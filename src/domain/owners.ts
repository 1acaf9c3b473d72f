/**
 * CRM owners, as far as Stageline has them: every access token acts for one user of its portal,
 * and that user is an owner whose id can be stored in `hubspot_owner_id`. HubSpot's owner ids
 * differ from user ids, so clients that confuse the two fail here as they would on HubSpot.
 */
import { formatTimestamp } from './time.js';

/** HubSpot's `PublicOwner`. */
export interface OwnerView {
  id: string;
  email: string;
  type: 'PERSON';
  firstName: string;
  lastName: string;
  userId: number;
  userIdIncludingInactive: number;
  createdAt: string;
  updatedAt: string;
  archived: boolean;
  teams: { id: string; name: string; primary: boolean }[];
}

export interface OwnerIdentity {
  readonly portalId: number;
  readonly userId: number;
  /** The owner id: derived by the caller from the portal and user, stable across requests. */
  readonly ownerId: string;
}

/** A user's address: under `.invalid` (RFC 2606), so mail sent to it by a test goes nowhere. */
export const userEmail = (portalId: number, userId: number): string =>
  `user-${userId}@portal-${portalId}.stageline.invalid`;

/**
 * The owner of a user. Users exist from the portal's start, like its default pipelines, so
 * their timestamps are the epoch too.
 */
export function ownerView(identity: OwnerIdentity): OwnerView {
  const epoch = formatTimestamp(0);
  return {
    id: identity.ownerId,
    email: userEmail(identity.portalId, identity.userId),
    type: 'PERSON',
    firstName: 'Stageline',
    lastName: `User ${identity.userId}`,
    userId: identity.userId,
    userIdIncludingInactive: identity.userId,
    createdAt: epoch,
    updatedAt: epoch,
    archived: false,
    teams: [],
  };
}

/** `idProperty` of `GET /crm/v3/owners/{ownerId}`: the path names an owner id or a user id. */
export type OwnerIdProperty = 'id' | 'userId';

export function matchesOwner(owner: OwnerView, value: string, idProperty: OwnerIdProperty): boolean {
  return idProperty === 'id' ? owner.id === value : String(owner.userId) === value;
}
