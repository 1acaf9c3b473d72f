// HubSpot's CRM search semantics over records (src/domain/record-search.ts): every operator,
// filter groups, sorts and offset paging.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { SEARCH_OPERATORS, matchesQuery, searchRecords } from '../../src/domain/record-search.js';
import type { SearchFilter, SearchQuery, SearchSort } from '../../src/domain/record-search.js';
import type { CrmRecord } from '../../src/domain/records.js';
import { T0, assertInvalid, deepFreeze } from './fixtures.js';

function rec(id: string, properties: Record<string, string> = {}): CrmRecord {
  return {
    id,
    properties: { hs_object_id: id, ...properties },
    pipelineId: null,
    stageId: null,
    createdAt: T0,
    updatedAt: T0,
    archivedAt: null,
  };
}

const RECORDS: readonly CrmRecord[] = deepFreeze([
  rec('1', { name: 'Alpha', amount: '100', stage: 'open', note: 'Call the Customer back' }),
  rec('2', { name: 'beta', amount: '20', stage: 'won' }),
  rec('3', { name: 'Gamma', amount: '3.5', stage: 'OPEN', note: '' }),
  rec('4', { name: 'delta', stage: 'lost', amount: 'n/a' }),
  rec('5', { amount: '-7' }),
]);

function query(overrides: Partial<SearchQuery> = {}): SearchQuery {
  return { filterGroups: [], sorts: [], limit: 100, after: 0, ...overrides };
}

/** Ids matching one filter, in result order. */
const where = (filter: SearchFilter, records: readonly CrmRecord[] = RECORDS): string[] =>
  searchRecords(records, query({ filterGroups: [{ filters: [filter] }] })).results.map((r) => r.id);

const ids = (q: Partial<SearchQuery>, records: readonly CrmRecord[] = RECORDS): string[] =>
  searchRecords(records, query(q)).results.map((r) => r.id);

const sorted = (sorts: SearchSort[], records: readonly CrmRecord[] = RECORDS): string[] =>
  ids({ sorts }, records);

