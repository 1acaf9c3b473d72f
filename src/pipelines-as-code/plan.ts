/**
 * The plan: what it takes to make a portal's pipelines match a seed document. Pure: the desired
 * document and the portal's current pipelines in, the steps out.
 *
 * Matching: by id first, then by label (case-insensitive, trimmed) among what is left of the
 * type (stages: of the pipeline). A matched item whose label differs is a rename; a pipeline
 * matched by id with nothing else in common carries a warning.
 */
import { DEFAULT_PIPELINES } from '../domain/default-pipelines.js';
import { resolveObjectType } from '../domain/object-types.js';
import { labelKey } from '../domain/pipeline-rules.js';
import type { ObjectType } from '../domain/object-types.js';
import type { SeedDocument, SeedObjectType, SeedPipeline, SeedStage } from '../seed/seed-document.js';

type Value = string | number | boolean;

export interface FieldChange {
  /** `label`, `displayOrder` or `metadata.<key>`. */
  readonly field: string;
  readonly before: Value | undefined;
  readonly after: Value;
}

export type StepAction = 'create' | 'update' | 'reorder' | 'archive' | 'none';

export interface StageStep {
  readonly action: StepAction;
  readonly label: string;
  /** The id in the document; absent on an archive. */
  readonly sourceId?: string;
  /** The id in the portal; absent on a create. */
  readonly targetId?: string;
  readonly changes: readonly FieldChange[];
  /** The stage to create. */
  readonly stage?: SeedStage;
}

export interface PipelineStep {
  /** `update` when a field other than displayOrder or any stage changes. */
  readonly action: StepAction;
  readonly label: string;
  readonly sourceId?: string;
  readonly targetId?: string;
  readonly changes: readonly FieldChange[];
  readonly stages: readonly StageStep[];
  /** The pipeline to create. */
  readonly pipeline?: SeedPipeline;
  /** Why the match may pair unrelated pipelines (the same id, nothing else in common). */
  readonly warning?: string;
}

export interface TypePlan {
  readonly objectType: string;
  /** Why the type is left alone (a lifecycle pipeline, a type the portal refused). */
  readonly skipped?: string;
  readonly pipelines: readonly PipelineStep[];
}

export interface Plan {
  readonly types: readonly TypePlan[];
}

/** A type's current pipelines, or why the portal would not list them. */
export type CurrentType = { readonly pipelines: readonly SeedPipeline[] } | { readonly refused: string };

/** The type as Stageline knows it; undefined for a type only the target can tell about. */
function knownType(objectType: string): ObjectType | undefined {
  try {
    return resolveObjectType(objectType, 0);
  } catch {
    return undefined;
  }
}

/** Contacts' and companies' lifecycle pipelines: HubSpot does not let them be written. */
export const isLifecycleType = (objectType: string): boolean => knownType(objectType)?.readOnly === true;

/** The ids of HubSpot's default pipelines of the type (`default` for deals, `0` for tickets). */
function defaultPipelineIds(objectType: string): Set<string> {
  const type = knownType(objectType);
  return new Set(DEFAULT_PIPELINES.filter((d) => d.type.key === type?.key).map((d) => d.pipeline.id));
}

/**
 * Pairs each wanted item with a current one: by id, then by label among the unpaired. Returns
 * the pairs in the wanted order and the current items nobody wanted.
 */
function match<W extends { id: string; label: string }, C extends { id: string; label: string }>(
  wanted: readonly W[],
  current: readonly C[],
): { pairs: [W, C | undefined][]; unwanted: C[] } {
  const free = new Map(current.map((c) => [c.id, c]));
  const byId = wanted.map((w) => {
    const found = free.get(w.id);
    if (found !== undefined) free.delete(w.id);
    return found;
  });
  const pairs = wanted.map((w, i): [W, C | undefined] => {
    const paired = byId[i];
    if (paired !== undefined) return [w, paired];
    const sameLabel = [...free.values()].find((c) => labelKey(c.label) === labelKey(w.label));
    if (sameLabel !== undefined) free.delete(sameLabel.id);
    return [w, sameLabel];
  });
  return { pairs, unwanted: [...free.values()] };
}

