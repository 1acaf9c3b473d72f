/** The board's arithmetic, pure: stage facts, column totals, days in stage, display orders. */
import type { CrmRecord, MetadataKind, Stage } from './model.js';

export interface StageFacts {
  /** 0..1 for deal stages; undefined elsewhere. */
  probability: number | undefined;
  /** OPEN / CLOSED for tickets and state types. */
  state: string | undefined;
  closed: boolean;
}

export function stageFacts(kind: MetadataKind, stage: Pick<Stage, 'metadata'>): StageFacts {
  const m = stage.metadata;
  if (kind === 'probability') {
    const p = Number(m.probability);
    return {
      probability: m.probability === undefined || !Number.isFinite(p) ? undefined : p,
      state: undefined,
      closed: m.isClosed === 'true',
    };
  }
  const state = kind === 'ticketState' ? m.ticketState : m.state;
  return { probability: undefined, state, closed: m.isClosed === 'true' || state === 'CLOSED' };
}

export interface ColumnTotals {
  count: number;
  /** Sum of the records' amounts (records without a numeric amount count as 0). */
  amount: number;
  /** The amount weighted by the stage's probability (0 when the stage has none). */
  weighted: number;
}

/** A record's amount, or 0 when it has none or it is not a number. */
export function amountOf(record: Pick<CrmRecord, 'properties'>): number {
  const raw = record.properties.amount;
  if (raw === null || raw === undefined || raw.trim() === '') return 0;
  const n = Number(raw);
  return Number.isFinite(n) ? n : 0;
}

export function columnTotals(
  records: readonly Pick<CrmRecord, 'properties'>[],
  probability: number | undefined,
): ColumnTotals {
  let amount = 0;
  for (const r of records) amount += amountOf(r);
  // Rounded to cents: sums of decimal amounts pick up binary noise (0.1 + 0.2).
  const cents = (n: number) => Math.round(n * 100) / 100;
  return { count: records.length, amount: cents(amount), weighted: cents(amount * (probability ?? 0)) };
}

const DAY_MS = 86_400_000;

/** Whole days since the record entered its stage; undefined when the time is unknown. */
export function daysInStage(enteredAt: string | null | undefined, now: number): number | undefined {
  if (enteredAt === null || enteredAt === undefined || enteredAt === '') return undefined;
  const since = /^\d+$/.test(enteredAt) ? Number(enteredAt) : Date.parse(enteredAt);
  if (!Number.isFinite(since)) return undefined;
  return Math.max(0, Math.floor((now - since) / DAY_MS));
}

/** HubSpot's order: by displayOrder, ties alphabetically by label. */
export function byDisplayOrder<T extends { displayOrder: number; label: string }>(items: readonly T[]): T[] {
  return [...items].sort((a, b) => a.displayOrder - b.displayOrder || a.label.localeCompare(b.label));
}

/** Moves the item at `from` to `to`, shifting the ones between. */
export function moveItem<T>(items: readonly T[], from: number, to: number): T[] {
  const next = [...items];
  const [moved] = next.splice(from, 1);
  if (moved === undefined) return next;
  next.splice(to, 0, moved);
  return next;
}

export interface OrderPatch {
  id: string;
  displayOrder: number;
}

/**
 * The displayOrder changes that put `items` in the order `orderedIds` gives: each item takes its
 * index, and only items whose displayOrder changes are patched.
 */
export function displayOrderPatches(
  items: readonly { id: string; displayOrder: number }[],
  orderedIds: readonly string[],
): OrderPatch[] {
  const current = new Map(items.map((i) => [i.id, i.displayOrder]));
  const patches: OrderPatch[] = [];
  orderedIds.forEach((id, index) => {
    if (current.has(id) && current.get(id) !== index) patches.push({ id, displayOrder: index });
  });
  return patches;
}

/** Records grouped by the value of their stage property, in the given stages' order. */
export function groupByStage(
  records: readonly CrmRecord[],
  stageProperty: string,
  stageIds: readonly string[],
): Map<string, CrmRecord[]> {
  const groups = new Map<string, CrmRecord[]>(stageIds.map((id) => [id, []]));
  for (const r of records) groups.get(r.properties[stageProperty] ?? '')?.push(r);
  return groups;
}

const money = new Intl.NumberFormat('en-US', { maximumFractionDigits: 2 });

export const formatAmount = (n: number): string => money.format(n);
