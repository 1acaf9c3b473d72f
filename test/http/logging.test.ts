// Request logs: at info, exactly one access line per request, whatever answered it (a route, a
// cached read, the 404 handler, a failed auth hook), with what an operator needs and no token.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { BASE, buildStageline, call, dealPipeline, logSink, newToken } from './support.js';

interface LogLine {
  level: number;
  msg: string;
  correlationId?: string;
  method?: string;
  path?: string;
  status?: number;
  durationMs?: number;
  portalId?: number;
}

const parse = (lines: string[]) => lines.map((l) => JSON.parse(l) as LogLine);
const INFO = 30;
const WARN = 40;

describe('request logs', () => {
  it('at info, writes one access line per request, with its correlation id and portal', async () => {
    const sink = logSink();
    const s = await buildStageline({ logLevel: 'info' }, { logStream: sink.stream });
    const token = newToken();
    try {
      const answers = [
        await call(s, 'POST', `${BASE}/deals`, { token, body: dealPipeline('Logged') }),
        await call(s, 'GET', `${BASE}/deals?archived=false`, { token }),
        // The same read again: answered from the read cache.
        await call(s, 'GET', `${BASE}/deals?archived=false`, { token }),
        await call(s, 'GET', `${BASE}/deals/nope`, { token }),
        await call(s, 'GET', `${BASE}/deals`, { token: null }),
        await call(s, 'GET', '/no/such/route', { token }),
        await call(s, 'DELETE', `${BASE}/deals`, { token }),
      ];
      const lines = parse(sink.lines);
      const portalId = lines.find((l) => l.status === 201)?.portalId;
      assert.ok(Number.isInteger(portalId), 'the create names its portal');
      for (const res of answers) {
        const id = res.headers['x-hubspot-correlation-id'];
        const mine = lines.filter((l) => l.correlationId === id);
        assert.equal(mine.length, 1, `one line for ${res.statusCode} ${id}: ${JSON.stringify(mine)}`);
        const line = mine[0]!;
        assert.equal(line.level, INFO);
        assert.equal(line.status, res.statusCode);
        assert.equal(typeof line.durationMs, 'number');
        assert.ok(line.durationMs! >= 0 && line.durationMs! < 10_000);
        assert.doesNotMatch(line.path!, /\?/, 'no query string');
      }
      // Requests with a valid token know their portal: with the control plane on (open mode's
      // default), its journal looks the token up at the root, so 404s and 405s name it too.
      assert.deepEqual(
        answers.map(
          (res) => lines.find((l) => l.correlationId === res.headers['x-hubspot-correlation-id'])?.portalId,
        ),
        [portalId, portalId, portalId, portalId, undefined, portalId, portalId],
      );
      assert.deepEqual(
        lines.filter((l) => l.status !== undefined).map((l) => `${l.method} ${l.path} ${l.status}`),
        [
          `POST ${BASE}/deals 201`,
          `GET ${BASE}/deals 200`,
          `GET ${BASE}/deals 200`,
          `GET ${BASE}/deals/nope 404`,
          `GET ${BASE}/deals 401`,
          'GET /no/such/route 404',
          `DELETE ${BASE}/deals 405`,
        ],
      );
      assert.ok(
        sink.lines.every((l) => !l.includes(token)),
        'no line holds the token',
      );
    } finally {
      await s.close();
    }
  });

  it('at warn, writes no access lines, and a failure still carries its correlation id', async () => {
    const sink = logSink();
    const s = await buildStageline({ logLevel: 'warn' }, { logStream: sink.stream });
    const token = newToken();
    assert.equal((await call(s, 'GET', `${BASE}/deals`, { token })).statusCode, 200);
    // The database goes away under the server: the next write cannot be stored.
    await s.store.close();
    const res = await call(s, 'POST', `${BASE}/deals`, { token, body: dealPipeline('Lost') });
    await s.close();
    assert.ok(res.statusCode >= 500, `${res.statusCode} ${res.body}`);
    const lines = parse(sink.lines);
    assert.ok(lines.length > 0, 'the failure was logged');
    assert.ok(
      lines.every((l) => l.level >= WARN && l.status === undefined),
      `only failures, no access lines: ${sink.lines.join('\n')}`,
    );
    const failure = lines.find((l) => l.correlationId === res.headers['x-hubspot-correlation-id']);
    assert.ok(failure !== undefined, `no line carries the correlation id: ${sink.lines.join('\n')}`);
  });
});
