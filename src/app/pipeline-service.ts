/**
 * The Pipelines use cases. Each write loads what the rules need, applies a pure updater,
 * and persists the result together with its audit entries in one transaction.
 */
import { isLive } from '../domain/model.js';
import type {
  Actor,
  AuditAction,
  AuditEntry,
  AuditKind,
  Pipeline,
  PipelineInput,
  PipelinePatch,
  Stage,
  StageInput,
  StagePatch,
} from '../domain/model.js';
import type { ObjectType } from '../domain/object-types.js';
import { sortByDisplayOrder } from '../domain/ordering.js';
import * as rules from '../domain/pipeline-rules.js';
import type { Repository, Store } from '../domain/ports.js';
import type { Clock } from '../domain/time.js';
import { formatTimestamp } from '../domain/time.js';
import { NO_HISTORY, historyFrom, internalPipeline, internalStage } from '../domain/internal-model.js';
import type { Authors } from '../domain/internal-model.js';
import { pipelineView, stageView } from '../domain/views.js';
import type { PipelineView, StageView } from '../domain/views.js';

/** `validateReferencesBeforeDelete` / `validateDealStageUsagesBeforeDelete`. */
export interface DeleteChecks {
  readonly validateReferences: boolean;
  readonly validateDealStageUsages: boolean;
  /**
   * How the two flags combine. `either` (v3 to 2026-03, the seed guide): either flag set to true
   * checks. `per-type` (2026-09, HubSpot's "What's new in 2026-09"): deal pipelines follow
   * validateDealStageUsagesBeforeDelete alone, every other type validateReferencesBeforeDelete.
   */
  readonly rule?: DeleteFlagRule;
}

export type DeleteFlagRule = 'either' | 'per-type';

/** Whether a delete's flags ask for the in-use check on this type. */
export function checksReferences(type: ObjectType, checks: DeleteChecks): boolean {
  const deal = type.rules === 'deal';
  if (checks.rule === 'per-type') return deal ? checks.validateDealStageUsages : checks.validateReferences;
  return checks.validateReferences || (deal && checks.validateDealStageUsages);
}

export interface AuditView {
  portalId: number;
  identifier: string;
  action: AuditAction;
  timestamp: string;
  message: string;
  rawObject: string;
  fromUserId: number;
}

/** The stage-audit path the official SDK sends when it never fills `{pipelineId}`. */
export const UNFILLED_PIPELINE_ID = '{pipelineId}';

export const AUDIT_MESSAGES = {
  pipeline: {
    CREATE: 'User defined. pipeline created',
    UPDATE: 'Pipeline update',
    RESTORE: 'Pipeline restored',
    DELETE: 'Pipeline deleted',
  },
  stage: {
    CREATE: 'User defined. stage created',
    UPDATE: 'Stage update',
    RESTORE: 'Stage restored',
    DELETE: 'Stage deleted',
  },
} as const;

type AuditEvent = keyof (typeof AUDIT_MESSAGES)['pipeline'];

