import { DEFAULT_PIPELINES } from '../domain/default-pipelines.js';
import type { Repository } from '../domain/ports.js';

/** Creates the portal with HubSpot's default pipelines, once. True when it was new. */
export async function seedPortal(repo: Repository, portalId: number, now: number): Promise<boolean> {
  if (!(await repo.ensurePortal(portalId, now))) return false;
  for (const { type, pipeline } of DEFAULT_PIPELINES) {
    await repo.savePipeline(portalId, type.key, pipeline);
    await repo.saveStages(portalId, type.key, pipeline.id, pipeline.stages);
  }
  return true;
}
