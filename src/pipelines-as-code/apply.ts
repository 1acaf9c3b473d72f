/**
 * `pipelines apply`: carries a plan out, one API call at a time, in an order that works: per type,
 * pipelines to archive, then per pipeline its own fields, then stages to archive, to change, to
 * create. An item renamed away from a label another one takes first moves to a temporary label
 * (pipelines: before any pipeline's changes; stages: after the archives). Archives only with
 * `prune`. On a failure it stops and reports what was done and what remains. A create whose
 * client-chosen id is taken in the target is sent again without it: the target generates one.
 */
import { labelKey } from '../domain/pipeline-rules.js';
import type { SeedStage } from '../seed/seed-document.js';
import { apiFailure, failureText } from './client.js';
import type { Pipeline, PipelineInput, PipelinesPort, PipelineStage, StageInput } from './client.js';
import { labelsHeldByArchives } from './plan.js';
import type { FieldChange, Plan, PipelineStep, StageStep } from './plan.js';
import { emptyIdMap, recordId } from './map.js';
import type { IdMap } from './map.js';

/** One API call of the apply. */
export interface Operation {
  readonly objectType: string;
  /** The pipeline it belongs to, as `type/label`: progress is per pipeline. */
  readonly pipeline: string;
  readonly description: string;
  readonly run: () => Promise<void>;
}

export class ApplyError extends Error {
  override readonly name = 'ApplyError';
  constructor(
    readonly failed: Operation,
    readonly reason: string,
    readonly done: readonly Operation[],
    readonly remaining: readonly Operation[],
    /** Source ids → target ids as far as the apply got. */
    readonly map: IdMap,
  ) {
    super(`${failed.description} failed: ${reason}`);
  }
}

export interface ApplyOptions {
  /** Archive what the document leaves out. */
  readonly prune: boolean;
  /** Called after each operation. */
  readonly onProgress?: (done: number, total: number, operation: Operation) => void;
}

const metadataOf = (stage: SeedStage): Record<string, string> =>
  Object.fromEntries(Object.entries(stage.metadata ?? {}).map(([k, v]) => [k, String(v)]));

const stageInput = (stage: SeedStage): StageInput => ({
  stageId: stage.id,
  label: stage.label,
  displayOrder: stage.displayOrder,
  metadata: metadataOf(stage),
});

function patchOf(changes: readonly FieldChange[]): {
  label?: string;
  displayOrder?: number;
  metadata?: Record<string, string>;
} {
  const patch: { label?: string; displayOrder?: number; metadata?: Record<string, string> } = {};
  for (const { field, after } of changes) {
    if (field === 'label') patch.label = String(after);
    else if (field === 'displayOrder') patch.displayOrder = Number(after);
    else if (field.startsWith('metadata.'))
      (patch.metadata ??= {})[field.slice('metadata.'.length)] = String(after);
  }
  return patch;
}

/** What a refusal says, naming the records that hold a stage when that is the reason. */
export function describeFailure(err: unknown): string {
  const failure = apiFailure(err);
  if (failure === undefined) return err instanceof Error ? err.message : String(err);
  const { body } = failure;
  if (body.subCategory === 'PipelineError.STAGE_ID_IN_USE') {
    const records = (body.context?.objectIds ?? []).join(', ');
    return `records still sit in its stages (STAGE_ID_IN_USE): ${records || body.message}; move them first`;
  }
  return failureText(failure);
}

/** A refusal because an id the create chose is taken (an archived item's, another pipeline's stage's). */
function idTakenRefusal(err: unknown): string | undefined {
  const failure = apiFailure(err);
  if (failure === undefined) return undefined;
  const taken = failure.code === 409 || failure.body.category === 'OBJECT_ALREADY_EXISTS';
  return taken ? (failure.body.message ?? '') : undefined;
}

