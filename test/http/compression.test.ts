// Large answers (a long audit trail, say) go out gzip-compressed to clients that ask for it, as
// HubSpot's do; small ones and clients that do not ask get plain JSON.

import assert from 'node:assert/strict';
import { gunzipSync } from 'node:zlib';
import { before, describe, it } from 'node:test';

import { acceptsGzip, COMPRESS_FROM_CHARS } from '../../src/http/compression.js';
import type { WirePipeline } from '../helpers/wire-types.js';
import { BASE, JSON_TYPE, newToken, useStageline } from './support.js';

describe('acceptsGzip', () => {
  it('reads Accept-Encoding as the HTTP rules say', () => {
    assert.equal(acceptsGzip(undefined), false);
    assert.equal(acceptsGzip(''), false);
    assert.equal(acceptsGzip('gzip,deflate'), true, 'what the official SDK sends');
    assert.equal(acceptsGzip('deflate, GZIP;q=0.5'), true);
    assert.equal(acceptsGzip('br, x-gzip'), true);
    assert.equal(acceptsGzip('gzip;q=0'), false);
    assert.equal(acceptsGzip('gzip; q=0, *'), false, 'an explicit refusal beats the wildcard');
    assert.equal(acceptsGzip('*'), true);
    assert.equal(acceptsGzip('*;q=0'), false);
    assert.equal(acceptsGzip('deflate, br'), false);
    assert.equal(acceptsGzip('identity'), false);
  });
});

describe('compressed answers', () => {
  const { call, createPipeline } = useStageline();
  const token = newToken();
  let pipeline: WirePipeline;
  let auditUrl: string;

  before(async () => {
    pipeline = await createPipeline(token, 'deals', {
      label: 'Long history',
      displayOrder: 1,
      stages: Array.from({ length: 10 }, (_, i) => ({
        label: `Stage ${i}`,
        displayOrder: i,
        metadata: { probability: '0.5' },
      })),
    });
    auditUrl = `${BASE}/deals/${pipeline.id}/audit`;
    // Each entry holds the pipeline as it was: enough renames make an answer worth compressing.
    for (let i = 0; (await call('GET', auditUrl, { token })).body.length < COMPRESS_FROM_CHARS; i++) {
      const res = await call('PATCH', `${BASE}/deals/${pipeline.id}`, {
        token,
        body: { label: `Rename ${i}` },
      });
      assert.equal(res.statusCode, 200, res.body);
    }
  });

  it('gzips a large answer for a client that accepts it, the same bytes as the plain one', async () => {
    const plain = await call('GET', auditUrl, { token });
    assert.equal(plain.headers['content-encoding'], undefined);
    assert.equal(plain.headers.vary, 'accept-encoding');
    for (const round of ['first', 'again (from the cache where there is one)']) {
      const zipped = await call('GET', auditUrl, { token, headers: { 'accept-encoding': 'gzip, deflate' } });
      assert.equal(zipped.statusCode, 200, round);
      assert.equal(zipped.headers['content-encoding'], 'gzip', round);
      assert.equal(zipped.headers['content-type'], JSON_TYPE, round);
      assert.equal(zipped.headers.vary, 'accept-encoding', round);
      assert.equal(Number(zipped.headers['content-length']), zipped.rawPayload.length, round);
      assert.ok(zipped.rawPayload.length * 4 < plain.rawPayload.length, `${round}: it shrank`);
      assert.equal(gunzipSync(zipped.rawPayload).toString('utf8'), plain.body, round);
    }
  });

  it('answers plain JSON when gzip is refused, and a new state after a write', async () => {
    const refused = await call('GET', auditUrl, { token, headers: { 'accept-encoding': 'gzip;q=0, *' } });
    assert.equal(refused.headers['content-encoding'], undefined);
    const before = refused.json<{ results: unknown[] }>().results.length;

    const res = await call('PATCH', `${BASE}/deals/${pipeline.id}`, {
      token,
      body: { label: 'Renamed last' },
    });
    assert.equal(res.statusCode, 200, res.body);
    const zipped = await call('GET', auditUrl, { token, headers: { 'accept-encoding': 'gzip' } });
    const after = JSON.parse(gunzipSync(zipped.rawPayload).toString('utf8')) as {
      results: { rawObject: string }[];
    };
    assert.equal(after.results.length, before + 1);
    assert.equal((JSON.parse(after.results[0]!.rawObject) as { label: string }).label, 'Renamed last');
  });

  it('never compresses a small answer', async () => {
    const res = await call('GET', `${BASE}/deals/${pipeline.id}`, {
      token,
      headers: { 'accept-encoding': 'gzip' },
    });
    assert.equal(res.statusCode, 200);
    assert.equal(res.headers['content-encoding'], undefined);
    assert.equal(res.headers.vary, undefined);
    assert.equal(res.json<{ id: string }>().id, pipeline.id);
  });
});
