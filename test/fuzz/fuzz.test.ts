// Fuzzing the HTTP surface with fast-check: requests shaped after the official schemas
// (PipelineInput, PipelineStageInput, the patch inputs, record create/update/search/batch bodies)
// plus mutations (wrong types, missing and extra fields, huge/empty/odd unicode strings, deep
// nesting, int32 edges), bad ids and object types, bad query flags, odd headers and every method
// on every route, across three portals. Asserted: no 5xx, HubSpot's envelope on every error,
// then the state invariants through the API (labels unique, stage limits, ordering, audit
// entries per successful write, portal isolation).
//
// STAGELINE_FUZZ_REQUESTS (default 20000) sets the number of requests; STAGELINE_FUZZ_SECONDS
// switches to a long mode that runs until the time is up; STAGELINE_FUZZ_SEED replays a run.

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';

import fc from 'fast-check';
import type { InjectOptions, LightMyRequestResponse } from 'fastify';

import type { Stageline } from '../../src/stageline.js';
import { JSON_TYPE, UUID, buildStageline } from '../http/support.js';

// ---------------------------------------------------------------------------------------------
// Configuration

const positiveEnv = (name: string): number | undefined => {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return undefined;
  const n = Number(raw);
  assert.ok(Number.isFinite(n) && n > 0, `${name} must be a positive number, got ${raw}`);
  return n;
};

const FUZZ_SECONDS = positiveEnv('STAGELINE_FUZZ_SECONDS');
const FUZZ_REQUESTS = Math.floor(positiveEnv('STAGELINE_FUZZ_REQUESTS') ?? 20_000);
const SEED = Math.floor(
  positiveEnv('STAGELINE_FUZZ_SEED') ?? (Date.now() ^ (Math.random() * 0x7fffffff)) >>> 0,
);

const VERBOSE = process.env.STAGELINE_FUZZ_VERBOSE === '1';

const V3 = '/crm/v3/pipelines';
const V2026 = '/crm/pipelines/2026-09';
const OBJECTS = '/crm/v3/objects';
const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;
type Method = (typeof METHODS)[number];

/** Object types we write to and check afterwards, by canonical key, with their stage limits. */
const TYPES = {
  '0-3': { name: 'deals', singular: 'deal', limit: 100, rules: 'deal' },
  '0-5': { name: 'tickets', singular: 'ticket', limit: 100, rules: 'ticket' },
  '0-123': { name: 'orders', singular: 'order', limit: 30, rules: 'state' },
  '0-136': { name: 'leads', singular: 'lead', limit: 30, rules: 'state' },
  '0-1': { name: 'contacts', singular: 'contact', limit: 100, rules: 'state' },
  '2-77': { name: '2-77', singular: '2-77', limit: 100, rules: 'state' },
} as const;
type TypeKey = keyof typeof TYPES;
const TYPE_KEYS = Object.keys(TYPES) as TypeKey[];

/** Spellings of the good types in the path (names, ids, case variants). */
const GOOD_TYPE_SPELLINGS: readonly string[] = [
  'deals',
  'deals',
  '0-3',
  'DEALS',
  'deal',
  'tickets',
  'Ticket',
  '0-5',
  'orders',
  '0-123',
  'leads',
  'contacts',
  '2-77',
];

function canonicalType(segment: string): TypeKey | undefined {
  const lower = segment.toLowerCase();
  for (const key of TYPE_KEYS) {
    if (key === lower || TYPES[key].name === lower || TYPES[key].singular === lower) return key;
  }
  return undefined;
}

const HUGE = 'x'.repeat(100_000);
const LONG_SEGMENT = 'a'.repeat(5_000);

/** Raw path segments, sent as is (some already percent-encoded, some malformed). */
const BAD_SEGMENTS: readonly string[] = [
  '..',
  '.',
  '%2F',
  '%2e%2e',
  'a%2Fb',
  '..%2F..%2Fetc%2Fpasswd',
  '%00',
  '%ZZ',
  '%',
  '%7BpipelineId%7D',
  '%20',
  '-1',
  '0',
  '2147483647',
  '2147483648',
  '99999999999999999999999',
  '1.5',
  'null',
  'undefined',
  '__proto__',
  'constructor',
  LONG_SEGMENT,
  encodeURIComponent('😀🚀'),
  encodeURIComponent('مرحبا'),
  encodeURIComponent('e\u0301\u0301'),
  '%ED%A0%80', // a lone surrogate's bytes: invalid UTF-8
  '%C0%AF',
  'p123_widgets',
  '2-0',
  '2-',
  '3-1',
];

// ---------------------------------------------------------------------------------------------
// Generators of request plans: abstract choices, resolved against the live state at send time.
// Placeholders in bodies: "$PIPE" (the target pipeline), "$STAGE<n>" (a stage of it),
// "$ANYSTAGE<n>" (any stage of the portal's type), "$RECORD<n>" (a record of the type).

const weirdString = fc.oneof(
  { weight: 6, arbitrary: fc.string({ maxLength: 12 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'grapheme', maxLength: 8 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 8 }) }, // incl. lone surrogates
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      '',
      ' ',
      '   ',
      '\t\n',
      '😀',
      '👩‍👩‍👧‍👦',
      'שלום',
      'مرحبا بالعالم',
      '\u202Eevil',
      'e\u0301\u0302\u0303',
      '\ud800',
      'a\udfffb',
      '\u0000',
      '\uFEFF',
      '<script>alert(1)</script>',
      "' OR 1=1 --",
      '%s%n',
      '${x}',
    ),
  },
  { weight: 1, arbitrary: fc.constant(HUGE) },
);

const label = fc.oneof(
  { weight: 8, arbitrary: fc.nat(300).map((n) => `L${n}`) },
  {
    weight: 6,
    arbitrary: fc.constantFrom(
      'Open',
      'open ',
      ' OPEN',
      'Won',
      'Lost',
      'Sales Pipeline',
      'sales pipeline ',
      'Support Pipeline',
      'New',
      'Closed',
      'Closed Won',
      'Stage A',
      'stage a',
      'Pipe 1',
      'Pipe 2',
      'PIPE 2',
      '\ud800',
      '\udbff',
      'Lone \udc00',
      'Lone \udfff',
      'x\ud83d',
    ),
  },
  { weight: 3, arbitrary: weirdString },
);

const int32Edge = fc.constantFrom(-1, 2147483647, -2147483648, 2147483648, -2147483649, 1e15, 1e308);
const displayOrder = fc.oneof(
  { weight: 16, arbitrary: fc.integer({ min: 0, max: 10 }) },
  { weight: 2, arbitrary: int32Edge },
  {
    weight: 2,
    arbitrary: fc.constantFrom<unknown>(1.5, -0.5, '3', '3.5', 'abc', '', true, null, [], {}, '1e3', ' 4 '),
  },
);

