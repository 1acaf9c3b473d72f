import type { FastifyPluginCallback } from 'fastify';
import fp from 'fastify-plugin';

/** Answered with a 503 (in HubSpot's envelope) while the server drains for shutdown. */
export class ShuttingDown extends Error {
  readonly statusCode = 503;
  constructor() {
    super('the server is shutting down');
  }
}

/**
 * Shutdown without dropping work: once `close()` is called, requests already in flight finish,
 * new ones get a 503, and every answer closes its connection, since a keep-alive client would
 * otherwise hold the process open until its idle timeout (72 s) after the last request.
 */
const plugin: FastifyPluginCallback = (app, _options, done) => {
  let closing = false;
  app.addHook('preClose', (next) => {
    closing = true;
    next();
  });
  app.addHook('onRequest', (_request, _reply, next) => next(closing ? new ShuttingDown() : undefined));
  app.addHook('onSend', (_request, reply, payload, next) => {
    if (closing) reply.header('connection', 'close');
    next(null, payload);
  });
  done();
};

export const draining = fp(plugin, { name: 'stageline-draining' });
