// Request logs carry the request id (the correlation id the client sees), whether the request's
// logger was needed from the start (info) or only when something went wrong (warn).

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { BASE, buildStageline, call, logSink, newToken } from './support.js';

interface LogLine {
  level: number;
  msg: string;
  reqId?: string;
}

const parse = (lines: string[]) => lines.map((l) => JSON.parse(l) as LogLine);
const INFO = 30;
const WARN = 40;

describe('request logs', () => {
  it('at info, every request line names its request id', async () => {
    const sink = logSink();
    const s = await buildStageline({}, { logger: { level: 'info', stream: sink.stream } });
    try {
      const res = await call(s, 'GET', `${BASE}/deals`, { token: newToken() });
      assert.equal(res.statusCode, 200);
      const id = res.headers['x-hubspot-correlation-id'];
      const mine = parse(sink.lines).filter((l) => l.reqId === id);
      assert.deepEqual(
        mine.map((l) => l.msg),
        ['incoming request', 'request completed'],
      );
    } finally {
      await s.close();
    }
  });

  it('at warn, only the failure is logged, still with its request id', async () => {
    const sink = logSink();
    const s = await buildStageline({}, { logger: { level: 'warn', stream: sink.stream } });
    const token = newToken();
    assert.equal((await call(s, 'GET', `${BASE}/deals`, { token })).statusCode, 200);
    // The database goes away under the server: the next write cannot be stored.
    await s.store.close();
    const res = await call(s, 'POST', `${BASE}/deals`, {
      token,
      body: { label: 'Lost', displayOrder: 1, stages: [{ label: 'A', displayOrder: 0, metadata: {} }] },
    });
    await s.close();
    assert.ok(res.statusCode >= 500, `${res.statusCode} ${res.body}`);
    const lines = parse(sink.lines);
    assert.ok(lines.length > 0, 'the failure was logged');
    assert.ok(
      lines.every((l) => l.level >= WARN),
      `nothing below warn: ${lines.map((l) => l.msg).join(', ')}`,
    );
    const failure = lines.find((l) => l.reqId === res.headers['x-hubspot-correlation-id']);
    assert.ok(failure !== undefined, `no line carries the request id: ${sink.lines.join('\n')}`);
    assert.ok(failure.level >= WARN && failure.level > INFO);
  });
});
