import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import fastifyStatic from '@fastify/static';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyPluginAsync, FastifyReply } from 'fastify';

/**
 * Where `npm run build` puts the board (Vite's output): the package's `dist/ui`, found from this
 * module, which sits three folders down both as source (src/http/plugins) and built (dist/…).
 */
export const BOARD_DIR = fileURLToPath(new URL('../../../dist/ui/', import.meta.url));

/**
 * The board's policy: everything from this origin only. No inline script or style, no eval, no
 * other origin to call or to frame it; the API it calls is same-origin.
 */
export const BOARD_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/**
 * Swagger UI's: its own bundle and stylesheets from this origin. Its script adds a `<style>`
 * element, hence inline styles (the browser test sees the violation without them); scripts stay
 * 'self' only, and its validator badge (another origin) is off.
 */
export const DOCS_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/** Vite names built assets by content hash: a name never changes meaning, so caches may keep it. */
const IMMUTABLE = 'public, max-age=31536000, immutable';

const HOME = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>Stageline</title></head>
<body>
<h1>Stageline</h1>
<p>A server that speaks HubSpot's CRM Pipelines API.</p>
<ul>
<li><a href="/ui/">The board</a>: pipelines, stages, records and their history</li>
<li><a href="/docs">API documentation</a> (Swagger UI over <a href="/openapi.json">/openapi.json</a>)</li>
<li><a href="/health">Health</a></li>
</ul>
</body>
</html>
`;

const notBuilt = (dir: string): string => `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Stageline board: not built</title></head>
<body>
<h1>The board is not built</h1>
<p>Its files are missing from <code>${dir.replace(/[<>&]/g, '')}</code>. Run <code>npm run build</code> in the Stageline package, then restart the server.</p>
</body>
</html>
`;

export interface BoardOptions {
  /** The built board; the package's dist/ui by default. */
  readonly dir?: string;
}

/**
 * The board at `/ui/` (static files only: it is a client of the public API), a home page at `/`
 * linking to it, and Swagger UI at `/docs` over the OpenAPI document. Registered after the
 * OpenAPI plugin, whose document Swagger UI shows.
 */
export const board: FastifyPluginAsync<BoardOptions> = async (app, options) => {
  const dir = options.dir ?? BOARD_DIR;

  app.get('/', { schema: { hide: true } }, async (_request, reply) =>
    reply.type('text/html; charset=utf-8').send(HOME),
  );

  await app.register(async (ui) => {
    ui.addHook('onSend', async (request, reply, payload) => {
      reply.header('content-security-policy', BOARD_CSP);
      if (reply.statusCode === 200 && request.url.startsWith('/ui/assets/'))
        reply.header('cache-control', IMMUTABLE);
      return payload;
    });
    if (existsSync(join(dir, 'index.html'))) {
      await ui.register(fastifyStatic, { root: dir, prefix: '/ui/', cacheControl: false, etag: true });
      // The router ignores trailing slashes, so `/ui/` arrives as `/ui`, which `/ui/*` misses.
      ui.get('/ui', { schema: { hide: true } }, (_request, reply) => reply.sendFile('index.html'));
    } else {
      const missing = async (_request: unknown, reply: FastifyReply) =>
        reply.code(503).type('text/html; charset=utf-8').send(notBuilt(dir));
      ui.get('/ui', { schema: { hide: true } }, missing);
      ui.get('/ui/*', { schema: { hide: true } }, missing);
    }
  });

  await app.register(swaggerUi, {
    routePrefix: '/docs',
    staticCSP: DOCS_CSP,
    validatorUrl: false,
    uiConfig: { deepLinking: true },
  });
};
