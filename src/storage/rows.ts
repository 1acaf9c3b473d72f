/** Row shapes shared by the SQL adapters (same column names everywhere) and their mapping. */
import type { AssociationCategory, RecordAssociation } from '../domain/associations.js';
import type { Metadata } from '../domain/metadata.js';
import { compareByDisplayOrder } from '../domain/ordering.js';
import type { AuditEntry, AuditKind, Pipeline, Stage, WritePermission } from '../domain/model.js';
import type { PortalRecord, TokenRecord } from '../domain/ports.js';
import type { CrmRecord } from '../domain/records.js';

export interface PipelineStageRow {
  p_id: string;
  p_label: string;
  p_display_order: number;
  p_created_at: number;
  p_updated_at: number;
  p_archived_at: number | null;
  id: string | null;
  label: string;
  display_order: number;
  metadata: string;
  write_permissions: string;
  created_at: number;
  updated_at: number;
  archived_at: number | null;
}

export interface StageRow {
  pipeline_id: string;
  id: string;
  label: string;
  display_order: number;
  metadata: string;
  write_permissions: string;
  created_at: number;
  updated_at: number;
  archived_at: number | null;
}

export interface AuditRow {
  portal_id: number;
  object_type: string;
  kind: AuditKind;
  object_id: string;
  action: AuditEntry['action'];
  message: string;
  raw_object: string;
  user_id: number;
  ts: number;
}

export interface RecordRow {
  id: number;
  pipeline_id: string | null;
  stage_id: string | null;
  properties: string;
  created_at: number;
  updated_at: number;
  archived_at: number | null;
}

export const toRecord = (r: RecordRow): CrmRecord => ({
  id: String(r.id),
  properties: JSON.parse(r.properties) as Record<string, string>,
  pipelineId: r.pipeline_id,
  stageId: r.stage_id,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
  archivedAt: r.archived_at,
});

export interface AssociationRow {
  from_type: string;
  from_id: number;
  to_type: string;
  to_id: number;
  category: string;
  type_id: number;
}

export const toAssociation = (r: AssociationRow): RecordAssociation => ({
  fromTypeKey: r.from_type,
  fromId: String(r.from_id),
  toTypeKey: r.to_type,
  toId: String(r.to_id),
  category: r.category as AssociationCategory,
  typeId: r.type_id,
});

export interface TokenRow {
  id: string;
  hash: string;
  portal_id: number;
  user_id: number;
  scopes: string | null;
  created_at: number;
  revoked_at: number | null;
}

export const toStage = (r: Omit<StageRow, 'pipeline_id'>): Stage => ({
  id: r.id,
  label: r.label,
  displayOrder: r.display_order,
  metadata: JSON.parse(r.metadata) as Metadata,
  writePermissions: r.write_permissions as WritePermission,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
  archivedAt: r.archived_at,
});

export const toToken = (r: TokenRow): TokenRecord => ({
  id: r.id,
  hash: r.hash,
  portalId: r.portal_id,
  userId: r.user_id,
  scopes: r.scopes === null ? null : (JSON.parse(r.scopes) as string[]),
  createdAt: r.created_at,
  revokedAt: r.revoked_at,
});

/** Groups joined pipeline/stage rows (ordered by pipeline) into pipelines. */
export function groupPipelines(rows: PipelineStageRow[]): Pipeline[] {
  const out: Pipeline[] = [];
  const stageLists: Stage[][] = [];
  let current: { pipeline: Pipeline; stages: Stage[] } | undefined;
  for (const r of rows) {
    if (current === undefined || current.pipeline.id !== r.p_id) {
      const stages: Stage[] = [];
      stageLists.push(stages);
      current = {
        stages,
        pipeline: {
          id: r.p_id,
          label: r.p_label,
          displayOrder: r.p_display_order,
          createdAt: r.p_created_at,
          updatedAt: r.p_updated_at,
          archivedAt: r.p_archived_at,
          stages,
        },
      };
      out.push(current.pipeline);
    }
    if (r.id !== null) current.stages.push(toStage({ ...r, id: r.id }));
  }
  // Row order within a pipeline is up to the query plan (PostgreSQL's hash joins vary), so
  // stages leave the adapters in the order HubSpot shows them.
  for (const stages of stageLists) stages.sort(compareByDisplayOrder);
  return out;
}

export const toAudit = (r: AuditRow): AuditEntry => ({
  portalId: r.portal_id,
  objectTypeKey: r.object_type,
  kind: r.kind,
  objectId: r.object_id,
  action: r.action,
  message: r.message,
  rawObject: r.raw_object,
  userId: r.user_id,
  timestamp: r.ts,
});

export interface PortalRow {
  id: number;
  next_id: number;
  created_at: number;
}

export const toPortal = (r: PortalRow): PortalRecord => ({
  id: r.id,
  nextId: r.next_id,
  createdAt: r.created_at,
});

export interface TypedPipelineStageRow extends PipelineStageRow {
  p_object_type: string;
}

/** Rows ordered by object type then pipeline id, grouped into typed pipelines. */
export function groupTypedPipelines(
  rows: TypedPipelineStageRow[],
): { objectTypeKey: string; pipeline: Pipeline }[] {
  const byType = new Map<string, TypedPipelineStageRow[]>();
  for (const r of rows) {
    const list = byType.get(r.p_object_type) ?? [];
    list.push(r);
    byType.set(r.p_object_type, list);
  }
  return [...byType].flatMap(([objectTypeKey, typeRows]) =>
    groupPipelines(typeRows).map((pipeline) => ({ objectTypeKey, pipeline })),
  );
}

/**
 * The keyset position after a link, in the associations' order (from type, from id, to type, to
 * id, category, type id); before every link for undefined: '' sorts before any text, -1 before
 * any id.
 */
export const associationKey = (after: RecordAssociation | undefined): (string | number)[] =>
  after === undefined
    ? ['', -1, '', -1, '', -1]
    : [
        after.fromTypeKey,
        Number(after.fromId),
        after.toTypeKey,
        Number(after.toId),
        after.category,
        after.typeId,
      ];
