/**
 * The 14 Pipelines operations, mountable under any prefix (`/crm/v3/pipelines` and the
 * date-versioned paths). Auth runs on request, the object type and scope check before
 * body validation (as HubSpot answers 403 before 400), then the handler calls one use case.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { RateLimiter } from '../../app/rate-limiter.js';
import type { AuthService } from '../../app/auth-service.js';
import type { PipelineService } from '../../app/pipeline-service.js';
import type { PipelinePatch, StagePatch } from '../../domain/model.js';
import { acceptsGzip, COMPRESS_FROM_CHARS, gzipped } from '../compression.js';
import type { Answer } from '../compression.js';
import { JSON_TYPE } from '../error-handler.js';
import { addGuards } from '../guards.js';
import { readKey } from '../read-cache.js';
import type { ReadCache } from '../read-cache.js';
import * as map from '../map-api.js';
import type { DeleteChecksQuery, PipelineInputBody, StageInputBody } from '../map-api.js';
import * as S from '../schemas.js';

export interface PipelineRoutesOptions {
  service: PipelineService;
  auth: AuthService;
  limiter?: RateLimiter;
  cache?: ReadCache;
  /** Default of the validate…BeforeDelete flags: false in v3, true from 2026-09. */
  deleteChecksDefault: boolean;
  tag: string;
}

interface Params {
  objectType: string;
  pipelineId: string;
  stageId: string;
}

