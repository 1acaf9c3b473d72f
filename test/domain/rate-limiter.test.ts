import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import {
  HUBSPOT_POLICY,
  MAX_TRACKED_TOKENS,
  RateLimiter,
  parseRateLimit,
} from '../../src/app/rate-limiter.js';

describe('parseRateLimit', () => {
  it('reads off, hubspot and <n>/10s', () => {
    assert.equal(parseRateLimit('off'), null);
    assert.deepEqual(parseRateLimit('hubspot'), { perTenSeconds: 100, daily: 250_000 });
    assert.deepEqual(parseRateLimit('7/10s'), { perTenSeconds: 7, daily: 250_000 });
  });

  it('refuses anything else', () => {
    for (const bad of ['', 'on', '0/10s', '-1/10s', '10/1s', '10', 'hubspot ']) {
      assert.throws(() => parseRateLimit(bad), RangeError, bad);
    }
  });
});

describe('RateLimiter', () => {
  const at = (start: number) => {
    let now = start;
    return { clock: () => now, advance: (ms: number) => (now += ms) };
  };

  it('allows the window, refuses the next, and rolls', () => {
    const t = at(1_000_000);
    const limiter = new RateLimiter({ perTenSeconds: 3, daily: 100 }, t.clock);
    assert.deepEqual(limiter.take('a', 1), { exceeded: null, remaining: 2, dailyRemaining: 99 });
    t.advance(4_000);
    assert.equal(limiter.take('a', 1).remaining, 1);
    t.advance(4_000);
    assert.equal(limiter.take('a', 1).remaining, 0);
    assert.deepEqual(limiter.take('a', 1), {
      exceeded: 'TEN_SECONDLY_ROLLING',
      remaining: 0,
      dailyRemaining: 97,
    });
    // 10 s after the first request it has left the window, and only it.
    t.advance(2_000);
    assert.deepEqual(limiter.take('a', 1), { exceeded: null, remaining: 0, dailyRemaining: 96 });
    assert.equal(limiter.take('a', 1).exceeded, 'TEN_SECONDLY_ROLLING');
  });

  it('counts each key apart', () => {
    const t = at(0);
    const limiter = new RateLimiter({ perTenSeconds: 1, daily: 10 }, t.clock);
    assert.equal(limiter.take('a', 1).exceeded, null);
    assert.equal(limiter.take('a', 1).exceeded, 'TEN_SECONDLY_ROLLING');
    assert.equal(limiter.take('b', 1).exceeded, null);
  });

  it('enforces the daily budget and resets it at midnight UTC', () => {
    const midnight = Date.UTC(2026, 10, 25);
    const t = at(midnight - 60_000);
    const limiter = new RateLimiter({ perTenSeconds: 100, daily: 2 }, t.clock);
    assert.equal(limiter.take('a', 1).exceeded, null);
    t.advance(20_000);
    assert.equal(limiter.take('a', 1).exceeded, null);
    t.advance(20_000);
    assert.deepEqual(limiter.take('a', 1), { exceeded: 'DAILY', remaining: 100, dailyRemaining: 0 });
    t.advance(20_000);
    assert.deepEqual(limiter.take('a', 1), { exceeded: null, remaining: 99, dailyRemaining: 1 });
  });

  it('uses HubSpot numbers by default', () => {
    const limiter = new RateLimiter(HUBSPOT_POLICY, () => 0);
    for (let i = 0; i < 100; i++) assert.equal(limiter.take('a', 1).exceeded, null);
    assert.equal(limiter.take('a', 1).exceeded, 'TEN_SECONDLY_ROLLING');
  });

  it('keeps counts for a bounded number of tokens: idle ones are forgotten first, then the oldest', () => {
    const t = at(0);
    const limiter = new RateLimiter({ perTenSeconds: 1, daily: 10 }, t.clock);
    for (let i = 0; i < MAX_TRACKED_TOKENS; i++) limiter.take(`idle-${i}`, 1);
    assert.equal(limiter.trackedTokens, MAX_TRACKED_TOKENS);
    t.advance(10_000);
    assert.equal(limiter.take('busy', 1).exceeded, null);
    // Every other token was idle for a whole window: they went, the new one is counted.
    assert.equal(limiter.trackedTokens, 1);
    assert.equal(limiter.take('busy', 1).exceeded, 'TEN_SECONDLY_ROLLING');
    // All active: the oldest tenth goes to make room.
    for (let i = 1; i < MAX_TRACKED_TOKENS; i++) limiter.take(`active-${i}`, 1);
    assert.equal(limiter.trackedTokens, MAX_TRACKED_TOKENS);
    limiter.take('newest', 1);
    assert.ok(limiter.trackedTokens < MAX_TRACKED_TOKENS * 0.9 + 1, String(limiter.trackedTokens));
    assert.equal(limiter.take('newest', 1).exceeded, 'TEN_SECONDLY_ROLLING');
    // The first one was among the oldest: its count started over.
    assert.equal(limiter.take('busy', 1).exceeded, null);
  });
});
