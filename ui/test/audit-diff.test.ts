import { describe, expect, it } from 'vitest';

import { auditTimeline, diffObjects } from '../src/audit-diff.js';
import type { AuditEntry } from '../src/model.js';

const entry = (action: string, timestamp: string, raw: unknown): AuditEntry => ({
  portalId: 1,
  identifier: '1:10',
  action,
  timestamp,
  message: `${action} message`,
  rawObject: typeof raw === 'string' ? raw : JSON.stringify(raw),
  fromUserId: 1,
});

describe('diffObjects', () => {
  it('lists changed, added and removed fields with dotted paths', () => {
    const before = { label: 'Open', displayOrder: 0, metadata: { probability: '0.2', isClosed: 'false' } };
    const after = {
      label: 'Qualified',
      displayOrder: 0,
      metadata: { probability: '0.4', isClosed: 'false' },
      archived: false,
    };
    expect(diffObjects(before, after)).toEqual([
      { path: 'label', kind: 'changed', before: 'Open', after: 'Qualified' },
      { path: 'metadata.probability', kind: 'changed', before: '0.2', after: '0.4' },
      { path: 'archived', kind: 'added', after: false },
    ]);
    expect(diffObjects(after, before)).toContainEqual({ path: 'archived', kind: 'removed', before: false });
  });

  it('compares a pipeline’s stages by id, whatever their position', () => {
    const before = {
      label: 'P',
      stages: [
        { id: '1', label: 'A' },
        { id: '2', label: 'B' },
      ],
    };
    const after = {
      label: 'P',
      stages: [
        { id: '2', label: 'B2' },
        { id: '3', label: 'C' },
      ],
    };
    expect(diffObjects(before, after)).toEqual([
      { path: 'stages[id=2].label', kind: 'changed', before: 'B', after: 'B2' },
      { path: 'stages[id=3].id', kind: 'added', after: '3' },
      { path: 'stages[id=3].label', kind: 'added', after: 'C' },
      { path: 'stages[id=1].id', kind: 'removed', before: '1' },
      { path: 'stages[id=1].label', kind: 'removed', before: 'A' },
    ]);
  });

  it('treats other arrays and empty objects as values', () => {
    expect(diffObjects({ tags: [1, 2], metadata: {} }, { tags: [1, 3], metadata: {} })).toEqual([
      { path: 'tags', kind: 'changed', before: [1, 2], after: [1, 3] },
    ]);
  });

  it('finds nothing between equal objects', () => {
    expect(diffObjects({ a: 1, b: { c: [1] } }, { a: 1, b: { c: [1] } })).toEqual([]);
  });
});

describe('auditTimeline', () => {
  it('keeps the API’s newest-first order and diffs each version against the one before it', () => {
    const trail = [
      entry('UPDATE', '2026-01-03T00:00:00.000Z', { label: 'Two', displayOrder: 1 }),
      entry('UPDATE', '2026-01-02T00:00:00.000Z', { label: 'One', displayOrder: 1 }),
      entry('CREATE', '2026-01-01T00:00:00.000Z', { label: 'One', displayOrder: 0 }),
    ];
    const timeline = auditTimeline(trail);
    expect(timeline.map((v) => v.entry.action)).toEqual(['UPDATE', 'UPDATE', 'CREATE']);
    expect(timeline[0]?.changes).toEqual([{ path: 'label', kind: 'changed', before: 'One', after: 'Two' }]);
    expect(timeline[1]?.changes).toEqual([{ path: 'displayOrder', kind: 'changed', before: 0, after: 1 }]);
    expect(timeline[2]?.changes.map((c) => c.kind)).toEqual(['added', 'added']);
  });

  it('orders entries of the same millisecond as the API does', () => {
    const trail = [
      entry('UPDATE', '2026-01-01T00:00:00.000Z', { label: 'C' }),
      entry('UPDATE', '2026-01-01T00:00:00.000Z', { label: 'B' }),
      entry('CREATE', '2026-01-01T00:00:00.000Z', { label: 'A' }),
    ];
    expect(auditTimeline(trail)[0]?.changes).toEqual([
      { path: 'label', kind: 'changed', before: 'B', after: 'C' },
    ]);
  });

  it('survives a rawObject that is not JSON', () => {
    const timeline = auditTimeline([entry('UPDATE', '2026-01-02T00:00:00.000Z', '{oops')]);
    expect(timeline[0]?.object).toBeUndefined();
    expect(timeline[0]?.changes).toEqual([]);
  });
});
