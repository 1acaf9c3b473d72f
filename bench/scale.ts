// The scale database: N portals × 10 deal pipelines × 10 stages, and 100 audit entries per
// portal (10,000 portals: 1,000,000 stages and 1,000,000 audit entries), written straight
// through the SQLite adapter in large transactions.
import { SqliteStore } from '../src/storage/sqlite/sqlite-store.js';
import { normalizeMetadata } from '../src/domain/metadata.js';
import type { AuditEntry, Pipeline } from '../src/domain/model.js';
import { pipelineView } from '../src/domain/views.js';

const DEALS = '0-3';
const PORTALS_PER_TRANSACTION = 100;

export async function buildScaleDatabase(
  file: string,
  portals: number,
): Promise<{ stages: number; auditEntries: number }> {
  const store = new SqliteStore(file);
  let stages = 0;
  let auditEntries = 0;
  const now = Date.UTC(2026, 0, 1);
  try {
    for (let first = 0; first < portals; first += PORTALS_PER_TRANSACTION) {
      await store.write(async (repo) => {
        for (
          let portalId = first + 1_000_000;
          portalId < Math.min(first + PORTALS_PER_TRANSACTION, portals) + 1_000_000;
          portalId++
        ) {
          await repo.ensurePortal(portalId, now);
          const audit: AuditEntry[] = [];
          for (let p = 0; p < 10; p++) {
            const pipeline: Pipeline = {
              id: `p${p}`,
              label: `Pipeline ${p}`,
              displayOrder: p,
              createdAt: now,
              updatedAt: now,
              archivedAt: null,
              stages: Array.from({ length: 10 }, (_, s) => ({
                id: `p${p}s${s}`,
                label: `Stage ${s}`,
                displayOrder: s,
                metadata: normalizeMetadata('deal', { probability: s / 10 }),
                writePermissions: 'CRM_PERMISSIONS_ENFORCEMENT' as const,
                createdAt: now,
                updatedAt: now,
                archivedAt: null,
              })),
            };
            await repo.savePipeline(portalId, DEALS, pipeline);
            await repo.saveStages(portalId, DEALS, pipeline.id, pipeline.stages);
            stages += pipeline.stages.length;
            const rawObject = JSON.stringify(pipelineView(pipeline));
            for (let a = 0; a < 10; a++) {
              audit.push({
                portalId,
                objectTypeKey: DEALS,
                kind: 'pipeline',
                objectId: pipeline.id,
                action: a === 0 ? 'CREATE' : 'UPDATE',
                message: a === 0 ? 'User defined. pipeline created' : 'Pipeline update',
                rawObject,
                userId: 1,
                timestamp: now + a,
              });
            }
          }
          await repo.appendAudit(audit);
          auditEntries += audit.length;
        }
      });
    }
  } finally {
    await store.close();
  }
  return { stages, auditEntries };
}