const anyJson: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom<unknown>(null, true, false, 0, -1, 1.5, 1e308, '', 'x', [], {}, [1, 'a'], { a: 1 }),
  fc.jsonValue({ maxDepth: 2 }),
);

const probability = fc.oneof(
  { weight: 12, arbitrary: fc.double({ min: 0, max: 1, noNaN: true }) },
  { weight: 3, arbitrary: fc.constantFrom<unknown>(0, 1, '0.5', '1.0', '0', '1', 0.25, '.5') },
  {
    weight: 2,
    arbitrary: fc.constantFrom<unknown>(
      1.5,
      -0.1,
      'abc',
      null,
      '',
      ' ',
      '0x1',
      'Infinity',
      'NaN',
      1e-320,
      [0.5],
    ),
  },
);

const metadataFor = (rules: string): fc.Arbitrary<Record<string, unknown>> => {
  const extra = fc.dictionary(
    fc.constantFrom('isClosed', 'foo', 'probability', 'ticketState', 'state'),
    anyJson,
    {
      maxKeys: 2,
    },
  );
  const base =
    rules === 'deal'
      ? fc.record({ probability })
      : rules === 'ticket'
        ? fc.record(
            { ticketState: fc.constantFrom<unknown>('OPEN', 'CLOSED', 'open', 'Closed', '', 1, null) },
            { requiredKeys: [] },
          )
        : fc.record(
            { state: fc.constantFrom<unknown>('OPEN', 'CLOSED', 'closed', 'x', 2) },
            { requiredKeys: [] },
          );
  return fc.oneof(
    { weight: 8, arbitrary: base },
    { weight: 2, arbitrary: fc.tuple(base, extra).map(([a, b]) => ({ ...b, ...a })) },
  );
};

const clientId = fc.oneof(
  fc.constantFrom('$STAGE0', '$STAGE1', '$ANYSTAGE0', 'custom-id', 'CUSTOM-ID', 'default', '0', '1'),
  fc.constantFrom('x'.repeat(36), 'x'.repeat(37), 'y'.repeat(100), 'y'.repeat(101), '', ' ', '../x', 'a/b'),
  fc.string({ maxLength: 10 }),
);

const stageInput = (rules: string) =>
  fc.record(
    {
      label,
      displayOrder,
      metadata: metadataFor(rules),
      stageId: clientId,
    },
    { requiredKeys: ['label', 'displayOrder', 'metadata'] },
  );

const manyStages = (rules: string) =>
  fc.constantFrom(29, 30, 31, 99, 100, 101).map((n) =>
    Array.from({ length: n }, (_, i) => ({
      label: `S${i}`,
      displayOrder: i,
      metadata:
        rules === 'deal'
          ? { probability: i === n - 1 ? 1 : 0.5 }
          : rules === 'ticket'
            ? { ticketState: i === n - 1 ? 'CLOSED' : 'OPEN' }
            : { state: i === n - 1 ? 'CLOSED' : 'OPEN' },
    })),
  );

const pipelineInput = (rules: string) =>
  fc.record(
    {
      label,
      displayOrder,
      stages: fc.oneof(
        { weight: 12, arbitrary: fc.array(stageInput(rules), { minLength: 1, maxLength: 4 }) },
        { weight: 1, arbitrary: fc.constant([]) },
        { weight: 1, arbitrary: manyStages(rules) },
      ),
      pipelineId: clientId,
    },
    { requiredKeys: ['label', 'displayOrder', 'stages'] },
  );

const pipelinePatch = fc.record(
  { label, displayOrder, archived: fc.constantFrom<unknown>(false, true, 'false', 0, null) },
  { requiredKeys: [] },
);

const stagePatch = (rules: string) =>
  fc.record(
    {
      label,
      displayOrder,
      metadata: metadataFor(rules),
      archived: fc.constantFrom<unknown>(false, true, 'no'),
    },
    { requiredKeys: [] },
  );

const recordProperties = (rules: string) => {
  const [pipe, stage] = rules === 'deal' ? ['pipeline', 'dealstage'] : ['hs_pipeline', 'hs_pipeline_stage'];
  const base = fc.record(
    {
      [pipe]: fc.constantFrom<unknown>('$PIPE', '$PIPE', '$PIPE', 'nope', '', null, 5),
      [stage]: fc.constantFrom<unknown>('$STAGE0', '$STAGE1', '$STAGE2', '$ANYSTAGE0', 'nope', '', null),
      dealname: weirdString,
      subject: weirdString,
      amount: fc.oneof(fc.integer(), fc.double(), fc.constantFrom<unknown>('10', 'abc', null, '')),
    },
    { requiredKeys: [] },
  );
  const odd = fc.constantFrom<Record<string, unknown>>(
    { hs_object_id: '1' },
    { [HUGE.slice(0, 300)]: 'long name' },
    { '': 'empty name' },
    { createdate: 'yesterday' },
    { nested: { a: 1 } },
  );
  return fc.oneof(
    { weight: 8, arbitrary: base },
    { weight: 1, arbitrary: fc.tuple(base, odd).map(([a, b]) => ({ ...a, ...b })) },
  );
};

const searchBody = fc.record(
  {
    filterGroups: fc.array(
      fc.record(
        {
          filters: fc.array(
            fc.record(
              {
                propertyName: fc.constantFrom(
                  'pipeline',
                  'dealstage',
                  'hs_pipeline_stage',
                  'amount',
                  'nope',
                  '',
                ),
                operator: fc.constantFrom(
                  'EQ',
                  'NEQ',
                  'LT',
                  'GT',
                  'IN',
                  'NOT_IN',
                  'HAS_PROPERTY',
                  'NOT_HAS_PROPERTY',
                  'BETWEEN',
                  'CONTAINS_TOKEN',
                  'BOGUS',
                ),
                value: fc.oneof(fc.constantFrom('$PIPE', '$STAGE0', '10', '', 'abc'), weirdString),
                highValue: fc.constantFrom('20', 'abc', ''),
                values: fc.array(fc.constantFrom('$STAGE0', '$STAGE1', '1', ''), { maxLength: 3 }),
              },
              { requiredKeys: ['propertyName', 'operator'] },
            ),
            { maxLength: 7 },
          ),
        },
        { requiredKeys: ['filters'] },
      ),
      { maxLength: 6 },
    ),
    sorts: fc.array(
      fc.oneof(
        fc.constantFrom('amount', '-amount', 'createdate', '', '-'),
        fc.record({
          propertyName: fc.constantFrom('amount', 'x'),
          direction: fc.constantFrom('ASCENDING', 'DOWN'),
        }),
      ),
      { maxLength: 2 },
    ),
    properties: fc.array(fc.constantFrom('amount', 'dealname', 'nope', ''), { maxLength: 3 }),
    limit: fc.oneof(
      fc.integer({ min: 0, max: 200 }),
      fc.constantFrom<unknown>(-1, 201, 1.5, '5', 2147483648),
    ),
    after: fc.constantFrom<unknown>('0', '5', 'abc', '-1', '1234567890', 3, ''),
    query: fc.constantFrom('', ' ', 'hello'),
  },
  { requiredKeys: [] },
);

