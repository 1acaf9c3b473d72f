// Shared builders and assertions for the domain unit tests.
import assert from 'node:assert/strict';

import { DomainError } from '../../src/domain/errors.js';
import type { ErrorCategory } from '../../src/domain/errors.js';
import type { Metadata } from '../../src/domain/metadata.js';
import type { Pipeline, Stage } from '../../src/domain/model.js';
import { resolveObjectType } from '../../src/domain/object-types.js';
import { modelBuilders } from '../helpers/model-builders.js';

export const PORTAL = 123;
export const DEALS = resolveObjectType('deals', PORTAL);
export const TICKETS = resolveObjectType('tickets', PORTAL);
export const APPOINTMENTS = resolveObjectType('appointments', PORTAL);
export const CUSTOM = resolveObjectType('2-7', PORTAL);
export const CONTACTS = resolveObjectType('contacts', PORTAL);

export const T0 = 1_700_000_000_000;
export const NOW = 1_700_000_100_000;

export const dealMeta = (probability: string): Metadata => ({
  isClosed: String(probability === '0.0' || probability === '1.0'),
  probability,
});

export const ticketMeta = (state: 'OPEN' | 'CLOSED'): Metadata => ({ ticketState: state });

export const { stage, pipeline } = modelBuilders(T0);

/** A deal pipeline `p1`: s1 "Open" 0.2, s2 "Won" 1.0, s3 "Lost" 0.0 (archived at T0 + 10). */
export function dealPipeline(): Pipeline {
  return pipeline('p1', 'Deals', [
    stage('s1', 'Open', 0, dealMeta('0.2')),
    stage('s2', 'Won', 1, dealMeta('1.0')),
    stage('s3', 'Lost', 2, dealMeta('0.0'), { archivedAt: T0 + 10, updatedAt: T0 + 10 }),
  ]);
}

/** A ticket pipeline `tp`: t1 "New" OPEN, t2 "Closed" CLOSED. */
export function ticketPipeline(): Pipeline {
  return pipeline('tp', 'Support', [
    stage('t1', 'New', 0, ticketMeta('OPEN')),
    stage('t2', 'Closed', 1, ticketMeta('CLOSED')),
  ]);
}

/** Freezes a value and everything reachable from it, so any mutation throws (ESM is strict). */
export function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value as object)) deepFreeze(child);
  }
  return value;
}

export function assertDomainError(
  fn: () => unknown,
  category: ErrorCategory,
  message: string | RegExp,
  subCategory?: string,
): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof DomainError, `expected a DomainError, got: ${String(err)}`);
    assert.equal(err.category, category);
    if (typeof message === 'string') assert.equal(err.message, message);
    else assert.match(err.message, message);
    if (subCategory !== undefined) assert.equal(err.extras.subCategory, subCategory);
    return true;
  });
}

export const assertInvalid = (fn: () => unknown, message: string | RegExp, subCategory?: string): void =>
  assertDomainError(fn, 'VALIDATION_ERROR', message, subCategory);

export const assertNotFound = (fn: () => unknown, message: string | RegExp): void =>
  assertDomainError(fn, 'OBJECT_NOT_FOUND', message);

export const liveIds = (p: Pipeline): string[] =>
  p.stages
    .filter((s) => s.archivedAt === null)
    .map((s) => s.id)
    .sort();

export function stageOf(p: Pipeline, id: string): Stage {
  const found = p.stages.find((s) => s.id === id);
  assert.ok(found, `stage ${id} missing from pipeline ${p.id}`);
  return found;
}
