import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import {
  canonicalNumber,
  isClosedStage,
  mergeMetadata,
  normalizeMetadata,
} from '../../src/domain/metadata.js';
import { assertInvalid, deepFreeze } from './fixtures.js';

const MISSING = 'must specify probability when writing a dealstage';
const OUT_OF_RANGE = 'dealstage probability is not valid, must be between 0.0 and 1.0 (inclusive)';

describe('canonicalNumber', () => {
  it('writes integers with one decimal and fractions as they are', () => {
    assert.equal(canonicalNumber(1), '1.0');
    assert.equal(canonicalNumber(0), '0.0');
    assert.equal(canonicalNumber(0.5), '0.5');
    assert.equal(canonicalNumber(0.25), '0.25');
  });
});

describe('normalizeMetadata: deals', () => {
  const cases: ReadonlyArray<readonly [unknown, string, string]> = [
    [0.5, '0.5', 'false'],
    ['0.5', '0.5', 'false'],
    [1, '1.0', 'true'],
    ['1', '1.0', 'true'],
    ['1.0', '1.0', 'true'],
    [1.0, '1.0', 'true'],
    [0, '0.0', 'true'],
    ['0', '0.0', 'true'],
    ['0.0', '0.0', 'true'],
    ['0.50', '0.5', 'false'],
    ['.2', '0.2', 'false'],
    [' 0.3 ', '0.3', 'false'],
    [0.25, '0.25', 'false'],
    [0.9, '0.9', 'false'],
  ];
  for (const [input, probability, isClosed] of cases) {
    it(`probability ${JSON.stringify(input)} → "${probability}", isClosed "${isClosed}"`, () => {
      assert.deepEqual(normalizeMetadata('deal', { probability: input }), { isClosed, probability });
    });
  }

  it('stores a sent isClosed as sent, whatever the probability (the seed guide\'s "Closed won" at 0.8)', () => {
    assert.deepEqual(normalizeMetadata('deal', { probability: 0.8, isClosed: true }), {
      isClosed: 'true',
      probability: '0.8',
    });
    assert.deepEqual(normalizeMetadata('deal', { probability: '1.0', isClosed: 'false' }), {
      isClosed: 'false',
      probability: '1.0',
    });
    assert.deepEqual(normalizeMetadata('deal', { probability: '0.2', isClosed: 'TRUE' }), {
      isClosed: 'true',
      probability: '0.2',
    });
  });

  for (const isClosed of ['yes', '1', '', 'closed']) {
    it(`refuses isClosed ${JSON.stringify(isClosed)}`, () => {
      assertInvalid(
        () => normalizeMetadata('deal', { probability: 0.5, isClosed }),
        `Stage metadata isClosed must be true or false, got: ${isClosed}`,
      );
    });
  }

  for (const input of [
    {},
    { probability: null },
    { probability: undefined },
    { probability: '' },
    { probability: '  ' },
  ]) {
    it(`refuses a missing probability: ${JSON.stringify(input)}`, () => {
      assertInvalid(() => normalizeMetadata('deal', input), MISSING);
    });
  }

  for (const value of [1.1, -0.1, '2', '-1', 100, '1.0001']) {
    it(`refuses probability ${JSON.stringify(value)} as out of range`, () => {
      assertInvalid(() => normalizeMetadata('deal', { probability: value }), OUT_OF_RANGE);
    });
  }

  for (const value of ['abc', 'NaN', 'Infinity', '0x1', '1,0', '0.5.1', true, Number.NaN]) {
    it(`refuses non-numeric probability ${String(value)}`, () => {
      assertInvalid(() => normalizeMetadata('deal', { probability: value }), OUT_OF_RANGE);
    });
  }

  it('drops unknown keys and keys of other types', () => {
    assert.deepEqual(
      normalizeMetadata('deal', { probability: '0.4', foo: 'bar', ticketState: 'CLOSED', state: 'CLOSED' }),
      { isClosed: 'false', probability: '0.4' },
    );
  });
});

describe('normalizeMetadata: tickets', () => {
  it('defaults ticketState to OPEN', () => {
    assert.deepEqual(normalizeMetadata('ticket', {}), { ticketState: 'OPEN' });
  });

  it('returns ticketState alone, and isClosed only when it was sent, as sent', () => {
    assert.deepEqual(normalizeMetadata('ticket', { ticketState: 'CLOSED' }), { ticketState: 'CLOSED' });
    assert.deepEqual(normalizeMetadata('ticket', { ticketState: 'CLOSED', isClosed: 'false' }), {
      ticketState: 'CLOSED',
      isClosed: 'false',
    });
    assert.deepEqual(normalizeMetadata('ticket', { ticketState: 'OPEN', isClosed: true }), {
      ticketState: 'OPEN',
      isClosed: 'true',
    });
  });

  for (const value of ['closed', 'open', 'Closed', 'DONE', '']) {
    it(`is case-sensitive: refuses ticketState ${JSON.stringify(value)}`, () => {
      assertInvalid(() => normalizeMetadata('ticket', { ticketState: value }), /ticketState/);
    });
  }

  it('drops unknown keys and a probability', () => {
    assert.deepEqual(normalizeMetadata('ticket', { ticketState: 'OPEN', probability: '0.5', x: 1 }), {
      ticketState: 'OPEN',
    });
  });
});

