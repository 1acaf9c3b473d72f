/**
 * The CRM objects use cases for records in pipelines: create, read, update, archive, list,
 * batch and search, and associations (given on create, or made between existing records). Every write resolves and checks the
 * record's pipeline and stage inside its transaction, so a record can never be moved into a stage
 * deleted at the same moment. Reads and searches see each record with the properties computed
 * from its current stage (src/domain/stage-properties.ts).
 */
import {
  associationLabel,
  associationRows,
  invalidAssociationTargets,
  readAssociationInput,
  v3Association,
  v4Associations,
} from '../domain/associations.js';
import type { AssociationInput, AssociationPairInput, RecordAssociation } from '../domain/associations.js';
import { DEFAULT_PIPELINES } from '../domain/default-pipelines.js';
import { invalid, notFound } from '../domain/errors.js';
import { isLive } from '../domain/model.js';
import type { Actor, Pipeline, Stage } from '../domain/model.js';
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
  withStageProperties,
} from '../domain/records.js';
import type { CrmRecord, Placement, PropertiesInput, PropertyChanges } from '../domain/records.js';
import { stageFacts } from '../domain/stage-properties.js';
import type { StageFacts } from '../domain/stage-properties.js';
import type { Clock } from '../domain/time.js';

/** `associations` of a read: per target type name, HubSpot's v3 `{ results: [{ id, type }] }`. */
export type AssociationsView = Record<string, { results: { id: string; type: string }[] }>;

export interface RecordView {
  id: string;
  properties: Record<string, string | null>;
  createdAt: string;
  updatedAt: string;
  archived: boolean;
  archivedAt?: string;
  associations?: AssociationsView;
}

/** A record to create: its properties and the associations HubSpot's create takes. */
export interface RecordInput {
  readonly properties: PropertiesInput;
  readonly associations?: readonly AssociationInput[];
}

/** A search as the route reads it: the query's text alone; the service knows what it searches. */
export type RecordSearch = Omit<SearchQuery, 'text'> & { readonly text?: string };

/** The types whose associations a read returns; undefined or empty: none. */
export type AssociationSelection = readonly ObjectType[] | undefined;

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

/** A record as a response shows it; `record` already carries its stage properties. */
export function recordView(
  type: ObjectType,
  record: CrmRecord,
  properties: PropertySelection,
  associations?: AssociationsView,
): RecordView {
  const view: RecordView = {
    id: record.id,
    properties: selectProperties(type, record, properties),
    createdAt: new Date(record.createdAt).toISOString(),
    updatedAt: new Date(record.updatedAt).toISOString(),
    archived: record.archivedAt !== null,
  };
  if (record.archivedAt !== null) view.archivedAt = new Date(record.archivedAt).toISOString();
  if (associations !== undefined && Object.keys(associations).length > 0) view.associations = associations;
  return view;
}

/**
 * Gives records the properties of their current stage. Each stage is looked up once per
 * request, archived ones included (a record may sit in a stage deleted without checks).
 */
function stageProperties(repo: Repository, portalId: number, type: ObjectType) {
  const facts = new Map<string, Promise<StageFacts | undefined>>();
  const lookup = (stageId: string): Promise<StageFacts | undefined> => {
    let found = facts.get(stageId);
    if (found === undefined) {
      found = repo
        .findStage(portalId, type.key, stageId)
        .then((f) => (f === undefined ? undefined : stageFacts(type.rules, f.stage.metadata)));
      facts.set(stageId, found);
    }
    return found;
  };
  return async (record: CrmRecord): Promise<CrmRecord> =>
    withStageProperties(type, record, record.stageId === null ? undefined : await lookup(record.stageId));
}

/** Where a record goes, with whether the stage is closed. */
export const place = (type: ObjectType, pipelineId: string, stage: Stage): Placement => ({
  pipelineId,
  stageId: stage.id,
  closed: stageFacts(type.rules, stage.metadata).closed,
});

const recordNotFound = (type: ObjectType, id: string) =>
  notFound(`Object ${type.name} with id ${id} does not exist`);

const firstLiveStage = (pipeline: Pipeline) => sortByDisplayOrder(pipeline.stages.filter(isLive))[0];

/** The pipeline new records go to: HubSpot's default one while it is live, else the first. */
async function defaultPlacement(repo: Repository, actor: Actor, type: ObjectType): Promise<Placement | null> {
  const seeded = DEFAULT_PIPELINES.find((d) => d.type.key === type.key)?.pipeline.id;
  const pipelines = sortByDisplayOrder(await repo.listPipelines(actor.portalId, type.key));
  const pipeline = pipelines.find((p) => p.id === seeded) ?? pipelines[0];
  const stage = pipeline && firstLiveStage(pipeline);
  return pipeline && stage ? place(type, pipeline.id, stage) : null;
}

