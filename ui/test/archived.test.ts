import { describe, expect, it } from 'vitest';

import { archivedInSnapshot } from '../src/archived.js';

const pipeline = (id: string, label: string, archivedAt?: string) => ({
  id,
  label,
  displayOrder: 0,
  stages: [],
  ...(archivedAt === undefined ? {} : { archivedAt }),
});

describe('archivedInSnapshot', () => {
  const snapshot = {
    objectTypes: {
      deals: {
        pipelines: [
          pipeline('1', 'Live'),
          pipeline('2', 'Zeta', '2026-01-02T00:00:00.000Z'),
          pipeline('3', 'Alpha', '2026-01-03T00:00:00.000Z'),
        ],
      },
      tickets: { pipelines: [pipeline('4', 'Support', '2026-01-04T00:00:00.000Z')] },
    },
  };

  it("lists the type's pipelines that carry archivedAt, by label", () => {
    expect(archivedInSnapshot(snapshot, 'deals')).toEqual([
      { id: '3', label: 'Alpha' },
      { id: '2', label: 'Zeta' },
    ]);
    expect(archivedInSnapshot(snapshot, 'tickets')).toEqual([{ id: '4', label: 'Support' }]);
  });

  it('finds none for a type the snapshot does not hold, or a malformed answer', () => {
    expect(archivedInSnapshot(snapshot, 'orders')).toEqual([]);
    expect(archivedInSnapshot(undefined, 'deals')).toEqual([]);
    expect(archivedInSnapshot({ objectTypes: { deals: { pipelines: 'no' } } }, 'deals')).toEqual([]);
  });
});
