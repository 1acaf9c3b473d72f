import { LogController } from 'fastify';
import type { FastifyReply, FastifyRequest } from 'fastify';

import type { Principal } from '../app/auth-service.js';

/** What an access line holds besides the level, time and correlation id. */
export interface AccessLine {
  readonly method: string;
  readonly path: string;
  readonly status: number;
  readonly durationMs: number;
  readonly portalId?: number;
}

/**
 * One access line per request, at `info`, written when the answer has gone out, in place of
 * Fastify's two (incoming, completed). It holds the method, the path without its query, the
 * status, the server time, the portal and (bound by Fastify) the correlation id; never a header,
 * a query string or a body, so never a token.
 */
export class AccessLog extends LogController {
  constructor() {
    super({ requestIdLogLabel: 'correlationId' });
  }

  override incomingRequest(): void {}

  override requestCompleted(
    error: Error | null | undefined,
    request: FastifyRequest,
    reply: FastifyReply,
  ): void {
    const url = request.url;
    const query = url.indexOf('?');
    const line: AccessLine = {
      method: request.method,
      path: query === -1 ? url : url.slice(0, query),
      status: reply.statusCode,
      durationMs: Math.round(reply.elapsedTime * 1000) / 1000,
      portalId: (request.principal as Principal | undefined)?.portalId,
    };
    const message = `${line.method} ${line.path} ${line.status} in ${line.durationMs} ms`;
    if (error) reply.log.error({ ...line, err: error }, `${message}: failed while answering`);
    else reply.log.info(line, message);
  }
}
