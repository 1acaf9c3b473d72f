import swagger from '@fastify/swagger';
import type { FastifyPluginAsync } from 'fastify';
import fp from 'fastify-plugin';

import type { Store } from '../../domain/ports.js';
import { JSON_TYPE, sendError } from '../error-handler.js';

export interface HealthAndOpenApiOptions {
  readonly store: Pick<Store, 'ping'>;
  readonly version: string;
}

/**
 * `GET /health` (no auth: 200 while the database answers, 503 otherwise) and
 * `GET /openapi.json`, Stageline's OpenAPI document built from the schemas of every route
 * registered after this plugin.
 */
const plugin: FastifyPluginAsync<HealthAndOpenApiOptions> = async (app, { store, version }) => {
  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'Stageline',
        version,
        description: "Stageline's implementation of HubSpot's CRM Pipelines API.",
      },
      components: {
        securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
      },
      security: [{ bearer: [] }],
    },
    refResolver: { buildLocalReference: (json, _base, _fragment, i) => String(json.$id ?? `def-${i}`) },
  });

  app.get('/health', { schema: { hide: true } }, async (request, reply) => {
    try {
      await store.ping();
      return reply.type(JSON_TYPE).send({ status: 'ok' });
    } catch {
      return sendError(request, reply, 503, 'SERVICE_UNAVAILABLE', 'The database is not reachable');
    }
  });

  app.get('/openapi.json', { schema: { hide: true } }, async (_request, reply) =>
    reply.type(JSON_TYPE).send(app.swagger()),
  );
};

export const healthAndOpenApi = fp(plugin, { name: 'stageline-health-and-openapi' });
