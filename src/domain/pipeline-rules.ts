/**
 * Pure rules and updaters for pipelines and stages. Nothing here reads storage, the clock or
 * the environment: callers pass `now`, fresh ids and what they looked up. Updaters never
 * mutate their input; they return the new pipeline and what changed, for persistence and audit.
 */
import { alreadyExists, invalid, notFound } from './errors.js';
import type { DomainError } from './errors.js';
import { isClosedStage, mergeMetadata, normalizeMetadata } from './metadata.js';
import { isLive, liveStages } from './model.js';
import type { Pipeline, PipelineInput, PipelinePatch, Stage, StageInput, StagePatch } from './model.js';
import type { ObjectType } from './object-types.js';

export const MAX_LABEL_LENGTH = 255;
export const MAX_PIPELINE_ID_LENGTH = 36;
export const MAX_STAGE_ID_LENGTH = 100;
const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.:-]*$/;

/** Labels are unique case-insensitively after trimming. */
export const labelKey = (label: string): string => label.trim().toLowerCase();

export function assertWritable(type: ObjectType): void {
  if (type.readOnly) throw invalid(`Pipelines of object type ${type.name} are read-only`);
}

function checkLabel(what: 'Pipeline' | 'Stage', label: string): string {
  const trimmed = label.trim();
  if (trimmed === '') throw invalid(`${what} label cannot be empty`);
  if (trimmed.length > MAX_LABEL_LENGTH) {
    throw invalid(`${what} label cannot be longer than ${MAX_LABEL_LENGTH} characters`);
  }
  return trimmed;
}

function checkDisplayOrder(what: 'Pipeline' | 'Stage', displayOrder: number): number {
  if (displayOrder < 0) throw invalid(`${what} display order cannot be negative`);
  return displayOrder;
}

export function checkClientId(what: 'pipelineId' | 'stageId', id: string): string {
  const max = what === 'pipelineId' ? MAX_PIPELINE_ID_LENGTH : MAX_STAGE_ID_LENGTH;
  if (id.length === 0 || id.length > max) throw invalid(`${what} must be 1 to ${max} characters long`);
  if (!ID_PATTERN.test(id)) {
    throw invalid(
      `${what} may contain only letters, digits, '_', '-', '.' and ':' and must start with a letter or digit`,
    );
  }
  return id;
}

/** The whole-pipeline invariants, checked on the result of every change. */
export function checkPipelineInvariants(type: ObjectType, pipeline: Pipeline): void {
  const live = liveStages(pipeline);
  if (live.length === 0) throw invalid('Pipeline must have at least one stage');
  if (live.length > type.stageLimit) {
    throw invalid(`Pipelines of object type ${type.name} can have at most ${type.stageLimit} stages`, {
      subCategory: 'PipelineError.STAGE_LIMIT_EXCEEDED',
    });
  }
  const seen = new Set<string>();
  for (const stage of live) {
    const key = labelKey(stage.label);
    if (seen.has(key)) {
      throw invalid(`Stage with label ${stage.label} already exists`, {
        subCategory: 'PipelineError.STAGE_LABEL_EXISTS',
      });
    }
    seen.add(key);
  }
  if (type.rules === 'ticket' && !live.some((s) => isClosedStage(s.metadata))) {
    throw invalid('A ticket pipeline must have at least one CLOSED stage');
  }
}

export function pipelineLabelTaken(label: string): DomainError {
  return invalid(`An active pipeline with label ${label} already exists.`, {
    subCategory: 'PipelineError.PIPELINE_LABEL_EXISTS',
  });
}

/** HubSpot's refusal to remove stages that records still sit in. */
export function stagesInUse(stageIds: readonly string[], objectIds: readonly string[]): DomainError {
  const stages = `[${stageIds.join(', ')}]`;
  const objects = `[${objectIds.join(', ')}]`;
  return invalid(`Stage IDs: ${stages} are being referenced by object IDs: ${objects}`, {
    subCategory: 'PipelineError.STAGE_ID_IN_USE',
    context: { stageIds: [stages], objectIds: [objects] },
  });
}

export const idTaken = (what: 'pipeline' | 'stage', id: string): DomainError =>
  alreadyExists(`A ${what} with id ${id} already exists`);