const batchBody = fc.record({
  inputs: fc.array(
    fc.oneof(
      fc.record({ id: fc.constantFrom<unknown>('$RECORD0', '$RECORD1', '999999999', 'abc', '', 5, null) }),
      recordProperties('deal').map((properties) => ({ properties })),
      fc.record({ id: fc.constantFrom('$RECORD0', '$RECORD1'), properties: recordProperties('state') }),
    ),
    { maxLength: 4 },
  ),
});

/** One structural mutation of a JSON value: drop, add or retype a field somewhere in it. */
interface Mutation {
  kind: 'drop' | 'extra' | 'retype' | 'wrapArray' | 'replace' | 'nest';
  at: number;
  value: unknown;
}
const mutation: fc.Arbitrary<Mutation> = fc.record({
  kind: fc.constantFrom('drop', 'extra', 'retype', 'retype', 'wrapArray', 'replace', 'nest'),
  at: fc.nat(),
  value: anyJson,
});

function containers(value: unknown, out: Array<Record<string, unknown> | unknown[]> = []) {
  if (Array.isArray(value)) {
    out.push(value);
    for (const v of value) containers(v, out);
  } else if (value !== null && typeof value === 'object') {
    out.push(value as Record<string, unknown>);
    for (const v of Object.values(value)) containers(v, out);
  }
  return out;
}

function nested(depth: number, leaf: unknown): unknown {
  let v: unknown = leaf;
  for (let i = 0; i < depth; i++) v = i % 2 === 0 ? [v] : { a: v };
  return v;
}

function mutate(body: unknown, m: Mutation): unknown {
  const copy = structuredClone(body);
  if (m.kind === 'replace') return m.value;
  if (m.kind === 'wrapArray') return [copy];
  const all = containers(copy);
  const target = all[m.at % Math.max(all.length, 1)];
  if (target === undefined) return m.value;
  const keys = Array.isArray(target) ? target.map((_, i) => i) : Object.keys(target);
  const key = keys.length === 0 ? undefined : keys[m.at % keys.length];
  const set = (k: string | number, v: unknown) => {
    (target as Record<string | number, unknown>)[k] = v;
  };
  switch (m.kind) {
    case 'drop':
      if (key !== undefined) {
        if (Array.isArray(target)) target.splice(key as number, 1);
        else delete (target as Record<string, unknown>)[key];
      }
      break;
    case 'extra':
      set(Array.isArray(target) ? target.length : `extra${m.at % 3}`, m.value);
      break;
    case 'retype':
      if (key !== undefined) set(key, m.value);
      break;
    case 'nest':
      if (key !== undefined) set(key, `$NEST${200 + (m.at % 3000)}`);
      break;
  }
  return copy;
}

/** Raw bodies: not JSON, odd JSON, very deep JSON. */
const rawBody = fc.constantFrom(
  '',
  ' ',
  '{',
  '{"label":',
  'null',
  '[]',
  '"a string"',
  '12',
  '1e999',
  '{"label":"\\ud800","displayOrder":1,"stages":[]}',
  '{"label":"a\\udc00\\ud800b","displayOrder":0,"stages":[{"label":"\\ud83d","displayOrder":0,"metadata":{"probability":"0.5","state":"OPEN"}}]}',
  '{"label":"\\u0000","displayOrder":1,"stages":[]}',
  '{"label":"x","label":"y","displayOrder":1,"stages":[]}',
  '{"__proto__":{"polluted":1},"label":"P","displayOrder":1,"stages":[]}',
  '{"constructor":{"prototype":{"x":1}}}',
  '\uFEFF{"label":"bom","displayOrder":1,"stages":[]}',
  '{"label":"P","displayOrder":1,"stages":[{"label":"A","displayOrder":0,"metadata":{"probability":0.5}}]}garbage',
  '['.repeat(10_000) + ']'.repeat(10_000),
  '{"a":'.repeat(5_000) + '1' + '}'.repeat(5_000),
  '{"label":"P","displayOrder":1,"stages":' + '['.repeat(20_000) + ']'.repeat(20_000) + '}',
  '{"x":"\\u0000","y":' + '['.repeat(50_000) + ']'.repeat(50_000) + '}',
  '{"properties":{"dealname":"\\u0000"},"d":' + '{"a":'.repeat(20_000) + '1' + '}'.repeat(20_000) + '}',
  '{"label":"' + 'é'.repeat(60_000) + '","displayOrder":1,"stages":[]}',
  '{"label":"' + 'z'.repeat(1_100_000) + '"}', // over the 1 MB body limit
);

type Route =
  | 'type'
  | 'pipeline'
  | 'audit'
  | 'stages'
  | 'stage'
  | 'stageAudit'
  | 'sdkStageAudit'
  | 'record'
  | 'search'
  | 'batchRead'
  | 'batchCreate'
  | 'batchUpdate'
  | 'batchArchive'
  | 'root'
  | 'extra';

const PIPELINE_ROUTES: Route[] = [
  'type',
  'pipeline',
  'audit',
  'stages',
  'stage',
  'stageAudit',
  'sdkStageAudit',
  'extra',
  'root',
];
const OBJECT_ROUTES: Route[] = [
  'type',
  'record',
  'search',
  'batchRead',
  'batchCreate',
  'batchUpdate',
  'batchArchive',
  'extra',
  'root',
];

interface Plan {
  portal: number;
  auth: 'ok' | 'none' | 'basic' | 'lower' | 'empty' | 'double' | 'array' | 'other';
  prefix: string;
  route: Route;
  method: Method;
  type: string;
  pipePick: number | string; // index into known ids, or a raw bad segment
  stagePick: number | string;
  recordPick: number | string;
  body: { kind: 'none' } | { kind: 'json'; value: unknown } | { kind: 'raw'; text: string };
  contentType: string | string[] | null | 'default';
  extraHeaders: Record<string, string | string[]>;
  query: Array<[string, string]>;
  trailingSlash: boolean;
}

const pick = <T>(values: readonly T[]): fc.Arbitrary<T> => fc.constantFrom(...values);

const idPick = fc.oneof({ weight: 8, arbitrary: fc.nat(50) }, { weight: 2, arbitrary: pick(BAD_SEGMENTS) });

