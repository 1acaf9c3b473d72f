import type { Metadata, MetadataInput } from './metadata.js';

export type WritePermission = 'CRM_PERMISSIONS_ENFORCEMENT' | 'INTERNAL_ONLY' | 'READ_ONLY';

/** Timestamps are epoch milliseconds; `archivedAt` is null while the item is live. */
export interface Stage {
  readonly id: string;
  readonly label: string;
  readonly displayOrder: number;
  readonly metadata: Metadata;
  readonly writePermissions: WritePermission;
  readonly createdAt: number;
  readonly updatedAt: number;
  readonly archivedAt: number | null;
}

/** A pipeline with every stage it ever had, archived ones included. */
export interface Pipeline {
  readonly id: string;
  readonly label: string;
  readonly displayOrder: number;
  readonly createdAt: number;
  readonly updatedAt: number;
  readonly archivedAt: number | null;
  readonly stages: readonly Stage[];
}

export interface StageInput {
  readonly stageId?: string;
  readonly label: string;
  readonly displayOrder: number;
  readonly metadata: MetadataInput;
}

export interface PipelineInput {
  readonly pipelineId?: string;
  readonly label: string;
  readonly displayOrder: number;
  readonly stages: readonly StageInput[];
}

export interface PipelinePatch {
  readonly label?: string;
  readonly displayOrder?: number;
  readonly archived?: boolean;
}

export interface StagePatch {
  readonly label?: string;
  readonly displayOrder?: number;
  readonly metadata?: MetadataInput;
  readonly archived?: boolean;
}

export type AuditAction = 'CREATE' | 'UPDATE' | 'DELETE';
export type AuditKind = 'pipeline' | 'stage';

export interface AuditEntry {
  readonly portalId: number;
  readonly objectTypeKey: string;
  readonly kind: AuditKind;
  readonly objectId: string;
  readonly action: AuditAction;
  readonly message: string;
  /** The object after the change in HubSpot's internal model (internal-model.ts), as a string. */
  readonly rawObject: string;
  readonly userId: number;
  readonly timestamp: number;
}

/** Who is acting: resolved from the access token. */
export interface Actor {
  readonly portalId: number;
  readonly userId: number;
  /**
   * Open mode: the hash of a token whose portal is not in the database yet. It reads as its
   * starting state, and the actor's first write creates it (src/app/open-portals.ts).
   */
  readonly unseenTokenHash?: string;
}

export const isLive = (item: { archivedAt: number | null }): boolean => item.archivedAt === null;

export const liveStages = (pipeline: Pipeline): Stage[] => pipeline.stages.filter(isLive);
