// Helpers for end-to-end tests that drive Stageline through HubSpot's official Node SDK and through
// plain fetch. Every response seen by either path goes through `checkExchange`, which checks the
// status code rules, the error envelope and timestamp format, and validates the body against the
// official OpenAPI schema of the operation (when the spec is available). Pipelines paths are checked
// against the spec of their version (v3, 2026-03, 2026-09; 2025-09 has no official file here and is
// checked against v3); CRM objects paths (`/crm/v3/objects/...`) get the record shape checks below.

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';

import { Client } from '@hubspot/api-client';
import { ApiException } from '@hubspot/api-client/lib/codegen/crm/pipelines/apis/exception.js';
import { ApiException as DealsApiException } from '@hubspot/api-client/lib/codegen/crm/deals/apis/exception.js';
import { ApiException as ObjectsApiException } from '@hubspot/api-client/lib/codegen/crm/objects/apis/exception.js';
import { ApiException as TicketsApiException } from '@hubspot/api-client/lib/codegen/crm/tickets/apis/exception.js';
import type {
  Middleware as PromiseMiddleware,
  PromiseConfigurationOptions,
} from '@hubspot/api-client/lib/codegen/crm/pipelines/index.js';

import {
  assertMatchesSchema,
  specAvailableFor,
  specOperation,
  type SchemaName,
  type SpecVersion,
} from './openapi.js';
import type { WireError } from './wire-types.js';

export const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** ISO-8601 UTC with `Z`; milliseconds (three digits) only when present. */
export const ISO_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{3})?Z$/;
export const NUMERIC_ID_RE = /^\d+$/;
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

/** Every path prefix the Pipelines API is served under: v3 and the date-versioned ones. */
const PIPELINES_PATH = /^\/crm\/(?:v3\/pipelines|pipelines\/(\d{4}-\d{2}))\//;
const OBJECTS_PREFIX = '/crm/v3/objects/';

/** `v3`, or the date of a versioned Pipelines path (`2026-09`); undefined for other paths. */
export function pipelinesApiVersion(pathname: string): string | undefined {
  const m = PIPELINES_PATH.exec(pathname);
  return m === null ? undefined : (m[1] ?? 'v3');
}

/** The official spec a Pipelines path is validated against (2025-09 has no file: v3's shapes). */
export function specVersionForPath(pathname: string): SpecVersion {
  const version = pipelinesApiVersion(pathname);
  assert.ok(version !== undefined, `not a Pipelines path: ${pathname}`);
  if (version === '2026-03' || version === '2026-09') return version;
  assert.ok(version === 'v3' || version === '2025-09', `no spec known for Pipelines version ${version}`);
  return 'v3';
}