const contentType = fc.oneof(
  { weight: 14, arbitrary: fc.constant<'default'>('default') },
  {
    weight: 6,
    arbitrary: fc.constantFrom<string | string[] | null>(
      'application/json; charset=utf-8',
      'application/json;charset=UTF-8',
      'application/json; charset="utf-8"',
      'application/json; charset=latin1',
      'application/json; charset=utf-16',
      'application/json; foo=bar; baz',
      'application/json;;;',
      'APPLICATION/JSON',
      'Application/Json; Charset=UTF-8',
      'application/json ',
      'application/json, text/plain',
      'application/jsonx',
      'application/json-patch+json',
      'application/vnd.api+json',
      'text/json',
      'text/plain',
      'text/plain; charset=utf-8',
      'application/xml',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x',
      'application/octet-stream',
      '*/*',
      '',
      ';',
      'garbage',
      ['application/json', 'application/json'],
      ['application/json', 'text/plain'],
      ['text/plain', 'application/json'],
      null, // no content type even with a body
    ),
  },
);

const extraHeaders = fc.oneof(
  { weight: 10, arbitrary: fc.constant({}) },
  {
    weight: 3,
    arbitrary: fc.constantFrom<Record<string, string | string[]>>(
      { accept: 'application/json, */*;q=0.8' },
      { accept: 'text/html' },
      { accept: 'application/xml;q=1, */*;q=0' },
      { 'content-encoding': 'gzip' },
      { 'content-encoding': 'identity' },
      { 'transfer-encoding': 'chunked' },
      { 'x-hubspot-correlation-id': 'not-a-uuid' },
      { 'x-forwarded-for': '1.2.3.4, 5.6.7.8' },
      { 'x-http-method-override': 'DELETE' },
      { origin: 'https://evil.example' },
      { 'accept-charset': 'latin1' },
      { 'x-weird': ['a', 'b', 'c'] },
      { cookie: 'a=b; c' },
      { 'user-agent': HUGE.slice(0, 8000) },
      { expect: '100-continue' },
    ),
  },
);

const queryFlags = fc.oneof(
  { weight: 10, arbitrary: fc.constant<Array<[string, string]>>([]) },
  {
    weight: 5,
    arbitrary: fc.array(
      fc.tuple(
        fc.constantFrom(
          'validateReferencesBeforeDelete',
          'validateDealStageUsagesBeforeDelete',
          'archived',
          'limit',
          'after',
          'properties',
          'idProperty',
          'associations',
          'propertiesWithHistory',
          'unknown',
          '',
        ),
        fc.constantFrom(
          'true',
          'false',
          'maybe',
          '',
          '1',
          '0',
          'TRUE',
          'yes',
          '-1',
          '10',
          '201',
          '1.5',
          'abc',
          'amount,dealname',
          'email',
          'hs_object_id',
          '%00',
          '%ZZ',
          encodeURIComponent('😀'),
          LONG_SEGMENT,
        ),
      ),
      { minLength: 1, maxLength: 3 },
    ),
  },
);

/** The methods each route serves (pipelines first, then objects where they differ). */
const ROUTE_METHODS: Record<string, readonly Method[]> = {
  type: ['GET', 'POST', 'POST', 'POST'],
  pipeline: ['GET', 'PUT', 'PATCH', 'DELETE'],
  audit: ['GET'],
  stages: ['GET', 'POST', 'POST'],
  stage: ['GET', 'PUT', 'PATCH', 'DELETE'],
  stageAudit: ['GET'],
  sdkStageAudit: ['GET'],
  record: ['GET', 'PATCH', 'DELETE'],
  search: ['POST'],
  batchRead: ['POST'],
  batchCreate: ['POST'],
  batchUpdate: ['POST'],
  batchArchive: ['POST'],
  root: METHODS,
  extra: METHODS,
};

function bodyFor(route: Route, method: Method, rules: string, objects: boolean): fc.Arbitrary<unknown> {
  switch (route) {
    case 'type':
      return objects ? fc.record({ properties: recordProperties(rules) }) : pipelineInput(rules);
    case 'pipeline':
      return method === 'PATCH' ? pipelinePatch : pipelineInput(rules);
    case 'stages':
      return stageInput(rules);
    case 'stage':
      return method === 'PATCH' ? stagePatch(rules) : stageInput(rules);
    case 'record':
      return fc.record({ properties: recordProperties(rules) });
    case 'search':
      return searchBody;
    case 'batchRead':
      return fc.record(
        {
          inputs: fc.array(fc.record({ id: fc.constantFrom<unknown>('$RECORD0', '$RECORD1', 'zzz', '') }), {
            maxLength: 3,
          }),
          properties: fc.array(fc.constantFrom('amount', 'x'), { maxLength: 2 }),
          idProperty: fc.constantFrom('hs_object_id', 'email'),
        },
        { requiredKeys: ['inputs'] },
      );
    default:
      return batchBody;
  }
}

const planArb: fc.Arbitrary<Plan> = fc
  .record({
    objects: fc.boolean(),
    v2026: fc.boolean(),
    typeGood: fc.oneof(
      { weight: 9, arbitrary: fc.constant(true) },
      { weight: 1, arbitrary: fc.constant(false) },
    ),
    goodType: pick(GOOD_TYPE_SPELLINGS),
    badType: pick(BAD_SEGMENTS),
  })
  .chain(({ objects, v2026, typeGood, goodType, badType }) => {
    const type = typeGood ? goodType : badType;
    const rules = TYPES[canonicalType(type) ?? '0-3']?.rules ?? 'deal';
    const routes = objects ? OBJECT_ROUTES : PIPELINE_ROUTES;
    return fc
      .record({
        route: fc.oneof(
          { weight: 19, arbitrary: pick(routes.slice(0, -2)) },
          { weight: 1, arbitrary: pick(routes.slice(-2)) },
        ),
      })
      .chain(({ route }) =>
        fc.record({
          route: fc.constant(route),
          method: fc.oneof(
            { weight: 6, arbitrary: pick(ROUTE_METHODS[route]!) },
            { weight: 1, arbitrary: pick(METHODS) },
          ),
        }),
      )
      .chain(({ route, method }) =>
        fc.record<Plan>({
          portal: fc.nat(2),
          auth: fc.oneof(
            { weight: 40, arbitrary: fc.constant<Plan['auth']>('ok') },
            {
              weight: 1,
              arbitrary: pick<Plan['auth']>(['none', 'basic', 'lower', 'empty', 'double', 'array', 'other']),
            },
          ),
          prefix: fc.constant(objects ? OBJECTS : v2026 ? V2026 : V3),
          route: fc.constant(route),
          method: fc.constant(method),
          type: fc.constant(type),
          pipePick: idPick,
          stagePick: idPick,
          recordPick: idPick,
          body:
            method === 'GET' || method === 'DELETE'
              ? fc.oneof(
                  { weight: 9, arbitrary: fc.constant<Plan['body']>({ kind: 'none' }) },
                  { weight: 1, arbitrary: anyJson.map((value): Plan['body'] => ({ kind: 'json', value })) },
                )
              : fc.oneof(
                  {
                    weight: 12,
                    arbitrary: bodyFor(route, method, rules, objects).map((value): Plan['body'] => ({
                      kind: 'json',
                      value,
                    })),
                  },
                  {
                    weight: 5,
                    arbitrary: fc
                      .tuple(bodyFor(route, method, rules, objects), mutation)
                      .map(([value, m]): Plan['body'] => ({ kind: 'json', value: mutate(value, m) })),
                  },
                  { weight: 2, arbitrary: rawBody.map((text): Plan['body'] => ({ kind: 'raw', text })) },
                  { weight: 1, arbitrary: fc.constant<Plan['body']>({ kind: 'none' }) },
                ),
          contentType,
          extraHeaders,
          query: queryFlags,
          trailingSlash: fc.oneof(
            { weight: 20, arbitrary: fc.constant(false) },
            { weight: 1, arbitrary: fc.constant(true) },
          ),
        }),
      );
  });