/**
 * Where the record goes: a stage alone implies its pipeline; a pipeline alone keeps the
 * current stage when it belongs there, else takes the pipeline's first stage. null: unchanged.
 */
export async function resolvePlacement(
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
    return place(type, pipeline.id, found.stage);
  }
  const kept = pipeline!.stages.find((s) => s.id === current?.stageId && isLive(s));
  const stage = kept ?? firstLiveStage(pipeline!);
  if (stage === undefined) throw invalidPlacement(names.pipeline!, `${pipeline!.id} has no stages`);
  return place(type, pipeline!.id, stage);
}

/** The v3 `associations` of a read: the types asked for that have links, by type name. */
async function associationsOf(
  repo: Repository,
  portalId: number,
  type: ObjectType,
  id: string,
  toTypes: AssociationSelection,
): Promise<AssociationsView | undefined> {
  if (toTypes === undefined || toTypes.length === 0) return undefined;
  const view: AssociationsView = {};
  for (const toType of toTypes) {
    const links = await repo.listAssociations(portalId, type.key, id, toType.key);
    if (links.length > 0) view[toType.name] = { results: links.map(v3Association) };
  }
  return view;
}

export class RecordService {
  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
  ) {}

  /** One write transaction with the acting portal's writers serialised. */
  private inPortal<T>(actor: Actor, work: (repo: Repository) => Promise<T>): Promise<T> {
    return this.store.write(work, { portalId: actor.portalId, actor });
  }

  create(actor: Actor, type: ObjectType, input: RecordInput): Promise<RecordView> {
    return this.inPortal(actor, async (repo) => {
      const created = await this.createOne(repo, actor, type, input);
      return recordView(type, await stageProperties(repo, actor.portalId, type)(created), undefined);
    });
  }

  get(
    actor: Actor,
    type: ObjectType,
    id: string,
    selection: { properties: PropertySelection; associations?: AssociationSelection },
    archived: boolean,
  ) {
    return this.store.read(async (repo) => {
      const record = await repo.getRecord(actor.portalId, type.key, id);
      if (record === undefined || (record.archivedAt !== null) !== archived) throw recordNotFound(type, id);
      const links = await associationsOf(repo, actor.portalId, type, record.id, selection.associations);
      const seen = await stageProperties(repo, actor.portalId, type)(record);
      return recordView(type, seen, selection.properties, links);
    });
  }

  update(actor: Actor, type: ObjectType, id: string, input: PropertiesInput): Promise<RecordView> {
    return this.inPortal(actor, async (repo) => {
      const updated = await this.updateOne(repo, actor, type, id, input);
      if (updated === undefined) throw recordNotFound(type, id);
      return recordView(type, await stageProperties(repo, actor.portalId, type)(updated), undefined);
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
    selection: { properties: PropertySelection; associations?: AssociationSelection },
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
      const withStage = stageProperties(repo, actor.portalId, type);
      const results: RecordView[] = [];
      for (const r of rows.slice(0, page.limit)) {
        const links = await associationsOf(repo, actor.portalId, type, r.id, selection.associations);
        results.push(recordView(type, await withStage(r), selection.properties, links));
      }
      return {
        results,
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
      const withStage = stageProperties(repo, actor.portalId, type);
      const results: RecordView[] = [];
      const missing: string[] = [];
      for (const id of new Set(ids)) {
        const record = await repo.getRecord(actor.portalId, type.key, id);
        if (record === undefined || (record.archivedAt !== null) !== archived) missing.push(id);
        else results.push(recordView(type, await withStage(record), properties));
      }
      return { results, missing };
    });
  }

  /** All or nothing: one invalid input, or one association to a missing record, fails the whole batch. */
  batchCreate(actor: Actor, type: ObjectType, inputs: readonly RecordInput[]): Promise<RecordView[]> {
    return this.inPortal(actor, async (repo) => {
      const withStage = stageProperties(repo, actor.portalId, type);
      const created: RecordView[] = [];
      for (const input of inputs) {
        const record = await this.createOne(repo, actor, type, input);
        created.push(recordView(type, await withStage(record), undefined));
      }
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
      const withStage = stageProperties(repo, actor.portalId, type);
      const results: RecordView[] = [];
      const missing: string[] = [];
      for (const { id, properties } of inputs) {
        const updated = await this.updateOne(repo, actor, type, id, properties);
        if (updated === undefined) missing.push(id);
        else results.push(recordView(type, await withStage(updated), undefined));
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

  /**
   * Filters, sorts and the full-text `query` see the stage properties too. The query is matched
   * against the type's default searchable properties.
   */
  search(actor: Actor, type: ObjectType, query: RecordSearch, properties: PropertySelection) {
    return this.store.read(async (repo) => {
      const withStage = stageProperties(repo, actor.portalId, type);
      const records: CrmRecord[] = [];
      for (const r of await repo.liveRecords(actor.portalId, type.key)) records.push(await withStage(r));
      const text =
        query.text === undefined
          ? undefined
          : { text: query.text, properties: propertyNames(type).searchable };
      const page = searchRecords(records, { ...query, text });
      return {
        total: page.total,
        results: page.results.map((r) => recordView(type, r, properties)),
        nextAfter: page.nextAfter,
      };
    });
  }

  /**
   * HubSpot's v4 list of a record's associations with records of another type: one entry per
   * target, with every association type linking the two. Paged by target id.
   */
  associations(
    actor: Actor,
    type: ObjectType,
    id: string,
    toType: ObjectType,
    page: { limit: number; after: string | undefined },
  ) {
    const afterId = page.after === undefined ? 0 : Number(page.after);
    if (!Number.isSafeInteger(afterId) || afterId < 0)
      throw invalid(`after must be a cursor from a previous page`);
    return this.store.read(async (repo) => {
      const record = await repo.getRecord(actor.portalId, type.key, id);
      if (record === undefined || record.archivedAt !== null) throw recordNotFound(type, id);
      const links = await repo.listAssociations(actor.portalId, type.key, id, toType.key);
      const targets = v4Associations(links).filter((t) => t.toObjectId > afterId);
      const results = targets.slice(0, page.limit);
      const more = targets.length > page.limit;
      return { results, nextAfter: more ? String(results[results.length - 1]!.toObjectId) : undefined };
    });
  }

  /**
   * HubSpot's v4 batch create of associations between existing records, all or nothing: each
   * input's types must lead from `type` to `toType`, and both records must be live.
   */
  createAssociations(
    actor: Actor,
    type: ObjectType,
    toType: ObjectType,
    inputs: readonly AssociationPairInput[],
  ) {
    return this.inPortal(actor, async (repo) => {
      const rows: RecordAssociation[] = [];
      const results = [];
      for (const input of inputs) {
        const fromId = String(input.from.id);
        const from = await repo.getRecord(actor.portalId, type.key, fromId);
        if (from === undefined || from.archivedAt !== null) throw recordNotFound(type, fromId);
        const links = readAssociationInput(type, [input]);
        const astray = links.find((l) => l.toTypeKey !== toType.key);
        if (astray !== undefined) {
          throw invalid(
            `association type ${astray.typeId} does not lead from ${type.name} to ${toType.name}`,
          );
        }
        const missing = [];
        for (const link of links) {
          const target = await repo.getRecord(actor.portalId, link.toTypeKey, link.toId);
          if (target === undefined || target.archivedAt !== null) missing.push(link);
        }
        if (missing.length > 0) throw invalidAssociationTargets(missing);
        rows.push(...links.flatMap((link) => associationRows(type.key, fromId, link)));
        results.push({
          fromObjectTypeId: type.key,
          fromObjectId: Number(fromId),
          toObjectTypeId: toType.key,
          toObjectId: Number(input.to.id),
          labels: links.flatMap((link) => associationLabel(link.typeId) ?? []),
        });
      }
      await repo.saveAssociations(actor.portalId, rows);
      return results;
    });
  }

  private async createOne(repo: Repository, actor: Actor, type: ObjectType, input: RecordInput) {
    const changes = readPropertyInput(type, input.properties);
    const links = readAssociationInput(type, input.associations);
    const placement = await resolvePlacement(repo, actor, type, undefined, changes);
    const missing = [];
    for (const link of links) {
      const target = await repo.getRecord(actor.portalId, link.toTypeKey, link.toId);
      if (target === undefined || target.archivedAt !== null) missing.push(link);
    }
    if (missing.length > 0) throw invalidAssociationTargets(missing);
    const [id] = await repo.allocateIds(actor.portalId, 1);
    const record = applyRecordWrite(type, undefined, id!, changes, placement, this.clock(actor.portalId));
    await repo.saveRecord(actor.portalId, type.key, record);
    await repo.saveAssociations(
      actor.portalId,
      links.flatMap((link) => associationRows(type.key, record.id, link)),
    );
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
    const record = applyRecordWrite(type, current, id, changes, placement, this.clock(actor.portalId));
    await repo.saveRecord(actor.portalId, type.key, record);
    return record;
  }

  private async archiveRecord(repo: Repository, actor: Actor, type: ObjectType, record: CrmRecord) {
    if (record.archivedAt !== null) return;
    const now = this.clock(actor.portalId);
    await repo.saveRecord(actor.portalId, type.key, { ...record, archivedAt: now, updatedAt: now });
  }
}
