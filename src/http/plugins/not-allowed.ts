import type { FastifyPluginCallback } from 'fastify';
import fp from 'fastify-plugin';

import { sendError } from '../error-handler.js';
import { escapeRegExp } from '../escape-regexp.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /**
     * The values a path parameter can take (regular expression sources), when narrower than any
     * segment: `POST /crm/v3/objects/deals/merge` then matches no route at all (a 404, as for any
     * route Stageline does not have) instead of `/:objectType/:recordId` for another method (a 405).
     */
    paramPatterns?: Readonly<Record<string, string>>;
  }
}

interface RoutePattern {
  readonly method: string;
  readonly pattern: RegExp;
}

/** `/crm/v3/pipelines/:objectType` → a regex matching concrete paths. */
const toPattern = (url: string, params: Readonly<Record<string, string>> = {}): RegExp =>
  new RegExp(
    `^${escapeRegExp(url).replace(/:([A-Za-z]+)/g, (_, name: string) => (params[name] === undefined ? '[^/]+' : `(?:${params[name]})`))}/?$`,
  );

/**
 * Requests no route answers: a 405 with `Allow` when the path exists for other methods, a 404
 * otherwise, both in HubSpot's envelope. Registered before the routes, so it sees all of them.
 */
const plugin: FastifyPluginCallback = (app, _options, done) => {
  const routes: RoutePattern[] = [];
  app.addHook('onRoute', (route) => {
    const pattern = toPattern(route.url, route.config?.paramPatterns);
    for (const method of [route.method].flat()) routes.push({ method, pattern });
  });

  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0] ?? '';
    const allowed = routes.filter((r) => r.pattern.test(path)).map((r) => r.method);
    if (allowed.length > 0 && !allowed.includes(request.method)) {
      reply.header('allow', [...new Set(allowed)].join(', '));
      return sendError(
        request,
        reply,
        405,
        'VALIDATION_ERROR',
        `Method ${request.method} is not allowed on ${path}`,
      );
    }
    return sendError(request, reply, 404, 'OBJECT_NOT_FOUND', `No route matches ${request.method} ${path}`);
  });
  done();
};

export const notAllowed = fp(plugin, { name: 'stageline-not-allowed' });
