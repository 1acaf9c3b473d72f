import type { FastifyPluginCallback } from 'fastify';
import fp from 'fastify-plugin';

import { CORRELATION_HEADER } from '../error-handler.js';

/** For a JSON API: never sniffed, framed, cached by intermediaries or sent with a referrer. */
export const SECURITY_HEADERS = {
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
};

/** Every answer, errors included, carries the security headers and its correlation id. */
const plugin: FastifyPluginCallback = (app, _options, done) => {
  app.addHook('onRequest', (request, reply, next) => {
    reply.headers(SECURITY_HEADERS);
    reply.header(CORRELATION_HEADER, request.id);
    next();
  });
  done();
};

export const securityHeaders = fp(plugin, { name: 'stageline-security-headers' });