export class PipelineService {
  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
  ) {}

  /** One write transaction with the acting portal's writers serialised. */
  private inPortal<T>(actor: Actor, work: (repo: Repository) => Promise<T>): Promise<T> {
    return this.store.write(work, { portalId: actor.portalId, actor });
  }

  listPipelines(actor: Actor, type: ObjectType): Promise<PipelineView[]> {
    return this.store.read(async (repo) =>
      sortByDisplayOrder(await repo.listPipelines(actor.portalId, type.key)).map(pipelineView),
    );
  }

  getPipeline(actor: Actor, type: ObjectType, pipelineId: string): Promise<PipelineView> {
    return this.store.read(async (repo) => pipelineView(await livePipeline(repo, actor, type, pipelineId)));
  }

  createPipeline(actor: Actor, type: ObjectType, input: PipelineInput): Promise<PipelineView> {
    rules.assertWritable(type);
    return this.inPortal(actor, async (repo) => {
      const now = this.clock(actor.portalId);
      if (input.pipelineId !== undefined) {
        rules.checkClientId('pipelineId', input.pipelineId);
        if (await repo.pipelineIdExists(actor.portalId, type.key, input.pipelineId)) {
          throw rules.idTaken('pipeline', input.pipelineId);
        }
      }
      await assertStageIdsFree(repo, actor, type, rules.clientStageIds(input.stages), undefined);
      const fresh = await repo.allocateIds(
        actor.portalId,
        rules.idsNeeded(input.stages, input.pipelineId === undefined),
      );
      const pipelineId = input.pipelineId ?? fresh.shift()!;
      const pipeline = rules.createPipeline(type, input, pipelineId, fresh, now);
      await assertLabelFree(repo, actor, type, pipeline);
      await repo.savePipeline(actor.portalId, type.key, pipeline);
      await repo.saveStages(actor.portalId, type.key, pipeline.id, pipeline.stages);
      await appendAudit(repo, actor, type, now, undefined, pipeline, 'CREATE', [
        ...pipeline.stages.map((s) => [s, 'CREATE'] as const),
      ]);
      return pipelineView(pipeline);
    });
  }

  replacePipeline(
    actor: Actor,
    type: ObjectType,
    pipelineId: string,
    input: PipelineInput,
    checks: DeleteChecks,
  ): Promise<PipelineView> {
    rules.assertWritable(type);
    return this.inPortal(actor, async (repo) => {
      const now = this.clock(actor.portalId);
      const named = rules.clientStageIds(input.stages);
      const [live, latest] = await withLatestAudit(repo, actor, type, pipelineId, livePipeline);
      const current = await withArchivedStages(repo, actor, type, live, named);
      await assertStageIdsFree(repo, actor, type, named, current);
      const fresh = await repo.allocateIds(actor.portalId, rules.idsNeeded(input.stages));
      const { pipeline, changes } = rules.replacePipeline(type, current, input, fresh, now);
      await assertLabelFree(repo, actor, type, pipeline);
      await assertStagesUnused(repo, actor, type, changes.archived, checks);
      await repo.savePipeline(actor.portalId, type.key, pipeline);
      await repo.saveStages(actor.portalId, type.key, pipeline.id, [
        ...changes.archived,
        ...changes.updated,
        ...changes.created,
      ]);
      await appendAudit(repo, actor, type, now, latest, pipeline, 'UPDATE', [
        ...changes.archived.map((s) => [s, 'DELETE'] as const),
        ...changes.updated.map((s) => [s, 'UPDATE'] as const),
        ...changes.created.map((s) => [s, 'CREATE'] as const),
      ]);
      return pipelineView(pipeline);
    });
  }

  updatePipeline(
    actor: Actor,
    type: ObjectType,
    pipelineId: string,
    patch: PipelinePatch,
    _checks: DeleteChecks,
  ): Promise<PipelineView> {
    rules.assertWritable(type);
    return this.inPortal(actor, async (repo) => {
      const now = this.clock(actor.portalId);
      const [current, latest] = await withLatestAudit(repo, actor, type, pipelineId, anyPipeline);
      const { pipeline, restored } = rules.patchPipeline(type, current, patch, now);
      if (restored || pipeline.label !== current.label) await assertLabelFree(repo, actor, type, pipeline);
      await repo.savePipeline(actor.portalId, type.key, pipeline);
      await appendAudit(repo, actor, type, now, latest, pipeline, restored ? 'RESTORE' : 'UPDATE', []);
      return pipelineView(pipeline);
    });
  }

  archivePipeline(actor: Actor, type: ObjectType, pipelineId: string, checks: DeleteChecks): Promise<void> {
    rules.assertWritable(type);
    return this.inPortal(actor, async (repo) => {
      const now = this.clock(actor.portalId);
      const [current, latest] = await withLatestAudit(repo, actor, type, pipelineId, livePipeline);
      await assertStagesUnused(repo, actor, type, current.stages.filter(isLive), checks);
      const pipeline = rules.archivePipeline(current, now);
      await repo.savePipeline(actor.portalId, type.key, pipeline);
      await appendAudit(repo, actor, type, now, latest, pipeline, 'DELETE', []);
    });
  }

  listStages(actor: Actor, type: ObjectType, pipelineId: string): Promise<StageView[]> {
    return this.store.read(
      async (repo) => pipelineView(await livePipeline(repo, actor, type, pipelineId)).stages,
    );
  }

  getStage(actor: Actor, type: ObjectType, pipelineId: string, stageId: string): Promise<StageView> {
    return this.store.read(async (repo) => {
      const stage = (await livePipeline(repo, actor, type, pipelineId)).stages.find((s) => s.id === stageId);
      if (stage === undefined || !isLive(stage)) throw rules.stageNotFound(pipelineId, stageId);
      return stageView(stage);
    });
  }

  createStage(actor: Actor, type: ObjectType, pipelineId: string, input: StageInput): Promise<StageView> {
    rules.assertWritable(type);
    return this.inPortal(actor, async (repo) => {
      const now = this.clock(actor.portalId);
      // A new id is taken with the first reads (should the pipeline be missing, the write rolls back).
      const [[current, latest], fresh] = await Promise.all([
        withLatestAudit(repo, actor, type, pipelineId, livePipeline),
        input.stageId === undefined ? repo.allocateIds(actor.portalId, 1) : [],
      ]);
      await assertStageIdsFree(repo, actor, type, rules.clientStageIds([input]), undefined);
      const stageId = input.stageId ?? fresh[0]!;
      const changed = rules.addStage(type, current, input, stageId, now);
      return saveStage(repo, actor, type, changed, latest, 'CREATE', now);
    });
  }

  replaceStage(
    actor: Actor,
    type: ObjectType,
    pipelineId: string,
    stageId: string,
    input: StageInput,
  ): Promise<StageView> {
    rules.assertWritable(type);
    return this.inPortal(actor, async (repo) => {
      const now = this.clock(actor.portalId);
      const [current, latest] = await withLatestAudit(repo, actor, type, pipelineId, livePipeline);
      const changed = rules.replaceStage(type, current, stageId, input, now);
      return saveStage(repo, actor, type, changed, latest, 'UPDATE', now);
    });
  }

  updateStage(
    actor: Actor,
    type: ObjectType,
    pipelineId: string,
    stageId: string,
    patch: StagePatch,
  ): Promise<StageView> {
    rules.assertWritable(type);
    return this.inPortal(actor, async (repo) => {
      const now = this.clock(actor.portalId);
      const [live, latest] = await withLatestAudit(repo, actor, type, pipelineId, livePipeline);
      // Restoring needs the archived stage itself.
      const current =
        patch.archived === false ? await withArchivedStages(repo, actor, type, live, [stageId]) : live;
      const changed = rules.patchStage(type, current, stageId, patch, now);
      return saveStage(repo, actor, type, changed, latest, changed.restored ? 'RESTORE' : 'UPDATE', now);
    });
  }

  archiveStage(actor: Actor, type: ObjectType, pipelineId: string, stageId: string, checks: DeleteChecks) {
    rules.assertWritable(type);
    return this.inPortal(actor, async (repo) => {
      const now = this.clock(actor.portalId);
      const [current, latest] = await withLatestAudit(repo, actor, type, pipelineId, livePipeline);
      const changed = rules.archiveStage(type, current, stageId, now);
      await assertStagesUnused(repo, actor, type, [changed.stage], checks);
      await saveStage(repo, actor, type, changed, latest, 'DELETE', now);
    });
  }

  pipelineAudit(actor: Actor, type: ObjectType, pipelineId: string): Promise<AuditView[]> {
    return this.store.read(async (repo) => {
      // Audit history outlives deletes: an archived pipeline still has one.
      const entries = await repo.pipelineAudit(actor.portalId, type.key, pipelineId);
      if (entries === undefined) throw rules.pipelineNotFound(type, pipelineId);
      return auditViews(entries);
    });
  }

  /** `pipelineId` may be the SDK's unfilled `{pipelineId}`: the stage is then found by id alone. */
  stageAudit(actor: Actor, type: ObjectType, pipelineId: string, stageId: string): Promise<AuditView[]> {
    return this.store.read(async (repo) => {
      const found = await repo.stageAudit(actor.portalId, type.key, stageId);
      if (found === undefined || (pipelineId !== UNFILLED_PIPELINE_ID && found.pipelineId !== pipelineId)) {
        throw rules.stageNotFound(pipelineId, stageId);
      }
      return auditViews(found.entries);
    });
  }
}

