import swagger from '@fastify/swagger';
import type { FastifyPluginAsync } from 'fastify';
import fp from 'fastify-plugin';

import type { StorageHealth } from '../../app/storage-health.js';
import { StorageUnavailableError } from '../../domain/ports.js';
import type { Store } from '../../domain/ports.js';
import { STORAGE_FAULTS } from '../../domain/storage-faults.js';
import type { StorageFault } from '../../domain/storage-faults.js';
import { JSON_TYPE, sendError, storageSubCategory } from '../error-handler.js';

export interface HealthAndOpenApiOptions {
  readonly store: Pick<Store, 'ping' | 'write'>;
  /** The storage fault in progress, if any (writes failing while the database answers). */
  readonly health?: Pick<StorageHealth, 'current'>;
  readonly version: string;
}

/**
 * `GET /health` (no auth: 200 while the database answers and no storage fault is in progress,
 * 503 naming the fault otherwise) and
 * `GET /openapi.json`, Stageline's OpenAPI document built from the schemas of every route
 * registered after this plugin.
 */
const plugin: FastifyPluginAsync<HealthAndOpenApiOptions> = async (app, { store, health, version }) => {
  /**
   * A full disk or a read-only database fails writes until one succeeds, and reads do not end
   * it; a server taken out of rotation by its failing /health gets no client writes either. So
   * while such an episode lasts, /health tries a small write of its own (one at a time): the
   * storage health counts its outcome as any write's.
   */
  let probing: Promise<void> | undefined;
  const probeWrites = () =>
    (probing ??= store
      .write((repo) => repo.writeHealthProbe(Date.now()))
      .catch(() => undefined)
      .finally(() => (probing = undefined)));

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
    let fault: StorageFault | undefined;
    try {
      await store.ping();
      // The database answers; writes may still fail (a full disk, a read-only database).
      const before = health?.current();
      if (before !== undefined && STORAGE_FAULTS[before.fault].endedBy === 'write') await probeWrites();
      const episode = health?.current();
      if (episode !== undefined && STORAGE_FAULTS[episode.fault].endedBy === 'write') fault = episode.fault;
    } catch (err) {
      fault = err instanceof StorageUnavailableError ? err.fault : 'unreachable';
    }
    if (fault === undefined) return reply.type(JSON_TYPE).send({ status: 'ok' });
    const { reason, retryAfterSeconds } = STORAGE_FAULTS[fault];
    reply.header('retry-after', String(retryAfterSeconds));
    return sendError(request, reply, 503, 'SERVICE_UNAVAILABLE', `Unhealthy: ${reason}`, {
      subCategory: storageSubCategory(fault),
    });
  });

  app.get('/openapi.json', { schema: { hide: true } }, async (_request, reply) =>
    reply.type(JSON_TYPE).send(app.swagger()),
  );
};

export const healthAndOpenApi = fp(plugin, { name: 'stageline-health-and-openapi' });
