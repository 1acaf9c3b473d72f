/**
 * Moving data between backends: a portal's (or every portal's) pipelines, stages, records, their
 * associations, audit trail and tokens (hashes only) as one JSON document, loaded back unchanged: same ids,
 * order, timestamps and audit history.
 */
import type { RecordAssociation } from '../domain/associations.js';
import type { AuditEntry, Pipeline } from '../domain/model.js';
import type { PortalRecord, Store, TokenRecord } from '../domain/ports.js';
import type { CrmRecord } from '../domain/records.js';

export const EXPORT_FORMAT = 'stageline-export';
export const EXPORT_VERSION = 1;

export interface PortalExport extends PortalRecord {
  pipelines: { objectTypeKey: string; pipeline: Pipeline }[];
  records: { objectTypeKey: string; record: CrmRecord }[];
  /** Absent in exports made before associations were kept: none. */
  associations?: RecordAssociation[];
  /** Oldest first. */
  audit: AuditEntry[];
  tokens: TokenRecord[];
}

export interface ExportDocument {
  format: typeof EXPORT_FORMAT;
  version: typeof EXPORT_VERSION;
  exportedAt: string;
  portals: PortalExport[];
}

export async function exportData(store: Store, portalId?: number): Promise<ExportDocument> {
  return store.read(async (repo) => {
    const all = await repo.listPortals();
    const chosen = portalId === undefined ? all : all.filter((p) => p.id === portalId);
    if (portalId !== undefined && chosen.length === 0) throw new Error(`Portal ${portalId} does not exist`);
    const tokens = await repo.listTokens();
    const portals: PortalExport[] = [];
    for (const portal of chosen) {
      portals.push({
        ...portal,
        pipelines: await repo.portalPipelines(portal.id),
        records: await repo.portalRecords(portal.id),
        associations: await repo.portalAssociations(portal.id),
        audit: await repo.portalAudit(portal.id),
        tokens: tokens.filter((t) => t.portalId === portal.id),
      });
    }
    return { format: EXPORT_FORMAT, version: EXPORT_VERSION, exportedAt: new Date().toISOString(), portals };
  });
}

export class ImportError extends Error {
  override readonly name = 'ImportError';
}

function checkDocument(doc: unknown): ExportDocument {
  const d = doc as Partial<ExportDocument> | null;
  if (d === null || typeof d !== 'object' || d.format !== EXPORT_FORMAT) {
    throw new ImportError(`Not a Stageline export (expected "format": "${EXPORT_FORMAT}")`);
  }
  if (d.version !== EXPORT_VERSION) throw new ImportError(`Unsupported export version ${String(d.version)}`);
  if (!Array.isArray(d.portals)) throw new ImportError('The export has no "portals" list');
  for (const p of d.portals) {
    if (!Number.isInteger(p?.id) || !Array.isArray(p.pipelines) || !Array.isArray(p.records)) {
      throw new ImportError('A portal entry is malformed: it needs id, pipelines, records, audit and tokens');
    }
    if (!Array.isArray(p.audit) || !Array.isArray(p.tokens)) {
      throw new ImportError(`Portal ${p.id} is malformed: it needs audit and tokens lists`);
    }
    if (p.associations !== undefined && !Array.isArray(p.associations)) {
      throw new ImportError(`Portal ${p.id} is malformed: associations must be a list`);
    }
  }
  return d as ExportDocument;
}

/** Rows per statement in an import: whatever the export's size, no statement grows past this. */
export const IMPORT_BATCH = 2_000;

/** How far an import is: after each batch, the rows of one kind of one portal done so far. */
export interface ImportProgress {
  readonly portalId: number;
  readonly kind: 'records' | 'associations' | 'audit';
  readonly done: number;
  readonly total: number;
}

/**
 * Loads an export in one transaction, IMPORT_BATCH rows per statement, waiting for each batch to
 * be applied before reporting it and sending the next (a transaction the store re-runs after a
 * conflict reports from the start again). Portals that already exist in the target are refused,
 * so an import never merges into live data.
 */
export async function importData(
  store: Store,
  doc: unknown,
  onProgress: (progress: ImportProgress) => void = () => undefined,
): Promise<{ portals: number; pipelines: number; records: number; audit: number }> {
  const data = checkDocument(doc);
  return store.write(async (repo) => {
    const existing = new Set((await repo.listPortals()).map((p) => p.id));
    const clash = data.portals.filter((p) => existing.has(p.id)).map((p) => p.id);
    if (clash.length > 0)
      throw new ImportError(`Portals already exist in the target database: ${clash.join(', ')}`);
    const counts = { portals: 0, pipelines: 0, records: 0, audit: 0 };
    for (const portal of data.portals) {
      const inBatches = async <T>(
        kind: ImportProgress['kind'],
        rows: readonly T[],
        write: (batch: readonly T[]) => Promise<void>,
      ) => {
        for (let done = 0; done < rows.length;) {
          const batch = rows.slice(done, done + IMPORT_BATCH);
          await write(batch);
          await repo.settled();
          done += batch.length;
          onProgress({ portalId: portal.id, kind, done, total: rows.length });
        }
      };
      await repo.putPortal({ id: portal.id, nextId: portal.nextId, createdAt: portal.createdAt });
      for (const { objectTypeKey, pipeline } of portal.pipelines) {
        await repo.savePipeline(portal.id, objectTypeKey, pipeline);
        for (let i = 0; i < pipeline.stages.length; i += IMPORT_BATCH)
          await repo.saveStages(
            portal.id,
            objectTypeKey,
            pipeline.id,
            pipeline.stages.slice(i, i + IMPORT_BATCH),
          );
      }
      await inBatches('records', portal.records, async (batch) => {
        for (const { objectTypeKey, record } of batch)
          await repo.saveRecord(portal.id, objectTypeKey, record);
      });
      await inBatches('associations', portal.associations ?? [], (batch) =>
        repo.saveAssociations(portal.id, batch),
      );
      await inBatches('audit', portal.audit, (batch) => repo.appendAudit(batch));
      for (const token of portal.tokens) await repo.insertToken(token);
      counts.portals += 1;
      counts.pipelines += portal.pipelines.length;
      counts.records += portal.records.length;
      counts.audit += portal.audit.length;
    }
    return counts;
  });
}
