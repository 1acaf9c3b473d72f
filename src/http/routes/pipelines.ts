/**
 * The 14 Pipelines operations, mountable under any prefix (`/crm/v3/pipelines` and the
 * date-versioned paths). Auth runs on request, the object type and scope check before
 * body validation (as HubSpot answers 403 before 400), then the handler calls one use case.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { RequestTypesFromSchemas } from '../type-provider.js';
import type { RateLimits } from '../../app/rate-limiter.js';
import type { AuthService } from '../../app/auth-service.js';
import type { DeleteFlagRule, PipelineService } from '../../app/pipeline-service.js';
import { acceptsGzip, COMPRESS_FROM_CHARS, gzipped } from '../compression.js';
import type { Answer } from '../compression.js';
import { JSON_TYPE } from '../error-handler.js';
import { addGuards } from '../guards.js';
import { readKey } from '../read-cache.js';
import type { ReadCache } from '../read-cache.js';
import * as map from '../map-api.js';
import * as S from '../schemas.js';

export interface PipelineRoutesOptions {
  service: PipelineService;
  auth: AuthService;
  limiter?: RateLimits;
  cache?: ReadCache;
  /** Default of the validate…BeforeDelete flags: false in v3, true from 2026-09. */
  deleteChecksDefault: boolean;
  /** How the two flags combine in this API version. */
  deleteFlagRule: DeleteFlagRule;
  tag: string;
}

// Every schema is a module constant: compiled once per process (see schema-compilers.ts).
const pipelineParams = {
  type: 'object',
  required: ['objectType', 'pipelineId'],
  properties: { objectType: { type: 'string' }, pipelineId: { type: 'string' } },
} as const;
const stageParams = {
  type: 'object',
  required: ['objectType', 'pipelineId', 'stageId'],
  properties: { ...pipelineParams.properties, stageId: { type: 'string' } },
} as const;
const DELETE_CHECKS = { false: S.deleteChecksQuery(false), true: S.deleteChecksQuery(true) } as const;
const PIPELINES = S.responses(200, S.PipelineCollection);
const PIPELINE = S.responses(200, S.PipelineRef);
const CREATED_PIPELINE = S.responses(201, S.PipelineRef);
const STAGES = S.responses(200, S.StageCollection);
const STAGE = S.responses(200, S.PipelineStageRef);
const CREATED_STAGE = S.responses(201, S.PipelineStageRef);
const AUDIT = S.responses(200, S.AuditCollection);
const NO_CONTENT = S.responses(204, S.NoContent);