// ---------------------------------------------------------------------------------------------
// State tracked from the answers

interface Portal {
  token: string;
  /** Pipeline ids ever seen per type (live or archived). */
  pipelines: Map<TypeKey, Set<string>>;
  /** Stage ids ever seen per type and pipeline. */
  stages: Map<string, Set<string>>;
  records: Map<TypeKey, Set<string>>;
  /** Successful pipeline-level writes per `${type}|${pipelineId}`. */
  pipelineWrites: Map<string, number>;
  /** The successful pipeline-level write requests per `${type}|${pipelineId}`, for reports. */
  writeLog: Map<string, string[]>;
  /** Successful stage-route writes per `${type}|${stageId}`. */
  stageWrites: Map<string, number>;
  /** The label the last successful write answered, per `p|type|pipelineId` and `s|type|stageId`. */
  written: Map<string, string>;
  /** Audit entries of default pipelines before fuzzing. */
  baseAudit: Map<string, number>;
  touched: Set<TypeKey>;
}

const newPortal = (name: string): Portal => ({
  token: `fuzz-${name}-${randomUUID()}`,
  pipelines: new Map(),
  stages: new Map(),
  records: new Map(),
  pipelineWrites: new Map(),
  writeLog: new Map(),
  written: new Map(),
  stageWrites: new Map(),
  baseAudit: new Map(),
  touched: new Set(),
});

const setOf = <K, V>(map: Map<K, Set<V>>, key: K): Set<V> => {
  let s = map.get(key);
  if (s === undefined) map.set(key, (s = new Set()));
  return s;
};
const bump = (map: Map<string, number>, key: string) => map.set(key, (map.get(key) ?? 0) + 1);
const nth = <T>(values: Iterable<T>, n: number): T | undefined => {
  const all = [...values];
  return all.length === 0 ? undefined : all[n % all.length];
};

interface Sent {
  method: Method;
  url: string;
  headers: Record<string, string | string[]>;
  payload?: string;
}

interface Resolved extends Sent {
  typeKey: TypeKey | undefined;
  pipelineId: string | undefined;
  stageId: string | undefined;
  recordId: string | undefined;
}

function describeSent(sent: Sent): string {
  const payload =
    sent.payload === undefined
      ? '(no body)'
      : sent.payload.length > 600
        ? `${JSON.stringify(sent.payload.slice(0, 600))}… (${sent.payload.length} chars in all)`
        : JSON.stringify(sent.payload);
  const url = sent.url.length > 400 ? `${sent.url.slice(0, 400)}… (${sent.url.length} chars)` : sent.url;
  const headers = JSON.stringify(sent.headers, (_k, v: unknown) =>
    typeof v === 'string' && v.length > 200 ? `${v.slice(0, 40)}…(${v.length} chars)` : v,
  );
  return `${sent.method} ${url}\n    headers: ${headers}\n    body: ${payload}`;
}

// ---------------------------------------------------------------------------------------------

