/** What the board reads from the public API, as it comes over the wire. */

export interface Stage {
  id: string;
  label: string;
  displayOrder: number;
  metadata: Record<string, string>;
  createdAt: string;
  updatedAt: string;
  archived: boolean;
  archivedAt?: string;
}

export interface Pipeline {
  id: string;
  label: string;
  displayOrder: number;
  stages: Stage[];
  createdAt: string;
  updatedAt: string;
  archived: boolean;
  archivedAt?: string;
}

export interface CrmRecord {
  id: string;
  properties: Record<string, string | null | undefined>;
  createdAt: string;
  updatedAt: string;
}

export interface AuditEntry {
  portalId: number;
  identifier: string;
  action: string;
  timestamp: string;
  message: string;
  /** The object after the change, as a JSON string. */
  rawObject: string;
  fromUserId: number;
}

export interface Owner {
  id: string;
  email: string;
  firstName?: string;
  lastName?: string;
}

/** How stage metadata works for a type: deal probability, ticket state, or a plain state. */
export type MetadataKind = 'probability' | 'ticketState' | 'state';

export interface ObjectTypeInfo {
  name: string;
  label: string;
  /** The property that names a record on its card. */
  nameProperty: string;
  /** null: the type has one pipeline, so its records name only their stage. */
  pipelineProperty: string | null;
  stageProperty: string;
  metadata: MetadataKind;
  /** Deals carry an amount; the board sums it. */
  hasAmount: boolean;
  /** Contacts and companies have one lifecycle pipeline nobody can change. */
  readOnly: boolean;
}

const stateType = (name: string, label: string): ObjectTypeInfo => ({
  name,
  label,
  nameProperty: 'name',
  pipelineProperty: 'hs_pipeline',
  stageProperty: 'hs_pipeline_stage',
  metadata: 'state',
  hasAmount: false,
  readOnly: false,
});

export const OBJECT_TYPES: readonly ObjectTypeInfo[] = [
  {
    name: 'deals',
    label: 'Deals',
    nameProperty: 'dealname',
    pipelineProperty: 'pipeline',
    stageProperty: 'dealstage',
    metadata: 'probability',
    hasAmount: true,
    readOnly: false,
  },
  {
    name: 'tickets',
    label: 'Tickets',
    nameProperty: 'subject',
    pipelineProperty: 'hs_pipeline',
    stageProperty: 'hs_pipeline_stage',
    metadata: 'ticketState',
    hasAmount: false,
    readOnly: false,
  },
  stateType('orders', 'Orders'),
  stateType('leads', 'Leads'),
  stateType('services', 'Services'),
  stateType('appointments', 'Appointments'),
  {
    ...stateType('contacts', 'Contacts'),
    nameProperty: 'email',
    pipelineProperty: null,
    stageProperty: 'lifecyclestage',
    readOnly: true,
  },
  {
    ...stateType('companies', 'Companies'),
    pipelineProperty: null,
    stageProperty: 'lifecyclestage',
    readOnly: true,
  },
];

/** The derived property holding when a record entered its current stage. */
export const ENTERED_CURRENT_STAGE = 'hs_v2_date_entered_current_stage';
export const OWNER_PROPERTY = 'hubspot_owner_id';
