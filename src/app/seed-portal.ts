import { DEFAULT_PIPELINES } from '../domain/default-pipelines.js';
import type { Repository } from '../domain/ports.js';

/** Gives a new portal its first state, in the transaction that creates it. */
export type PortalStarter = (repo: Repository, portalId: number, now: number) => Promise<void>;

/** HubSpot's default pipelines. */
export const defaultStart: PortalStarter = async (repo, portalId) => {
  for (const { type, pipeline } of DEFAULT_PIPELINES) {
    await repo.savePipeline(portalId, type.key, pipeline);
    await repo.saveStages(portalId, type.key, pipeline.id, pipeline.stages);
  }
};

/** Creates the portal with its first state (HubSpot's default pipelines unless given), once. True when it was new. */
export async function seedPortal(
  repo: Repository,
  portalId: number,
  now: number,
  start: PortalStarter = defaultStart,
): Promise<boolean> {
  if (!(await repo.ensurePortal(portalId, now))) return false;
  await start(repo, portalId, now);
  return true;
}
