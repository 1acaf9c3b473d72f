/**
 * `pipelines pull`: a portal's pipelines as a seed document, with keys and items in a stable
 * order (types by name, pipelines and stages as HubSpot orders them, metadata keys sorted), so
 * that two pulls of the same portal are the same text and a change diffs cleanly in git.
 */
import { stringify } from 'yaml';

import type {
  SeedDocument,
  SeedObjectType,
  SeedPipeline,
  SeedRecord,
  SeedStage,
} from '../seed/seed-document.js';
import { apiFailure, failureText } from './client.js';
import type { Pipeline, PipelineStage, PipelinesPort } from './client.js';
import { computePlan, plannedTypes } from './plan.js';
import type { CurrentType, Plan } from './plan.js';

/** HubSpot's order: displayOrder, then label; the id settles what is left. */
const byOrder = <T extends { displayOrder: number; label: string; id: string }>(a: T, b: T): number =>
  a.displayOrder - b.displayOrder || a.label.localeCompare(b.label) || a.id.localeCompare(b.id);

const sortedEntries = <V>(record: Readonly<Record<string, V>>): [string, V][] =>
  Object.entries(record).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));

function seedStage(stage: PipelineStage): SeedStage {
  const metadata = Object.fromEntries(sortedEntries(stage.metadata ?? {}));
  return { id: stage.id, label: stage.label, displayOrder: stage.displayOrder, metadata };
}

export function seedPipeline(pipeline: Pipeline): SeedPipeline {
  return {
    id: pipeline.id,
    label: pipeline.label,
    displayOrder: pipeline.displayOrder,
    stages: pipeline.stages
      .filter((s) => !s.archived)
      .sort(byOrder)
      .map(seedStage),
  };
}

export interface PullOptions {
  readonly types: readonly string[];
  /** Reads a type's records (pipeline and stage of each); absent: no records. */
  readonly records?: (objectType: string) => Promise<SeedRecord[]>;
  /** Told about a type the portal refused (it is left out of the document). */
  readonly onRefused?: (objectType: string, message: string) => void;
}

export async function pullDocument(port: PipelinesPort, options: PullOptions): Promise<SeedDocument> {
  const types = [...new Set(options.types)].sort();
  const current = await readCurrent(port, types);
  const objectTypes: Record<string, SeedObjectType> = {};
  for (const type of types) {
    const state = current.get(type)!;
    if ('refused' in state) {
      options.onRefused?.(type, state.refused);
      continue;
    }
    const entry: { pipelines: SeedPipeline[]; records?: SeedRecord[] } = { pipelines: [...state.pipelines] };
    if (options.records !== undefined) {
      entry.records = (await options.records(type)).sort((a, b) => Number(a.id) - Number(b.id));
    }
    objectTypes[type] = entry;
  }
  return { version: 1, objectTypes };
}

/** The document as file text: JSON for a `.json` file, YAML otherwise. */
export function formatDocument(doc: SeedDocument, file?: string): string {
  if (file !== undefined && /\.json$/i.test(file)) return `${JSON.stringify(doc, null, 2)}\n`;
  return stringify(doc, { lineWidth: 0 });
}

/** The current pipelines of each type, or why the portal refused to list them. */
export async function readCurrent(
  port: PipelinesPort,
  types: readonly string[],
): Promise<Map<string, CurrentType>> {
  const current = new Map<string, CurrentType>();
  for (const type of types) {
    try {
      const pipelines = (await port.list(type)).filter((p) => !p.archived).sort(byOrder);
      current.set(type, { pipelines: pipelines.map(seedPipeline) });
    } catch (err) {
      const failure = apiFailure(err);
      // A type the portal does not know or lets this token see is skipped; anything else is an error.
      if (failure === undefined || failure.code >= 500 || failure.code === 401 || failure.code === 429)
        throw err;
      current.set(type, {
        refused: `the portal refused it: ${failureText(failure)}`,
      });
    }
  }
  return current;
}

/** The plan that makes the portal match the document: only reads. */
export async function planAgainst(port: PipelinesPort, desired: SeedDocument): Promise<Plan> {
  return computePlan(desired, await readCurrent(port, plannedTypes(desired)));
}