describe('search operators', () => {
  it('EQ matches case-insensitively, never a record without the property', () => {
    assert.deepEqual(where({ propertyName: 'stage', operator: 'EQ', value: 'open' }), ['1', '3']);
    assert.deepEqual(where({ propertyName: 'name', operator: 'EQ', value: 'ALPHA' }), ['1']);
    assert.deepEqual(where({ propertyName: 'name', operator: 'EQ', value: 'Alph' }), []);
    assert.deepEqual(where({ propertyName: 'nothing', operator: 'EQ', value: 'x' }), []);
  });

  it('EQ compares numbers as numbers', () => {
    assert.deepEqual(where({ propertyName: 'amount', operator: 'EQ', value: '100.0' }), ['1']);
    assert.deepEqual(where({ propertyName: 'amount', operator: 'EQ', value: '3.50' }), ['3']);
    assert.deepEqual(where({ propertyName: 'hs_object_id', operator: 'EQ', value: '2' }), ['2']);
  });

  it('NEQ matches every other record, including those without the property', () => {
    assert.deepEqual(where({ propertyName: 'stage', operator: 'NEQ', value: 'OPEN' }), ['2', '4', '5']);
    assert.deepEqual(where({ propertyName: 'name', operator: 'NEQ', value: 'beta' }), ['1', '3', '4', '5']);
  });

  it('IN matches any of the values, case-insensitively and numerically', () => {
    assert.deepEqual(where({ propertyName: 'stage', operator: 'IN', values: ['WON', 'lost'] }), ['2', '4']);
    assert.deepEqual(where({ propertyName: 'amount', operator: 'IN', values: ['20.0', '-7'] }), ['2', '5']);
    assert.deepEqual(where({ propertyName: 'stage', operator: 'IN', values: [] }), []);
  });

  it('NOT_IN matches the rest, including records without the property', () => {
    assert.deepEqual(where({ propertyName: 'stage', operator: 'NOT_IN', values: ['open', 'won'] }), [
      '4',
      '5',
    ]);
    assert.deepEqual(where({ propertyName: 'stage', operator: 'NOT_IN', values: [] }), [
      '1',
      '2',
      '3',
      '4',
      '5',
    ]);
  });

  it('LT, LTE, GT and GTE compare numbers numerically', () => {
    // As text, '100' < '20' < '3.5'; as numbers 3.5 < 20 < 100.
    const numeric = RECORDS.filter((r) => r.id !== '4');
    assert.deepEqual(where({ propertyName: 'amount', operator: 'LT', value: '20' }, numeric), ['3', '5']);
    assert.deepEqual(where({ propertyName: 'amount', operator: 'LTE', value: '20' }, numeric), [
      '2',
      '3',
      '5',
    ]);
    assert.deepEqual(where({ propertyName: 'amount', operator: 'GT', value: '20' }, numeric), ['1']);
    assert.deepEqual(where({ propertyName: 'amount', operator: 'GTE', value: '20' }, numeric), ['1', '2']);
    assert.deepEqual(where({ propertyName: 'amount', operator: 'GT', value: '9' }, numeric), ['1', '2']);
    assert.deepEqual(where({ propertyName: 'amount', operator: 'LT', value: '0' }, numeric), ['5']);
  });

  it('LT, LTE, GT and GTE compare text case-insensitively', () => {
    assert.deepEqual(where({ propertyName: 'name', operator: 'LT', value: 'C' }), ['1', '2']);
    assert.deepEqual(where({ propertyName: 'name', operator: 'GTE', value: 'DELTA' }), ['3', '4']);
    assert.deepEqual(where({ propertyName: 'name', operator: 'LTE', value: 'beta' }), ['1', '2']);
    assert.deepEqual(where({ propertyName: 'name', operator: 'GT', value: 'gamma' }), []);
  });

  it('range operators never match a record without the property', () => {
    for (const operator of ['LT', 'LTE', 'GT', 'GTE'] as const) {
      assert.ok(!where({ propertyName: 'name', operator, value: 'm' }).includes('5'), operator);
    }
    assert.deepEqual(where({ propertyName: 'name', operator: 'BETWEEN', value: 'a', highValue: 'z' }), [
      '1',
      '2',
      '3',
      '4',
    ]);
  });

  it('BETWEEN is inclusive at both ends, numerically for numbers', () => {
    const numeric = RECORDS.filter((r) => r.id !== '4');
    assert.deepEqual(
      where({ propertyName: 'amount', operator: 'BETWEEN', value: '3.5', highValue: '20' }, numeric),
      ['2', '3'],
    );
    assert.deepEqual(
      where({ propertyName: 'amount', operator: 'BETWEEN', value: '-10', highValue: '100' }, numeric),
      ['1', '2', '3', '5'],
    );
    assert.deepEqual(
      where({ propertyName: 'amount', operator: 'BETWEEN', value: '21', highValue: '99' }, numeric),
      [],
    );
    assert.deepEqual(where({ propertyName: 'name', operator: 'BETWEEN', value: 'b', highValue: 'E' }), [
      '2',
      '4',
    ]);
  });

  it('HAS_PROPERTY and NOT_HAS_PROPERTY test presence; an empty stored value is present', () => {
    assert.deepEqual(where({ propertyName: 'note', operator: 'HAS_PROPERTY' }), ['1', '3']);
    assert.deepEqual(where({ propertyName: 'note', operator: 'NOT_HAS_PROPERTY' }), ['2', '4', '5']);
    assert.deepEqual(where({ propertyName: 'hs_object_id', operator: 'HAS_PROPERTY' }), [
      '1',
      '2',
      '3',
      '4',
      '5',
    ]);
  });

  it('CONTAINS_TOKEN matches a case-insensitive part of the value', () => {
    assert.deepEqual(where({ propertyName: 'note', operator: 'CONTAINS_TOKEN', value: 'customer' }), ['1']);
    assert.deepEqual(where({ propertyName: 'name', operator: 'CONTAINS_TOKEN', value: 'MM' }), ['3']);
    assert.deepEqual(where({ propertyName: 'name', operator: 'CONTAINS_TOKEN', value: 'a' }), [
      '1',
      '2',
      '3',
      '4',
    ]);
    assert.deepEqual(where({ propertyName: 'name', operator: 'CONTAINS_TOKEN', value: 'zeta' }), []);
  });

  it('NOT_CONTAINS_TOKEN matches the rest, including records without the property', () => {
    assert.deepEqual(where({ propertyName: 'name', operator: 'NOT_CONTAINS_TOKEN', value: 'TA' }), [
      '1',
      '3',
      '5',
    ]);
  });

  it('accepts every operator it lists', () => {
    assert.equal(SEARCH_OPERATORS.length, 13);
    for (const operator of SEARCH_OPERATORS) {
      const filter = { propertyName: 'amount', operator, value: '1', highValue: '2', values: ['1'] };
      assert.doesNotThrow(() => where(filter), operator);
    }
  });
});