/** Numbers compare as numbers (`1` and `"1.0"` are the same probability), the rest as text. */
function same(a: Value | undefined, b: Value): boolean {
  if (a === undefined) return false;
  const [x, y] = [String(a), String(b)];
  if (x === y) return true;
  const [n, m] = [Number(x), Number(y)];
  return x.trim() !== '' && y.trim() !== '' && Number.isFinite(n) && Number.isFinite(m) && n === m;
}

function fieldChanges(
  wanted: { label: string; displayOrder: number; metadata?: Readonly<Record<string, Value>> },
  current: { label: string; displayOrder: number; metadata?: Readonly<Record<string, Value>> },
): FieldChange[] {
  const changes: FieldChange[] = [];
  if (wanted.label !== current.label)
    changes.push({ field: 'label', before: current.label, after: wanted.label });
  if (wanted.displayOrder !== current.displayOrder) {
    changes.push({ field: 'displayOrder', before: current.displayOrder, after: wanted.displayOrder });
  }
  // Keys the document leaves out stay as they are: HubSpot merges metadata key by key.
  for (const [key, after] of Object.entries(wanted.metadata ?? {}).sort(([a], [b]) => a.localeCompare(b))) {
    const before = current.metadata?.[key];
    if (!same(before, after)) changes.push({ field: `metadata.${key}`, before, after });
  }
  return changes;
}

const actionOf = (changes: readonly FieldChange[]): StepAction =>
  changes.length === 0 ? 'none' : changes.every((c) => c.field === 'displayOrder') ? 'reorder' : 'update';

function stageSteps(wanted: readonly SeedStage[], current: readonly SeedStage[]): StageStep[] {
  const { pairs, unwanted } = match(wanted, current);
  const steps = pairs.map(([w, c]): StageStep => {
    if (c === undefined) return { action: 'create', label: w.label, sourceId: w.id, changes: [], stage: w };
    const changes = fieldChanges(w, c);
    return { action: actionOf(changes), label: w.label, sourceId: w.id, targetId: c.id, changes };
  });
  return [
    ...steps,
    ...unwanted.map((c): StageStep => ({ action: 'archive', label: c.label, targetId: c.id, changes: [] })),
  ];
}

/**
 * Two portals that generate ids from the same start (two Stagelines) give unrelated pipelines the
 * same ids: an id match whose label and stage labels all differ is flagged, still matched by id.
 */
function idOnlyMatch(wanted: SeedPipeline, current: SeedPipeline): string | undefined {
  if (wanted.id !== current.id || labelKey(wanted.label) === labelKey(current.label)) return undefined;
  const labels = new Set(current.stages.map((s) => labelKey(s.label)));
  if (wanted.stages.some((s) => labels.has(labelKey(s.label)))) return undefined;
  return `matched by id ${current.id} alone: "${current.label}" shares neither its label nor a stage label with "${wanted.label}"; if they are unrelated pipelines that happen to share an id, this rewrites one into the other`;
}

function typePlan(objectType: string, entry: SeedObjectType, current: CurrentType): TypePlan {
  const wanted = entry.pipelines ?? [];
  if (isLifecycleType(objectType)) {
    return { objectType, skipped: 'lifecycle pipelines are read-only in HubSpot', pipelines: [] };
  }
  if ('refused' in current) return { objectType, skipped: current.refused, pipelines: [] };
  const { pairs, unwanted } = match(wanted, current.pipelines);
  const steps = pairs.map(([w, c]): PipelineStep => {
    if (c === undefined) {
      return { action: 'create', label: w.label, sourceId: w.id, changes: [], stages: [], pipeline: w };
    }
    const changes = fieldChanges(w, c);
    const stages = stageSteps(w.stages, c.stages);
    const own = actionOf(changes);
    const action = stages.some((s) => s.action !== 'none') ? 'update' : own;
    const warning = idOnlyMatch(w, c);
    return {
      action,
      label: w.label,
      sourceId: w.id,
      targetId: c.id,
      changes,
      stages,
      ...(warning === undefined ? {} : { warning }),
    };
  });
  // keepDefaultPipelines: HubSpot's default pipelines stay beside the listed ones.
  const kept = entry.keepDefaultPipelines === true ? defaultPipelineIds(objectType) : new Set<string>();
  const archives = unwanted
    .filter((c) => !kept.has(c.id))
    .map((c): PipelineStep => ({
      action: 'archive',
      label: c.label,
      targetId: c.id,
      changes: [],
      stages: [],
    }));
  return { objectType, pipelines: [...steps, ...archives] };
}

