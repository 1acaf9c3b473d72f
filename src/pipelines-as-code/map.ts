/**
 * Source ids → target ids, per object type, for pipelines and stages: what an integration that
 * hard-codes ids needs to move from one portal to another. An id the target does not have yet
 * maps to null.
 */
import type { Plan } from './plan.js';

export type IdMap = Record<
  string,
  { pipelines: Record<string, string | null>; stages: Record<string, string | null> }
>;

/** The map the plan knows before anything is applied: matched items, and null for creates. */
export function emptyIdMap(plan: Plan): IdMap {
  const map: IdMap = {};
  for (const type of plan.types) {
    if (type.skipped !== undefined) continue;
    const entry = {
      pipelines: {} as Record<string, string | null>,
      stages: {} as Record<string, string | null>,
    };
    for (const p of type.pipelines) {
      if (p.sourceId === undefined) continue;
      entry.pipelines[p.sourceId] = p.targetId ?? null;
      for (const s of p.pipeline?.stages ?? []) entry.stages[s.id] = null;
      for (const s of p.stages) if (s.sourceId !== undefined) entry.stages[s.sourceId] = s.targetId ?? null;
    }
    map[type.objectType] = entry;
  }
  return map;
}

export function recordId(
  map: IdMap,
  objectType: string,
  kind: 'pipelines' | 'stages',
  sourceId: string,
  targetId: string,
): void {
  (map[objectType] ??= { pipelines: {}, stages: {} })[kind][sourceId] = targetId;
}

export const formatIdMap = (map: IdMap): string => `${JSON.stringify(map, null, 2)}\n`;
