import type Database from 'better-sqlite3';
import { FIRST_GENERATED_ID, isRecordId } from '../../domain/ids.js';
import type { Metadata } from '../../domain/metadata.js';
import type { AuditEntry, AuditKind, Pipeline, Stage, WritePermission } from '../../domain/model.js';
import { labelKey } from '../../domain/pipeline-rules.js';
import type { RecordAssociation } from '../../domain/associations.js';
import type { PortalCounts, PortalRecord, Repository, TokenRecord } from '../../domain/ports.js';
import type { CrmRecord } from '../../domain/records.js';
import { PipelineCache } from './pipeline-cache.js';
import {
  associationKey,
  groupPipelines,
  groupTypedPipelines,
  toAssociation,
  toAudit,
  toPortal,
  toRecord,
  toStage,
  toToken,
} from '../rows.js';
import type {
  AssociationRow,
  AuditRow,
  PipelineStageRow,
  PortalRow,
  RecordRow,
  StageRow,
  TokenRow,
  TypedPipelineStageRow,
} from '../rows.js';
import { selectPipelinesWithStages } from '../select-pipelines-with-stages.js';

/** Archived stages pile up in a pipeline; the live ones are read through their partial index. */
const PIPELINES_WITH_STAGES = selectPipelinesWithStages({ stages: 'all' });
const PIPELINES_WITH_LIVE_STAGES = selectPipelinesWithStages({
  stages: 'live',
  stagesHint: 'INDEXED BY stages_live_by_pipeline',
});
const TYPED_PIPELINES_WITH_STAGES = selectPipelinesWithStages({ stages: 'all', objectType: true });

/**
 * The SQL behind the storage contract on one better-sqlite3 connection: statements prepared
 * once, rows mapped to domain types. It runs inside whatever transaction the store has open.
 */
export class SqliteRepository implements Repository {
  private readonly s;

