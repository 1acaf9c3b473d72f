import type { TestContext } from 'node:test';

import { ReadCache } from '../../src/http/read-cache.js';

/** Counts the reads any ReadCache answers from then on, until the test ends. */
export function cacheHits(t: TestContext): () => number {
  const gets = t.mock.method(ReadCache.prototype, 'get');
  return () => gets.mock.calls.filter((call) => call.result !== undefined).length;
}
