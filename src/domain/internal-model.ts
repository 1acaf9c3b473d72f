/**
 * HubSpot's internal model of pipelines and stages: what an audit entry's `rawObject` holds
 * (FIDELITY §7, field for field as in the seed guide's audit example). Unlike the public view it
 * carries the portal, the object type, a per-pipeline `version`, who created and last updated
 * each item, and epoch-millisecond times.
 */
import { DEFAULT_PIPELINES } from './default-pipelines.js';
import type { Metadata } from './metadata.js';
import { isLive } from './model.js';
import type { Pipeline, Stage, WritePermission } from './model.js';
import type { ObjectType } from './object-types.js';
import { sortByDisplayOrder } from './ordering.js';

export interface InternalStage {
  displayOrder: number;
  portalId: number;
  objectTypeId: string;
  pipelineId: string;
  stageId: string;
  label: string;
  metadata: Metadata;
  maxVisibleVersion: null;
  createdBy: number | null;
  updatedBy: number | null;
  createdAt: number;
  updatedAt: number;
  writePermissions: WritePermission;
  internalWriteOnly: boolean;
  active: boolean;
  isApprovalStage: null;
}

export interface InternalPipeline {
  displayOrder: number;
  pipelineId: string;
  portalId: number;
  objectType: string;
  objectTypeId: string;
  version: number;
  label: string;
  active: boolean;
  stages: InternalStage[];
  createdBy: number | null;
  updatedBy: number | null;
  createdAt: number;
  updatedAt: number;
  limitExempt: boolean;
  autoCloseDateEnabled: boolean;
  clearCloseDateWhenMovingClosedToOpen: boolean;
  permission: null;
  createStageId: null;
  inactiveDefaultPipeline: boolean;
  default: boolean;
}

/** Who created and last updated an item; null where no audit entry says (seeded defaults). */
export interface Authors {
  readonly createdBy: number | null;
  readonly updatedBy: number | null;
}

/**
 * What a pipeline's latest audit entry knew: its version and the authors of the pipeline and of
 * each stage. A new pipeline, a seeded default or one audited before this model knows nothing.
 */
export interface PipelineHistory {
  readonly version: number;
  readonly pipeline: Authors;
  readonly stages: ReadonlyMap<string, Authors>;
}

export const NO_HISTORY: PipelineHistory = {
  version: 0,
  pipeline: { createdBy: null, updatedBy: null },
  stages: new Map(),
};

const author = (value: unknown): number | null => (typeof value === 'number' ? value : null);

/** Reads the history back from a pipeline audit entry's `rawObject`. */
export function historyFrom(rawObject: string | undefined): PipelineHistory {
  if (rawObject === undefined) return NO_HISTORY;
  const raw = JSON.parse(rawObject) as Partial<Record<keyof InternalPipeline, unknown>>;
  const stages = new Map<string, Authors>();
  for (const s of Array.isArray(raw.stages) ? (raw.stages as Record<string, unknown>[]) : []) {
    if (typeof s.stageId === 'string') {
      stages.set(s.stageId, { createdBy: author(s.createdBy), updatedBy: author(s.updatedBy) });
    }
  }
  return {
    version: typeof raw.version === 'number' ? raw.version : 0,
    pipeline: { createdBy: author(raw.createdBy), updatedBy: author(raw.updatedBy) },
    stages,
  };
}

/** HubSpot's internal name of a type (`DEAL`); custom types keep their key. */
export function internalTypeName(type: ObjectType): string {
  return type.name === 'custom' ? type.key : type.singular.toUpperCase();
}

export interface InternalContext {
  readonly portalId: number;
  readonly type: ObjectType;
}

export function internalStage(
  ctx: InternalContext,
  pipelineId: string,
  stage: Stage,
  authors: Authors,
): InternalStage {
  return {
    displayOrder: stage.displayOrder,
    portalId: ctx.portalId,
    objectTypeId: ctx.type.key,
    pipelineId,
    stageId: stage.id,
    label: stage.label,
    metadata: stage.metadata,
    maxVisibleVersion: null,
    createdBy: authors.createdBy,
    updatedBy: authors.updatedBy,
    createdAt: stage.createdAt,
    updatedAt: stage.updatedAt,
    writePermissions: stage.writePermissions,
    internalWriteOnly: stage.writePermissions === 'INTERNAL_ONLY',
    active: isLive(stage),
    isApprovalStage: null,
  };
}

/** The pipeline with its live stages in display order. */
export function internalPipeline(
  ctx: InternalContext,
  pipeline: Pipeline,
  version: number,
  authors: Authors,
  stageAuthors: (stage: Stage) => Authors,
): InternalPipeline {
  const defaultId = DEFAULT_PIPELINES.find((d) => d.type.key === ctx.type.key)?.pipeline.id;
  return {
    displayOrder: pipeline.displayOrder,
    pipelineId: pipeline.id,
    portalId: ctx.portalId,
    objectType: internalTypeName(ctx.type),
    objectTypeId: ctx.type.key,
    version,
    label: pipeline.label,
    active: isLive(pipeline),
    stages: sortByDisplayOrder(pipeline.stages.filter(isLive)).map((s) =>
      internalStage(ctx, pipeline.id, s, stageAuthors(s)),
    ),
    createdBy: authors.createdBy,
    updatedBy: authors.updatedBy,
    createdAt: pipeline.createdAt,
    updatedAt: pipeline.updatedAt,
    limitExempt: false,
    // HubSpot's deal pipelines set a deal's close date on entering a closed stage.
    autoCloseDateEnabled: ctx.type.rules === 'deal',
    clearCloseDateWhenMovingClosedToOpen: false,
    permission: null,
    createStageId: null,
    inactiveDefaultPipeline: false,
    default: pipeline.id === defaultId,
  };
}
