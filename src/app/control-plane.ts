/**
 * The emulator control plane's use cases, each on one portal: its starting state and resets,
 * seeds, snapshots and restores (each one transaction), its clock, its faults and its journal.
 */
import { readFile } from 'node:fs/promises';

import type { Actor } from '../domain/model.js';
import type { Repository, Store } from '../domain/ports.js';
import { SeedError, parseSeedText } from '../seed/seed-document.js';
import type { SeedDocument } from '../seed/seed-document.js';
import { FaultRegistry } from './faults.js';
import { Journal } from './journal.js';
import { applyDocument, checkPipelines, mergeDocuments, readDocument } from './portal-state.js';
import { PortalClocks } from './portal-clocks.js';

/** Reads and checks a seed file; a SeedError names the file, the line and the path. */
export async function loadSeedFile(file: string): Promise<SeedDocument> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new SeedError([], `cannot be read: ${(err as Error).message}`, { file });
  }
  const { document, locate } = parseSeedText(text, file);
  try {
    checkPipelines(document);
  } catch (err) {
    throw err instanceof SeedError ? locate(err) : err;
  }
  return document;
}

const NO_SEED: SeedDocument = Object.freeze({ objectTypes: Object.freeze({}) });

export interface ControlPlaneOptions {
  /** The state every new portal starts from (open mode's `--seed`); HubSpot's defaults if absent. */
  readonly seed?: SeedDocument;
  readonly journalSize?: number;
  /** The system clock. */
  readonly clock?: () => number;
}

export class ControlPlane {
  readonly faults = new FaultRegistry();
  readonly journal: Journal;
  readonly clocks: PortalClocks;
  private readonly seed: SeedDocument | undefined;
  /** The portal seed last read, parsed. */
  private lastSeed: { readonly text: string; readonly doc: SeedDocument } | undefined;

  constructor(
    private readonly store: Store,
    options: ControlPlaneOptions = {},
  ) {
    this.seed = options.seed;
    this.journal = new Journal(options.journalSize);
    this.clocks = new PortalClocks(options.clock ?? Date.now);
  }

  /** A new portal's first state, in the transaction that creates it. */
  readonly startPortal = async (repo: Repository, portalId: number, now: number): Promise<void> => {
    await applyDocument(repo, portalId, this.seed ?? NO_SEED, 'start', now);
  };

  private async startingState(repo: Repository, portalId: number): Promise<SeedDocument | undefined> {
    const own = await repo.portalSeed(portalId);
    if (own === undefined) return this.seed;
    // A test suite resets the same portal over and over: its document is parsed once.
    if (this.lastSeed?.text !== own) this.lastSeed = { text: own, doc: JSON.parse(own) as SeedDocument };
    return this.lastSeed.doc;
  }

  /** One write transaction on the actor's portal (which it creates in open mode, if new). */
  private write<T>(actor: Actor, work: (repo: Repository, now: number) => Promise<T>): Promise<T> {
    const { portalId } = actor;
    return this.store.write((repo) => work(repo, this.clocks.now(portalId)), { portalId, actor });
  }

  /**
   * Open mode: creates the actor's portal when its token has only read so far, before a change
   * kept in this process (a fault, the clock), so that those stay bounded by `--max-portals`.
   */
  async ensurePortal(actor: Actor): Promise<void> {
    if (actor.unseenTokenHash !== undefined) await this.write(actor, async () => undefined);
  }

  /** Back to the starting state: audit emptied, generated ids starting over. */
  reset(actor: Actor): Promise<void> {
    const { portalId } = actor;
    return this.write(actor, async (repo, now) => {
      await applyDocument(
        repo,
        portalId,
        (await this.startingState(repo, portalId)) ?? NO_SEED,
        'start',
        now,
      );
    });
  }

  /** Replaces the types the document lists, which become part of the portal's starting state. */
  applySeed(actor: Actor, doc: SeedDocument): Promise<void> {
    const { portalId } = actor;
    return this.write(actor, async (repo, now) => {
      const starting = mergeDocuments(await this.startingState(repo, portalId), doc, portalId);
      await applyDocument(repo, portalId, doc, 'seed', now);
      await repo.setPortalSeed(portalId, JSON.stringify(starting));
    });
  }

  /**
   * Tokens mode's `--seed-portal`: the portal starts from the document, once. True when applied
   * (the portal was new, or created by this start's bootstrap).
   */
  async seedPortalOnce(portalId: number, doc: SeedDocument, isNew: boolean): Promise<boolean> {
    if (!isNew) return false;
    return this.write({ portalId, userId: 0 }, async (repo, now) => {
      await repo.ensurePortal(portalId, now);
      if ((await repo.portalSeed(portalId)) !== undefined) return false;
      await applyDocument(repo, portalId, doc, 'start', now);
      await repo.setPortalSeed(portalId, JSON.stringify(mergeDocuments(undefined, doc, portalId)));
      return true;
    });
  }

  snapshot(portalId: number): Promise<SeedDocument> {
    return this.store.read((repo) => readDocument(repo, portalId));
  }

  /** The portal becomes exactly the snapshot; its starting state is left as it was. */
  restore(actor: Actor, doc: SeedDocument): Promise<void> {
    const { portalId } = actor;
    return this.write(actor, (repo, now) => applyDocument(repo, portalId, doc, 'restore', now));
  }
}