/**
 * A stage change is also a pipeline change (the seed guide's audit example): the pipeline's
 * `updatedAt` moves and it gets an UPDATE entry beside the stage's own.
 */
async function saveStage(
  repo: Repository,
  actor: Actor,
  type: ObjectType,
  changed: { pipeline: Pipeline; stage: Stage },
  latest: AuditEntry | undefined,
  event: AuditEvent,
  now: number,
): Promise<StageView> {
  const { pipeline, stage } = changed;
  await repo.savePipeline(actor.portalId, type.key, pipeline);
  await repo.saveStages(actor.portalId, type.key, pipeline.id, [stage]);
  await appendAudit(repo, actor, type, now, latest, pipeline, 'UPDATE', [[stage, event]]);
  return stageView(stage);
}

/** A live pipeline with its live stages (archived ones are fetched only where a rule needs them). */
async function livePipeline(repo: Repository, actor: Actor, type: ObjectType, pipelineId: string) {
  const pipeline = await anyPipeline(repo, actor, type, pipelineId);
  if (!isLive(pipeline)) throw rules.pipelineNotFound(type, pipelineId);
  return pipeline;
}

/** A pipeline, archived or not, with its live stages. */
async function anyPipeline(repo: Repository, actor: Actor, type: ObjectType, pipelineId: string) {
  const pipeline = await repo.getPipeline(actor.portalId, type.key, pipelineId, { archivedStages: false });
  if (pipeline === undefined) throw rules.pipelineNotFound(type, pipelineId);
  return pipeline;
}

