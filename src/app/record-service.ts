/**
 * The CRM objects use cases for records in pipelines: create, read, update, archive, list,
 * batch and search. Every write resolves and checks the record's pipeline and stage inside
 * its transaction, so a record can never be moved into a stage deleted at the same moment.
 */
import { DEFAULT_PIPELINES } from '../domain/default-pipelines.js';
import { invalid, notFound } from '../domain/errors.js';
import { isLive } from '../domain/model.js';
import type { Actor, Pipeline } from '../domain/model.js';
import type { ObjectType } from '../domain/object-types.js';
import { sortByDisplayOrder } from '../domain/ordering.js';
import type { Repository, Store } from '../domain/ports.js';
import { searchRecords } from '../domain/record-search.js';
import type { SearchQuery } from '../domain/record-search.js';
import {
  applyRecordWrite,
  invalidPlacement,
  propertyNames,
  readPropertyInput,
  selectProperties,
} from '../domain/records.js';
import type { CrmRecord, Placement, PropertiesInput, PropertyChanges } from '../domain/records.js';
import type { Clock } from '../domain/time.js';

export interface RecordView {
  id: string;
  properties: Record<string, string | null>;
  createdAt: string;
  updatedAt: string;
  archived: boolean;
  archivedAt?: string;
}

export interface RecordPage {
  results: RecordView[];
  /** The `after` cursor of the next page, when there is one. */
  nextAfter: string | undefined;
}

export interface BatchResult {
  results: RecordView[];
  /** Ids that matched no record. */
  missing: string[];
}

/** The properties a response shows: undefined means the type's defaults. */
export type PropertySelection = readonly string[] | undefined;

export function recordView(type: ObjectType, record: CrmRecord, properties: PropertySelection): RecordView {
  const view: RecordView = {
    id: record.id,
    properties: selectProperties(type, record, properties),
    createdAt: new Date(record.createdAt).toISOString(),
    updatedAt: new Date(record.updatedAt).toISOString(),
    archived: record.archivedAt !== null,
  };
  if (record.archivedAt !== null) view.archivedAt = new Date(record.archivedAt).toISOString();
  return view;
}

const recordNotFound = (type: ObjectType, id: string) =>
  notFound(`Object ${type.name} with id ${id} does not exist`);

const firstLiveStage = (pipeline: Pipeline) => sortByDisplayOrder(pipeline.stages.filter(isLive))[0];

/** The pipeline new records go to: HubSpot's default one while it is live, else the first. */
async function defaultPlacement(repo: Repository, actor: Actor, type: ObjectType): Promise<Placement | null> {
  const seeded = DEFAULT_PIPELINES.find((d) => d.type.key === type.key)?.pipeline.id;
  const pipelines = sortByDisplayOrder(await repo.listPipelines(actor.portalId, type.key));
  const pipeline = pipelines.find((p) => p.id === seeded) ?? pipelines[0];
  const stage = pipeline && firstLiveStage(pipeline);
  return pipeline && stage ? { pipelineId: pipeline.id, stageId: stage.id } : null;
}

/**
 * Where the record goes: a stage alone implies its pipeline; a pipeline alone keeps the
 * current stage when it belongs there, else takes the pipeline's first stage. null: unchanged.
 */
async function resolvePlacement(
  repo: Repository,
  actor: Actor,
  type: ObjectType,
  current: CrmRecord | undefined,
  changes: PropertyChanges,
): Promise<Placement | null> {
  const names = propertyNames(type);
  if (changes.pipeline === undefined && changes.stage === undefined) {
    return current === undefined ? defaultPlacement(repo, actor, type) : null;
  }
  let pipeline: Pipeline | undefined;
  if (changes.pipeline !== undefined) {
    pipeline = await repo.getPipeline(actor.portalId, type.key, changes.pipeline, { archivedStages: false });
    if (pipeline === undefined || !isLive(pipeline)) {
      throw invalidPlacement(names.pipeline!, `${changes.pipeline} is not a valid pipeline of ${type.name}`);
    }
  }
  if (changes.stage !== undefined) {
    const found = await repo.findStage(actor.portalId, type.key, changes.stage);
    if (found === undefined || !isLive(found.stage)) {
      throw invalidPlacement(names.stage, `${changes.stage} is not a valid stage of ${type.name}`);
    }
    if (pipeline !== undefined && found.pipelineId !== pipeline.id) {
      throw invalidPlacement(names.stage, `${changes.stage} is not a stage of pipeline ${pipeline.id}`);
    }
    pipeline ??= await repo.getPipeline(actor.portalId, type.key, found.pipelineId, {
      archivedStages: false,
    });
    if (pipeline === undefined || !isLive(pipeline)) {
      throw invalidPlacement(names.stage, `${changes.stage} belongs to a deleted pipeline`);
    }
    return { pipelineId: pipeline.id, stageId: changes.stage };
  }
  const keep = current?.stageId && pipeline!.stages.some((s) => s.id === current.stageId && isLive(s));
  const stageId = keep ? current!.stageId! : firstLiveStage(pipeline!)?.id;
  if (stageId === undefined) throw invalidPlacement(names.pipeline!, `${pipeline!.id} has no stages`);
  return { pipelineId: pipeline!.id, stageId };
}

