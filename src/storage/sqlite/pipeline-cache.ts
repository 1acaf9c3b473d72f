import type { Pipeline, Stage } from '../../domain/model.js';

/**
 * Live pipelines (with their live stages) as the repository last read or wrote them, so a
 * write does not re-read the pipeline it checks its rules against. It is exact only because
 * every write of this connection goes through it: saved stages are applied to the cached
 * pipeline, a saved pipeline drops its entry, and a rolled-back savepoint restores what it
 * changed. The store empties it when another connection has committed.
 *
 * Entries are frozen: callers share them, and an updater that mutated one would corrupt it.
 */
export class PipelineCache {
  private readonly entries = new Map<string, Pipeline>();
  /** What the open savepoint changed: key → the entry before (undefined: there was none). */
  private undo: Map<string, Pipeline | undefined> | undefined;

  constructor(private readonly maxEntries: number) {}

  static key(portalId: number, typeKey: string, pipelineId: string): string {
    return `${portalId}\u0000${typeKey}\u0000${pipelineId}`;
  }

  get(key: string): Pipeline | undefined {
    return this.entries.get(key);
  }

  set(key: string, pipeline: Pipeline): Pipeline {
    this.remember(key);
    if (this.entries.size >= this.maxEntries && !this.entries.has(key)) {
      // Oldest first; a missing entry only costs a query.
      const oldest = this.entries.keys().next().value as string;
      this.entries.delete(oldest);
    }
    const frozen = freezePipeline(pipeline);
    this.entries.set(key, frozen);
    return frozen;
  }

  drop(key: string): void {
    if (!this.entries.has(key)) return;
    this.remember(key);
    this.entries.delete(key);
  }

  /** Drops the cached pipelines of a portal, of the given types or of every type. */
  dropPortal(portalId: number, typeKeys?: readonly string[]): void {
    const prefixes =
      typeKeys === undefined
        ? [`${portalId}\u0000`]
        : typeKeys.map((typeKey) => `${portalId}\u0000${typeKey}\u0000`);
    for (const key of [...this.entries.keys()]) {
      if (prefixes.some((prefix) => key.startsWith(prefix))) this.drop(key);
    }
  }

  /** Saved stages (as stored) replace their namesakes; archived ones leave the live list. */
  applyStages(key: string, saved: readonly Stage[]): void {
    const cached = this.entries.get(key);
    if (cached === undefined) return;
    const ids = new Set(saved.map((s) => s.id));
    const stages = cached.stages.filter((s) => !ids.has(s.id));
    for (const s of saved) if (s.archivedAt === null) stages.push(s);
    this.set(key, { ...cached, stages });
  }

  beginSavepoint(): void {
    this.undo = new Map();
  }

  releaseSavepoint(): void {
    this.undo = undefined;
  }

  rollbackSavepoint(): void {
    for (const [key, before] of this.undo ?? []) {
      if (before === undefined) this.entries.delete(key);
      else this.entries.set(key, before);
    }
    this.undo = undefined;
  }

  clear(): void {
    this.entries.clear();
    this.undo = undefined;
  }

  private remember(key: string): void {
    if (this.undo !== undefined && !this.undo.has(key)) this.undo.set(key, this.entries.get(key));
  }
}

function freezePipeline(pipeline: Pipeline): Pipeline {
  for (const stage of pipeline.stages) {
    Object.freeze(stage.metadata);
    Object.freeze(stage);
  }
  Object.freeze(pipeline.stages);
  return Object.freeze(pipeline);
}
