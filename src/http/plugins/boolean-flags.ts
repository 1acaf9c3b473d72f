import type { FastifyPluginCallback, preValidationHookHandler } from 'fastify';
import fp from 'fastify-plugin';

const TRUE_OR_FALSE = /^(?:true|false)$/i;

/** The names of a querystring schema's boolean properties. */
function booleanNames(schema: unknown): string[] {
  const properties = (schema as { properties?: Record<string, { type?: unknown }> } | undefined)?.properties;
  if (properties === undefined) return [];
  return Object.entries(properties)
    .filter(([, p]) => p.type === 'boolean')
    .map(([name]) => name);
}

/**
 * Boolean query flags take `true` and `false` in any letter case, as HubSpot does (its Python
 * SDK sends `True`). Ajv's coercion knows only the lower-case words, so each route with boolean
 * query parameters lower-cases those two words before validation; any other value still fails
 * validation with a 400.
 */
const plugin: FastifyPluginCallback = (app, _options, done) => {
  app.addHook('onRoute', (route) => {
    const names = booleanNames(route.schema?.querystring);
    if (names.length === 0) return;
    const lowerCase: preValidationHookHandler = (request, _reply, next) => {
      const query = request.query as Record<string, unknown>;
      for (const name of names) {
        const value = query[name];
        if (typeof value === 'string' && TRUE_OR_FALSE.test(value)) query[name] = value.toLowerCase();
      }
      next();
    };
    const existing = route.preValidation;
    route.preValidation =
      existing === undefined
        ? [lowerCase]
        : [...(Array.isArray(existing) ? existing : [existing]), lowerCase];
  });
  done();
};

export const booleanFlags = fp(plugin, { name: 'stageline-boolean-flags' });