/** The plan for every type the document lists pipelines of. */
export function computePlan(desired: SeedDocument, current: ReadonlyMap<string, CurrentType>): Plan {
  const types = Object.entries(desired.objectTypes)
    .filter(([, entry]) => entry.pipelines !== undefined)
    .map(([objectType, entry]) => typePlan(objectType, entry, current.get(objectType) ?? { pipelines: [] }));
  return { types };
}

/** The types the plan needs the current pipelines of. */
export const plannedTypes = (desired: SeedDocument): string[] =>
  Object.entries(desired.objectTypes)
    .filter(([type, entry]) => entry.pipelines !== undefined && !isLifecycleType(type))
    .map(([type]) => type);

export interface PlanCounts {
  readonly create: number;
  readonly update: number;
  readonly reorder: number;
  readonly archive: number;
}

/** Pipelines and stages per action; a pipeline's stages count on their own. */
export function countPlan(plan: Plan): PlanCounts {
  const counts = { create: 0, update: 0, reorder: 0, archive: 0 };
  for (const type of plan.types) {
    for (const p of type.pipelines) {
      if (p.action !== 'none' && !(p.action === 'update' && p.changes.length === 0)) counts[p.action]++;
      for (const s of p.stages) if (s.action !== 'none') counts[s.action]++;
    }
  }
  return counts;
}

export const hasChanges = (plan: Plan): boolean =>
  plan.types.some((t) => t.pipelines.some((p) => p.action !== 'none'));

/** The plan's warnings, each as `type/label: warning`. */
export const planWarnings = (plan: Plan): string[] =>
  plan.types.flatMap((t) =>
    t.pipelines.flatMap((p) => (p.warning === undefined ? [] : [`${t.objectType}/${p.label}: ${p.warning}`])),
  );

/** Each wanted step whose label an archived step of the same list holds, with that holder. */
function heldLabels<T extends { action: StepAction; label: string }>(steps: readonly T[]): [T, T][] {
  const archived = new Map(steps.filter((s) => s.action === 'archive').map((s) => [labelKey(s.label), s]));
  return steps.flatMap((s): [T, T][] => {
    const holder = s.action === 'archive' ? undefined : archived.get(labelKey(s.label));
    return holder === undefined ? [] : [[s, holder]];
  });
}

/**
 * The labels the plan gives a pipeline or stage that an item the plan archives holds: without
 * `--prune` that item stays, and HubSpot refuses two live items of one label (two pipelines of a
 * type, two stages of a pipeline). Each as `type/pipeline label: …`.
 */
export function labelsHeldByArchives(plan: Plan): string[] {
  return plan.types.flatMap((t) => [
    ...heldLabels(t.pipelines).map(
      ([p, holder]) =>
        `${t.objectType}/${p.label}: pipeline ${String(holder.targetId)} holds this label and the file leaves it out`,
    ),
    ...t.pipelines
      .filter((p) => p.action !== 'archive')
      .flatMap((p) =>
        heldLabels(p.stages).map(
          ([st, holder]) =>
            `${t.objectType}/${p.label}: stage ${String(holder.targetId)} holds the label "${st.label}" and the file leaves it out`,
        ),
      ),
  ]);
}