describe('normalizeMetadata: state (custom objects, lifecycle, other types)', () => {
  it('defaults state to OPEN', () => {
    assert.deepEqual(normalizeMetadata('state', {}), { isClosed: 'false', state: 'OPEN' });
  });

  it('keeps CLOSED and derives isClosed', () => {
    assert.deepEqual(normalizeMetadata('state', { state: 'CLOSED', isClosed: 'false' }), {
      isClosed: 'true',
      state: 'CLOSED',
    });
  });

  for (const value of ['closed', 'Open', 'ARCHIVED']) {
    it(`refuses state ${JSON.stringify(value)}`, () => {
      assertInvalid(() => normalizeMetadata('state', { state: value }), /state/);
    });
  }

  it('drops unknown keys', () => {
    assert.deepEqual(normalizeMetadata('state', { state: 'OPEN', ticketState: 'CLOSED', probability: 1 }), {
      isClosed: 'false',
      state: 'OPEN',
    });
  });
});

describe('normalizeMetadata: general', () => {
  it('returns only strings', () => {
    for (const [rules, input] of [
      ['deal', { probability: 1 }],
      ['ticket', { ticketState: 'CLOSED' }],
      ['state', {}],
    ] as const) {
      for (const value of Object.values(normalizeMetadata(rules, input)))
        assert.equal(typeof value, 'string');
    }
  });

  it('does not mutate its input', () => {
    const input = deepFreeze({ probability: 1, isClosed: 'false', extra: { nested: true } });
    const before = structuredClone(input);
    normalizeMetadata('deal', input);
    assert.deepEqual(input, before);
  });
});

describe('mergeMetadata', () => {
  const dealStored = deepFreeze({ isClosed: 'false', probability: '0.5' });
  const ticketStored = deepFreeze({ ticketState: 'OPEN', isClosed: 'false' });

  it("replaces the keys sent; a deal's isClosed follows a new probability unless sent too", () => {
    assert.deepEqual(mergeMetadata('deal', dealStored, { probability: 0 }), {
      isClosed: 'true',
      probability: '0.0',
    });
    assert.deepEqual(mergeMetadata('deal', dealStored, { probability: 0, isClosed: 'false' }), {
      isClosed: 'false',
      probability: '0.0',
    });
    assert.deepEqual(mergeMetadata('ticket', ticketStored, { ticketState: 'CLOSED' }), {
      ticketState: 'CLOSED',
      isClosed: 'false',
    });
  });

  it('keeps stored keys that are not sent', () => {
    assert.deepEqual(mergeMetadata('deal', dealStored, {}), dealStored);
    assert.deepEqual(mergeMetadata('deal', dealStored, { foo: 'bar' }), dealStored);
    assert.deepEqual(mergeMetadata('ticket', { ticketState: 'OPEN' }, {}), { ticketState: 'OPEN' });
  });

  it('stores a sent isClosed as sent, even against the stored probability', () => {
    assert.deepEqual(mergeMetadata('deal', { isClosed: 'true', probability: '1.0' }, { isClosed: 'false' }), {
      isClosed: 'false',
      probability: '1.0',
    });
    assert.deepEqual(mergeMetadata('ticket', ticketStored, { isClosed: 'true' }), {
      ticketState: 'OPEN',
      isClosed: 'true',
    });
  });

  it('validates the merged result', () => {
    assertInvalid(() => mergeMetadata('deal', dealStored, { probability: 3 }), OUT_OF_RANGE);
    assertInvalid(() => mergeMetadata('ticket', ticketStored, { ticketState: 'closed' }), /ticketState/);
  });

  it('does not mutate the stored metadata or the patch', () => {
    const patch = deepFreeze({ probability: '1' });
    mergeMetadata('deal', dealStored, patch);
    assert.deepEqual(dealStored, { isClosed: 'false', probability: '0.5' });
    assert.deepEqual(patch, { probability: '1' });
  });
});

describe('isClosedStage', () => {
  it('reads a ticket stage by its ticketState and any other by isClosed', () => {
    assert.equal(isClosedStage({ ticketState: 'CLOSED' }), true);
    assert.equal(isClosedStage({ isClosed: 'false', ticketState: 'CLOSED' }), true);
    assert.equal(isClosedStage({ isClosed: 'true', ticketState: 'OPEN' }), false);
    assert.equal(isClosedStage({ isClosed: 'true', probability: '0.8' }), true);
    assert.equal(isClosedStage({}), false);
  });
});