describe('fuzzing the HTTP surface', () => {
  let stageline: Stageline | undefined;
  const portals = [newPortal('a'), newPortal('b'), newPortal('c')];

  before(async () => {
    stageline = await buildStageline({ rateLimit: 'off' });
  });
  after(async () => {
    await stageline?.close();
  });

  const app = () => {
    assert.ok(stageline, 'the Stageline is built');
    return stageline.app;
  };

  const inject = (sent: Sent): Promise<LightMyRequestResponse> =>
    app().inject({
      method: sent.method as InjectOptions['method'],
      url: sent.url,
      headers: sent.headers as InjectOptions['headers'],
      ...(sent.payload !== undefined && { payload: sent.payload }),
    });

  const get = async <T>(portal: Portal, url: string): Promise<{ status: number; body: T }> => {
    const res = await inject({ method: 'GET', url, headers: { authorization: `Bearer ${portal.token}` } });
    return { status: res.statusCode, body: (res.body === '' ? undefined : JSON.parse(res.body)) as T };
  };

  function resolve(plan: Plan): Resolved {
    const portal = portals[plan.portal]!;
    const typeKey = canonicalType(plan.type);
    const pipelineIds = typeKey === undefined ? [] : [...setOf(portal.pipelines, typeKey)];
    const pipelineId =
      typeof plan.pipePick === 'string' ? undefined : (nth(pipelineIds, plan.pipePick) ?? 'default');
    const stageIds = pipelineId === undefined ? [] : [...setOf(portal.stages, `${typeKey}|${pipelineId}`)];
    const stageId = typeof plan.stagePick === 'string' ? undefined : (nth(stageIds, plan.stagePick) ?? '1');
    const recordIds = typeKey === undefined ? [] : [...setOf(portal.records, typeKey)];
    const recordId =
      typeof plan.recordPick === 'string' ? undefined : (nth(recordIds, plan.recordPick) ?? '1');
    const anyStage = () => {
      const all = [...portal.stages.entries()]
        .filter(([k]) => k.startsWith(`${typeKey}|`))
        .flatMap(([, s]) => [...s]);
      return all;
    };

    const seg = (value: string | undefined, raw: number | string) =>
      value !== undefined ? encodeURIComponent(value) : String(raw);
    const pSeg = seg(pipelineId, plan.pipePick);
    const sSeg = seg(stageId, plan.stagePick);
    const rSeg = seg(recordId, plan.recordPick);
    const t = plan.type;
    const paths: Record<Route, string> = {
      root: '',
      type: `/${t}`,
      pipeline: `/${t}/${pSeg}`,
      audit: `/${t}/${pSeg}/audit`,
      stages: `/${t}/${pSeg}/stages`,
      stage: `/${t}/${pSeg}/stages/${sSeg}`,
      stageAudit: `/${t}/${pSeg}/stages/${sSeg}/audit`,
      sdkStageAudit: `/${t}/%7BpipelineId%7D/stages/${sSeg}/audit`,
      record: `/${t}/${rSeg}`,
      search: `/${t}/search`,
      batchRead: `/${t}/batch/read`,
      batchCreate: `/${t}/batch/create`,
      batchUpdate: `/${t}/batch/update`,
      batchArchive: `/${t}/batch/archive`,
      extra: `/${t}/${pSeg}/stages/${sSeg}/audit/more/../x`,
    };
    let url = plan.prefix + paths[plan.route] + (plan.trailingSlash ? '/' : '');
    if (plan.query.length > 0) url += '?' + plan.query.map(([k, v]) => `${k}=${v}`).join('&');

    const substitute = (value: unknown): unknown => {
      if (typeof value === 'string') {
        if (value === '$PIPE') return pipelineId ?? 'default';
        if (value.startsWith('$NEST')) return nested(Number(value.slice(5)), 'deep');
        const m = /^\$(STAGE|ANYSTAGE|RECORD)(\d+)$/.exec(value);
        if (m) {
          const n = Number(m[2]);
          const pool = m[1] === 'STAGE' ? stageIds : m[1] === 'RECORD' ? recordIds : anyStage();
          return nth(pool, n) ?? 'none';
        }
        return value;
      }
      if (Array.isArray(value)) return value.map(substitute);
      if (value !== null && typeof value === 'object') {
        return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, substitute(v)]));
      }
      return value;
    };

    const headers: Record<string, string | string[]> = { ...plan.extraHeaders };
    const bearer = `Bearer ${portal.token}`;
    switch (plan.auth) {
      case 'ok':
        headers.authorization = bearer;
        break;
      case 'basic':
        headers.authorization = 'Basic dXNlcjpwYXNz';
        break;
      case 'lower':
        headers.authorization = `bearer ${portal.token}`;
        break;
      case 'empty':
        headers.authorization = 'Bearer ';
        break;
      case 'double':
        headers.authorization = `${bearer}, ${bearer}`;
        break;
      case 'array':
        headers.authorization = [bearer, `Bearer ${portals[(plan.portal + 1) % 3]!.token}`];
        break;
      case 'other':
        headers.authorization = `Bearer ${HUGE.slice(0, 5000)}`;
        break;
      case 'none':
        break;
    }
    let payload: string | undefined;
    if (plan.body.kind === 'json') payload = JSON.stringify(substitute(plan.body.value)) ?? 'null';
    else if (plan.body.kind === 'raw') payload = plan.body.text;
    if (payload !== undefined || plan.contentType !== 'default') {
      if (plan.contentType === 'default') headers['content-type'] = 'application/json';
      else if (plan.contentType !== null) headers['content-type'] = plan.contentType;
    }
    return {
      // Two tokens at once may act as either portal: such requests only read.
      method: plan.auth === 'array' ? 'GET' : plan.method,
      url,
      headers,
      ...(payload !== undefined && { payload }),
      typeKey,
      pipelineId,
      stageId,
      recordId,
    };
  }

  /**
   * Learns ids from a successful answer and counts the writes the audit must show. The route is
   * read from the path as the server sees it: clients (and inject) resolve dot segments, so
   * `…/1/stages/..` is a request on pipeline 1.
   */
  function learn(plan: Plan, r: Resolved, res: LightMyRequestResponse, body: unknown): void {
    if ((plan.auth !== 'ok' && plan.auth !== 'lower') || res.statusCode >= 300) return;
    let path: string;
    try {
      path = new URL(r.url, 'http://localhost').pathname.replace(/\/$/, '');
    } catch {
      return;
    }
    const prefix = [V3, V2026, OBJECTS].find((p) => path.startsWith(`${p}/`));
    if (prefix === undefined) return;
    let segments: string[];
    try {
      segments = path
        .slice(prefix.length + 1)
        .split('/')
        .map(decodeURIComponent);
    } catch {
      return;
    }
    const [typeSegment = '', id, sub, stageId, tail] = segments;
    const type = canonicalType(typeSegment);
    if (type === undefined) return;
    const portal = portals[plan.portal]!;
    portal.touched.add(type);
    const b = body as Record<string, unknown> | undefined;
    const method = r.method;
    const written = (kind: 'p' | 's', x: Record<string, unknown>) => {
      if (method !== 'GET' && typeof x.id === 'string' && typeof x.label === 'string') {
        portal.written.set(`${kind}|${type}|${x.id}`, x.label);
      }
    };
    const learnPipeline = (p: Record<string, unknown>) => {
      if (typeof p.id !== 'string') return;
      setOf(portal.pipelines, type).add(p.id);
      written('p', p);
      if (Array.isArray(p.stages)) {
        for (const s of p.stages as Array<Record<string, unknown>>) {
          if (typeof s.id === 'string') setOf(portal.stages, `${type}|${p.id}`).add(s.id);
          written('s', s);
        }
      }
    };
    if (prefix === OBJECTS) {
      const addRecord = (rec: unknown) => {
        const recordId = (rec as Record<string, unknown> | undefined)?.id;
        if (typeof recordId === 'string') setOf(portal.records, type).add(recordId);
      };
      if (segments.length === 1 && method === 'POST') addRecord(b);
      if (id === 'batch' && sub === 'create' && Array.isArray(b?.results))
        (b.results as unknown[]).forEach(addRecord);
      return;
    }
    const countWrite = (key: string) => {
      bump(portal.pipelineWrites, key);
      const log = portal.writeLog.get(key) ?? [];
      log.push(`${method} ${r.url} → ${res.statusCode}`);
      portal.writeLog.set(key, log);
    };
    if (id === undefined) {
      if (method === 'GET' && Array.isArray(b?.results)) {
        (b.results as Array<Record<string, unknown>>).forEach(learnPipeline);
      } else if (method === 'POST' && b !== undefined) {
        learnPipeline(b);
        if (typeof b.id === 'string') countWrite(`${type}|${b.id}`);
      }
    } else if (sub === undefined) {
      if (b !== undefined) learnPipeline(b);
      if (method !== 'GET') countWrite(`${type}|${id}`);
    } else if (sub === 'stages' && tail === undefined) {
      // A stage write is also a pipeline write: it adds a pipeline UPDATE entry.
      if (method !== 'GET') countWrite(`${type}|${id}`);
      const stages = setOf(portal.stages, `${type}|${id}`);
      if (method === 'GET' && Array.isArray(b?.results)) {
        for (const s of b.results as Array<Record<string, unknown>>)
          if (typeof s.id === 'string') stages.add(s.id);
      } else if (method !== 'GET' && b !== undefined && typeof b.id === 'string') {
        stages.add(b.id);
        written('s', b);
        bump(portal.stageWrites, `${type}|${b.id}`);
      } else if (method === 'DELETE' && stageId !== undefined) {
        bump(portal.stageWrites, `${type}|${stageId}`);
      }
    }
  }

  it('answers every request without a 5xx and with HubSpot envelope on every error, keeping its invariants', async () => {
    // What each portal starts with, and the audit of its default pipelines.
    for (const portal of portals) {
      for (const type of TYPE_KEYS) {
        const list = await get<{ results: Array<{ id: string; stages: Array<{ id: string }> }> }>(
          portal,
          `${V3}/${type}`,
        );
        assert.equal(list.status, 200, `listing ${type}`);
        for (const p of list.body.results) {
          setOf(portal.pipelines, type).add(p.id);
          for (const s of p.stages) setOf(portal.stages, `${type}|${p.id}`).add(s.id);
          const audit = await get<{ results: unknown[] }>(
            portal,
            `${V3}/${type}/${encodeURIComponent(p.id)}/audit`,
          );
          assert.equal(audit.status, 200);
          portal.baseAudit.set(`${type}|${p.id}`, audit.body.results.length);
        }
      }
    }

    const histogram = new Map<number, number>();
    const messages = new Map<string, number>();
    const violations: string[] = [];
    const seenViolation = new Set<string>();
    let sent = 0;
    const started = performance.now();

    const violate = (kind: string, what: string, s: Sent, res: LightMyRequestResponse) => {
      const route = s.url.split('?')[0]!.replace(/\/[^/]{40,}/g, '/<long>');
      const key = `${kind}|${s.method}|${res.statusCode}|${route.replace(/\/\d+/g, '/<n>')}`;
      if (seenViolation.has(key)) return;
      seenViolation.add(key);
      const body = res.body.length > 400 ? `${res.body.slice(0, 400)}…` : res.body;
      violations.push(
        `${kind}: ${what}\n  request: ${describeSent(s)}\n  answer: ${res.statusCode} ${JSON.stringify(res.headers['content-type'])} ${body}`,
      );
    };

    const checkAnswer = (s: Sent, res: LightMyRequestResponse) => {
      if (res.statusCode >= 500) return violate('5xx', `status ${res.statusCode}`, s, res);
      const ct = res.headers['content-type'];
      if (res.statusCode < 300) {
        if (res.statusCode === 204) {
          if (res.body !== '') violate('2xx', '204 with a body', s, res);
          return;
        }
        if (ct !== JSON_TYPE) return violate('2xx', `content-type ${String(ct)}`, s, res);
        try {
          JSON.parse(res.body);
        } catch {
          violate('2xx', 'body is not JSON', s, res);
        }
        return;
      }
      if (res.statusCode === 429) return; // the rate-limit body has its own shape (rate limits are off here)
      if (ct !== JSON_TYPE) return violate('envelope', `content-type ${String(ct)}`, s, res);
      let body: Record<string, unknown>;
      try {
        body = JSON.parse(res.body) as Record<string, unknown>;
      } catch {
        return violate('envelope', 'body is not JSON', s, res);
      }
      const problems: string[] = [];
      if (body.status !== 'error') problems.push('status is not "error"');
      if (typeof body.message !== 'string' || body.message === '') problems.push('no message');
      if (typeof body.correlationId !== 'string' || !UUID.test(body.correlationId))
        problems.push('no UUID correlationId');
      if (res.headers['x-hubspot-correlation-id'] !== body.correlationId)
        problems.push('correlation header differs');
      if (typeof body.category !== 'string' || body.category === '') problems.push('no category');
      if (problems.length > 0) violate('envelope', problems.join(', '), s, res);
    };

    /** Status codes the Pipelines API must use on success (FIDELITY §1). */
    const checkSuccessCode = (plan: Plan, s: Sent, res: LightMyRequestResponse) => {
      if (plan.prefix === OBJECTS || res.statusCode >= 300) return;
      const expected = s.method === 'POST' ? 201 : s.method === 'DELETE' ? 204 : 200;
      if (res.statusCode !== expected) violate('status', `expected ${expected} on success`, s, res);
    };

    const property = fc.asyncProperty(planArb, async (plan) => {
      const r = resolve(plan);
      let res: LightMyRequestResponse;
      try {
        res = await inject(r);
      } catch (err) {
        throw new Error(`inject failed: ${String(err)}\n  request: ${describeSent(r)}`);
      }
      sent++;
      histogram.set(res.statusCode, (histogram.get(res.statusCode) ?? 0) + 1);
      if (VERBOSE && res.statusCode >= 400) {
        const msg = `${res.statusCode} ${plan.method} ${plan.route}: ${String(
          (JSON.parse(res.body || '{}') as { message?: string }).message,
        )
          .replace(/\d+/g, 'N')
          .slice(0, 90)}`;
        messages.set(msg, (messages.get(msg) ?? 0) + 1);
      }
      checkAnswer(r, res);
      checkSuccessCode(plan, r, res);
      let body: unknown;
      if (res.statusCode < 300 && res.body !== '') {
        try {
          body = JSON.parse(res.body);
        } catch {
          body = undefined;
        }
      }
      learn(plan, r, res, body);
    });

    console.log(
      `fuzz: seed ${SEED} (replay with STAGELINE_FUZZ_SEED=${SEED}), ` +
        (FUZZ_SECONDS !== undefined ? `running for ${FUZZ_SECONDS} s` : `${FUZZ_REQUESTS} requests`),
    );
    await fc.assert(property, {
      seed: SEED,
      numRuns: FUZZ_SECONDS !== undefined ? Number.MAX_SAFE_INTEGER : FUZZ_REQUESTS,
      ...(FUZZ_SECONDS !== undefined && {
        interruptAfterTimeLimit: FUZZ_SECONDS * 1000,
        markInterruptAsFailure: false,
      }),
      endOnFailure: true,
    });
    const seconds = (performance.now() - started) / 1000;
    const statuses = [...histogram.entries()].sort(([a], [b]) => a - b).map(([k, v]) => `${k}: ${v}`);
    console.log(`fuzz: ${sent} requests in ${seconds.toFixed(1)} s; statuses { ${statuses.join(', ')} }`);

    if (VERBOSE) {
      const top = [...messages.entries()].sort(([, a], [, b]) => b - a).slice(0, 40);
      console.log(top.map(([m, n]) => `${n}\t${m}`).join('\n'));
      const writes = portals.map((p) => [...p.pipelineWrites.values()].reduce((a, b) => a + b, 0));
      console.log(
        `pipeline writes per portal: ${writes.join(', ')}; touched ${portals.map((p) => [...p.touched].join('/')).join(' ')}`,
      );
    }

    // ---- invariants, through the API, for every portal and type touched ----
    const collator = new Intl.Collator('en', { sensitivity: 'base', numeric: false });
    const norm = (l: string) => l.trim().toLowerCase();
    const ordered = (items: Array<{ displayOrder: number; label: string }>) =>
      items.every((x, i) => {
        const prev = items[i - 1];
        if (prev === undefined) return true;
        return (
          prev.displayOrder < x.displayOrder ||
          (prev.displayOrder === x.displayOrder && collator.compare(prev.label, x.label) <= 0)
        );
      });
    const broken: string[] = [];
    interface WStage {
      id: string;
      label: string;
      displayOrder: number;
    }
    interface WPipeline extends WStage {
      stages: WStage[];
    }
    interface WAudit {
      identifier: string;
      action: string;
      message: string;
    }

    for (const [pi, portal] of portals.entries()) {
      for (const type of TYPE_KEYS) {
        if (!portal.touched.has(type) && portal.pipelineWrites.size === 0) continue;
        const list = await get<{ results: WPipeline[] }>(portal, `${V3}/${type}`);
        if (list.status !== 200) {
          broken.push(`portal ${pi} ${type}: list answered ${list.status}`);
          continue;
        }
        const pipelines = list.body.results;
        const labels = pipelines.map((p) => norm(p.label));
        if (new Set(labels).size !== labels.length) {
          broken.push(
            `portal ${pi} ${type}: duplicate live pipeline labels ${JSON.stringify(pipelines.map((p) => p.label))}`,
          );
        }
        if (!ordered(pipelines)) {
          broken.push(
            `portal ${pi} ${type}: pipelines out of order ${JSON.stringify(pipelines.map((p) => [p.displayOrder, p.label]))}`,
          );
        }
        // What a write answered is what was stored (FIDELITY §5: responses are the stored object).
        const stored = (kind: 'p' | 's', x: WStage) => {
          const answered = portal.written.get(`${kind}|${type}|${x.id}`);
          if (answered !== undefined && answered !== x.label) {
            broken.push(
              `portal ${pi} ${type} ${kind === 'p' ? 'pipeline' : 'stage'} ${x.id}: a write answered label ${JSON.stringify(answered)}, the API now shows ${JSON.stringify(x.label)}`,
            );
          }
        };
        for (const p of pipelines) {
          stored('p', p);
          p.stages.forEach((st) => stored('s', st));
          const stageLabels = p.stages.map((s) => norm(s.label));
          if (new Set(stageLabels).size !== stageLabels.length) {
            broken.push(
              `portal ${pi} ${type} pipeline ${p.id}: duplicate stage labels ${JSON.stringify(p.stages.map((s) => s.label))}`,
            );
          }
          if (p.stages.length < 1 || p.stages.length > TYPES[type].limit) {
            broken.push(
              `portal ${pi} ${type} pipeline ${p.id}: ${p.stages.length} stages (limit ${TYPES[type].limit})`,
            );
          }
          if (!ordered(p.stages)) {
            broken.push(
              `portal ${pi} ${type} pipeline ${p.id}: stages out of order ${JSON.stringify(p.stages.map((s) => [s.displayOrder, s.label]))}`,
            );
          }
          const stages = await get<{ results: WStage[] }>(
            portal,
            `${V3}/${type}/${encodeURIComponent(p.id)}/stages`,
          );
          if (
            stages.status !== 200 ||
            JSON.stringify(stages.body.results.map((s) => s.id)) !== JSON.stringify(p.stages.map((s) => s.id))
          ) {
            broken.push(
              `portal ${pi} ${type} pipeline ${p.id}: stage list differs from the pipeline's stages`,
            );
          }
        }
      }

      // An audit entry for every successful pipeline-level write (plus what the defaults had).
      for (const [key, writes] of portal.pipelineWrites) {
        const [type, id] = key.split('|') as [TypeKey, string];
        const audit = await get<{ results: WAudit[] }>(
          portal,
          `${V3}/${type}/${encodeURIComponent(id)}/audit`,
        );
        if (audit.status !== 200) {
          broken.push(
            `portal ${pi} ${type} pipeline ${JSON.stringify(id)}: audit answered ${audit.status} after ${writes} writes`,
          );
          continue;
        }
        const entries = audit.body.results.filter((e) => e.identifier.endsWith(`:${id}`)).length;
        const expected = writes + (portal.baseAudit.get(key) ?? 0);
        if (entries !== expected) {
          const got = audit.body.results.map((e) => `${e.action} ${e.message}`).join('; ');
          const made = (portal.writeLog.get(key) ?? []).join('; ');
          broken.push(
            `portal ${pi} ${type} pipeline ${JSON.stringify(id)}: ${entries} audit entries for ${expected} writes\n    entries: ${got}\n    writes: ${made}`,
          );
        }
      }
      // Stage routes: at least one entry per successful stage write (pipeline PUTs add more).
      for (const [key, writes] of portal.stageWrites) {
        const [type, id] = key.split('|') as [TypeKey, string];
        const audit = await get<{ results: WAudit[] }>(
          portal,
          `${V3}/${type}/%7BpipelineId%7D/stages/${encodeURIComponent(id)}/audit`,
        );
        if (audit.status !== 200) {
          broken.push(
            `portal ${pi} ${type} stage ${JSON.stringify(id)}: audit answered ${audit.status} after ${writes} writes`,
          );
        } else if (audit.body.results.length < writes) {
          broken.push(
            `portal ${pi} ${type} stage ${JSON.stringify(id)}: ${audit.body.results.length} audit entries for ${writes} writes`,
          );
        }
      }

      // Isolation: what this portal created is invisible to the others (unless they hold the same id).
      for (const [oi, other] of portals.entries()) {
        if (oi === pi) continue;
        for (const [type, ids] of portal.pipelines) {
          const theirs = setOf(other.pipelines, type);
          for (const id of ids) {
            if (theirs.has(id)) continue;
            for (const path of [
              `/${encodeURIComponent(id)}`,
              `/${encodeURIComponent(id)}/audit`,
              `/${encodeURIComponent(id)}/stages`,
            ]) {
              const res = await get<unknown>(other, `${V3}/${type}${path}`);
              if (res.status !== 404)
                broken.push(
                  `portal ${oi} sees portal ${pi}'s ${type} pipeline ${JSON.stringify(id)} at ${path}: ${res.status}`,
                );
            }
          }
        }
        for (const [type, ids] of portal.records) {
          const theirs = setOf(other.records, type);
          for (const id of ids) {
            if (theirs.has(id)) continue;
            const res = await get<unknown>(other, `${OBJECTS}/${type}/${encodeURIComponent(id)}`);
            if (res.status !== 404)
              broken.push(`portal ${oi} sees portal ${pi}'s ${type} record ${id}: ${res.status}`);
          }
        }
      }
    }

    assert.equal(
      violations.length,
      0,
      `answers broke the contract (seed ${SEED}):\n${violations.join('\n\n')}`,
    );
    assert.equal(broken.length, 0, `invariants broken (seed ${SEED}):\n${broken.join('\n')}`);
  });
});
