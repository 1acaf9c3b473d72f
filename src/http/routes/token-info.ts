/**
 * What a token is, asked with the token itself rather than as the bearer (HubSpot needs no
 * Authorization header on either): `POST /oauth/v2/private-apps/get/access-token-info` (body
 * `{ tokenKey }`, what HubSpot's MCP server calls first) and `GET /oauth/v1/access-tokens/{token}`
 * (the SDK's `oauth.accessTokensApi`). The token in the second path never reaches the access log:
 * the route declares it secret (see access-log.ts).
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AccountService, TokenInfo } from '../../app/account-service.js';
import { DomainError } from '../../domain/errors.js';
import { AUTH_MESSAGE, JSON_TYPE } from '../error-handler.js';
import * as S from '../schemas.js';
import type { RequestTypesFromSchemas } from '../type-provider.js';

export interface TokenInfoRoutesOptions {
  accounts: AccountService;
}

/** Stageline's tokens do not expire: the longest time a 32-bit client can hold. */
const NEVER_EXPIRES_SECONDS = 2_147_483_647;

// Every schema is a module constant: compiled once per process (see schema-compilers.ts).
const scopes = { type: 'array', items: { type: 'string' } } as const;
const privateAppInfo = {
  type: 'object',
  required: ['userId', 'hubId', 'appId', 'scopes'],
  properties: {
    userId: { type: 'integer' },
    hubId: { type: 'integer' },
    appId: { type: 'integer' },
    scopes,
  },
} as const;
const accessTokenInfo = {
  type: 'object',
  required: ['token', 'hub_id', 'user_id', 'app_id', 'scopes', 'token_type', 'expires_in'],
  properties: {
    token: { type: 'string' },
    user: { type: 'string' },
    hub_id: { type: 'integer' },
    user_id: { type: 'integer' },
    app_id: { type: 'integer' },
    scopes,
    token_type: { type: 'string' },
    expires_in: { type: 'integer' },
  },
} as const;
const privateAppBody = {
  type: 'object',
  required: ['tokenKey'],
  properties: { tokenKey: { type: 'string', minLength: 1 } },
} as const;
const tokenParams = {
  type: 'object',
  required: ['token'],
  properties: { token: { type: 'string', minLength: 1 } },
} as const;

export async function tokenInfoRoutes(base: FastifyInstance, opts: TokenInfoRoutesOptions): Promise<void> {
  const app = base.withTypeProvider<RequestTypesFromSchemas>();
  const tags = ['OAuth'];

  /** The token's info, with its portal noted for the access line; an unknown token is a 401. */
  const lookUp = async (req: FastifyRequest, token: string): Promise<TokenInfo> => {
    const found = await opts.accounts.tokenInfo(token);
    if (found === undefined) throw new DomainError('INVALID_AUTHENTICATION', AUTH_MESSAGE);
    req.principal = found.principal;
    return found.info;
  };

  app.post('/oauth/v2/private-apps/get/access-token-info', {
    schema: {
      tags,
      summary: 'What a private app token is',
      body: privateAppBody,
      response: S.responses(200, privateAppInfo),
    },
    handler: async (req, reply) => {
      const info = await lookUp(req, req.body.tokenKey);
      return reply.code(200).type(JSON_TYPE).send({
        userId: info.userId,
        hubId: info.portalId,
        appId: info.appId,
        scopes: info.scopes,
      });
    },
  });

  app.get('/oauth/v1/access-tokens/:token', {
    config: { secretParams: ['token'] },
    schema: {
      tags,
      summary: 'What an access token is',
      params: tokenParams,
      response: S.responses(200, accessTokenInfo),
    },
    handler: async (req, reply) => {
      const { token } = req.params;
      const info = await lookUp(req, token);
      return reply.code(200).type(JSON_TYPE).send({
        token,
        user: info.user,
        hub_id: info.portalId,
        user_id: info.userId,
        app_id: info.appId,
        scopes: info.scopes,
        token_type: 'access',
        expires_in: NEVER_EXPIRES_SECONDS,
      });
    },
  });
}