export async function pipelineRoutes(app: FastifyInstance, opts: PipelineRoutesOptions): Promise<void> {
  const { service, auth } = opts;

  addGuards(app, auth, opts.limiter);

  const send = (reply: FastifyReply, status: number, body: unknown) =>
    reply.code(status).type(JSON_TYPE).send(body);
  const ok = (status: number, schema: object) => ({ [status]: schema, ...S.errorResponses });
  const pipelineParams = {
    type: 'object',
    required: ['objectType', 'pipelineId'],
    properties: { objectType: { type: 'string' }, pipelineId: { type: 'string' } },
  };
  const stageParams = {
    type: 'object',
    required: ['objectType', 'pipelineId', 'stageId'],
    properties: { ...pipelineParams.properties, stageId: { type: 'string' } },
  };
  const typeParams = {
    type: 'object',
    required: ['objectType'],
    properties: { objectType: { type: 'string' } },
  };
  const checks = S.deleteChecksQuery(opts.deleteChecksDefault);
  const tags = [opts.tag];
  type Req = FastifyRequest<{ Params: Params; Body: unknown; Querystring: DeleteChecksQuery }>;
  const read = { access: 'read' as const };
  const write = { access: 'write' as const };
  const { cache } = opts;
  /**
   * A read answered from the cache when it can be, else produced, serialized and cached. A hit
   * is sent synchronously (no promise: this is the hot path), so the handler returns nothing.
   */
  const cachedRead = (
    req: Req,
    reply: FastifyReply,
    op: string,
    produce: () => Promise<unknown>,
  ): Promise<unknown> | undefined => {
    const { portalId } = req.principal;
    const key = readKey(op, req.objectType.key, req.params.pipelineId, req.params.stageId);
    const hit = cache?.get(portalId, key);
    if (hit !== undefined) return answer(req, reply, hit);
    const ticket = cache?.ticket(portalId);
    return produce().then((value) => {
      const fresh: Answer = { body: reply.code(200).serialize(value) as string };
      if (ticket !== undefined) cache!.set(portalId, key, ticket, fresh);
      return answer(req, reply, fresh) ?? reply;
    });
  };
  /** Large answers go compressed to clients that accept gzip; a cached one is compressed once. */
  const answer = (req: Req, reply: FastifyReply, a: Answer): Promise<FastifyReply> | undefined => {
    if (a.body.length >= COMPRESS_FROM_CHARS) {
      reply.header('vary', 'accept-encoding');
      if (acceptsGzip(req.headers['accept-encoding'])) {
        return gzipped(a).then((bytes) => send(reply.header('content-encoding', 'gzip'), 200, bytes));
      }
    }
    send(reply, 200, a.body);
    return undefined;
  };

  app.get('/:objectType', {
    config: read,
    schema: {
      tags,
      summary: 'List the pipelines of an object type',
      params: typeParams,
      response: ok(200, S.PipelineCollection),
    },
    handler: (req: Req, reply) =>
      cachedRead(req, reply, 'pipelines', async () => ({
        results: await service.listPipelines(req.principal, req.objectType),
      })),
  });

  app.post('/:objectType', {
    config: write,
    schema: {
      tags,
      summary: 'Create a pipeline',
      params: typeParams,
      body: S.PipelineInput,
      response: ok(201, { $ref: 'Pipeline#' }),
    },
    handler: async (req: Req, reply) =>
      send(
        reply,
        201,
        await service.createPipeline(
          req.principal,
          req.objectType,
          map.toPipelineInput(req.body as PipelineInputBody),
        ),
      ),
  });

  app.get('/:objectType/:pipelineId', {
    config: read,
    schema: {
      tags,
      summary: 'Get a pipeline',
      params: pipelineParams,
      response: ok(200, { $ref: 'Pipeline#' }),
    },
    handler: (req: Req, reply) =>
      cachedRead(req, reply, 'pipeline', () =>
        service.getPipeline(req.principal, req.objectType, req.params.pipelineId),
      ),
  });

  app.put('/:objectType/:pipelineId', {
    config: write,
    schema: {
      tags,
      summary: 'Replace a pipeline',
      params: pipelineParams,
      querystring: checks,
      body: S.PipelineInput,
      response: ok(200, { $ref: 'Pipeline#' }),
    },
    handler: async (req: Req, reply) =>
      send(
        reply,
        200,
        await service.replacePipeline(
          req.principal,
          req.objectType,
          req.params.pipelineId,
          map.toPipelineInput(req.body as PipelineInputBody),
          map.toDeleteChecks(req.query),
        ),
      ),
  });

  app.patch('/:objectType/:pipelineId', {
    config: write,
    schema: {
      tags,
      summary: 'Update a pipeline (or restore an archived one with {"archived": false})',
      params: pipelineParams,
      querystring: checks,
      body: S.PipelinePatchInput,
      response: ok(200, { $ref: 'Pipeline#' }),
    },
    handler: async (req: Req, reply) =>
      send(
        reply,
        200,
        await service.updatePipeline(
          req.principal,
          req.objectType,
          req.params.pipelineId,
          map.toPipelinePatch(req.body as PipelinePatch),
          map.toDeleteChecks(req.query),
        ),
      ),
  });

  app.delete('/:objectType/:pipelineId', {
    config: write,
    schema: {
      tags,
      summary: 'Archive a pipeline',
      params: pipelineParams,
      querystring: checks,
      response: ok(204, { type: 'null' }),
    },
    handler: async (req: Req, reply) => {
      await service.archivePipeline(
        req.principal,
        req.objectType,
        req.params.pipelineId,
        map.toDeleteChecks(req.query),
      );
      return reply.code(204).send();
    },
  });

  app.get('/:objectType/:pipelineId/audit', {
    config: read,
    schema: {
      tags,
      summary: 'Audit trail of a pipeline, newest first',
      params: pipelineParams,
      response: ok(200, S.AuditCollection),
    },
    handler: (req: Req, reply) =>
      cachedRead(req, reply, 'audit', async () => ({
        results: await service.pipelineAudit(req.principal, req.objectType, req.params.pipelineId),
      })),
  });

  app.get('/:objectType/:pipelineId/stages', {
    config: read,
    schema: {
      tags,
      summary: 'List the stages of a pipeline',
      params: pipelineParams,
      response: ok(200, S.StageCollection),
    },
    handler: (req: Req, reply) =>
      cachedRead(req, reply, 'stages', async () => ({
        results: await service.listStages(req.principal, req.objectType, req.params.pipelineId),
      })),
  });

  app.post('/:objectType/:pipelineId/stages', {
    config: write,
    schema: {
      tags,
      summary: 'Create a stage',
      params: pipelineParams,
      body: S.PipelineStageInput,
      response: ok(201, { $ref: 'PipelineStage#' }),
    },
    handler: async (req: Req, reply) =>
      send(
        reply,
        201,
        await service.createStage(
          req.principal,
          req.objectType,
          req.params.pipelineId,
          map.toStageInput(req.body as StageInputBody),
        ),
      ),
  });

  app.get('/:objectType/:pipelineId/stages/:stageId', {
    config: read,
    schema: {
      tags,
      summary: 'Get a stage',
      params: stageParams,
      response: ok(200, { $ref: 'PipelineStage#' }),
    },
    handler: (req: Req, reply) =>
      cachedRead(req, reply, 'stage', () =>
        service.getStage(req.principal, req.objectType, req.params.pipelineId, req.params.stageId),
      ),
  });

  app.put('/:objectType/:pipelineId/stages/:stageId', {
    config: write,
    schema: {
      tags,
      summary: 'Replace a stage',
      params: stageParams,
      body: S.PipelineStageInput,
      response: ok(200, { $ref: 'PipelineStage#' }),
    },
    handler: async (req: Req, reply) =>
      send(
        reply,
        200,
        await service.replaceStage(
          req.principal,
          req.objectType,
          req.params.pipelineId,
          req.params.stageId,
          map.toStageReplaceInput(req.body as StageInputBody),
        ),
      ),
  });

  app.patch('/:objectType/:pipelineId/stages/:stageId', {
    config: write,
    schema: {
      tags,
      summary: 'Update a stage (metadata is merged; {"archived": false} restores)',
      params: stageParams,
      body: S.PipelineStagePatchInput,
      response: ok(200, { $ref: 'PipelineStage#' }),
    },
    handler: async (req: Req, reply) =>
      send(
        reply,
        200,
        await service.updateStage(
          req.principal,
          req.objectType,
          req.params.pipelineId,
          req.params.stageId,
          map.toStagePatch(req.body as StagePatch),
        ),
      ),
  });

  app.delete('/:objectType/:pipelineId/stages/:stageId', {
    config: write,
    schema: {
      tags,
      summary: 'Archive a stage',
      params: stageParams,
      querystring: checks,
      response: ok(204, { type: 'null' }),
    },
    handler: async (req: Req, reply) => {
      await service.archiveStage(
        req.principal,
        req.objectType,
        req.params.pipelineId,
        req.params.stageId,
        map.toDeleteChecks(req.query),
      );
      return reply.code(204).send();
    },
  });

  app.get('/:objectType/:pipelineId/stages/:stageId/audit', {
    config: read,
    schema: {
      tags,
      summary: 'Audit trail of a stage, newest first (pipelineId may be the literal {pipelineId})',
      params: stageParams,
      response: ok(200, S.AuditCollection),
    },
    handler: (req: Req, reply) =>
      cachedRead(req, reply, 'stageAudit', async () => ({
        results: await service.stageAudit(
          req.principal,
          req.objectType,
          req.params.pipelineId,
          req.params.stageId,
        ),
      })),
  });
}
