/**
 * Associations between records, as far as Stageline keeps them: HubSpot-defined association
 * types between deals, tickets, contacts and companies, given on record create. Pure: the service
 * checks that targets exist and stores the links.
 *
 * An association type is one direction (deal → contact is type 3, contact → deal type 4); a link
 * is stored in both directions, so either record lists the other. A labeled type (the "Primary"
 * company ones) also carries the unlabeled type of the same pair, as every HubSpot association does.
 * Type ids, names and labels: HubSpot's association type id table ("Associations v4" guide), the
 * v3 type names and the labels of the 2024-02 changelog "Changes to primary labels".
 */
import { invalid } from './errors.js';
import type { ObjectType } from './object-types.js';

export type AssociationCategory = 'HUBSPOT_DEFINED' | 'USER_DEFINED' | 'INTEGRATOR_DEFINED';

/** One stored link, in one direction. */
export interface RecordAssociation {
  readonly fromTypeKey: string;
  readonly fromId: string;
  readonly toTypeKey: string;
  readonly toId: string;
  readonly category: AssociationCategory;
  readonly typeId: number;
}

interface AssociationType {
  readonly from: string;
  readonly to: string;
  /** The v3 name, as `associations=` reads return it in `results[].type`. */
  readonly name: string;
  readonly inverse: number;
  /** null for an unlabeled type. */
  readonly label: string | null;
  /** For a labeled type: the unlabeled type of the same pair. */
  readonly unlabeled?: number;
}

const TYPE_KEYS: Readonly<Record<string, string>> = {
  contacts: '0-1',
  companies: '0-2',
  deals: '0-3',
  tickets: '0-5',
};

const primary = (from: string) => `${from[0]!.toUpperCase()}${from.slice(1, -1)} with Primary Company`;

const TYPES = new Map<number, AssociationType>([
  [
    1,
    {
      from: 'contacts',
      to: 'companies',
      name: 'contact_to_company',
      inverse: 2,
      label: primary('contacts'),
      unlabeled: 279,
    },
  ],
  [
    2,
    {
      from: 'companies',
      to: 'contacts',
      name: 'company_to_contact',
      inverse: 1,
      label: primary('contacts'),
      unlabeled: 280,
    },
  ],
  [
    279,
    { from: 'contacts', to: 'companies', name: 'contact_to_company_unlabeled', inverse: 280, label: null },
  ],
  [
    280,
    { from: 'companies', to: 'contacts', name: 'company_to_contact_unlabeled', inverse: 279, label: null },
  ],
  [3, { from: 'deals', to: 'contacts', name: 'deal_to_contact', inverse: 4, label: null }],
  [4, { from: 'contacts', to: 'deals', name: 'contact_to_deal', inverse: 3, label: null }],
  [
    5,
    {
      from: 'deals',
      to: 'companies',
      name: 'deal_to_company',
      inverse: 6,
      label: primary('deals'),
      unlabeled: 341,
    },
  ],
  [
    6,
    {
      from: 'companies',
      to: 'deals',
      name: 'company_to_deal',
      inverse: 5,
      label: primary('deals'),
      unlabeled: 342,
    },
  ],
  [341, { from: 'deals', to: 'companies', name: 'deal_to_company_unlabeled', inverse: 342, label: null }],
  [342, { from: 'companies', to: 'deals', name: 'company_to_deal_unlabeled', inverse: 341, label: null }],
  [15, { from: 'contacts', to: 'tickets', name: 'contact_to_ticket', inverse: 16, label: null }],
  [16, { from: 'tickets', to: 'contacts', name: 'ticket_to_contact', inverse: 15, label: null }],
  [
    25,
    {
      from: 'companies',
      to: 'tickets',
      name: 'company_to_ticket',
      inverse: 26,
      label: primary('tickets'),
      unlabeled: 340,
    },
  ],
  [
    26,
    {
      from: 'tickets',
      to: 'companies',
      name: 'ticket_to_company',
      inverse: 25,
      label: primary('tickets'),
      unlabeled: 339,
    },
  ],
  [339, { from: 'tickets', to: 'companies', name: 'ticket_to_company_unlabeled', inverse: 340, label: null }],
  [340, { from: 'companies', to: 'tickets', name: 'company_to_ticket_unlabeled', inverse: 339, label: null }],
  [27, { from: 'deals', to: 'tickets', name: 'deal_to_ticket', inverse: 28, label: null }],
  [28, { from: 'tickets', to: 'deals', name: 'ticket_to_deal', inverse: 27, label: null }],
  [449, { from: 'contacts', to: 'contacts', name: 'contact_to_contact', inverse: 449, label: null }],
  [450, { from: 'companies', to: 'companies', name: 'company_to_company', inverse: 450, label: null }],
  [451, { from: 'deals', to: 'deals', name: 'deal_to_deal', inverse: 451, label: null }],
  [452, { from: 'tickets', to: 'tickets', name: 'ticket_to_ticket', inverse: 452, label: null }],
]);