export async function pipelineRoutes(base: FastifyInstance, opts: PipelineRoutesOptions): Promise<void> {
  const app = base.withTypeProvider<RequestTypesFromSchemas>();
  const { service, cache } = opts;

  addGuards(app, opts.auth, opts.limiter);

  const checks = DELETE_CHECKS[opts.deleteChecksDefault ? 'true' : 'false'];
  const tags = [opts.tag];
  const read = { access: 'read' as const };
  const write = { access: 'write' as const };
  /**
   * Large answers go compressed to clients that accept gzip; a cached one is compressed once.
   * The body is already serialized: it goes out as is, typed as the route's reply.
   */
  const answer = <R extends FastifyReply>(req: FastifyRequest, reply: R, a: Answer): R | Promise<R> => {
    const raw: FastifyReply = reply.code(200).type(JSON_TYPE);
    if (a.body.length >= COMPRESS_FROM_CHARS) {
      raw.header('vary', 'accept-encoding');
      if (acceptsGzip(req.headers['accept-encoding'])) {
        return gzipped(a).then((bytes) => {
          raw.header('content-encoding', 'gzip').send(bytes);
          return reply;
        });
      }
    }
    raw.send(a.body);
    return reply;
  };
  /** A read answered from the cache when it can be, else produced, serialized and cached. */
  const cachedRead = <R extends FastifyReply>(
    req: FastifyRequest & { params: { objectType: string; pipelineId?: string; stageId?: string } },
    reply: R,
    op: string,
    produce: () => Promise<unknown>,
  ): R | Promise<R> => {
    const { portalId, unseenTokenHash } = req.principal;
    // A portal not in the database yet reads its starting state from memory: caching its
    // answers would only hold the same text once per token.
    const portalCache = unseenTokenHash === undefined ? cache : undefined;
    const key = readKey(op, req.objectType.key, req.params.pipelineId, req.params.stageId);
    const hit = portalCache?.get(portalId, key);
    if (hit !== undefined) return answer(req, reply, hit);
    const ticket = portalCache?.ticket(portalId);
    return produce().then((value) => {
      const fresh: Answer = { body: reply.code(200).serialize(value) as string };
      if (ticket !== undefined) cache!.set(portalId, key, ticket, fresh);
      return answer(req, reply, fresh);
    });
  };

  app.get('/:objectType', {
    config: read,
    schema: {
      tags,
      summary: 'List the pipelines of an object type',
      params: S.TypeParams,
      response: PIPELINES,
    },
    handler: (req, reply) =>
      cachedRead(req, reply, 'pipelines', async () => ({
        results: await service.listPipelines(req.principal, req.objectType),
      })),
  });

  app.post('/:objectType', {
    config: write,
    schema: {
      tags,
      summary: 'Create a pipeline',
      params: S.TypeParams,
      body: S.PipelineInput,
      response: CREATED_PIPELINE,
    },
    handler: async (req, reply) =>
      reply
        .code(201)
        .type(JSON_TYPE)
        .send(await service.createPipeline(req.principal, req.objectType, map.toPipelineInput(req.body))),
  });

  app.get('/:objectType/:pipelineId', {
    config: read,
    schema: { tags, summary: 'Get a pipeline', params: pipelineParams, response: PIPELINE },
    handler: (req, reply) =>
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
      response: PIPELINE,
    },
    handler: async (req, reply) =>
      reply
        .type(JSON_TYPE)
        .send(
          await service.replacePipeline(
            req.principal,
            req.objectType,
            req.params.pipelineId,
            map.toPipelineInput(req.body),
            map.toDeleteChecks(req.query, opts.deleteFlagRule),
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
      response: PIPELINE,
    },
    handler: async (req, reply) =>
      reply
        .type(JSON_TYPE)
        .send(
          await service.updatePipeline(
            req.principal,
            req.objectType,
            req.params.pipelineId,
            map.toPipelinePatch(req.body),
            map.toDeleteChecks(req.query, opts.deleteFlagRule),
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
      response: NO_CONTENT,
    },
    handler: async (req, reply) => {
      await service.archivePipeline(
        req.principal,
        req.objectType,
        req.params.pipelineId,
        map.toDeleteChecks(req.query, opts.deleteFlagRule),
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
      response: AUDIT,
    },
    handler: (req, reply) =>
      cachedRead(req, reply, 'audit', async () => ({
        results: await service.pipelineAudit(req.principal, req.objectType, req.params.pipelineId),
      })),
  });

  app.get('/:objectType/:pipelineId/stages', {
    config: read,
    schema: { tags, summary: 'List the stages of a pipeline', params: pipelineParams, response: STAGES },
    handler: (req, reply) =>
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
      response: CREATED_STAGE,
    },
    handler: async (req, reply) =>
      reply
        .code(201)
        .type(JSON_TYPE)
        .send(
          await service.createStage(
            req.principal,
            req.objectType,
            req.params.pipelineId,
            map.toStageInput(req.body),
          ),
        ),
  });

  app.get('/:objectType/:pipelineId/stages/:stageId', {
    config: read,
    schema: { tags, summary: 'Get a stage', params: stageParams, response: STAGE },
    handler: (req, reply) =>
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
      response: STAGE,
    },
    handler: async (req, reply) =>
      reply
        .type(JSON_TYPE)
        .send(
          await service.replaceStage(
            req.principal,
            req.objectType,
            req.params.pipelineId,
            req.params.stageId,
            map.toStageReplaceInput(req.body),
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
      response: STAGE,
    },
    handler: async (req, reply) =>
      reply
        .type(JSON_TYPE)
        .send(
          await service.updateStage(
            req.principal,
            req.objectType,
            req.params.pipelineId,
            req.params.stageId,
            map.toStagePatch(req.body),
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
      response: NO_CONTENT,
    },
    handler: async (req, reply) => {
      await service.archiveStage(
        req.principal,
        req.objectType,
        req.params.pipelineId,
        req.params.stageId,
        map.toDeleteChecks(req.query, opts.deleteFlagRule),
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
      response: AUDIT,
    },
    handler: (req, reply) =>
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
