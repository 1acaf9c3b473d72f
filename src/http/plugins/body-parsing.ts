import type { FastifyPluginCallback } from 'fastify';
import fp from 'fastify-plugin';

import { DomainError } from '../../domain/errors.js';

const TEXT_MESSAGE =
  'Text values may not contain NUL (\\u0000) characters or unpaired surrogates (invalid UTF-16)';

/** Text no backend stores faithfully: NUL, and lone surrogates (they come back as U+FFFD). */
const unstorable = (text: string): boolean => text.includes('\0') || !text.isWellFormed();

function hasUnstorableText(value: unknown): boolean {
  if (typeof value === 'string') return unstorable(value);
  if (Array.isArray(value)) return value.some(hasUnstorableText);
  if (value !== null && typeof value === 'object') {
    return Object.entries(value).some(([k, v]) => unstorable(k) || hasUnstorableText(v));
  }
  return false;
}

/**
 * JSON in, and only JSON: a text/plain body is a 415 like any other non-JSON content type (the
 * size limit is Fastify's `bodyLimit`, a 413). An empty body (a DELETE sent with a JSON content
 * type) is no body at all. Text may hold neither NUL characters nor lone surrogates, in the
 * body or the URL: no backend stores them faithfully.
 */
const plugin: FastifyPluginCallback = (app, _options, done) => {
  app.addHook('onRequest', (request, _reply, next) =>
    next(request.url.includes('%00') ? new DomainError('VALIDATION_ERROR', TEXT_MESSAGE) : undefined),
  );

  app.removeContentTypeParser('text/plain');
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, parsed) => {
    const text = body as string;
    if (text.trim() === '') return parsed(null, undefined);
    // Only escapes can smuggle these in: the body was decoded from UTF-8 already.
    if (!/\\u(0000|d[89a-f])/i.test(text)) return parseJson(request, text, parsed);
    parseJson(request, text, (err: Error | null, value?: unknown) => {
      if (err) return parsed(err, undefined);
      if (hasUnstorableText(value))
        return parsed(new DomainError('VALIDATION_ERROR', TEXT_MESSAGE), undefined);
      return parsed(null, value);
    });
  });
  done();
};

export const bodyParsing = fp(plugin, { name: 'stageline-body-parsing' });
