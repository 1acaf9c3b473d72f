// Shared helpers of the HTTP tests: apps built through the composition root and driven with
// `app.inject` (never listening), plus checks of HubSpot's error envelope.

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before } from 'node:test';
import { Writable } from 'node:stream';

import type { InjectOptions, LightMyRequestResponse } from 'fastify';

import { loadConfig } from '../../src/config.js';
import type { ConfigInput } from '../../src/config.js';
import { createStageline } from '../../src/stageline.js';
import type { BuildOverrides, Stageline } from '../../src/stageline.js';
import type { WireError, WirePipeline } from '../helpers/wire-types.js';
import { testDatabase } from '../helpers/backend.js';

export const BASE = '/crm/v3/pipelines';
export const JSON_TYPE = 'application/json;charset=utf-8';
export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;
export const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{3})?Z$/;
export const AUTH_PREFIX = 'Authentication credentials not found.';
export const MISSING_SCOPES_MESSAGE =
  "This app hasn't been granted all required scopes to make this call. Read more about required scopes here: https://developers.hubspot.com/scopes.";

export async function buildStageline(
  flags: ConfigInput = {},
  overrides: BuildOverrides = {},
): Promise<Stageline> {
  const config = loadConfig(
    { database: testDatabase(), auth: 'open', logLevel: 'silent', rateLimit: 'off', ...flags },
    {},
  );
  return createStageline(config, overrides);
}

/** A Stageline shared by the tests of one file or suite, with `call` and `createPipeline` bound to it. */
export interface SharedStageline {
  call(method: InjectOptions['method'], url: string, options?: CallOptions): Promise<LightMyRequestResponse>;
  createPipeline(token: string, objectType: string, body: unknown): Promise<WirePipeline>;
}

/**
 * Builds a Stageline in a `before` hook of the enclosing file or suite and closes it in `after`.
 * Call it at the top level of a test file (or of a describe), never inside a test.
 */
export function useStageline(flags: ConfigInput = {}): SharedStageline {
  let shared: Stageline | undefined;
  before(async () => {
    shared = await buildStageline(flags);
  });
  after(async () => {
    await shared?.close();
  });
  const current = (): Stageline => must(shared, 'the shared Stageline (used outside its suite)');
  return {
    call: (method, url, options) => call(current(), method, url, options),
    createPipeline: (token, objectType, body) => createPipeline(current(), token, objectType, body),
  };
}

/** A fresh bearer token: in open mode, a fresh portal with the default pipelines. */
export const newToken = (): string => `test-${randomUUID()}`;

export interface CallOptions {
  token?: string | null;
  body?: unknown;
  /** Sent as is, with the given content type (default application/json). */
  raw?: string;
  contentType?: string;
  headers?: Record<string, string>;
  query?: Record<string, string>;
}

/** One request through `inject`; `token: null` sends no Authorization header. */
export function call(
  s: Stageline,
  method: InjectOptions['method'],
  url: string,
  options: CallOptions = {},
): Promise<LightMyRequestResponse> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token !== null && options.token !== undefined)
    headers.authorization = `Bearer ${options.token}`;
  let payload: string | undefined;
  if (options.raw !== undefined) {
    payload = options.raw;
    headers['content-type'] = options.contentType ?? 'application/json';
  } else if (options.body !== undefined) {
    payload = JSON.stringify(options.body);
    headers['content-type'] = options.contentType ?? 'application/json';
  }
  return s.app.inject({ method, url, headers, payload, query: options.query });
}

export function json<T>(res: LightMyRequestResponse): T {
  return JSON.parse(res.body) as T;
}

/** Asserts HubSpot's error envelope and returns the parsed body. */
export function assertError(
  res: LightMyRequestResponse,
  status: number,
  category: string,
  message?: string | RegExp,
): WireError {
  assert.equal(res.statusCode, status, `expected ${status}, got ${res.statusCode}: ${res.body}`);
  assert.equal(res.headers['content-type'], JSON_TYPE);
  const body = json<WireError>(res);
  assert.equal(body.status, 'error');
  assert.equal(typeof body.message, 'string');
  assert.ok(body.message.length > 0, 'message is empty');
  assert.match(body.correlationId, UUID);
  assert.equal(res.headers['x-hubspot-correlation-id'], body.correlationId);
  assert.equal(body.category, category, `category of ${res.body}`);
  if (typeof message === 'string') assert.equal(body.message, message);
  else if (message instanceof RegExp) assert.match(body.message, message);
  return body;
}

/** Asserts HubSpot's 401 for a missing, unknown or revoked token. */
export function assertUnauthenticated(res: LightMyRequestResponse): void {
  const body = assertError(res, 401, 'INVALID_AUTHENTICATION');
  assert.ok(body.message.startsWith(AUTH_PREFIX), body.message);
  assert.equal(res.headers['x-hubspot-auth-failure'], '401 Unauthorized');
}

/** Asserts HubSpot's 403 for a token without the scopes, and the scopes it names as accepted. */
export function assertMissingScopes(res: LightMyRequestResponse, accepted: readonly string[]): void {
  const body = assertError(res, 403, 'MISSING_SCOPES', MISSING_SCOPES_MESSAGE);
  assert.deepEqual(must(body.errors?.[0]).context?.requiredGranularScopes, accepted);
}

export const dealStage = (label: string, displayOrder: number, probability: number | string = 0.5) => ({
  label,
  displayOrder,
  metadata: { probability },
});

export const dealPipeline = (label: string, displayOrder = 1, stageLabels = ['Open', 'Won']) => ({
  label,
  displayOrder,
  stages: stageLabels.map((l, i) => dealStage(l, i, i === stageLabels.length - 1 ? 1 : 0.5)),
});

export const ticketPipeline = (label: string) => ({
  label,
  displayOrder: 1,
  stages: [
    { label: 'Open', displayOrder: 0, metadata: { ticketState: 'OPEN' } },
    { label: 'Done', displayOrder: 1, metadata: { ticketState: 'CLOSED' } },
  ],
});

export const statePipeline = (label: string, count = 2) => ({
  label,
  displayOrder: 1,
  stages: Array.from({ length: count }, (_, i) => ({
    label: `Stage ${i}`,
    displayOrder: i,
    metadata: { state: i === count - 1 ? 'CLOSED' : 'OPEN' },
  })),
});

/** Creates a pipeline and returns it, failing the test unless the answer is 201. */
export async function createPipeline(
  s: Stageline,
  token: string,
  objectType: string,
  body: unknown,
): Promise<WirePipeline> {
  const res = await call(s, 'POST', `${BASE}/${objectType}`, { token, body });
  assert.equal(res.statusCode, 201, res.body);
  return json<WirePipeline>(res);
}

/** A Writable collecting every log line written to it. */
export function logSink(): { stream: Writable; lines: string[] } {
  const lines: string[] = [];
  let pending = '';
  const stream = new Writable({
    write(chunk: Buffer | string, _encoding, done) {
      pending += chunk.toString();
      const parts = pending.split('\n');
      pending = parts.pop() ?? '';
      lines.push(...parts.filter((l) => l !== ''));
      done();
    },
    final(done) {
      if (pending !== '') lines.push(pending);
      done();
    },
  });
  return { stream, lines };
}

export function must<T>(value: T | undefined | null, what = 'value'): T {
  assert.ok(value !== undefined && value !== null, `${what} is missing`);
  return value;
}
