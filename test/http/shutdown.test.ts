// Graceful shutdown over a real socket: a request already in flight when close() starts is
// answered, its write is committed, and the database closes afterwards.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, it } from 'node:test';

import { loadConfig } from '../../src/config.js';
import { createStageline } from '../../src/stageline.js';

const dir = mkdtempSync(join(tmpdir(), 'stageline-shutdown-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const config = loadConfig(
  { database: join(dir, 'db.sqlite'), auth: 'open', logLevel: 'silent', port: 0 },
  {},
);

it('close() drains a request in flight and keeps its write', async () => {
  const stageline = await createStageline(config);
  await stageline.app.listen({ port: 0, host: '127.0.0.1' });
  const address = stageline.app.server.address();
  assert.ok(address !== null && typeof address === 'object');

  const body = JSON.stringify({
    label: 'Drained',
    displayOrder: 0,
    stages: [{ label: 'Only', displayOrder: 0, metadata: { probability: 0.5 } }],
  });
  const split = Math.floor(body.length / 2);
  let closed = false;
  const response = new Promise<{ status: number; text: string }>((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port: address.port,
        method: 'POST',
        path: '/crm/v3/pipelines/deals',
        headers: {
          authorization: 'Bearer shutdown-test',
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
        },
      },
      (res) => {
        let text = '';
        res.on('data', (chunk: Buffer) => (text += chunk.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      },
    );
    req.on('error', reject);
    // Half the body now; the rest only after close() has begun.
    req.write(body.slice(0, split));
    setTimeout(() => {
      const closing = stageline.close().then(() => (closed = true));
      setTimeout(() => {
        assert.equal(closed, false, 'close() must wait for the request in flight');
        req.end(body.slice(split));
      }, 100);
      void closing;
    }, 100);
  });

  const { status, text } = await response;
  assert.equal(status, 201, text);
  const created = JSON.parse(text) as { id: string };
  await stageline.close();
  assert.equal(closed, true);

  const reopened = await createStageline(config);
  try {
    const res = await reopened.app.inject({
      method: 'GET',
      url: `/crm/v3/pipelines/deals/${created.id}`,
      headers: { authorization: 'Bearer shutdown-test' },
    });
    assert.equal(res.statusCode, 200);
    assert.equal(res.json<{ label: string }>().label, 'Drained');
  } finally {
    await reopened.close();
  }
});
