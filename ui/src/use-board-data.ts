/**
 * A board's data: the type's pipelines, its records and the portal's owners, loaded through the
 * public API page after page, the board usable from the first page on.
 */
import { startTransition, useCallback, useEffect, useRef, useState } from 'react';
import type { Dispatch, SetStateAction } from 'react';

import type { Api, Preloaded } from './api.js';
import { ENTERED_CURRENT_STAGE, OWNER_PROPERTY } from './model.js';
import type { CrmRecord, ObjectTypeInfo, Owner, Pipeline } from './model.js';

/** The properties a card shows, and those the board groups records by. */
export const cardProperties = (type: ObjectTypeInfo): string[] =>
  [
    type.nameProperty,
    type.hasAmount ? 'amount' : undefined,
    type.pipelineProperty ?? undefined,
    type.stageProperty,
    OWNER_PROPERTY,
    ENTERED_CURRENT_STAGE,
  ].filter((p): p is string => p !== undefined);

/** Resolves once the browser has painted what is pending. */
const afterNextPaint = (): Promise<void> =>
  new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0)));

/** How often cards are redrawn while later pages of records arrive. */
const RECORDS_DRAWN_EVERY_MS = 750;

const ownerName = (o: Owner): string => [o.firstName, o.lastName].filter(Boolean).join(' ') || o.email;

const ownerNames = (owners: readonly Owner[]): ReadonlyMap<string, string> =>
  new Map(owners.map((o) => [o.id, ownerName(o)]));

export interface BoardData {
  pipelines: Pipeline[] | undefined;
  setPipelines: Dispatch<SetStateAction<Pipeline[] | undefined>>;
  records: CrmRecord[] | undefined;
  /** False while later pages of records are still coming: the board is usable meanwhile. */
  complete: boolean;
  owners: ReadonlyMap<string, string>;
  /** Puts a record changed here in place; pages still arriving will not undo it. */
  putRecord(record: CrmRecord): void;
}

/**
 * Loads `type`'s board (again when `reload` changes), starting from `preloaded` when it was made
 * for that type; failures go to `fail`.
 */
export function useBoardData(
  api: Api,
  type: ObjectTypeInfo,
  preloaded: Preloaded | undefined,
  fail: (err: unknown) => void,
  reload: number,
): BoardData {
  // Taken by the first load of the type it was made for.
  const seed = useRef(preloaded?.type === type.name ? preloaded : undefined);
  const [pipelines, setPipelines] = useState<Pipeline[] | undefined>(seed.current?.pipelines);
  const [records, setRecords] = useState<CrmRecord[] | undefined>(seed.current?.first.records);
  const [complete, setComplete] = useState(
    seed.current !== undefined && seed.current.first.after === undefined,
  );
  const [owners, setOwners] = useState<ReadonlyMap<string, string>>(() =>
    ownerNames(seed.current?.owners ?? []),
  );
  /** Records changed here while later pages were loading: they win over the pages' copies. */
  const changed = useRef(new Map<string, CrmRecord>());

  const putRecord = useCallback((next: CrmRecord) => {
    changed.current.set(next.id, next);
    setRecords((list) => list?.map((r) => (r.id === next.id ? next : r)));
  }, []);

  useEffect(() => {
    let live = true;
    const from = seed.current;
    seed.current = undefined;
    if (from === undefined) {
      setPipelines(undefined);
      setRecords(undefined);
      setComplete(false);
    }
    changed.current = new Map();
    const withChanges = (list: readonly CrmRecord[]) => list.map((r) => changed.current.get(r.id) ?? r);
    const listed = from === undefined ? api.pipelines(type.name) : Promise.resolve(from.pipelines);
    const named =
      from === undefined
        ? api.owners().then(ownerNames, () => new Map<string, string>())
        : Promise.resolve(ownerNames(from.owners));
    // Pipelines, owners and the first cards are drawn together, in one render (the first one,
    // when they were preloaded); later pages every so often: a render per page would keep the
    // browser drawing instead of answering.
    let drawn = from === undefined ? 0 : performance.now();
    const draw = async (list: readonly CrmRecord[], done: boolean) => {
      if (drawn === 0) {
        const [pipelineList, names] = await Promise.all([listed, named]);
        if (!live) return;
        setPipelines(pipelineList);
        setOwners(names);
      }
      const first = drawn === 0;
      drawn = performance.now();
      // Applied when rendered, so a card moved meanwhile keeps its new stage.
      const update = () => withChanges(list);
      if (first) setRecords(update);
      // Later pages are a transition: React renders them in slices and lets a key press or a
      // drag in between, so the board answers while the rest of the cards arrive.
      else startTransition(() => setRecords(update));
      if (done) startTransition(() => setComplete(true));
    };
    const progress = async (soFar: readonly CrmRecord[]) => {
      if (!live || (drawn !== 0 && performance.now() - drawn < RECORDS_DRAWN_EVERY_MS)) return;
      const first = drawn === 0;
      await draw(soFar, false);
      // The first cards are painted before the next page is asked for: on a busy machine the
      // server answering it would compete with the browser drawing them.
      if (first) await afterNextPaint();
    };
    api
      .records(type, cardProperties(type), progress, from?.first)
      .then((list) => (live ? draw(list, true) : undefined))
      .catch((err: unknown) => {
        if (live) fail(err);
      });
    return () => {
      live = false;
    };
  }, [api, type, fail, reload]);

  return { pipelines, setPipelines, records, complete, owners, putRecord };
}