/**
 * The association types from one type to another (HubSpot's v4 labels read): every one is
 * HubSpot-defined; a pair of types Stageline does not link has none.
 */
export function associationLabels(from: ObjectType, to: ObjectType) {
  return [...TYPES]
    .filter(([, t]) => t.from === from.name && t.to === to.name)
    .map(([typeId, t]) => ({ category: 'HUBSPOT_DEFINED' as AssociationCategory, typeId, label: t.label }));
}

/** An association as clients send it on create: `{ to: { id }, types: [...] }`. */
export interface AssociationInput {
  readonly to: { readonly id: string | number };
  readonly types: readonly { readonly associationCategory: string; readonly associationTypeId: number }[];
}

/** One input of HubSpot's v4 batch create: `{ from: { id }, to: { id }, types: [...] }`. */
export interface AssociationPairInput extends AssociationInput {
  readonly from: { readonly id: string | number };
}

/** A link asked for on create, before its target is checked. */
export interface AssociationRequest {
  readonly toTypeKey: string;
  /** The target type as HubSpot names it in errors (`CONTACT`). */
  readonly toTypeLabel: string;
  readonly toId: string;
  readonly typeId: number;
}

const typeLabel = (name: string): string => name.slice(0, -1).replace(/ie$/, 'y').toUpperCase();

/**
 * The links a create asks for, companions included, in input order without repeats. A type that
 * is not HubSpot-defined, unknown, or does not start at `from` is a 400.
 */
export function readAssociationInput(
  from: ObjectType,
  inputs: readonly AssociationInput[] | undefined,
): AssociationRequest[] {
  const out: AssociationRequest[] = [];
  const seen = new Set<string>();
  const add = (toId: string, typeId: number) => {
    const def = TYPES.get(typeId)!;
    const key = `${typeId}:${toId}`;
    if (seen.has(key)) return;
    seen.add(key);
    out.push({ toTypeKey: TYPE_KEYS[def.to]!, toTypeLabel: typeLabel(def.to), toId, typeId });
  };
  for (const [i, input] of (inputs ?? []).entries()) {
    const toId = String(input.to.id);
    for (const spec of input.types) {
      const def = TYPES.get(spec.associationTypeId);
      if (spec.associationCategory !== 'HUBSPOT_DEFINED' || def === undefined || def.from !== from.name) {
        const message = `association type ${spec.associationCategory} ${spec.associationTypeId} does not exist from ${from.name}`;
        throw invalid(`One or more associations are invalid: ${message}`, {
          errors: [{ message, in: `associations[${i}].types`, code: 'INVALID_ASSOCIATION_TYPE' }],
        });
      }
      add(toId, spec.associationTypeId);
      if (def.unlabeled !== undefined) add(toId, def.unlabeled);
    }
  }
  return out;
}

/** The label of an association type; null for an unlabeled one. */
export const associationLabel = (typeId: number): string | null => TYPES.get(typeId)?.label ?? null;

/** HubSpot's refusal of links to records that do not exist, naming them. */
export function invalidAssociationTargets(missing: readonly AssociationRequest[]) {
  return invalid('One or more associations are invalid', {
    context: {
      INVALID_OBJECT_IDS: missing.map((m) => `${m.toTypeLabel}=${m.toId} is not valid`),
      objectId: missing.map((m) => m.toId),
      objectType: missing.map((m) => m.toTypeLabel),
    },
  });
}

/** The stored rows of a link from a new record: the link and its inverse. */
export function associationRows(
  fromTypeKey: string,
  fromId: string,
  request: AssociationRequest,
): RecordAssociation[] {
  const inverse = TYPES.get(request.typeId)!.inverse;
  return [
    {
      fromTypeKey,
      fromId,
      toTypeKey: request.toTypeKey,
      toId: request.toId,
      category: 'HUBSPOT_DEFINED',
      typeId: request.typeId,
    },
    {
      fromTypeKey: request.toTypeKey,
      fromId: request.toId,
      toTypeKey: fromTypeKey,
      toId: fromId,
      category: 'HUBSPOT_DEFINED',
      typeId: inverse,
    },
  ];
}

/** v3 reads: `{ id, type }`, one entry per link. */
export const v3Association = (a: RecordAssociation): { id: string; type: string } => ({
  id: a.toId,
  type: TYPES.get(a.typeId)?.name ?? `${a.fromTypeKey}_to_${a.toTypeKey}`,
});

/** v4 reads: one entry per target record with every type linking to it. */
export function v4Associations(links: readonly RecordAssociation[]) {
  const byTarget = new Map<
    string,
    { category: AssociationCategory; typeId: number; label: string | null }[]
  >();
  for (const a of links) {
    const types = byTarget.get(a.toId) ?? [];
    types.push({ category: a.category, typeId: a.typeId, label: TYPES.get(a.typeId)?.label ?? null });
    byTarget.set(a.toId, types);
  }
  return [...byTarget].map(([toId, associationTypes]) => ({ toObjectId: Number(toId), associationTypes }));
}
