// The board's server side: the home page, the built board at /ui/ under a self-only CSP, Swagger
// UI at /docs, and a clear answer when the board was never built. (The board itself is tested
// in Chromium: test/browser/.)

import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';

import Fastify from 'fastify';

import { BOARD_CSP, BOARD_DIR, DOCS_CSP, board } from '../../src/http/plugins/board.js';
import { healthAndOpenApi } from '../../src/http/plugins/health-and-openapi.js';
import { assertBoardBuilt } from '../helpers/browser.js';
import { useStageline } from './support.js';

const server = useStageline();

describe('the home page', () => {
  it('links to the board and the API docs, and runs no script', async () => {
    const res = await server.call('GET', '/');
    assert.equal(res.statusCode, 200);
    assert.match(String(res.headers['content-type']), /^text\/html/);
    assert.match(res.body, /href="\/ui\/"/);
    assert.match(res.body, /href="\/docs"/);
    assert.doesNotMatch(res.body, /<script/i);
    assert.equal(res.headers['content-security-policy'], "default-src 'none'; frame-ancestors 'none'");
  });
});

describe('the board at /ui/', () => {
  it('serves the built index with a self-only CSP and no inline script or style', async () => {
    assertBoardBuilt();
    for (const url of ['/ui/', '/ui', '/ui/index.html']) {
      const res = await server.call('GET', url);
      assert.equal(res.statusCode, 200, url);
      assert.match(String(res.headers['content-type']), /^text\/html/);
      assert.equal(res.headers['content-security-policy'], BOARD_CSP);
      assert.equal(res.headers['x-frame-options'], 'DENY');
      assert.equal(res.headers['cache-control'], 'no-store', 'the index always asks again');
      const scripts = [...res.body.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/gi)];
      assert.ok(scripts.length > 0);
      for (const [, attrs, body] of scripts) {
        assert.match(attrs ?? '', /src="\/ui\/assets\/[^"]+\.js"/, 'scripts are files');
        assert.equal(body?.trim(), '', 'no inline script');
      }
      assert.doesNotMatch(res.body, /<style|style="/i, 'no inline style');
    }
    assert.match(BOARD_CSP, /default-src 'self'/);
    assert.doesNotMatch(BOARD_CSP, /unsafe-inline|unsafe-eval|\*/);
  });

  it('serves hashed assets for caching forever, under the same CSP', async () => {
    const assets = readdirSync(join(BOARD_DIR, 'assets'));
    const script = assets.find((f) => f.endsWith('.js'));
    assert.ok(script !== undefined);
    const res = await server.call('GET', `/ui/assets/${script}`);
    assert.equal(res.statusCode, 200);
    assert.match(String(res.headers['content-type']), /javascript/);
    assert.equal(res.headers['cache-control'], 'public, max-age=31536000, immutable');
    assert.equal(res.headers['content-security-policy'], BOARD_CSP);
  });

  it('answers a missing file with a 404 and never leaves its folder', async () => {
    for (const url of ['/ui/assets/nothing.js', '/ui/../package.json', '/ui/%2e%2e/package.json']) {
      const res = await server.call('GET', url);
      assert.ok([403, 404].includes(res.statusCode), `${url}: ${res.statusCode}`);
      assert.doesNotMatch(res.body, /"name": "stageline"/);
    }
  });

  it('is not part of the API description', async () => {
    const doc = JSON.parse((await server.call('GET', '/openapi.json')).body) as {
      paths: Record<string, unknown>;
    };
    const paths = Object.keys(doc.paths);
    assert.ok(paths.length > 0);
    assert.deepEqual(
      paths.filter((p) => p === '/' || p.startsWith('/ui') || p.startsWith('/docs')),
      [],
    );
  });
});

describe('a server whose board was never built', () => {
  const empty = mkdtempSync(join(tmpdir(), 'stageline-no-board-'));
  after(() => rmSync(empty, { recursive: true, force: true }));

  it('says at /ui/ to run npm run build, and still serves everything else', async () => {
    const app = Fastify();
    // Without a storage health, /health never writes.
    const store = { ping: async () => undefined, write: () => Promise.reject(new Error('not used')) };
    await app.register(healthAndOpenApi, { store, version: '0.0.0' });
    await app.register(board, { dir: empty });
    try {
      for (const url of ['/ui/', '/ui/assets/index.js']) {
        const res = await app.inject({ method: 'GET', url });
        assert.equal(res.statusCode, 503, url);
        assert.match(res.body, /npm run build/);
        assert.equal(res.headers['content-security-policy'], BOARD_CSP);
      }
      assert.equal((await app.inject({ method: 'GET', url: '/' })).statusCode, 200);
      assert.equal((await app.inject({ method: 'GET', url: '/docs' })).statusCode, 200);
    } finally {
      await app.close();
    }
  });
});

describe('API docs at /docs', () => {
  it('serves Swagger UI with its own policy, over the same document as /openapi.json', async () => {
    const page = await server.call('GET', '/docs');
    assert.equal(page.statusCode, 200);
    assert.match(page.body, /swagger-ui-bundle\.js/);
    assert.equal(page.headers['content-security-policy'], DOCS_CSP);
    assert.doesNotMatch(DOCS_CSP, /script-src[^;]*unsafe/);

    const initializer = await server.call('GET', '/docs/static/swagger-initializer.js');
    assert.equal(initializer.statusCode, 200);
    assert.match(initializer.body, /validatorUrl: null/, 'no call to the online validator');

    const served = JSON.parse((await server.call('GET', '/docs/json')).body) as unknown;
    const openapi = JSON.parse((await server.call('GET', '/openapi.json')).body) as unknown;
    assert.deepEqual(served, openapi);
  });
});