export class RecordService {
  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
  ) {}

  /** One write transaction with the acting portal's writers serialised. */
  private inPortal<T>(actor: Actor, work: (repo: Repository) => Promise<T>): Promise<T> {
    return this.store.write(work, { portalId: actor.portalId });
  }

  create(actor: Actor, type: ObjectType, input: PropertiesInput): Promise<RecordView> {
    return this.inPortal(actor, async (repo) =>
      recordView(type, await this.createOne(repo, actor, type, input), undefined),
    );
  }

  get(actor: Actor, type: ObjectType, id: string, properties: PropertySelection, archived: boolean) {
    return this.store.read(async (repo) => {
      const record = await repo.getRecord(actor.portalId, type.key, id);
      if (record === undefined || (record.archivedAt !== null) !== archived) throw recordNotFound(type, id);
      return recordView(type, record, properties);
    });
  }

  update(actor: Actor, type: ObjectType, id: string, input: PropertiesInput): Promise<RecordView> {
    return this.inPortal(actor, async (repo) => {
      const updated = await this.updateOne(repo, actor, type, id, input);
      if (updated === undefined) throw recordNotFound(type, id);
      return recordView(type, updated, undefined);
    });
  }

  archive(actor: Actor, type: ObjectType, id: string): Promise<void> {
    return this.inPortal(actor, async (repo) => {
      const record = await repo.getRecord(actor.portalId, type.key, id);
      if (record === undefined) throw recordNotFound(type, id);
      await this.archiveRecord(repo, actor, type, record);
    });
  }

  list(
    actor: Actor,
    type: ObjectType,
    page: { limit: number; after: string | undefined; archived: boolean },
    properties: PropertySelection,
  ): Promise<RecordPage> {
    const afterId = page.after === undefined ? 0 : Number(page.after);
    if (!Number.isSafeInteger(afterId) || afterId < 0)
      throw invalid(`after must be a cursor from a previous page`);
    return this.store.read(async (repo) => {
      const rows = await repo.listRecords(actor.portalId, type.key, {
        archived: page.archived,
        afterId,
        limit: page.limit + 1,
      });
      const results = rows.slice(0, page.limit);
      return {
        results: results.map((r) => recordView(type, r, properties)),
        nextAfter: rows.length > page.limit ? results[results.length - 1]!.id : undefined,
      };
    });
  }

  batchRead(
    actor: Actor,
    type: ObjectType,
    ids: readonly string[],
    properties: PropertySelection,
    archived: boolean,
  ) {
    return this.store.read(async (repo): Promise<BatchResult> => {
      const results: RecordView[] = [];
      const missing: string[] = [];
      for (const id of new Set(ids)) {
        const record = await repo.getRecord(actor.portalId, type.key, id);
        if (record === undefined || (record.archivedAt !== null) !== archived) missing.push(id);
        else results.push(recordView(type, record, properties));
      }
      return { results, missing };
    });
  }

  /** All or nothing: one invalid input fails the whole batch. */
  batchCreate(actor: Actor, type: ObjectType, inputs: readonly PropertiesInput[]): Promise<RecordView[]> {
    return this.inPortal(actor, async (repo) => {
      const created: RecordView[] = [];
      for (const input of inputs)
        created.push(recordView(type, await this.createOne(repo, actor, type, input), undefined));
      return created;
    });
  }

  /** Invalid input fails the whole batch; unknown ids are reported and the rest is applied. */
  batchUpdate(
    actor: Actor,
    type: ObjectType,
    inputs: readonly { id: string; properties: PropertiesInput }[],
  ): Promise<BatchResult> {
    return this.inPortal(actor, async (repo) => {
      const results: RecordView[] = [];
      const missing: string[] = [];
      for (const { id, properties } of inputs) {
        const updated = await this.updateOne(repo, actor, type, id, properties);
        if (updated === undefined) missing.push(id);
        else results.push(recordView(type, updated, undefined));
      }
      return { results, missing };
    });
  }

  /** Unknown and already archived ids are ignored, as HubSpot does. */
  batchArchive(actor: Actor, type: ObjectType, ids: readonly string[]): Promise<void> {
    return this.inPortal(actor, async (repo) => {
      for (const id of new Set(ids)) {
        const record = await repo.getRecord(actor.portalId, type.key, id);
        if (record !== undefined) await this.archiveRecord(repo, actor, type, record);
      }
    });
  }

  search(actor: Actor, type: ObjectType, query: SearchQuery, properties: PropertySelection) {
    return this.store.read(async (repo) => {
      const page = searchRecords(await repo.liveRecords(actor.portalId, type.key), query);
      return {
        total: page.total,
        results: page.results.map((r) => recordView(type, r, properties)),
        nextAfter: page.nextAfter,
      };
    });
  }

  private async createOne(repo: Repository, actor: Actor, type: ObjectType, input: PropertiesInput) {
    const changes = readPropertyInput(type, input);
    const placement = await resolvePlacement(repo, actor, type, undefined, changes);
    const [id] = await repo.allocateIds(actor.portalId, 1);
    const record = applyRecordWrite(type, undefined, id!, changes, placement, this.clock());
    await repo.saveRecord(actor.portalId, type.key, record);
    return record;
  }

  /** undefined when no live record has the id. */
  private async updateOne(
    repo: Repository,
    actor: Actor,
    type: ObjectType,
    id: string,
    input: PropertiesInput,
  ) {
    const changes = readPropertyInput(type, input);
    const current = await repo.getRecord(actor.portalId, type.key, id);
    if (current === undefined || current.archivedAt !== null) return undefined;
    const placement = await resolvePlacement(repo, actor, type, current, changes);
    const record = applyRecordWrite(type, current, id, changes, placement, this.clock());
    await repo.saveRecord(actor.portalId, type.key, record);
    return record;
  }

  private async archiveRecord(repo: Repository, actor: Actor, type: ObjectType, record: CrmRecord) {
    if (record.archivedAt !== null) return;
    const now = this.clock();
    await repo.saveRecord(actor.portalId, type.key, { ...record, archivedAt: now, updatedAt: now });
  }
}
