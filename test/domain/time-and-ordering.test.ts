import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { compareByDisplayOrder, sortByDisplayOrder } from '../../src/domain/ordering.js';
import { formatTimestamp } from '../../src/domain/time.js';
import { deepFreeze } from './fixtures.js';

describe('formatTimestamp', () => {
  it('drops the milliseconds when they are zero', () => {
    assert.equal(formatTimestamp(0), '1970-01-01T00:00:00Z');
    assert.equal(formatTimestamp(1_572_406_217_000), '2019-10-30T03:30:17Z');
  });

  it('keeps three digits of milliseconds when they are not zero', () => {
    assert.equal(formatTimestamp(1_572_406_217_883), '2019-10-30T03:30:17.883Z');
    assert.equal(formatTimestamp(1_572_406_217_001), '2019-10-30T03:30:17.001Z');
    assert.equal(formatTimestamp(1_572_406_217_100), '2019-10-30T03:30:17.100Z');
  });

  it('is UTC with a Z', () => {
    assert.match(formatTimestamp(1_700_000_000_000), /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
  });
});

const item = (id: string, label: string, displayOrder: number) => ({ id, label, displayOrder });

describe('ordering', () => {
  it('sorts by displayOrder first', () => {
    const sorted = sortByDisplayOrder([item('a', 'A', 2), item('b', 'B', 0), item('c', 'C', 1)]);
    assert.deepEqual(
      sorted.map((i) => i.id),
      ['b', 'c', 'a'],
    );
  });

  it('does not let the label override displayOrder', () => {
    const sorted = sortByDisplayOrder([item('z', 'Aardvark', 10), item('y', 'Zebra', 2)]);
    assert.deepEqual(
      sorted.map((i) => i.id),
      ['y', 'z'],
    );
  });

  it('breaks displayOrder ties alphabetically by label, ignoring case', () => {
    const sorted = sortByDisplayOrder([
      item('1', 'banana', 0),
      item('2', 'Cherry', 0),
      item('3', 'apple', 0),
      item('4', 'Apricot', 0),
      item('5', 'first', -1),
    ]);
    assert.deepEqual(
      sorted.map((i) => i.label),
      ['first', 'apple', 'Apricot', 'banana', 'Cherry'],
    );
  });

  it('compares with the right sign', () => {
    assert.ok(compareByDisplayOrder(item('a', 'x', 0), item('b', 'x', 1)) < 0);
    assert.ok(compareByDisplayOrder(item('a', 'b', 1), item('b', 'a', 1)) > 0);
    assert.equal(compareByDisplayOrder(item('a', 'x', 1), item('a', 'x', 1)), 0);
  });

  it('is deterministic for equal labels and orders', () => {
    const a = [item('2', 'Same', 0), item('1', 'Same', 0)];
    const b = [item('1', 'Same', 0), item('2', 'Same', 0)];
    assert.deepEqual(sortByDisplayOrder(a), sortByDisplayOrder(b));
  });

  it('returns a new array and leaves the input alone', () => {
    const input = deepFreeze([item('a', 'A', 1), item('b', 'B', 0)]);
    const sorted = sortByDisplayOrder(input);
    assert.notEqual(sorted, input);
    assert.deepEqual(
      input.map((i) => i.id),
      ['a', 'b'],
    );
    assert.deepEqual(
      sorted.map((i) => i.id),
      ['b', 'a'],
    );
  });
});
