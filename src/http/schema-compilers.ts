/**
 * Fastify's own schema compilers (Ajv for input, fast-json-stringify for output), with each
 * route schema compiled when a request first needs it, once per process.
 *
 * Compiling every route schema when the app became ready was most of the cost of starting
 * Stageline (about 150 ms here), every time, for the same schemas, and most routes are never
 * called by a given test suite. Route schemas are module constants: Ajv's pool keeps one
 * instance per set of shared schemas and options, which caches what it compiled by schema
 * object, and this file keeps serializers the same way, so a second app in the same process
 * compiles nothing.
 */
import { AjvCompiler } from '@fastify/ajv-compiler';
import { SerializerSelector } from '@fastify/fast-json-stringify-compiler';
import type { FastifyServerOptions } from 'fastify';

type CompilersFactory = NonNullable<
  NonNullable<FastifyServerOptions['schemaController']>['compilersFactory']
>;
type Serializer = (data: unknown) => string;
/** What Fastify calls to validate: it reads `errors` after a `false`. */
type Validate = ((data: unknown) => unknown) & { errors?: unknown };
type CompileValidator = (route: unknown) => Validate;

const ajvPool = AjvCompiler();
const serializerFactory = SerializerSelector();

/** Compiles the validator on its first call, then runs it. */
function lazyValidator(compile: CompileValidator, route: unknown): Validate {
  let compiled: Validate | undefined;
  const validate: Validate = (data) => {
    compiled ??= compile(route);
    const result = compiled(data);
    validate.errors = compiled.errors;
    return result;
  };
  return validate;
}

const buildValidator: CompilersFactory['buildValidator'] = (externalSchemas, options) => {
  const compile = ajvPool(externalSchemas, options as never) as CompileValidator;
  return ((route: unknown) => lazyValidator(compile, route)) as never;
};

/** Serializers by the shared schemas and options they were built with, then by route schema. */
const serializers = new Map<string, WeakMap<object, Serializer>>();

const buildSerializer: CompilersFactory['buildSerializer'] = (externalSchemas, options) => {
  const compile = serializerFactory(externalSchemas, options);
  const key = JSON.stringify([externalSchemas, options]);
  let cache = serializers.get(key);
  if (cache === undefined) {
    cache = new WeakMap();
    serializers.set(key, cache);
  }
  const byRoute = cache;
  return (route) => {
    const { schema } = route;
    if (typeof schema !== 'object' || schema === null) return compile(route);
    let serializer = byRoute.get(schema);
    if (serializer === undefined) {
      let compiled: Serializer | undefined;
      serializer = (data) => (compiled ??= compile(route))(data);
      byRoute.set(schema, serializer);
    }
    return serializer;
  };
};

export const SCHEMA_COMPILERS: CompilersFactory = { buildValidator, buildSerializer };