function newStage(type: ObjectType, input: StageInput, id: string, now: number): Stage {
  return {
    id,
    label: checkLabel('Stage', input.label),
    displayOrder: checkDisplayOrder('Stage', input.displayOrder),
    metadata: normalizeMetadata(type.rules, input.metadata),
    writePermissions: 'CRM_PERMISSIONS_ENFORCEMENT',
    createdAt: now,
    updatedAt: now,
    archivedAt: null,
  };
}

/** Client-chosen stage ids of an input, checked for form and for repeats within the input. */
export function clientStageIds(stages: readonly StageInput[]): string[] {
  const ids: string[] = [];
  for (const s of stages) {
    if (s.stageId === undefined) continue;
    checkClientId('stageId', s.stageId);
    if (ids.includes(s.stageId)) throw invalid(`stageId ${s.stageId} appears more than once`);
    ids.push(s.stageId);
  }
  return ids;
}

/** Ids to generate for an input: one per stage without a stageId (plus the pipeline's, if asked). */
export const idsNeeded = (stages: readonly StageInput[], forPipeline = false): number =>
  stages.filter((s) => s.stageId === undefined).length + (forPipeline ? 1 : 0);

function takeId(fresh: string[]): string {
  const id = fresh.shift();
  if (id === undefined) throw new Error('not enough generated ids');
  return id;
}

export function createPipeline(
  type: ObjectType,
  input: PipelineInput,
  pipelineId: string,
  freshIds: readonly string[],
  now: number,
): Pipeline {
  const fresh = [...freshIds];
  const stages = input.stages.map((s) => newStage(type, s, s.stageId ?? takeId(fresh), now));
  const pipeline: Pipeline = {
    id: pipelineId,
    label: checkLabel('Pipeline', input.label),
    displayOrder: checkDisplayOrder('Pipeline', input.displayOrder),
    createdAt: now,
    updatedAt: now,
    archivedAt: null,
    stages,
  };
  checkPipelineInvariants(type, pipeline);
  return pipeline;
}

export interface StageChanges {
  readonly created: readonly Stage[];
  readonly updated: readonly Stage[];
  readonly archived: readonly Stage[];
}

const sameStage = (a: Stage, b: Stage): boolean =>
  a.label === b.label &&
  a.displayOrder === b.displayOrder &&
  a.archivedAt === b.archivedAt &&
  JSON.stringify(a.metadata) === JSON.stringify(b.metadata);

/**
 * PUT: the input becomes the pipeline's definition. Stages named by `stageId` that exist in
 * this pipeline keep their id and creation time (archived ones come back); other stages are
 * created; live stages left out are archived.
 */
export function replacePipeline(
  type: ObjectType,
  current: Pipeline,
  input: PipelineInput,
  freshIds: readonly string[],
  now: number,
): { pipeline: Pipeline; changes: StageChanges } {
  const fresh = [...freshIds];
  const byId = new Map(current.stages.map((s) => [s.id, s]));
  const named = new Set(input.stages.flatMap((s) => (s.stageId === undefined ? [] : [s.stageId])));
  const created: Stage[] = [];
  const updated: Stage[] = [];
  const archived: Stage[] = [];
  const next: Stage[] = [];

  for (const s of current.stages) {
    if (named.has(s.id)) continue;
    if (isLive(s)) {
      const gone = { ...s, archivedAt: now, updatedAt: now };
      archived.push(gone);
      next.push(gone);
    } else {
      next.push(s);
    }
  }
  for (const s of input.stages) {
    const existing = s.stageId === undefined ? undefined : byId.get(s.stageId);
    const built = newStage(type, s, s.stageId ?? takeId(fresh), now);
    if (existing === undefined) {
      created.push(built);
      next.push(built);
      continue;
    }
    const kept: Stage = {
      ...built,
      createdAt: existing.createdAt,
      writePermissions: existing.writePermissions,
    };
    const result = sameStage(kept, existing) ? existing : kept;
    if (result !== existing) updated.push(result);
    next.push(result);
  }

  const pipeline: Pipeline = {
    ...current,
    label: checkLabel('Pipeline', input.label),
    displayOrder: checkDisplayOrder('Pipeline', input.displayOrder),
    updatedAt: now,
    stages: next,
  };
  checkPipelineInvariants(type, pipeline);
  return { pipeline, changes: { created, updated, archived } };
}

/**
 * PATCH: only the fields sent change. `archived` is accepted only as `false` on an archived
 * pipeline, which restores it.
 */