describe('filter groups', () => {
  it('ANDs the filters of a group', () => {
    const got = ids({
      filterGroups: [
        {
          filters: [
            { propertyName: 'stage', operator: 'EQ', value: 'open' },
            { propertyName: 'amount', operator: 'GT', value: '50' },
          ],
        },
      ],
    });
    assert.deepEqual(got, ['1']);
  });

  it('ORs the groups', () => {
    const got = ids({
      filterGroups: [
        { filters: [{ propertyName: 'stage', operator: 'EQ', value: 'won' }] },
        { filters: [{ propertyName: 'amount', operator: 'LT', value: '0' }] },
        { filters: [{ propertyName: 'stage', operator: 'EQ', value: 'nothing' }] },
      ],
    });
    assert.deepEqual(got, ['2', '5']);
  });

  it('matches everything with no groups, and a group with no filters matches everything', () => {
    assert.deepEqual(ids({}), ['1', '2', '3', '4', '5']);
    assert.equal(matchesQuery(RECORDS[0]!, { filterGroups: [] }), true);
    assert.equal(matchesQuery(RECORDS[0]!, { filterGroups: [{ filters: [] }] }), true);
  });
});

describe('sorts', () => {
  it('sorts ascending and descending, numbers numerically', () => {
    const numeric = RECORDS.filter((r) => r.id !== '4');
    assert.deepEqual(sorted([{ propertyName: 'amount', direction: 'ASCENDING' }], numeric), [
      '5',
      '3',
      '2',
      '1',
    ]);
    assert.deepEqual(sorted([{ propertyName: 'amount', direction: 'DESCENDING' }], numeric), [
      '1',
      '2',
      '3',
      '5',
    ]);
  });

  it('sorts text case-insensitively', () => {
    assert.deepEqual(sorted([{ propertyName: 'name', direction: 'ASCENDING' }]), ['1', '2', '4', '3', '5']);
  });

  it('puts records without the property last, in either direction', () => {
    assert.deepEqual(sorted([{ propertyName: 'name', direction: 'DESCENDING' }]), ['3', '4', '2', '1', '5']);
    assert.deepEqual(sorted([{ propertyName: 'note', direction: 'ASCENDING' }]), ['3', '1', '2', '4', '5']);
    assert.deepEqual(sorted([{ propertyName: 'note', direction: 'DESCENDING' }]), ['1', '3', '2', '4', '5']);
  });

  it('uses later sorts to break ties of earlier ones', () => {
    const records = [
      rec('1', { team: 'b', score: '1' }),
      rec('2', { team: 'a', score: '1' }),
      rec('3', { team: 'b', score: '2' }),
      rec('4', { team: 'a', score: '3' }),
    ];
    const got = sorted(
      [
        { propertyName: 'team', direction: 'ASCENDING' },
        { propertyName: 'score', direction: 'DESCENDING' },
      ],
      records,
    );
    assert.deepEqual(got, ['4', '2', '3', '1']);
  });

  it('breaks remaining ties by id, numerically: 9 before 10', () => {
    const records = ['10', '9', '100', '2'].map((id) => rec(id, { same: 'x' }));
    assert.deepEqual(sorted([], records), ['2', '9', '10', '100']);
    assert.deepEqual(sorted([{ propertyName: 'same', direction: 'DESCENDING' }], records), [
      '2',
      '9',
      '10',
      '100',
    ]);
    assert.deepEqual(sorted([{ propertyName: 'absent', direction: 'DESCENDING' }], records), [
      '2',
      '9',
      '10',
      '100',
    ]);
  });

  it('never reorders the records it is given', () => {
    const records = deepFreeze(['3', '1', '2'].map((id) => rec(id)));
    assert.deepEqual(sorted([], records), ['1', '2', '3']);
    assert.deepEqual(
      records.map((r) => r.id),
      ['3', '1', '2'],
    );
  });
});

