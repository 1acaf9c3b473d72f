// Helpers for end-to-end tests that drive Stageline through HubSpot's official Node SDK and through
// plain fetch. Every response seen by either path goes through `checkExchange`, which checks the
// status code rules, the error envelope and timestamp format, and validates the body against the
// official OpenAPI schema of the operation (when the spec is available).

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';

import { Client } from '@hubspot/api-client';
import { ApiException } from '@hubspot/api-client/lib/codegen/crm/pipelines/apis/exception.js';
import type {
  Middleware as PromiseMiddleware,
  PromiseConfigurationOptions,
} from '@hubspot/api-client/lib/codegen/crm/pipelines/index.js';

import { assertMatchesSchema, specAvailable, type SchemaName } from './openapi.js';
import type { WireError } from './wire-types.js';

export const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** ISO-8601 UTC with `Z`; milliseconds (three digits) only when present. */
export const ISO_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{3})?Z$/;
export const ERROR_CONTENT_TYPE = 'application/json;charset=utf-8';

// ---------------------------------------------------------------------------------------------
// Small assertion helpers

export function must<T>(value: T | null | undefined, what: string): T {
  assert.ok(value !== undefined && value !== null, `${what} is missing`);
  return value;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function assertIsoTimestamp(value: unknown, where: string): void {
  assert.equal(typeof value, 'string', `${where} must be an ISO-8601 string, got ${JSON.stringify(value)}`);
  const text = value as string;
  assert.match(text, ISO_RE, `${where} is not ISO-8601 UTC with Z: ${text}`);
  assert.ok(Number.isFinite(Date.parse(text)), `${where} does not parse: ${text}`);
  assert.ok(!text.endsWith('.000Z'), `${where} carries zero milliseconds (they must be omitted): ${text}`);
}

/** SDK 13.5 types stage metadata as strings; its serializer passes any JSON value through unchanged. */
export function num(value: number): string {
  return value as unknown as string;
}

export function randomToken(): string {
  return `e2e-${randomUUID()}`;
}

// ---------------------------------------------------------------------------------------------
// Per-exchange checks

export interface Exchange {
  method: string;
  url: string;
  status: number;
  header(name: string): string | undefined;
  text: string;
  json: unknown;
}

/** Which official schema describes the 2xx body of `method path`, or undefined for a bodiless 204. */
export function schemaForRoute(method: string, pathname: string): SchemaName | undefined {
  const prefix = '/crm/v3/pipelines/';
  assert.ok(pathname.startsWith(prefix), `unexpected path ${pathname}`);
  const parts = pathname.slice(prefix.length).split('/');
  const m = method.toUpperCase();
  if (m === 'DELETE') return undefined;
  if (parts[parts.length - 1] === 'audit') return 'CollectionResponsePublicAuditInfoNoPaging';
  switch (parts.length) {
    case 1:
      return m === 'GET' ? 'CollectionResponsePipelineNoPaging' : 'Pipeline';
    case 2:
      return 'Pipeline';
    case 3:
      return m === 'GET' ? 'CollectionResponsePipelineStageNoPaging' : 'PipelineStage';
    case 4:
      return 'PipelineStage';
    default:
      throw new Error(`no schema known for ${method} ${pathname}`);
  }
}

function checkStageShape(stage: unknown, where: string): void {
  assert.ok(isRecord(stage), `${where} is not an object`);
  assert.ok(isRecord(stage.metadata), `${where}.metadata must always be sent (FIDELITY §3)`);
  for (const [key, value] of Object.entries(stage.metadata)) {
    assert.equal(
      typeof value,
      'string',
      `${where}.metadata.${key} must be a string, got ${JSON.stringify(value)}`,
    );
  }
  assert.equal(typeof stage.writePermissions, 'string', `${where}.writePermissions must always be sent`);
  checkArchiveFields(stage, where);
}

function checkArchiveFields(item: Record<string, unknown>, where: string): void {
  assertIsoTimestamp(item.createdAt, `${where}.createdAt`);
  assertIsoTimestamp(item.updatedAt, `${where}.updatedAt`);
  if (item.archived === true) {
    assertIsoTimestamp(item.archivedAt, `${where}.archivedAt`);
  } else {
    assert.equal(item.archivedAt, undefined, `${where}.archivedAt must be absent unless archived`);
  }
}

function checkPipelineShape(pipeline: unknown, where: string): void {
  assert.ok(isRecord(pipeline), `${where} is not an object`);
  checkArchiveFields(pipeline, where);
  assert.ok(Array.isArray(pipeline.stages), `${where}.stages is not an array`);
  pipeline.stages.forEach((stage, i) => checkStageShape(stage, `${where}.stages[${i}]`));
}

function checkErrorEnvelope(ex: Exchange, where: string): void {
  assert.equal(
    ex.header('content-type'),
    ERROR_CONTENT_TYPE,
    `${where}: errors must be sent as ${ERROR_CONTENT_TYPE}`,
  );
  const body = ex.json;
  assert.ok(isRecord(body), `${where}: error body is not a JSON object: ${ex.text}`);
  if (specAvailable) assertMatchesSchema('Error', body, `${where} error body`);
  assert.equal(body.status, 'error', `${where}: error body status`);
  assert.equal(typeof body.message, 'string', `${where}: error message`);
  assert.equal(typeof body.category, 'string', `${where}: error category`);
  assert.match(String(body.correlationId), UUID_RE, `${where}: correlationId must be a UUID`);
  assert.equal(
    ex.header('x-hubspot-correlation-id'),
    body.correlationId,
    `${where}: x-hubspot-correlation-id header must equal the body's correlationId`,
  );
}

/** Checks one HTTP exchange against the wire rules; throws an AssertionError naming the request. */
export function checkExchange(ex: Exchange): void {
  const pathname = new URL(ex.url).pathname;
  const where = `${ex.method} ${pathname} → ${ex.status}`;
  if (ex.status >= 400) {
    checkErrorEnvelope(ex, where);
    return;
  }
  assert.ok(ex.status >= 200 && ex.status < 300, `${where}: unexpected status`);
  const method = ex.method.toUpperCase();
  const expected = method === 'POST' ? 201 : method === 'DELETE' ? 204 : 200;
  assert.equal(ex.status, expected, `${where}: ${method} must answer ${expected}`);
  const schema = schemaForRoute(method, pathname);
  if (schema === undefined) {
    assert.equal(ex.text, '', `${where}: a 204 must have an empty body`);
    return;
  }
  assert.match(ex.header('content-type') ?? '', /^application\/json/i, `${where}: content-type`);
  assert.ok(ex.json !== undefined, `${where}: body is not JSON: ${ex.text}`);
  if (specAvailable) assertMatchesSchema(schema, ex.json, `${where} body`);
  const body = ex.json;
  switch (schema) {
    case 'Pipeline':
      checkPipelineShape(body, 'pipeline');
      break;
    case 'PipelineStage':
      checkStageShape(body, 'stage');
      break;
    case 'CollectionResponsePipelineNoPaging':
    case 'CollectionResponsePipelineStageNoPaging':
    case 'CollectionResponsePublicAuditInfoNoPaging': {
      assert.ok(isRecord(body) && Array.isArray(body.results), `${where}: expected {results: [...]}`);
      assert.deepEqual(Object.keys(body), ['results'], `${where}: collections carry no paging`);
      body.results.forEach((item: unknown, i: number) => {
        if (schema === 'CollectionResponsePipelineNoPaging') checkPipelineShape(item, `results[${i}]`);
        else if (schema === 'CollectionResponsePipelineStageNoPaging') checkStageShape(item, `results[${i}]`);
        else {
          assert.ok(isRecord(item), `results[${i}] is not an object`);
          if (item.timestamp !== undefined) assertIsoTimestamp(item.timestamp, `results[${i}].timestamp`);
          assert.equal(typeof item.rawObject, 'string', `results[${i}].rawObject must be a JSON string`);
        }
      });
      break;
    }
    default:
      break;
  }
}

function parseJson(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------------------------------------
// Plain HTTP

export interface RawResponse<T = unknown> {
  status: number;
  headers: Headers;
  text: string;
  json: T;
}

export interface RawOptions {
  token?: string | undefined;
  body?: unknown;
  headers?: Record<string, string>;
  /** Skip checkExchange (only for requests that deliberately break the rules). */
  unchecked?: boolean;
}

export async function rawRequest<T = unknown>(
  baseUrl: string,
  method: string,
  path: string,
  options: RawOptions = {},
): Promise<RawResponse<T>> {
  const headers: Record<string, string> = { accept: 'application/json', ...options.headers };
  if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
  let body: string | undefined;
  if (options.body !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(options.body);
  }
  const url = `${baseUrl}${path}`;
  const response = await fetch(url, { method, headers, body });
  const text = await response.text();
  const json = parseJson(text);
  if (!options.unchecked) {
    checkExchange({
      method,
      url,
      status: response.status,
      header: (name) => response.headers.get(name) ?? undefined,
      text,
      json,
    });
  }
  return { status: response.status, headers: response.headers, text, json: json as T };
}

// ---------------------------------------------------------------------------------------------
// Official SDK, with every response captured and checked

export interface Portal {
  token: string | undefined;
  client: Client;
  pipelines: Client['crm']['pipelines']['pipelinesApi'];
  stages: Client['crm']['pipelines']['pipelineStagesApi'];
  audits: Client['crm']['pipelines']['pipelineAuditsApi'];
  stageAudits: Client['crm']['pipelines']['pipelineStageAuditsApi'];
  /**
   * Per-call SDK options that capture and check the raw response. SDK 13.5 only runs middleware
   * handed over per call, so pass `p.wire()` as the last argument of every SDK call.
   */
  wire(): PromiseConfigurationOptions;
  /** Every exchange captured through wire(), oldest first. */
  exchanges: Exchange[];
  /** Raw JSON body of the last captured SDK exchange. */
  lastJson<T>(): T;
  raw<T = unknown>(method: string, path: string, body?: unknown): Promise<RawResponse<T>>;
}

export function openPortal(baseUrl: string, token: string | undefined = randomToken()): Portal {
  const client = new Client(
    token === undefined ? { basePath: baseUrl } : { accessToken: token, basePath: baseUrl },
  );
  const api = client.crm.pipelines;
  const exchanges: Exchange[] = [];

  const wire = (): PromiseConfigurationOptions => {
    let method = '';
    let url = '';
    const recorder: PromiseMiddleware = {
      pre: async (ctx) => {
        method = String(ctx.getHttpMethod());
        url = ctx.getUrl();
        return ctx;
      },
      post: async (ctx) => {
        const text = await ctx.body.text();
        const headers = ctx.headers;
        const exchange: Exchange = {
          method,
          url,
          status: ctx.httpStatusCode,
          header: (name) => headers[name.toLowerCase()],
          text,
          json: parseJson(text),
        };
        exchanges.push(exchange);
        checkExchange(exchange);
        // The body stream is spent: hand the SDK a replayable one.
        ctx.body = {
          text: async () => text,
          binary: async () => Buffer.from(text),
        };
        return ctx;
      },
    };
    return { middleware: [recorder], middlewareMergeStrategy: 'append' };
  };

  return {
    token,
    client,
    pipelines: api.pipelinesApi,
    stages: api.pipelineStagesApi,
    audits: api.pipelineAuditsApi,
    stageAudits: api.pipelineStageAuditsApi,
    wire,
    exchanges,
    lastJson<T>(): T {
      const last = must(exchanges[exchanges.length - 1], 'a captured SDK exchange');
      return last.json as T;
    },
    raw: (method, path, body) => rawRequest(baseUrl, method, path, { token, body }),
  };
}

/**
 * Awaits an SDK call that must fail, checks it failed the way the SDK reports HTTP errors
 * (ApiException with .code and the parsed body), and returns the validated error body.
 */
export async function expectApiError(
  call: Promise<unknown>,
  status: number,
  message?: string | RegExp,
): Promise<WireError> {
  let failed = false;
  let caught: unknown;
  try {
    await call;
  } catch (error) {
    failed = true;
    caught = error;
  }
  assert.ok(failed, `expected the SDK call to fail with HTTP ${status}, but it succeeded`);
  assert.ok(caught instanceof ApiException, `expected an ApiException, got: ${String(caught)}`);
  const exception = caught as ApiException<unknown>;
  const body: unknown = exception.body;
  assert.equal(exception.code, status, `HTTP status (body: ${JSON.stringify(body)})`);
  assert.ok(isRecord(body), `ApiException.body should be the parsed error JSON, got ${JSON.stringify(body)}`);
  if (specAvailable) assertMatchesSchema('Error', body, 'ApiException.body');
  const error = body as unknown as WireError;
  assert.equal(error.status, 'error');
  assert.match(error.correlationId, UUID_RE);
  assert.equal(exception.headers['x-hubspot-correlation-id'], error.correlationId);
  if (typeof message === 'string') assert.equal(error.message, message);
  else if (message instanceof RegExp) assert.match(error.message, message);
  return error;
}

/** Parses an audit entry's rawObject (a JSON-encoded string) into an object. */
export function parseRawObject(entry: { rawObject?: unknown }, where = 'rawObject'): Record<string, unknown> {
  assert.equal(typeof entry.rawObject, 'string', `${where} must be a JSON-encoded string`);
  const parsed: unknown = JSON.parse(entry.rawObject as string);
  assert.ok(isRecord(parsed), `${where} must encode an object`);
  return parsed;
}
