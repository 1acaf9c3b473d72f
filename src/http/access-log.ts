import { LogController } from 'fastify';
import type { FastifyReply, FastifyRequest, RouteOptions } from 'fastify';

import type { Principal } from '../app/auth-service.js';
import { escapeRegExp } from './escape-regexp.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Path parameters whose values are secrets (a token): the access log shows them redacted. */
    secretParams?: readonly string[];
  }
}

/** What an access line shows in place of a secret path segment. */
export const REDACTED = '[redacted]';

/** A route path with secrets: a regex over concrete paths, and which of its groups are secret. */
interface SecretPath {
  readonly url: string;
  readonly regex: RegExp;
  readonly secretGroups: readonly number[];
}

/**
 * `/oauth/v1/access-tokens/:token` with `token` secret: a regex whose groups are the path's
 * parameters. It is anchored at the start only, so a longer path that no route answers (a 404)
 * has its secret segment redacted too.
 */
function secretPath(url: string, secret: readonly string[]): SecretPath {
  let source = '^';
  const secretGroups: number[] = [];
  let group = 0;
  for (const part of url.split(/(:[A-Za-z0-9_]+)/)) {
    if (!part.startsWith(':')) {
      source += escapeRegExp(part);
      continue;
    }
    group += 1;
    if (secret.includes(part.slice(1))) secretGroups.push(group);
    source += '([^/?]*)';
  }
  // Case-insensitive: a path the router does not match (other letter case) is redacted all the same.
  return { url, regex: new RegExp(source, 'di'), secretGroups };
}

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
 * a query string or a body, so never a token; a token in the path (a route's `secretParams`) is
 * redacted.
 */
export class AccessLog extends LogController {
  private readonly secretPaths: SecretPath[] = [];

  constructor() {
    super({ requestIdLogLabel: 'correlationId' });
  }

  /**
   * Notes a route whose config names `secretParams`: from then on, any logged path that matches
   * the route's path, whatever its method or answer, shows those segments as REDACTED. Called
   * from an `onRoute` hook added before the routes.
   */
  noteRoute(route: Pick<RouteOptions, 'url' | 'config'>): void {
    const secret = route.config?.secretParams;
    if (secret === undefined || secret.length === 0) return;
    if (this.secretPaths.some((p) => p.url === route.url)) return;
    this.secretPaths.push(secretPath(route.url, secret));
  }

  /** The path as logged: without its query, secret segments redacted. */
  private loggedPath(url: string): string {
    const query = url.indexOf('?');
    let path = query === -1 ? url : url.slice(0, query);
    for (const { regex, secretGroups } of this.secretPaths) {
      const indices = regex.exec(path)?.indices;
      if (indices === undefined) continue;
      for (const group of [...secretGroups].reverse()) {
        const [start, end] = indices[group]!;
        path = `${path.slice(0, start)}${REDACTED}${path.slice(end)}`;
      }
    }
    return path;
  }

  override incomingRequest(): void {}

  override requestCompleted(
    error: Error | null | undefined,
    request: FastifyRequest,
    reply: FastifyReply,
  ): void {
    const line: AccessLine = {
      method: request.method,
      path: this.loggedPath(request.url),
      status: reply.statusCode,
      durationMs: Math.round(reply.elapsedTime * 1000) / 1000,
      portalId: (request.principal as Principal | undefined)?.portalId,
    };
    const message = `${line.method} ${line.path} ${line.status} in ${line.durationMs} ms`;
    if (error) reply.log.error({ ...line, err: error }, `${message}: failed while answering`);
    else reply.log.info(line, message);
  }
}