describe('paging', () => {
  const many = deepFreeze(Array.from({ length: 25 }, (_, i) => rec(String(i + 1), { n: String(i + 1) })));

  it('returns `limit` results from the offset `after`, with the total and the next offset', () => {
    const first = searchRecords(many, query({ limit: 10 }));
    assert.equal(first.total, 25);
    assert.deepEqual(
      first.results.map((r) => r.id),
      ['1', '2', '3', '4', '5', '6', '7', '8', '9', '10'],
    );
    assert.equal(first.nextAfter, '10');

    const second = searchRecords(many, query({ limit: 10, after: 10 }));
    assert.deepEqual(
      second.results.map((r) => r.id),
      ['11', '12', '13', '14', '15', '16', '17', '18', '19', '20'],
    );
    assert.equal(second.nextAfter, '20');

    const last = searchRecords(many, query({ limit: 10, after: 20 }));
    assert.deepEqual(
      last.results.map((r) => r.id),
      ['21', '22', '23', '24', '25'],
    );
    assert.equal(last.nextAfter, undefined);
    assert.equal(last.total, 25);
  });

  it('has no next page when the page ends exactly at the last match', () => {
    const page = searchRecords(many, query({ limit: 5, after: 20 }));
    assert.equal(page.results.length, 5);
    assert.equal(page.nextAfter, undefined);
  });

  it('pages over the sorted matches, and counts the matches only', () => {
    const q = query({
      filterGroups: [{ filters: [{ propertyName: 'n', operator: 'GT', value: '15' }] }],
      sorts: [{ propertyName: 'n', direction: 'DESCENDING' }],
      limit: 4,
      after: 4,
    });
    const page = searchRecords(many, q);
    assert.equal(page.total, 10);
    assert.deepEqual(
      page.results.map((r) => r.id),
      ['21', '20', '19', '18'],
    );
    assert.equal(page.nextAfter, '8');
  });

  it('answers an empty page past the end, and a zero limit with the total only', () => {
    const past = searchRecords(many, query({ after: 30 }));
    assert.deepEqual(past.results, []);
    assert.equal(past.total, 25);
    assert.equal(past.nextAfter, undefined);
    const none = searchRecords(many, query({ limit: 0 }));
    assert.deepEqual(none.results, []);
    assert.equal(none.total, 25);
  });

  it('answers nothing over no records', () => {
    assert.deepEqual(searchRecords([], query()), { total: 0, results: [], nextAfter: undefined });
  });
});

describe('filters missing their value', () => {
  const cases: Array<[missing: string, filter: SearchFilter]> = [
    ['value', { propertyName: 'name', operator: 'EQ' }],
    ['value', { propertyName: 'name', operator: 'NEQ' }],
    ['value', { propertyName: 'name', operator: 'LT' }],
    ['value', { propertyName: 'name', operator: 'LTE' }],
    ['value', { propertyName: 'name', operator: 'GT' }],
    ['value', { propertyName: 'name', operator: 'GTE' }],
    ['value', { propertyName: 'name', operator: 'CONTAINS_TOKEN' }],
    ['value', { propertyName: 'name', operator: 'NOT_CONTAINS_TOKEN' }],
    ['value', { propertyName: 'name', operator: 'BETWEEN', highValue: 'z' }],
    ['highValue', { propertyName: 'name', operator: 'BETWEEN', value: 'a' }],
    ['values', { propertyName: 'name', operator: 'IN' }],
    ['values', { propertyName: 'name', operator: 'NOT_IN' }],
  ];

  for (const [missing, filter] of cases) {
    it(`${filter.operator} without ${missing} is refused`, () => {
      assertInvalid(
        () => where(filter),
        `Filter on name with ${filter.operator} needs ${missing === 'values' ? 'values' : `a ${missing}`}`,
      );
    });
  }

  it('is refused whatever the records hold: none, or none with the property', () => {
    // Validation of the query must not depend on the data: the same request is a 400 in any portal.
    const without = [rec('1', { other: 'x' })];
    for (const [, filter] of cases) {
      assert.throws(() => where(filter, []), /needs/, `${filter.operator} over no records`);
      assert.throws(() => where(filter, without), /needs/, `${filter.operator} over records without it`);
    }
  });

  it('is refused even behind a filter that already failed', () => {
    const q = query({
      filterGroups: [
        {
          filters: [
            { propertyName: 'stage', operator: 'EQ', value: 'nothing' },
            { propertyName: 'name', operator: 'EQ' },
          ],
        },
      ],
    });
    assertInvalid(() => searchRecords(RECORDS, q), /needs a value/);
  });
});