/** The words of a message, quotes and trailing punctuation off: where a refusal names an id. */
const wordsOf = (message: string): Set<string> =>
  new Set(message.split(/\s+/).flatMap((w) => [w, w.replace(/^["'([]+|["')\],.;:]+$/g, '')]));

/**
 * The input without the client-chosen id the refusal names, or without all of them when it names
 * none; undefined when no id is left to drop. The target then generates the id.
 */
function withoutTakenId(input: PipelineInput, message: string): PipelineInput | undefined {
  const words = wordsOf(message);
  const named = (id: string | undefined) => id !== undefined && words.has(id);
  const stages = (keep: (s: StageInput) => boolean) =>
    input.stages.map((s) => (keep(s) ? s : { ...s, stageId: undefined }));
  if (named(input.pipelineId)) return { ...input, pipelineId: undefined };
  if (input.stages.some((s) => named(s.stageId)))
    return { ...input, stages: stages((s) => !named(s.stageId)) };
  if (input.pipelineId === undefined && input.stages.every((s) => s.stageId === undefined)) return undefined;
  return { ...input, pipelineId: undefined, stages: stages(() => false) };
}

/** Creates the pipeline, keeping the ids the target still has free. */
async function createPipeline(
  port: PipelinesPort,
  objectType: string,
  input: PipelineInput,
): Promise<Pipeline> {
  for (let attempt = input; ;) {
    try {
      return await port.createPipeline(objectType, attempt);
    } catch (err) {
      const refusal = idTakenRefusal(err);
      const next = refusal === undefined ? undefined : withoutTakenId(attempt, refusal);
      if (next === undefined) throw err;
      attempt = next;
    }
  }
}

/** Creates the stage under its id, or under one the target generates when that id is taken. */
async function createStage(
  port: PipelinesPort,
  objectType: string,
  pipelineId: string,
  input: StageInput,
): Promise<PipelineStage> {
  try {
    return await port.createStage(objectType, pipelineId, input);
  } catch (err) {
    if (input.stageId === undefined || idTakenRefusal(err) === undefined) throw err;
    return port.createStage(objectType, pipelineId, { ...input, stageId: undefined });
  }
}

/** A step's label change, if it has one. */
const renameOf = (step: { changes: readonly FieldChange[] }): FieldChange | undefined =>
  step.changes.find((c) => c.field === 'label');

/**
 * The items of a scope (a type's pipelines, a pipeline's stages) renamed away from a label that
 * another item takes in the plan: they move to a temporary label first, so that labels can
 * change hands (a swap, a chain) without two live items sharing one on the way.
 */
function renamedAway<
  S extends { action: string; label: string; targetId?: string; changes: readonly FieldChange[] },
>(steps: readonly S[]): S[] {
  return steps.filter((s) => {
    const rename = renameOf(s);
    if (rename === undefined || rename.before === undefined) return false;
    const freed = labelKey(String(rename.before));
    return steps.some(
      (other) => other !== s && other.action !== 'archive' && labelKey(other.label) === freed,
    );
  });
}

/** A label no item of the scope has nor takes: the target's id makes it unique. */
const temporaryLabel = (targetId: string): string => `renaming ${targetId}`;

function stageOperations(
  port: PipelinesPort,
  objectType: string,
  pipeline: string,
  pipelineId: () => string,
  steps: readonly StageStep[],
  options: ApplyOptions,
  map: IdMap,
): Operation[] {
  const op = (description: string, run: () => Promise<void>): Operation => ({
    objectType,
    pipeline,
    description: `${pipeline}: ${description}`,
    run,
  });
  const archives = steps
    .filter((s) => s.action === 'archive' && options.prune)
    .map((s) =>
      op(`archive stage "${s.label}" (${s.targetId})`, () =>
        port.archiveStage(objectType, pipelineId(), s.targetId!),
      ),
    );
  const temporary = renamedAway(steps).map((s) =>
    op(`rename stage "${String(renameOf(s)!.before)}" to a temporary label`, async () => {
      await port.updateStage(objectType, pipelineId(), s.targetId!, { label: temporaryLabel(s.targetId!) });
    }),
  );
  const changes = steps
    .filter((s) => s.action === 'update' || s.action === 'reorder')
    .map((s) =>
      op(`${s.action} stage "${s.label}"`, async () => {
        await port.updateStage(objectType, pipelineId(), s.targetId!, patchOf(s.changes));
      }),
    );
  const creates = steps
    .filter((s) => s.action === 'create')
    .map((s) =>
      op(`create stage "${s.label}"`, async () => {
        const created = await createStage(port, objectType, pipelineId(), stageInput(s.stage!));
        recordId(map, objectType, 'stages', s.sourceId!, created.id);
      }),
    );
  return [...archives, ...temporary, ...changes, ...creates];
}

function pipelineOperations(
  port: PipelinesPort,
  objectType: string,
  step: PipelineStep,
  options: ApplyOptions,
  map: IdMap,
): Operation[] {
  const name = `${objectType}/${step.label}`;
  const op = (description: string, run: () => Promise<void>): Operation => ({
    objectType,
    pipeline: name,
    description: `${name}: ${description}`,
    run,
  });
  switch (step.action) {
    case 'none':
      return [];
    case 'archive':
      if (!options.prune) return [];
      return [
        op(`archive pipeline (${step.targetId})`, () => port.archivePipeline(objectType, step.targetId!)),
      ];
    case 'create': {
      const wanted = step.pipeline!;
      return [
        op(`create pipeline with ${wanted.stages.length} stages`, async () => {
          const created = await createPipeline(port, objectType, {
            pipelineId: wanted.id,
            label: wanted.label,
            displayOrder: wanted.displayOrder,
            stages: wanted.stages.map(stageInput),
          });
          recordId(map, objectType, 'pipelines', wanted.id, created.id);
          for (const stage of wanted.stages) {
            const same =
              created.stages.find((s) => s.id === stage.id) ??
              created.stages.find((s) => labelKey(s.label) === labelKey(stage.label));
            if (same !== undefined) recordId(map, objectType, 'stages', stage.id, same.id);
          }
        }),
      ];
    }
    default: {
      const own =
        step.changes.length === 0
          ? []
          : [
              op(
                `${step.changes.every((c) => c.field === 'displayOrder') ? 'reorder' : 'update'} pipeline`,
                async () => {
                  await port.updatePipeline(objectType, step.targetId!, patchOf(step.changes));
                },
              ),
            ];
      return [
        ...own,
        ...stageOperations(port, objectType, name, () => step.targetId!, step.stages, options, map),
      ];
    }
  }
}

/** The API calls of a plan, in order. */
export function operationsOf(
  port: PipelinesPort,
  plan: Plan,
  options: ApplyOptions,
  map: IdMap,
): Operation[] {
  return plan.types.flatMap((type) => {
    if (type.skipped !== undefined) return [];
    const { objectType } = type;
    const of = (steps: readonly PipelineStep[]) =>
      steps.flatMap((step) => pipelineOperations(port, objectType, step, options, map));
    // Archives first, then renames away, so that what the plan creates or renames finds its label free.
    const temporary = renamedAway(type.pipelines).map((step): Operation => ({
      objectType,
      pipeline: `${objectType}/${step.label}`,
      description: `${objectType}/${step.label}: rename pipeline "${String(renameOf(step)!.before)}" to a temporary label`,
      run: async () => {
        await port.updatePipeline(objectType, step.targetId!, { label: temporaryLabel(step.targetId!) });
      },
    }));
    return [
      ...of(type.pipelines.filter((p) => p.action === 'archive')),
      ...temporary,
      ...of(type.pipelines.filter((p) => p.action !== 'archive')),
    ];
  });
}

export interface ApplyResult {
  readonly done: readonly Operation[];
  /** Source ids → target ids, for what the plan matched and what the apply created. */
  readonly map: IdMap;
}

/** An apply refused before its first call: what the file wants cannot be reached as asked. */
export class PlanConflictError extends Error {
  override readonly name = 'PlanConflictError';
}

export async function applyPlan(
  port: PipelinesPort,
  plan: Plan,
  options: ApplyOptions,
): Promise<ApplyResult> {
  // Without --prune what the file leaves out stays, so a label it still holds cannot be given to
  // another item: refused before any change, rather than failing half-way.
  const held = options.prune ? [] : labelsHeldByArchives(plan);
  if (held.length > 0) {
    throw new PlanConflictError(
      `nothing applied: the file gives labels that items it leaves out still hold; pass --prune to archive those items, or change the file:\n${held.map((h) => `  ${h}`).join('\n')}`,
    );
  }
  const map = emptyIdMap(plan);
  const operations = operationsOf(port, plan, options, map);
  for (const [index, operation] of operations.entries()) {
    try {
      await operation.run();
    } catch (err) {
      throw new ApplyError(
        operation,
        describeFailure(err),
        operations.slice(0, index),
        operations.slice(index + 1),
        map,
      );
    }
    options.onProgress?.(index + 1, operations.length, operation);
  }
  return { done: operations, map };
}