/**
 * A write's pipeline, and its latest audit entry (the next entry continues its history), asked
 * for together: an adapter that pipelines its statements answers both in one round trip.
 */
function withLatestAudit(
  repo: Repository,
  actor: Actor,
  type: ObjectType,
  pipelineId: string,
  load: typeof livePipeline,
): Promise<[Pipeline, AuditEntry | undefined]> {
  return Promise.all([
    load(repo, actor, type, pipelineId),
    repo.latestAudit(actor.portalId, type.key, 'pipeline', pipelineId),
  ]);
}

/** The pipeline plus those of the named stages that are archived stages of it. */
async function withArchivedStages(
  repo: Repository,
  actor: Actor,
  type: ObjectType,
  pipeline: Pipeline,
  stageIds: readonly string[],
): Promise<Pipeline> {
  const extra: Stage[] = [];
  for (const id of stageIds) {
    if (pipeline.stages.some((s) => s.id === id)) continue;
    const found = await repo.findStage(actor.portalId, type.key, id);
    if (found !== undefined && found.pipelineId === pipeline.id) extra.push(found.stage);
  }
  return extra.length === 0 ? pipeline : { ...pipeline, stages: [...pipeline.stages, ...extra] };
}

/** How many referencing record ids a STAGE_ID_IN_USE error lists at most. */
export const MAX_LISTED_OBJECT_IDS = 100;

/**
 * The in-use check of deletes: when the flags ask for it (checksReferences), removing stages
 * that live records sit in is refused.
 * It runs in the delete's own transaction, so no record can move in between.
 */
