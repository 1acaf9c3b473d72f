import { describe, expect, it } from 'vitest';

import {
  byDisplayOrder,
  columnTotals,
  daysInStage,
  displayOrderPatches,
  groupByStage,
  moveItem,
  stageFacts,
} from '../src/board-math.js';
import type { CrmRecord } from '../src/model.js';

const rec = (id: string, properties: Record<string, string | null>): CrmRecord => ({
  id,
  properties,
  createdAt: '2026-01-01T00:00:00.000Z',
  updatedAt: '2026-01-01T00:00:00.000Z',
});

describe('columnTotals', () => {
  it('counts records, sums amounts and weights the sum by the probability', () => {
    const records = [
      rec('1', { amount: '100' }),
      rec('2', { amount: '250.5' }),
      rec('3', { amount: '49.5' }),
    ];
    expect(columnTotals(records, 0.2)).toEqual({ count: 3, amount: 400, weighted: 80 });
  });

  it('counts records without an amount, or with a non-numeric one, as 0', () => {
    const records = [
      rec('1', {}),
      rec('2', { amount: null }),
      rec('3', { amount: 'n/a' }),
      rec('4', { amount: ' ' }),
    ];
    expect(columnTotals(records, 1)).toEqual({ count: 4, amount: 0, weighted: 0 });
  });

  it('rounds to cents, so decimal amounts add up as people expect', () => {
    expect(columnTotals([rec('1', { amount: '0.1' }), rec('2', { amount: '0.2' })], 0.3)).toEqual({
      count: 2,
      amount: 0.3,
      weighted: 0.09,
    });
  });

  it('weights by 0 when the stage has no probability (tickets, other types)', () => {
    expect(columnTotals([rec('1', { amount: '10' })], undefined)).toEqual({
      count: 1,
      amount: 10,
      weighted: 0,
    });
  });

  it('is all zeros for an empty column', () => {
    expect(columnTotals([], 0.5)).toEqual({ count: 0, amount: 0, weighted: 0 });
  });
});

describe('stageFacts', () => {
  it('reads a deal stage probability and closed flag', () => {
    expect(stageFacts('probability', { metadata: { probability: '0.4', isClosed: 'false' } })).toEqual({
      probability: 0.4,
      state: undefined,
      closed: false,
    });
    expect(stageFacts('probability', { metadata: { probability: '1.0', isClosed: 'true' } }).closed).toBe(
      true,
    );
  });

  it('reads ticket and plain states', () => {
    expect(stageFacts('ticketState', { metadata: { ticketState: 'CLOSED', isClosed: 'true' } })).toEqual({
      probability: undefined,
      state: 'CLOSED',
      closed: true,
    });
    expect(stageFacts('state', { metadata: { state: 'OPEN' } })).toEqual({
      probability: undefined,
      state: 'OPEN',
      closed: false,
    });
  });
});

describe('daysInStage', () => {
  const now = Date.parse('2026-03-10T12:00:00.000Z');
  it('counts whole days from an ISO time or epoch milliseconds', () => {
    expect(daysInStage('2026-03-07T13:00:00.000Z', now)).toBe(2);
    expect(daysInStage(String(Date.parse('2026-03-01T12:00:00.000Z')), now)).toBe(9);
  });
  it('is undefined without a time, and never negative', () => {
    expect(daysInStage(undefined, now)).toBeUndefined();
    expect(daysInStage('', now)).toBeUndefined();
    expect(daysInStage('not a date', now)).toBeUndefined();
    expect(daysInStage('2026-03-11T00:00:00.000Z', now)).toBe(0);
  });
});

describe('ordering', () => {
  const stages = [
    { id: 'a', label: 'A', displayOrder: 0 },
    { id: 'b', label: 'B', displayOrder: 1 },
    { id: 'c', label: 'C', displayOrder: 2 },
    { id: 'd', label: 'D', displayOrder: 3 },
  ];

  it('sorts by displayOrder, then label', () => {
    const tied = [
      { id: 'y', label: 'Zed', displayOrder: 1 },
      { id: 'x', label: 'Alpha', displayOrder: 1 },
      { id: 'w', label: 'Mid', displayOrder: 0 },
    ];
    expect(byDisplayOrder(tied).map((s) => s.id)).toEqual(['w', 'x', 'y']);
  });

  it('moves an item and patches only the displayOrders that change', () => {
    const moved = moveItem(stages, 3, 1).map((s) => s.id);
    expect(moved).toEqual(['a', 'd', 'b', 'c']);
    expect(displayOrderPatches(stages, moved)).toEqual([
      { id: 'd', displayOrder: 1 },
      { id: 'b', displayOrder: 2 },
      { id: 'c', displayOrder: 3 },
    ]);
  });

  it('renumbers sparse displayOrders into indexes', () => {
    const sparse = [
      { id: 'a', displayOrder: 10 },
      { id: 'b', displayOrder: 20 },
    ];
    expect(displayOrderPatches(sparse, ['b', 'a'])).toEqual([
      { id: 'b', displayOrder: 0 },
      { id: 'a', displayOrder: 1 },
    ]);
  });

  it('patches nothing when the order is unchanged', () => {
    expect(displayOrderPatches(stages, ['a', 'b', 'c', 'd'])).toEqual([]);
  });
});

describe('groupByStage', () => {
  it('puts each record under its stage and drops records of unknown stages', () => {
    const groups = groupByStage(
      [
        rec('1', { dealstage: 's2' }),
        rec('2', { dealstage: 's1' }),
        rec('3', { dealstage: 'gone' }),
        rec('4', {}),
      ],
      'dealstage',
      ['s1', 's2', 's3'],
    );
    expect([...groups.keys()]).toEqual(['s1', 's2', 's3']);
    expect(groups.get('s1')?.map((r) => r.id)).toEqual(['2']);
    expect(groups.get('s2')?.map((r) => r.id)).toEqual(['1']);
    expect(groups.get('s3')).toEqual([]);
  });
});
