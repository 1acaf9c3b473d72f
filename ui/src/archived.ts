/**
 * Archived pipelines and stages, found through the public API. Its lists hold only live ones,
 * but audit trails outlive archiving: a pipeline's trail names the stages it ever had, and the
 * last entry of a stage's or a pipeline's own trail says whether it is archived now.
 * Pipelines can only be found that way by id: those this tab archived (kept in sessionStorage).
 * Where the control plane is on, its snapshot lists every archived pipeline, however it was archived.
 */
import type { Api } from './api.js';
import type { AuditEntry, Pipeline } from './model.js';
import type { ArchivedItem } from './controls.js';

interface Labelled {
  label?: unknown;
  stages?: unknown;
}

const parse = (entry: AuditEntry | undefined): Labelled | undefined => {
  if (entry === undefined) return undefined;
  try {
    return JSON.parse(entry.rawObject) as Labelled;
  } catch {
    return undefined;
  }
};

/** The item when its trail's newest entry (first: the API lists newest first) is a DELETE. */
function archivedFrom(id: string, trail: readonly AuditEntry[]): ArchivedItem | undefined {
  const newest = trail[0];
  if (newest?.action !== 'DELETE') return undefined;
  const raw = parse(newest);
  return { id, label: typeof raw?.label === 'string' ? raw.label : id };
}

const settle = async <T>(work: Promise<T>): Promise<T | undefined> => work.catch(() => undefined);

interface SnapshotPipeline {
  id?: unknown;
  label?: unknown;
  archivedAt?: unknown;
}

/**
 * The type's archived pipelines in a control plane snapshot (a seed document: archived items
 * carry `archivedAt`), by label.
 */
export function archivedInSnapshot(snapshot: unknown, type: string): ArchivedItem[] {
  const doc = snapshot as { objectTypes?: Record<string, { pipelines?: unknown }> } | undefined;
  const pipelines = doc?.objectTypes?.[type]?.pipelines;
  if (!Array.isArray(pipelines)) return [];
  return (pipelines as SnapshotPipeline[])
    .filter((p) => typeof p.id === 'string' && typeof p.archivedAt === 'string')
    .map((p) => ({ id: p.id as string, label: typeof p.label === 'string' ? p.label : (p.id as string) }))
    .sort((a, b) => a.label.localeCompare(b.label));
}

export async function findArchivedPipelines(
  api: Api,
  type: string,
  ids: readonly string[],
): Promise<ArchivedItem[]> {
  const found = await Promise.all(
    ids.map(async (id) => {
      const trail = await settle(api.pipelineAudit(type, id));
      return trail === undefined ? undefined : archivedFrom(id, trail);
    }),
  );
  return found.filter((x): x is ArchivedItem => x !== undefined);
}

export async function findArchivedStages(
  api: Api,
  type: string,
  pipeline: Pipeline,
  remembered: readonly string[],
): Promise<ArchivedItem[]> {
  const live = new Set(pipeline.stages.map((s) => s.id));
  const candidates = new Set(remembered);
  const trail = (await settle(api.pipelineAudit(type, pipeline.id))) ?? [];
  for (const entry of trail) {
    const stages = parse(entry)?.stages;
    if (!Array.isArray(stages)) continue;
    for (const s of stages as { id?: unknown }[]) if (typeof s.id === 'string') candidates.add(s.id);
  }
  const found = await Promise.all(
    [...candidates]
      .filter((id) => !live.has(id))
      .map(async (id) => {
        const stageTrail = await settle(api.stageAudit(type, pipeline.id, id));
        return stageTrail === undefined ? undefined : archivedFrom(id, stageTrail);
      }),
  );
  return found.filter((x): x is ArchivedItem => x !== undefined);
}