async function assertStagesUnused(
  repo: Repository,
  actor: Actor,
  type: ObjectType,
  removed: readonly Stage[],
  checks: DeleteChecks,
): Promise<void> {
  if (!checksReferences(type, checks) || removed.length === 0) return;
  const ids = removed.map((s) => s.id);
  const used = await repo.stagesInUse(actor.portalId, type.key, ids, MAX_LISTED_OBJECT_IDS);
  // The message names every stage being removed, not only those holding records (the seed
  // guide's example lists five stages referenced by one object id).
  if (used.stageIds.length > 0) throw rules.stagesInUse(ids, used.objectIds);
}

async function assertLabelFree(repo: Repository, actor: Actor, type: ObjectType, pipeline: Pipeline) {
  const owner = await repo.findLivePipelineByLabel(actor.portalId, type.key, rules.labelKey(pipeline.label));
  if (owner !== undefined && owner !== pipeline.id) throw rules.pipelineLabelTaken(pipeline.label);
}

/** Client-chosen stage ids must not belong to any other stage of the type. */
async function assertStageIdsFree(
  repo: Repository,
  actor: Actor,
  type: ObjectType,
  ids: readonly string[],
  within: Pipeline | undefined,
) {
  for (const id of ids) {
    if (within?.stages.some((s) => s.id === id)) continue;
    if (await repo.stageIdExists(actor.portalId, type.key, id)) throw rules.idTaken('stage', id);
  }
}

const ACTIONS: Record<AuditEvent, AuditAction> = {
  CREATE: 'CREATE',
  UPDATE: 'UPDATE',
  RESTORE: 'UPDATE',
  DELETE: 'DELETE',
};

function entry(
  actor: Actor,
  type: ObjectType,
  kind: AuditKind,
  objectId: string,
  event: AuditEvent,
  rawObject: unknown,
  now: number,
): AuditEntry {
  return {
    portalId: actor.portalId,
    objectTypeKey: type.key,
    kind,
    objectId,
    action: ACTIONS[event],
    message: AUDIT_MESSAGES[kind][event],
    rawObject: JSON.stringify(rawObject),
    userId: actor.userId,
    timestamp: now,
  };
}

/**
 * The audit entries of one write: the pipeline's, then each changed stage's, every `rawObject`
 * in HubSpot's internal model. The pipeline's version and its authors continue from its latest
 * entry, `latest` (none for a new pipeline).
 */
function appendAudit(
  repo: Repository,
  actor: Actor,
  type: ObjectType,
  now: number,
  latest: AuditEntry | undefined,
  pipeline: Pipeline,
  event: AuditEvent,
  stages: readonly (readonly [Stage, AuditEvent])[],
): Promise<void> {
  const history = historyFrom(latest?.rawObject);
  const changed = new Map(stages.map(([s, e]) => [s.id, e]));
  const authors = (known: Authors | undefined, change: AuditEvent | undefined): Authors =>
    change === undefined
      ? (known ?? NO_HISTORY.pipeline)
      : {
          createdBy: known?.createdBy ?? (change === 'CREATE' ? actor.userId : null),
          updatedBy: actor.userId,
        };
  const stageAuthors = (s: Stage) => authors(history.stages.get(s.id), changed.get(s.id));
  const ctx = { portalId: actor.portalId, type };
  const raw = internalPipeline(
    ctx,
    pipeline,
    history.version + 1,
    authors(history.pipeline, event),
    stageAuthors,
  );
  return repo.appendAudit([
    entry(actor, type, 'pipeline', pipeline.id, event, raw, now),
    ...stages.map(([s, e]) =>
      entry(actor, type, 'stage', s.id, e, internalStage(ctx, pipeline.id, s, stageAuthors(s)), now),
    ),
  ]);
}

const auditViews = (entries: AuditEntry[]): AuditView[] =>
  entries.map((e) => ({
    portalId: e.portalId,
    identifier: `${e.portalId}:${e.objectId}`,
    action: e.action,
    timestamp: formatTimestamp(e.timestamp),
    message: e.message,
    rawObject: e.rawObject,
    fromUserId: e.userId,
  }));
