// The request journal's bounds: a ring per portal, and a bounded number of portals, so that a
// stream of distinct tokens (open mode) cannot grow it without end.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { Journal, MAX_JOURNAL_PORTALS } from '../../src/app/journal.js';
import type { JournalRecord } from '../../src/app/journal.js';

const entry = (url: string): JournalRecord => ({
  method: 'GET',
  url,
  query: {},
  headers: {},
  body: null,
  status: 200,
  response: '{}',
  gzip: false,
  durationMs: 1,
  at: 0,
  correlationId: url,
  fault: null,
});

const paths = (journal: Journal, portalId: number) => journal.list(portalId).map((e) => e.path);

describe('Journal', () => {
  it('keeps the newest `size` requests of a portal, newest first', () => {
    const journal = new Journal(3);
    journal.add(1, entry('/a'));
    assert.deepEqual(paths(journal, 1), ['/a']);
    for (const p of ['/b', '/c', '/d', '/e']) journal.add(1, entry(p));
    assert.deepEqual(paths(journal, 1), ['/e', '/d', '/c']);
    assert.deepEqual(
      journal.list(1, { limit: 2 }).map((e) => e.path),
      ['/e', '/d'],
    );
  });

  it('forgets the portal journaled least recently past MAX_JOURNAL_PORTALS', () => {
    const journal = new Journal(10);
    for (let p = 1; p <= MAX_JOURNAL_PORTALS; p++) journal.add(p, entry(`/p${p}`));
    journal.add(1, entry('/again')); // portal 1 is now the most recent, portal 2 the least
    journal.add(MAX_JOURNAL_PORTALS + 1, entry('/new'));
    assert.equal(journal.portalCount, MAX_JOURNAL_PORTALS);
    assert.deepEqual(paths(journal, 2), []);
    assert.deepEqual(paths(journal, 1), ['/again', '/p1']);
    assert.deepEqual(paths(journal, 3), ['/p3']);
    assert.deepEqual(paths(journal, MAX_JOURNAL_PORTALS + 1), ['/new']);
  });
});