/** Which official schema describes the 2xx body of `method path`, or undefined for a bodiless 204. */
export function schemaForRoute(method: string, pathname: string): SchemaName | undefined {
  const m0 = PIPELINES_PATH.exec(pathname);
  assert.ok(m0 !== null, `unexpected path ${pathname}`);
  const parts = pathname.slice(m0[0].length).split('/');
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

function checkErrorEnvelope(ex: Exchange, where: string, version: SpecVersion): void {
  assert.equal(
    ex.header('content-type'),
    ERROR_CONTENT_TYPE,
    `${where}: errors must be sent as ${ERROR_CONTENT_TYPE}`,
  );
  const body = ex.json;
  assert.ok(isRecord(body), `${where}: error body is not a JSON object: ${ex.text}`);
  if (specAvailableFor(version)) assertMatchesSchema('Error', body, `${where} error body`, version);
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
  const isObjects = pathname.startsWith(OBJECTS_PREFIX);
  // The objects API's errors use the same HubSpot envelope; the v3 Error schema describes it.
  const version =
    isObjects || pipelinesApiVersion(pathname) === undefined ? 'v3' : specVersionForPath(pathname);
  if (ex.status >= 400) {
    checkErrorEnvelope(ex, where, version);
    return;
  }
  assert.ok(ex.status >= 200 && ex.status < 300, `${where}: unexpected status`);
  if (isObjects) {
    checkRecordExchange(ex, pathname, where);
    return;
  }
  const method = ex.method.toUpperCase();
  const expected = method === 'POST' ? 201 : method === 'DELETE' ? 204 : 200;
  assert.equal(ex.status, expected, `${where}: ${method} must answer ${expected}`);
  const schema = schemaForRoute(method, pathname);
  if (version !== 'v3' && specAvailableFor(version)) {
    // Versioned paths: the operation, its status and its schema come from the official file itself.
    const op = specOperation(version, method, pathname);
    assert.ok(op !== undefined, `${where}: the official ${version} spec has no such operation`);
    assert.equal(
      ex.status,
      op.status,
      `${where}: the ${version} spec documents ${op.status} for ${op.template}`,
    );
    assert.equal(schema, op.schema, `${where}: the ${version} spec's response schema for ${op.template}`);
  }
  if (schema === undefined) {
    assert.equal(ex.text, '', `${where}: a 204 must have an empty body`);
    return;
  }
  assert.match(ex.header('content-type') ?? '', /^application\/json/i, `${where}: content-type`);
  assert.ok(ex.json !== undefined, `${where}: body is not JSON: ${ex.text}`);
  if (specAvailableFor(version)) assertMatchesSchema(schema, ex.json, `${where} body`, version);
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

// ---------------------------------------------------------------------------------------------
// CRM objects API (`/crm/v3/objects/{objectType}`): status codes and record shapes

/**
 * Record timestamps (createdAt, updatedAt, archivedAt and date-valued properties): ISO-8601 UTC
 * with `Z`. HubSpot's objects API always sends milliseconds there, so `.000Z` is allowed.
 */
export const RECORD_ISO_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{3})?Z$/;

type RecordBody = 'object' | 'page' | 'search' | 'batch' | 'none';

/** The success statuses and body kind of an objects API route, as HubSpot answers them. */
export function recordRoute(method: string, pathname: string): { statuses: number[]; body: RecordBody } {
  assert.ok(pathname.startsWith(OBJECTS_PREFIX), `not an objects path: ${pathname}`);
  const parts = pathname.slice(OBJECTS_PREFIX.length).split('/');
  const m = method.toUpperCase();
  const route = `${m} ${parts.length === 1 ? '{type}' : parts.slice(1).join('/')}`;
  if (parts.length === 1) {
    if (m === 'GET') return { statuses: [200], body: 'page' };
    if (m === 'POST') return { statuses: [201], body: 'object' };
  }
  if (parts.length === 2) {
    if (m === 'POST' && parts[1] === 'search') return { statuses: [200], body: 'search' };
    if (m === 'GET' || m === 'PATCH') return { statuses: [200], body: 'object' };
    if (m === 'DELETE') return { statuses: [204], body: 'none' };
  }
  if (parts.length === 3 && parts[1] === 'batch' && m === 'POST') {
    switch (parts[2]) {
      case 'read':
      case 'update':
        return { statuses: [200, 207], body: 'batch' };
      case 'create':
        return { statuses: [201], body: 'batch' };
      case 'archive':
        return { statuses: [204], body: 'none' };
    }
  }
  throw new Error(`no objects API route known for ${route}`);
}

function assertRecordTimestamp(value: unknown, where: string): number {
  assert.equal(typeof value, 'string', `${where} must be an ISO-8601 string, got ${JSON.stringify(value)}`);
  assert.match(value as string, RECORD_ISO_RE, `${where} is not ISO-8601 UTC with Z: ${String(value)}`);
  const ms = Date.parse(value as string);
  assert.ok(Number.isFinite(ms), `${where} does not parse: ${String(value)}`);
  return ms;
}

const RECORD_KEYS = ['id', 'properties', 'createdAt', 'updatedAt', 'archived', 'archivedAt', 'associations'];

/** A read's `associations`: per target type, `{ results: [{ id, type }] }` (the SDK's AssociatedId). */
function checkAssociationsShape(associations: unknown, where: string): void {
  assert.ok(isRecord(associations), `${where} must be an object`);
  for (const [type, collection] of Object.entries(associations)) {
    assert.ok(
      isRecord(collection) && Array.isArray(collection.results),
      `${where}.${type} must be {results: []}`,
    );
    assert.ok(collection.results.length > 0, `${where}.${type}: a type with no links is left out`);
    for (const link of collection.results as unknown[]) {
      assert.ok(isRecord(link), `${where}.${type}.results[] must be objects`);
      assert.match(String(link.id), NUMERIC_ID_RE, `${where}.${type}.results[].id must be a numeric string`);
      assert.equal(typeof link.id, 'string', `${where}.${type}.results[].id must be a string`);
      assert.equal(typeof link.type, 'string', `${where}.${type}.results[].type must be a string`);
    }
  }
}

/** One record (SimplePublicObject) as HubSpot sends it. */
export function checkRecordShape(record: unknown, where: string): void {
  assert.ok(isRecord(record), `${where} is not an object`);
  for (const key of Object.keys(record)) {
    assert.ok(RECORD_KEYS.includes(key), `${where} has an unexpected key ${key}`);
  }
  assert.equal(typeof record.id, 'string', `${where}.id must be a string`);
  assert.match(record.id as string, NUMERIC_ID_RE, `${where}.id must be a numeric string`);
  assert.ok(isRecord(record.properties), `${where}.properties must be an object`);
  for (const [name, value] of Object.entries(record.properties)) {
    assert.ok(
      value === null || typeof value === 'string',
      `${where}.properties.${name} must be a string or null, got ${JSON.stringify(value)}`,
    );
  }
  assert.equal(record.properties.hs_object_id, record.id, `${where}.properties.hs_object_id must equal id`);
  const created = assertRecordTimestamp(record.createdAt, `${where}.createdAt`);
  const updated = assertRecordTimestamp(record.updatedAt, `${where}.updatedAt`);
  assert.ok(created <= updated, `${where}: createdAt ${String(record.createdAt)} is after updatedAt`);
  assert.equal(typeof record.archived, 'boolean', `${where}.archived must be a boolean`);
  if (record.archived === true) assertRecordTimestamp(record.archivedAt, `${where}.archivedAt`);
  else assert.equal(record.archivedAt, undefined, `${where}.archivedAt must be absent unless archived`);
  if (record.associations !== undefined) checkAssociationsShape(record.associations, `${where}.associations`);
  for (const [name, value] of Object.entries(record.properties)) {
    if (typeof value === 'string' && /^hs_date_(entered|exited)_/.test(name)) {
      assertRecordTimestamp(value, `${where}.properties.${name}`);
    }
  }
}

function checkPaging(body: Record<string, unknown>, where: string): void {
  if (body.paging === undefined) return;
  assert.ok(isRecord(body.paging) && isRecord(body.paging.next), `${where}: paging must be {next: {after}}`);
  assert.equal(typeof body.paging.next.after, 'string', `${where}: paging.next.after must be a string`);
  assert.notEqual(body.paging.next.after, '', `${where}: paging.next.after must not be empty`);
}

function checkRecordExchange(ex: Exchange, pathname: string, where: string): void {
  const route = recordRoute(ex.method, pathname);
  assert.ok(
    route.statuses.includes(ex.status),
    `${where}: ${ex.method.toUpperCase()} must answer ${route.statuses.join(' or ')}`,
  );
  if (route.body === 'none') {
    assert.equal(ex.text, '', `${where}: a 204 must have an empty body`);
    return;
  }
  assert.match(ex.header('content-type') ?? '', /^application\/json/i, `${where}: content-type`);
  const body = ex.json;
  assert.ok(isRecord(body), `${where}: body is not a JSON object: ${ex.text}`);
  switch (route.body) {
    case 'object':
      checkRecordShape(body, `${where} record`);
      return;
    case 'page':
    case 'search': {
      const allowed = route.body === 'page' ? ['results', 'paging'] : ['total', 'results', 'paging'];
      for (const key of Object.keys(body))
        assert.ok(allowed.includes(key), `${where}: unexpected key ${key}`);
      assert.ok(Array.isArray(body.results), `${where}: results must be an array`);
      body.results.forEach((r: unknown, i: number) => checkRecordShape(r, `${where} results[${i}]`));
      if (route.body === 'search') {
        assert.ok(Number.isInteger(body.total), `${where}: total must be an integer`);
        assert.ok((body.total as number) >= body.results.length, `${where}: total < results.length`);
      }
      checkPaging(body, where);
      return;
    }
    case 'batch': {
      assert.equal(body.status, 'COMPLETE', `${where}: batch status`);
      assert.ok(Array.isArray(body.results), `${where}: results must be an array`);
      body.results.forEach((r: unknown, i: number) => checkRecordShape(r, `${where} results[${i}]`));
      assertRecordTimestamp(body.startedAt, `${where} startedAt`);
      assertRecordTimestamp(body.completedAt, `${where} completedAt`);
      if (ex.status === 207) {
        assert.ok(Array.isArray(body.errors) && body.errors.length > 0, `${where}: a 207 must list errors`);
        assert.equal(body.numErrors, body.errors.length, `${where}: numErrors`);
        body.errors.forEach((e: unknown, i: number) => {
          assert.ok(isRecord(e), `${where} errors[${i}] is not an object`);
          assert.equal(e.status, 'error', `${where} errors[${i}].status`);
          assert.equal(typeof e.category, 'string', `${where} errors[${i}].category`);
          assert.equal(typeof e.message, 'string', `${where} errors[${i}].message`);
        });
      } else {
        assert.equal(body.errors, undefined, `${where}: errors only come with a 207`);
        assert.equal(body.numErrors, undefined, `${where}: numErrors only comes with a 207`);
      }
      return;
    }
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
  // Each SDK client (pipelines, deals, tickets, objects) has its own ApiException class.
  assert.ok(
    caught instanceof ApiException ||
      caught instanceof DealsApiException ||
      caught instanceof TicketsApiException ||
      caught instanceof ObjectsApiException,
    `expected an ApiException, got: ${String(caught)}`,
  );
  const exception = caught as ApiException<unknown>;
  const body: unknown = exception.body;
  assert.equal(exception.code, status, `HTTP status (body: ${JSON.stringify(body)})`);
  assert.ok(isRecord(body), `ApiException.body should be the parsed error JSON, got ${JSON.stringify(body)}`);
  if (specAvailableFor('v3')) assertMatchesSchema('Error', body, 'ApiException.body');
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
