/**
 * Fastify's own schema compilers (Ajv for input, fast-json-stringify for output), kept for the
 * life of the process instead of for the life of one app.
 *
 * Compiling the route schemas was most of the cost of building an app: about 100 ms, every
 * time, for the same schemas. Test suites build one Stageline per file or per test, so each
 * schema is compiled once per process here and every later app reuses the result. Route schemas
 * are module constants: Ajv caches what it compiled by schema object, and so does this file for
 * serializers. Both are keyed by the shared schemas and options too (Ajv's pool does that itself).
 */
import { AjvCompiler } from '@fastify/ajv-compiler';
import { SerializerSelector } from '@fastify/fast-json-stringify-compiler';
import type { FastifyServerOptions } from 'fastify';

type CompilersFactory = NonNullable<
  NonNullable<FastifyServerOptions['schemaController']>['compilersFactory']
>;
type BuildSerializer = NonNullable<CompilersFactory['buildSerializer']>;
type Serializer = (data: unknown) => string;

const buildValidator = AjvCompiler();
const buildFactory = SerializerSelector();

/** Serializers by the shared schemas and options they were built with, then by route schema. */
const serializers = new Map<string, WeakMap<object, Serializer>>();

const buildSerializer: BuildSerializer = (externalSchemas, options) => {
  const compile = buildFactory(externalSchemas, options);
  const key = JSON.stringify([externalSchemas, options]);
  let compiled = serializers.get(key);
  if (compiled === undefined) {
    compiled = new WeakMap();
    serializers.set(key, compiled);
  }
  const cache = compiled;
  return (route) => {
    const { schema } = route;
    if (typeof schema !== 'object' || schema === null) return compile(route);
    let serializer = cache.get(schema);
    if (serializer === undefined) {
      serializer = compile(route);
      cache.set(schema, serializer);
    }
    return serializer;
  };
};

export const SCHEMA_COMPILERS: CompilersFactory = {
  buildValidator: buildValidator as CompilersFactory['buildValidator'],
  buildSerializer,
};