describe('dates', () => {
  // Stored as HubSpot writes them (ISO text); clients filter with epoch milliseconds or ISO text.
  const DATED = deepFreeze([
    rec('1', { entered: '2026-01-01T00:00:00.000Z' }),
    rec('2', { entered: '2026-03-01T12:30:00.500Z' }),
    rec('3', { entered: '2025-12-31T23:59:59.999Z' }),
    rec('4', { entered: '2026-02-01' }),
  ]);
  const JAN_1 = Date.parse('2026-01-01T00:00:00.000Z');

  it('compares a date property with epoch milliseconds as instants', () => {
    // As text, "2026-…" > "1767…" would hold for every record.
    assert.deepEqual(where({ propertyName: 'entered', operator: 'GT', value: String(JAN_1) }, DATED), [
      '2',
      '4',
    ]);
    assert.deepEqual(where({ propertyName: 'entered', operator: 'GTE', value: String(JAN_1) }, DATED), [
      '1',
      '2',
      '4',
    ]);
    assert.deepEqual(where({ propertyName: 'entered', operator: 'LT', value: String(JAN_1) }, DATED), ['3']);
    assert.deepEqual(where({ propertyName: 'entered', operator: 'EQ', value: String(JAN_1) }, DATED), ['1']);
    assert.deepEqual(where({ propertyName: 'entered', operator: 'GT', value: '0' }, DATED), [
      '1',
      '2',
      '3',
      '4',
    ]);
  });

  it('compares a date property with ISO text, date-only values included', () => {
    assert.deepEqual(
      where(
        {
          propertyName: 'entered',
          operator: 'BETWEEN',
          value: '2026-01-15',
          highValue: '2026-02-01T00:00:00Z',
        },
        DATED,
      ),
      ['4'],
    );
  });

  it('sorts dates as instants in both directions', () => {
    assert.deepEqual(sorted([{ propertyName: 'entered', direction: 'ASCENDING' }], DATED), [
      '3',
      '1',
      '4',
      '2',
    ]);
    assert.deepEqual(sorted([{ propertyName: 'entered', direction: 'DESCENDING' }], DATED), [
      '2',
      '4',
      '1',
      '3',
    ]);
  });
});

describe('full-text query', () => {
  const TEXT = deepFreeze([
    rec('1', { dealname: 'Renewal for ACME Corp', description: 'three seats' }),
    rec('2', { dealname: 'Acmeville pilot' }),
    rec('3', { dealname: 'Globex', dealtype: 'newbusiness', note: 'acme' }),
    rec('4', { dealname: 'Café Zoë' }),
  ]);
  const searchable = ['dealname', 'description', 'dealtype'];
  const text = (t: string, properties = searchable) => ids({ text: { text: t, properties } }, TEXT);

  it('matches each word of the query against the start of a word of a searched property, ignoring case', () => {
    assert.deepEqual(text('acme'), ['1', '2']);
    assert.deepEqual(text('ACME renew'), ['1']);
    assert.deepEqual(text('renewal seats'), ['1']);
    assert.deepEqual(text('cme'), []);
    assert.deepEqual(text('newbus'), ['3']);
    assert.deepEqual(text('zoë'), ['4']);
  });

  it('searches only the given properties', () => {
    // Record 3 holds "acme" in a property the query does not search.
    assert.deepEqual(text('acme', ['dealname']), ['1', '2']);
    assert.deepEqual(text('acme', ['note']), ['3']);
  });

  it('ANDs the query with the filter groups, and a query of no words matches everything', () => {
    const both = ids(
      {
        text: { text: 'acme', properties: searchable },
        filterGroups: [{ filters: [{ propertyName: 'hs_object_id', operator: 'EQ', value: '2' }] }],
      },
      TEXT,
    );
    assert.deepEqual(both, ['2']);
    assert.deepEqual(text(' - '), ['1', '2', '3', '4']);
  });
});
