import type { FastifyTypeProvider } from 'fastify';
import type { FromSchema, JSONSchema } from 'json-schema-to-ts';

/**
 * Routes get the types of their params, query and body from their JSON schemas (`as const`),
 * through json-schema-to-ts. Replies are not typed by their schemas: the response schemas are
 * applied at run time by the serializer, and cached reads send text serialized earlier, which no
 * schema type describes.
 */
export interface RequestTypesFromSchemas extends FastifyTypeProvider {
  validator: this['schema'] extends JSONSchema ? FromSchema<this['schema']> : unknown;
  serializer: unknown;
}