  constructor(
    db: Database.Database,
    readonly cache: PipelineCache,
  ) {
    this.s = {
      insertPortal: db.prepare(
        'INSERT INTO portals (id, next_id, created_at) VALUES (?, ?, ?) ON CONFLICT (id) DO NOTHING',
      ),
      portalExists: db.prepare('SELECT 1 FROM portals WHERE id = ?').pluck(),
      // No RETURNING on hot writes: SQLite builds a temporary table for it (about 3 µs here).
      reserveIds: db.prepare('UPDATE portals SET next_id = next_id + ? WHERE id = ?'),
      nextId: db.prepare('SELECT next_id FROM portals WHERE id = ?').pluck(),
      idUsed: db
        .prepare(
          `SELECT EXISTS (SELECT 1 FROM pipelines WHERE portal_id = @portalId AND id = @id)
               OR EXISTS (SELECT 1 FROM stages WHERE portal_id = @portalId AND id = @id)`,
        )
        .pluck(),
      listPipelines: db.prepare(
        `${PIPELINES_WITH_LIVE_STAGES} WHERE p.portal_id = ? AND p.object_type = ? AND p.archived_at IS NULL ORDER BY p.id`,
      ),
      getPipeline: db.prepare(
        `${PIPELINES_WITH_STAGES} WHERE p.portal_id = ? AND p.object_type = ? AND p.id = ?`,
      ),
      pipelineRow: db.prepare(
        `SELECT id, label, display_order, created_at, updated_at, archived_at FROM pipelines
         WHERE portal_id = ? AND object_type = ? AND id = ?`,
      ),
      // Column order is LIVE_STAGE_COLUMNS: rows come back as arrays, the cheapest to read.
      liveStages: db
        .prepare(
          `SELECT id, label, display_order, metadata, write_permissions, created_at, updated_at
           FROM stages INDEXED BY stages_live_by_pipeline
           WHERE portal_id = ? AND object_type = ? AND pipeline_id = ? AND archived_at IS NULL`,
        )
        .raw(true),
      findStage: db.prepare('SELECT * FROM stages WHERE portal_id = ? AND object_type = ? AND id = ?'),
      livePipelineByLabel: db
        .prepare(
          'SELECT id FROM pipelines WHERE portal_id = ? AND object_type = ? AND label_key = ? AND archived_at IS NULL',
        )
        .pluck(),
      pipelineIdExists: db
        .prepare('SELECT 1 FROM pipelines WHERE portal_id = ? AND object_type = ? AND id = ?')
        .pluck(),
      stageIdExists: db
        .prepare('SELECT 1 FROM stages WHERE portal_id = ? AND object_type = ? AND id = ?')
        .pluck(),
      savePipeline: db.prepare(
        `INSERT INTO pipelines (portal_id, object_type, id, label, label_key, display_order, created_at, updated_at, archived_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (portal_id, object_type, id) DO UPDATE SET
           label = excluded.label, label_key = excluded.label_key, display_order = excluded.display_order,
           updated_at = excluded.updated_at, archived_at = excluded.archived_at`,
      ),
      // An update keeps the stored created_at. It changes nothing (0 rows) when the stage is in
      // another pipeline or was created at another time than given: saveStages then looks.
      // No RETURNING: SQLite builds a temporary table for it, which cost 6–10 µs a stage here.
      saveStage: db.prepare(
        `INSERT INTO stages (portal_id, object_type, id, pipeline_id, label, display_order, metadata,
                             write_permissions, created_at, updated_at, archived_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (portal_id, object_type, id) DO UPDATE SET
           label = excluded.label, display_order = excluded.display_order, metadata = excluded.metadata,
           write_permissions = excluded.write_permissions, updated_at = excluded.updated_at,
           archived_at = excluded.archived_at
         WHERE stages.pipeline_id = excluded.pipeline_id AND stages.created_at = excluded.created_at`,
      ),
      appendAudit: db.prepare(
        `INSERT INTO audit (portal_id, object_type, kind, object_id, action, message, raw_object, user_id, ts)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      listAudit: db.prepare(
        `SELECT * FROM audit WHERE portal_id = ? AND object_type = ? AND kind = ? AND object_id = ? ORDER BY seq DESC`,
      ),
      latestAudit: db.prepare(
        `SELECT * FROM audit WHERE portal_id = ? AND object_type = ? AND kind = ? AND object_id = ?
         ORDER BY seq DESC LIMIT 1`,
      ),
      saveRecord: db.prepare(
        `INSERT INTO records (portal_id, object_type, id, pipeline_id, stage_id, properties, created_at, updated_at, archived_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (portal_id, object_type, id) DO UPDATE SET
           pipeline_id = excluded.pipeline_id, stage_id = excluded.stage_id, properties = excluded.properties,
           updated_at = excluded.updated_at, archived_at = excluded.archived_at`,
      ),
      getRecord: db.prepare('SELECT * FROM records WHERE portal_id = ? AND object_type = ? AND id = ?'),
      listLiveRecords: db.prepare(
        `SELECT * FROM records WHERE portal_id = ? AND object_type = ? AND id > ? AND archived_at IS NULL
         ORDER BY id LIMIT ?`,
      ),
      listArchivedRecords: db.prepare(
        `SELECT * FROM records WHERE portal_id = ? AND object_type = ? AND id > ? AND archived_at IS NOT NULL
         ORDER BY id LIMIT ?`,
      ),
      liveRecords: db.prepare(
        'SELECT * FROM records WHERE portal_id = ? AND object_type = ? AND archived_at IS NULL ORDER BY id',
      ),
      usedStages: db
        .prepare(
          `SELECT DISTINCT stage_id FROM records
           WHERE portal_id = ? AND object_type = ? AND archived_at IS NULL
             AND stage_id IN (SELECT value FROM json_each(?))`,
        )
        .pluck(),
      // Without INDEXED BY the planner walks every record of the type in id order (0.5 ms for
      // 5,000 records); with it, only the records of the stages asked about, then sorts them.
      recordsInStages: db
        .prepare(
          `SELECT id FROM records INDEXED BY records_live_by_stage
           WHERE portal_id = ? AND object_type = ? AND archived_at IS NULL
             AND stage_id IN (SELECT value FROM json_each(?))
           ORDER BY id LIMIT ?`,
        )
        .pluck(),
      saveAssociation: db.prepare(
        `INSERT INTO associations (portal_id, from_type, from_id, to_type, to_id, category, type_id)
         VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
      ),
      listAssociations: db.prepare(
        `SELECT a.from_type, a.from_id, a.to_type, a.to_id, a.category, a.type_id FROM associations a
         JOIN records r ON r.portal_id = a.portal_id AND r.object_type = a.to_type AND r.id = a.to_id
         WHERE a.portal_id = ? AND a.from_type = ? AND a.from_id = ? AND a.to_type = ? AND r.archived_at IS NULL
         ORDER BY a.to_id, a.category, a.type_id`,
      ),
      portalAssociations: db.prepare(
        `SELECT from_type, from_id, to_type, to_id, category, type_id FROM associations WHERE portal_id = ?
         ORDER BY from_type, from_id, to_type, to_id, category, type_id`,
      ),
      listPortals: db.prepare('SELECT id, next_id, created_at FROM portals ORDER BY id'),
      putPortal: db.prepare(
        `INSERT INTO portals (id, next_id, created_at) VALUES (?, ?, ?)
         ON CONFLICT (id) DO UPDATE SET next_id = max(next_id, excluded.next_id)`,
      ),
      portalPipelines: db.prepare(
        `${TYPED_PIPELINES_WITH_STAGES}
         WHERE p.portal_id = ? ORDER BY p.object_type, p.id`,
      ),
      portalRecords: db.prepare('SELECT * FROM records WHERE portal_id = ? ORDER BY object_type, id'),
      portalAudit: db.prepare('SELECT * FROM audit WHERE portal_id = ? ORDER BY seq'),
      // The export's pages: keyset on each table's order, so a page costs its own rows only.
      countRecords: db.prepare('SELECT count(*) FROM records WHERE portal_id = ?').pluck(),
      countAssociations: db.prepare('SELECT count(*) FROM associations WHERE portal_id = ?').pluck(),
      countAudit: db.prepare('SELECT count(*) FROM audit WHERE portal_id = ?').pluck(),
      portalRecordsPage: db.prepare(
        `SELECT * FROM records WHERE portal_id = ? AND (object_type, id) > (?, ?)
         ORDER BY object_type, id LIMIT ?`,
      ),
      portalAssociationsPage: db.prepare(
        `SELECT from_type, from_id, to_type, to_id, category, type_id FROM associations
         WHERE portal_id = ? AND (from_type, from_id, to_type, to_id, category, type_id) > (?, ?, ?, ?, ?, ?)
         ORDER BY from_type, from_id, to_type, to_id, category, type_id LIMIT ?`,
      ),
      portalAuditPage: db.prepare(
        'SELECT * FROM audit INDEXED BY audit_by_portal WHERE portal_id = ? AND seq > ? ORDER BY seq LIMIT ?',
      ),
      insertToken: db.prepare(
        `INSERT INTO tokens (id, hash, portal_id, user_id, scopes, created_at, revoked_at)
         VALUES (?, ?, ?, ?, ?, ?, ?)`,
      ),
      tokenByHash: db.prepare('SELECT * FROM tokens WHERE hash = ?'),
      listTokens: db.prepare('SELECT * FROM tokens ORDER BY created_at, id'),
      revokeToken: db.prepare('UPDATE tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL'),
      countTokens: db.prepare('SELECT count(*) FROM tokens').pluck(),
      countPortals: db.prepare('SELECT count(*) FROM portals').pluck(),
      // `@types` is a JSON list of object type keys, or null for every type.
      clearStages: db.prepare(
        `DELETE FROM stages WHERE portal_id = @portalId
           AND (@types IS NULL OR object_type IN (SELECT value FROM json_each(@types)))`,
      ),
      clearPipelines: db.prepare(
        `DELETE FROM pipelines WHERE portal_id = @portalId
           AND (@types IS NULL OR object_type IN (SELECT value FROM json_each(@types)))`,
      ),
      clearRecords: db.prepare(
        `DELETE FROM records WHERE portal_id = @portalId
           AND (@types IS NULL OR object_type IN (SELECT value FROM json_each(@types)))`,
      ),
      clearAssociations: db.prepare(
        `DELETE FROM associations WHERE portal_id = @portalId
           AND (@types IS NULL OR from_type IN (SELECT value FROM json_each(@types))
                OR to_type IN (SELECT value FROM json_each(@types)))`,
      ),
      clearAudit: db.prepare(
        `DELETE FROM audit WHERE portal_id = @portalId
           AND (@types IS NULL OR object_type IN (SELECT value FROM json_each(@types)))`,
      ),
      getPortal: db.prepare('SELECT id, next_id, created_at FROM portals WHERE id = ?'),
      setNextId: db.prepare('UPDATE portals SET next_id = ? WHERE id = ?'),
      portalSeed: db.prepare('SELECT document FROM portal_seeds WHERE portal_id = ?').pluck(),
      setPortalSeed: db.prepare(
        `INSERT INTO portal_seeds (portal_id, document) VALUES (?, ?)
         ON CONFLICT (portal_id) DO UPDATE SET document = excluded.document`,
      ),
      writeHealthProbe: db.prepare(
        'INSERT INTO health_probe (id, at) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET at = excluded.at',
      ),
    };
  }

  /** Statements run synchronously here: every write is applied when its call resolves. */
  async settled(): Promise<void> {}

  async ensurePortal(portalId: number, now: number): Promise<boolean> {
    return this.s.insertPortal.run(portalId, FIRST_GENERATED_ID, now).changes === 1;
  }

  async portalExists(portalId: number): Promise<boolean> {
    return this.s.portalExists.get(portalId) !== undefined;
  }

  async allocateIds(portalId: number, count: number): Promise<string[]> {
    const ids: string[] = [];
    while (ids.length < count) {
      // Reserve what is still missing; numbers a client already chose as ids are skipped.
      const wanted = count - ids.length;
      if (this.s.reserveIds.run(wanted, portalId).changes === 0) {
        throw new Error(`portal ${portalId} does not exist`);
      }
      const end = this.s.nextId.get(portalId) as number;
      for (let n = end - wanted; n < end; n++) {
        const id = String(n);
        if (this.s.idUsed.get({ portalId, id }) === 0) ids.push(id);
      }
    }
    return ids;
  }

  async listPipelines(portalId: number, typeKey: string): Promise<Pipeline[]> {
    return groupPipelines(this.s.listPipelines.all(portalId, typeKey) as PipelineStageRow[]);
  }

  async getPipeline(
    portalId: number,
    typeKey: string,
    pipelineId: string,
    options: { archivedStages?: boolean } = {},
  ): Promise<Pipeline | undefined> {
    if (options.archivedStages !== false) {
      return groupPipelines(this.s.getPipeline.all(portalId, typeKey, pipelineId) as PipelineStageRow[])[0];
    }
    // The path of every write: from the cache, or two small queries with stages read as arrays.
    const key = PipelineCache.key(portalId, typeKey, pipelineId);
    const cached = this.cache.get(key);
    if (cached !== undefined) return cached;
    const p = this.s.pipelineRow.get(portalId, typeKey, pipelineId) as
      | {
          id: string;
          label: string;
          display_order: number;
          created_at: number;
          updated_at: number;
          archived_at: number | null;
        }
      | undefined;
    if (p === undefined) return undefined;
    const rows = this.s.liveStages.all(portalId, typeKey, pipelineId) as [
      string,
      string,
      number,
      string,
      string,
      number,
      number,
    ][];
    return this.cache.set(key, {
      id: p.id,
      label: p.label,
      displayOrder: p.display_order,
      createdAt: p.created_at,
      updatedAt: p.updated_at,
      archivedAt: p.archived_at,
      stages: rows.map(([id, label, displayOrder, metadata, writePermissions, createdAt, updatedAt]) => ({
        id,
        label,
        displayOrder,
        metadata: JSON.parse(metadata) as Metadata,
        writePermissions: writePermissions as WritePermission,
        createdAt,
        updatedAt,
        archivedAt: null,
      })),
    });
  }

  async findStage(portalId: number, typeKey: string, stageId: string) {
    const row = this.s.findStage.get(portalId, typeKey, stageId) as StageRow | undefined;
    return row === undefined ? undefined : { pipelineId: row.pipeline_id, stage: toStage(row) };
  }

  async findLivePipelineByLabel(portalId: number, typeKey: string, key: string): Promise<string | undefined> {
    return this.s.livePipelineByLabel.get(portalId, typeKey, key) as string | undefined;
  }

  async pipelineIdExists(portalId: number, typeKey: string, pipelineId: string): Promise<boolean> {
    return this.s.pipelineIdExists.get(portalId, typeKey, pipelineId) !== undefined;
  }

  async stageIdExists(portalId: number, typeKey: string, stageId: string): Promise<boolean> {
    return this.s.stageIdExists.get(portalId, typeKey, stageId) !== undefined;
  }

  async savePipeline(portalId: number, typeKey: string, p: Pipeline): Promise<void> {
    this.cache.drop(PipelineCache.key(portalId, typeKey, p.id));
    this.s.savePipeline.run(
      portalId,
      typeKey,
      p.id,
      p.label,
      labelKey(p.label),
      p.displayOrder,
      p.createdAt,
      p.updatedAt,
      p.archivedAt,
    );
  }

  async saveStages(
    portalId: number,
    typeKey: string,
    pipelineId: string,
    stages: readonly Stage[],
  ): Promise<void> {
    const stored: Stage[] = [];
    const save = (s: Stage): boolean =>
      this.s.saveStage.run(
        portalId,
        typeKey,
        s.id,
        pipelineId,
        s.label,
        s.displayOrder,
        JSON.stringify(s.metadata),
        s.writePermissions,
        s.createdAt,
        s.updatedAt,
        s.archivedAt,
      ).changes === 1;
    for (const s of stages) {
      if (save(s)) {
        stored.push(s);
        continue;
      }
      const row = this.s.findStage.get(portalId, typeKey, s.id) as StageRow;
      if (row.pipeline_id !== pipelineId) throw new Error(`stage ${s.id} belongs to another pipeline`);
      // The stored creation time stays, and the cache holds what is stored.
      const kept = { ...s, createdAt: row.created_at };
      save(kept);
      stored.push(kept);
    }
    this.cache.applyStages(PipelineCache.key(portalId, typeKey, pipelineId), stored);
  }

  async appendAudit(entries: readonly AuditEntry[]): Promise<void> {
    for (const e of entries) {
      this.s.appendAudit.run(
        e.portalId,
        e.objectTypeKey,
        e.kind,
        e.objectId,
        e.action,
        e.message,
        e.rawObject,
        e.userId,
        e.timestamp,
      );
    }
  }

  async listAudit(
    portalId: number,
    typeKey: string,
    kind: AuditKind,
    objectId: string,
  ): Promise<AuditEntry[]> {
    return (this.s.listAudit.all(portalId, typeKey, kind, objectId) as AuditRow[]).map(toAudit);
  }

  // In process, two statements cost no round trip: the existing ones, composed.
  async pipelineAudit(portalId: number, typeKey: string, pipelineId: string) {
    if (!(await this.pipelineIdExists(portalId, typeKey, pipelineId))) return undefined;
    return this.listAudit(portalId, typeKey, 'pipeline', pipelineId);
  }

  async stageAudit(portalId: number, typeKey: string, stageId: string) {
    const found = await this.findStage(portalId, typeKey, stageId);
    if (found === undefined) return undefined;
    return {
      pipelineId: found.pipelineId,
      entries: await this.listAudit(portalId, typeKey, 'stage', stageId),
    };
  }

  async latestAudit(
    portalId: number,
    typeKey: string,
    kind: AuditKind,
    objectId: string,
  ): Promise<AuditEntry | undefined> {
    const row = this.s.latestAudit.get(portalId, typeKey, kind, objectId) as AuditRow | undefined;
    return row === undefined ? undefined : toAudit(row);
  }

  async saveRecord(portalId: number, typeKey: string, r: CrmRecord): Promise<void> {
    this.s.saveRecord.run(
      portalId,
      typeKey,
      Number(r.id),
      r.pipelineId,
      r.stageId,
      JSON.stringify(r.properties),
      r.createdAt,
      r.updatedAt,
      r.archivedAt,
    );
  }

  async getRecord(portalId: number, typeKey: string, id: string): Promise<CrmRecord | undefined> {
    if (!isRecordId(id)) return undefined;
    const row = this.s.getRecord.get(portalId, typeKey, Number(id)) as RecordRow | undefined;
    return row === undefined ? undefined : toRecord(row);
  }

  async listRecords(
    portalId: number,
    typeKey: string,
    page: { archived: boolean; afterId: number; limit: number },
  ): Promise<CrmRecord[]> {
    const statement = page.archived ? this.s.listArchivedRecords : this.s.listLiveRecords;
    return (statement.all(portalId, typeKey, page.afterId, page.limit) as RecordRow[]).map(toRecord);
  }

  async liveRecords(portalId: number, typeKey: string): Promise<CrmRecord[]> {
    return (this.s.liveRecords.all(portalId, typeKey) as RecordRow[]).map(toRecord);
  }

  async stagesInUse(portalId: number, typeKey: string, stageIds: readonly string[], limit: number) {
    const used = new Set(this.s.usedStages.all(portalId, typeKey, JSON.stringify(stageIds)) as string[]);
    // The common case, stages that hold no record, needs no second query.
    if (used.size === 0) return { stageIds: [], objectIds: [] };
    const inUse = stageIds.filter((id) => used.has(id));
    const objectIds = (
      this.s.recordsInStages.all(portalId, typeKey, JSON.stringify(inUse), limit) as number[]
    ).map(String);
    return { stageIds: inUse, objectIds };
  }

  async saveAssociations(portalId: number, links: readonly RecordAssociation[]): Promise<void> {
    for (const a of links) {
      this.s.saveAssociation.run(
        portalId,
        a.fromTypeKey,
        Number(a.fromId),
        a.toTypeKey,
        Number(a.toId),
        a.category,
        a.typeId,
      );
    }
  }

  async listAssociations(
    portalId: number,
    fromTypeKey: string,
    fromId: string,
    toTypeKey: string,
  ): Promise<RecordAssociation[]> {
    if (!isRecordId(fromId)) return [];
    const rows = this.s.listAssociations.all(
      portalId,
      fromTypeKey,
      Number(fromId),
      toTypeKey,
    ) as AssociationRow[];
    return rows.map(toAssociation);
  }

  async portalAssociations(portalId: number): Promise<RecordAssociation[]> {
    return (this.s.portalAssociations.all(portalId) as AssociationRow[]).map(toAssociation);
  }

  async listPortals(): Promise<PortalRecord[]> {
    return (this.s.listPortals.all() as PortalRow[]).map(toPortal);
  }

  async putPortal(p: PortalRecord): Promise<void> {
    this.s.putPortal.run(p.id, p.nextId, p.createdAt);
  }

  async portalPipelines(portalId: number) {
    return groupTypedPipelines(this.s.portalPipelines.all(portalId) as TypedPipelineStageRow[]);
  }

  async portalRecords(portalId: number) {
    return (this.s.portalRecords.all(portalId) as (RecordRow & { object_type: string })[]).map((r) => ({
      objectTypeKey: r.object_type,
      record: toRecord(r),
    }));
  }

  async portalAudit(portalId: number): Promise<AuditEntry[]> {
    return (this.s.portalAudit.all(portalId) as AuditRow[]).map(toAudit);
  }

  async portalCounts(portalId: number): Promise<PortalCounts> {
    return {
      records: this.s.countRecords.get(portalId) as number,
      associations: this.s.countAssociations.get(portalId) as number,
      audit: this.s.countAudit.get(portalId) as number,
    };
  }

  // A first page starts after a key lower than any: '' sorts before every text, -1 before every id.
  async portalRecordsPage(
    portalId: number,
    after: { objectTypeKey: string; id: string } | undefined,
    limit: number,
  ) {
    const rows = this.s.portalRecordsPage.all(
      portalId,
      after?.objectTypeKey ?? '',
      after === undefined ? -1 : Number(after.id),
      limit,
    ) as (RecordRow & { object_type: string })[];
    return rows.map((r) => ({ objectTypeKey: r.object_type, record: toRecord(r) }));
  }

  async portalAssociationsPage(
    portalId: number,
    after: RecordAssociation | undefined,
    limit: number,
  ): Promise<RecordAssociation[]> {
    const key = associationKey(after);
    return (this.s.portalAssociationsPage.all(portalId, ...key, limit) as AssociationRow[]).map(
      toAssociation,
    );
  }

  async portalAuditPage(portalId: number, afterSeq: number, limit: number) {
    return (this.s.portalAuditPage.all(portalId, afterSeq, limit) as (AuditRow & { seq: number })[]).map(
      (r) => ({ seq: r.seq, entry: toAudit(r) }),
    );
  }

  async insertToken(t: TokenRecord): Promise<void> {
    this.s.insertToken.run(
      t.id,
      t.hash,
      t.portalId,
      t.userId,
      t.scopes === null ? null : JSON.stringify(t.scopes),
      t.createdAt,
      t.revokedAt,
    );
  }

  async findTokenByHash(hash: string): Promise<TokenRecord | undefined> {
    const row = this.s.tokenByHash.get(hash) as TokenRow | undefined;
    return row === undefined ? undefined : toToken(row);
  }

  async listTokens(): Promise<TokenRecord[]> {
    return (this.s.listTokens.all() as TokenRow[]).map(toToken);
  }

  async revokeToken(id: string, now: number): Promise<boolean> {
    return this.s.revokeToken.run(now, id).changes === 1;
  }

  async countTokens(): Promise<number> {
    return this.s.countTokens.get() as number;
  }

  async countPortals(): Promise<number> {
    return this.s.countPortals.get() as number;
  }

  async clearPortal(portalId: number, typeKeys?: readonly string[]): Promise<void> {
    const types = typeKeys === undefined ? null : JSON.stringify(typeKeys);
    // Stages before pipelines: they reference them.
    for (const statement of [
      this.s.clearStages,
      this.s.clearPipelines,
      this.s.clearAssociations,
      this.s.clearRecords,
      this.s.clearAudit,
    ])
      statement.run({ portalId, types });
    this.cache.dropPortal(portalId, typeKeys);
  }

  async getPortal(portalId: number): Promise<PortalRecord | undefined> {
    const row = this.s.getPortal.get(portalId) as PortalRow | undefined;
    return row === undefined ? undefined : toPortal(row);
  }

  async setNextId(portalId: number, nextId: number): Promise<void> {
    if (this.s.setNextId.run(nextId, portalId).changes === 0) {
      throw new Error(`portal ${portalId} does not exist`);
    }
  }

  async portalSeed(portalId: number): Promise<string | undefined> {
    return this.s.portalSeed.get(portalId) as string | undefined;
  }

  async setPortalSeed(portalId: number, document: string): Promise<void> {
    this.s.setPortalSeed.run(portalId, document);
  }

  async writeHealthProbe(at: number): Promise<void> {
    this.s.writeHealthProbe.run(at);
  }
}