export function patchPipeline(
  type: ObjectType,
  current: Pipeline,
  patch: PipelinePatch,
  now: number,
): { pipeline: Pipeline; restored: boolean } {
  const restoring = patch.archived === false && !isLive(current);
  if (!isLive(current) && !restoring) throw pipelineNotFound(type, current.id);
  if (patch.archived !== undefined && !restoring) {
    throw invalid('archived can only be set to false, to restore an archived pipeline');
  }
  const pipeline: Pipeline = {
    ...current,
    label: patch.label === undefined ? current.label : checkLabel('Pipeline', patch.label),
    displayOrder:
      patch.displayOrder === undefined
        ? current.displayOrder
        : checkDisplayOrder('Pipeline', patch.displayOrder),
    archivedAt: null,
    updatedAt: now,
  };
  checkPipelineInvariants(type, pipeline);
  return { pipeline, restored: restoring };
}

export function archivePipeline(current: Pipeline, now: number): Pipeline {
  return { ...current, archivedAt: now, updatedAt: now };
}

export const pipelineNotFound = (type: ObjectType, id: string) =>
  notFound(`Unable to find pipeline ${id} for object type ${type.name}`);

export const stageNotFound = (pipelineId: string, id: string) =>
  notFound(`Unable to find stage ${id} in pipeline ${pipelineId}`);

function withStage(pipeline: Pipeline, stage: Stage, now: number): Pipeline {
  const others = pipeline.stages.filter((s) => s.id !== stage.id);
  // The changed stage goes last so a duplicate label is reported with the label just sent.
  return { ...pipeline, updatedAt: now, stages: [...others, stage] };
}

function liveStage(pipeline: Pipeline, stageId: string): Stage {
  const stage = pipeline.stages.find((s) => s.id === stageId);
  if (stage === undefined || !isLive(stage)) throw stageNotFound(pipeline.id, stageId);
  return stage;
}

export function addStage(
  type: ObjectType,
  current: Pipeline,
  input: StageInput,
  stageId: string,
  now: number,
): { pipeline: Pipeline; stage: Stage } {
  const stage = newStage(type, input, stageId, now);
  const pipeline = withStage(current, stage, now);
  checkPipelineInvariants(type, pipeline);
  return { pipeline, stage };
}

export function replaceStage(
  type: ObjectType,
  current: Pipeline,
  stageId: string,
  input: StageInput,
  now: number,
): { pipeline: Pipeline; stage: Stage } {
  const existing = liveStage(current, stageId);
  const stage: Stage = {
    ...newStage(type, input, stageId, now),
    createdAt: existing.createdAt,
    writePermissions: existing.writePermissions,
  };
  const pipeline = withStage(current, stage, now);
  checkPipelineInvariants(type, pipeline);
  return { pipeline, stage };
}

/** PATCH: fields sent change, metadata is merged key by key; `{archived:false}` restores. */
export function patchStage(
  type: ObjectType,
  current: Pipeline,
  stageId: string,
  patch: StagePatch,
  now: number,
): { pipeline: Pipeline; stage: Stage; restored: boolean } {
  const found = current.stages.find((s) => s.id === stageId);
  const restoring = patch.archived === false && found !== undefined && !isLive(found);
  if (patch.archived !== undefined && !restoring) {
    if (found === undefined || !isLive(found)) throw stageNotFound(current.id, stageId);
    throw invalid('archived can only be set to false, to restore an archived stage');
  }
  const existing = restoring ? found! : liveStage(current, stageId);
  const stage: Stage = {
    ...existing,
    label: patch.label === undefined ? existing.label : checkLabel('Stage', patch.label),
    displayOrder:
      patch.displayOrder === undefined
        ? existing.displayOrder
        : checkDisplayOrder('Stage', patch.displayOrder),
    metadata:
      patch.metadata === undefined
        ? existing.metadata
        : mergeMetadata(type.rules, existing.metadata, patch.metadata),
    archivedAt: null,
    updatedAt: now,
  };
  const pipeline = withStage(current, stage, now);
  checkPipelineInvariants(type, pipeline);
  return { pipeline, stage, restored: restoring };
}

export function archiveStage(
  type: ObjectType,
  current: Pipeline,
  stageId: string,
  now: number,
): { pipeline: Pipeline; stage: Stage } {
  const existing = liveStage(current, stageId);
  const stage: Stage = { ...existing, archivedAt: now, updatedAt: now };
  const pipeline = withStage(current, stage, now);
  checkPipelineInvariants(type, pipeline);
  return { pipeline, stage };
}
