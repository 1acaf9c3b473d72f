// Validators for HubSpot's official Pipelines OpenAPI schemas: v3 (`/crm/v3/pipelines`) and the
// date-versioned successors 2026-03 and 2026-09 (`/crm/pipelines/<version>`).
//
// The specs are read from the shared reference folder that sits beside the repository
// (<repoRoot>/../shared/reference). They are never copied into the project. When a file is absent
// (a checkout outside the workspace) `specAvailableFor(version)` is false and callers must skip the
// schema checks with `specSkipReasonFor(version)`, so the run says clearly that they did not happen.
// The original single-spec exports (`specPath`, `specAvailable`, `specSkipReason`,
// `assertMatchesSchema(name, value, where)`) keep meaning the v3 file.

import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { Ajv, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';

const addFormats = addFormatsModule.default;

const helpersDir = dirname(fileURLToPath(import.meta.url));
export const repoRoot = resolve(helpersDir, '..', '..');
export const referenceDir = resolve(repoRoot, '..', 'shared', 'reference');

/** The official spec files we know, by the version name used in their paths. */
export const SPEC_VERSIONS = ['v3', '2026-03', '2026-09'] as const;
export type SpecVersion = (typeof SPEC_VERSIONS)[number];

const SPEC_FILES: Record<SpecVersion, string> = {
  v3: 'hubspot-pipelines-v3.openapi.json',
  '2026-03': 'hubspot-pipelines-2026-03.openapi.json',
  '2026-09': 'hubspot-pipelines-2026-09.openapi.json',
};

/** The path prefix each spec documents (its `paths` keys start with it). */
export const SPEC_PREFIXES: Record<SpecVersion, string> = {
  v3: '/crm/v3/pipelines',
  '2026-03': '/crm/pipelines/2026-03',
  '2026-09': '/crm/pipelines/2026-09',
};

export function specPathFor(version: SpecVersion): string {
  return resolve(referenceDir, SPEC_FILES[version]);
}

export function specAvailableFor(version: SpecVersion): boolean {
  return existsSync(specPathFor(version));
}

export function specSkipReasonFor(version: SpecVersion): string | undefined {
  return specAvailableFor(version)
    ? undefined
    : `official ${version} OpenAPI spec not found at ${specPathFor(version)}: response bodies are NOT validated against HubSpot's ${version} schemas`;
}

// --- The original v3-only exports -------------------------------------------------------------

export const specPath = specPathFor('v3');
export const specAvailable: boolean = specAvailableFor('v3');
export const specSkipReason: string | undefined = specSkipReasonFor('v3');

export const schemaNames = [
  'Pipeline',
  'PipelineStage',
  'CollectionResponsePipelineNoPaging',
  'CollectionResponsePipelineStageNoPaging',
  'CollectionResponsePublicAuditInfoNoPaging',
  'Error',
] as const;
export type SchemaName = (typeof schemaNames)[number];

type JsonObject = Record<string, unknown>;

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

interface LoadedSpec {
  validators: Map<SchemaName, ValidateFunction>;
  /** Path templates as regexes, with the 2xx response schema of each method (undefined: no body). */
  operations: {
    pattern: RegExp;
    template: string;
    method: string;
    status: number;
    schema: string | undefined;
  }[];
}

const REF_PREFIX = '#/components/schemas/';

function loadSpec(version: SpecVersion): LoadedSpec | undefined {
  if (!specAvailableFor(version)) return undefined;
  const file = specPathFor(version);
  const spec: unknown = JSON.parse(readFileSync(file, 'utf8'));
  if (!isObject(spec) || !isObject(spec.components) || !isObject(spec.components.schemas)) {
    throw new Error(`${file} has no components.schemas`);
  }
  // Work on a deep copy so the patch below never leaks into anything else reading the spec.
  const schemas = structuredClone(spec.components.schemas);

  // The spec types PublicAuditInfo.rawObject as an object, but the real service sends a JSON-encoded
  // string (FIDELITY §7). Accept the string form, which is what Stageline must send.
  const auditInfo = schemas.PublicAuditInfo;
  if (!isObject(auditInfo) || !isObject(auditInfo.properties)) {
    throw new Error(`${file}: PublicAuditInfo schema not found`);
  }
  auditInfo.properties.rawObject = {
    type: 'string',
    description: 'JSON-encoded object (patched by the test suite: the spec says object)',
  };

  const id = `hubspot-pipelines-${version}`;
  const ajv = new Ajv({ strict: false, allErrors: true });
  addFormats(ajv);
  ajv.addSchema({ $id: id, components: { schemas } });
  const validators = new Map<SchemaName, ValidateFunction>();
  for (const name of schemaNames) {
    const validate = ajv.getSchema(`${id}#/components/schemas/${name}`);
    if (!validate) throw new Error(`${file}: schema ${name} not found`);
    validators.set(name, validate);
  }

  const operations: LoadedSpec['operations'] = [];
  if (!isObject(spec.paths)) throw new Error(`${file} has no paths`);
  for (const [template, ops] of Object.entries(spec.paths)) {
    if (!isObject(ops)) continue;
    const pattern = new RegExp(
      `^${template.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{[^}]+\}/g, '[^/]+')}$`,
    );
    for (const [method, op] of Object.entries(ops)) {
      if (!isObject(op) || !isObject(op.responses)) continue;
      const success = Object.entries(op.responses).find(([code]) => /^2\d\d$/.test(code));
      if (!success) throw new Error(`${file}: ${method} ${template} has no 2xx response`);
      const [code, response] = success;
      let schema: string | undefined;
      if (isObject(response) && isObject(response.content)) {
        for (const media of Object.values(response.content)) {
          if (isObject(media) && isObject(media.schema) && typeof media.schema.$ref === 'string') {
            schema = media.schema.$ref.replace(REF_PREFIX, '');
          }
        }
      }
      operations.push({ pattern, template, method: method.toUpperCase(), status: Number(code), schema });
    }
  }
  return { validators, operations };
}

const specs = new Map<SpecVersion, LoadedSpec | undefined>();
function spec(version: SpecVersion): LoadedSpec | undefined {
  if (!specs.has(version)) specs.set(version, loadSpec(version));
  return specs.get(version);
}

const validations = new Map<SpecVersion, number>();

/** How many bodies were validated so far in this process, against one spec or all of them. */
export function schemaValidationCount(version?: SpecVersion): number {
  if (version !== undefined) return validations.get(version) ?? 0;
  let total = 0;
  for (const n of validations.values()) total += n;
  return total;
}

/**
 * The official operation that `method pathname` is an instance of, with its documented 2xx status
 * and the component schema of that response (undefined for a bodiless 204). Undefined when the
 * spec has no such operation; throws when the spec file is absent.
 */
export function specOperation(
  version: SpecVersion,
  method: string,
  pathname: string,
): { template: string; status: number; schema: SchemaName | undefined } | undefined {
  const loaded = spec(version);
  if (!loaded) throw new Error(`cannot look up ${method} ${pathname}: ${specSkipReasonFor(version)}`);
  const m = method.toUpperCase();
  const op = loaded.operations.find((o) => o.method === m && o.pattern.test(pathname));
  if (!op) return undefined;
  if (op.schema !== undefined && !(schemaNames as readonly string[]).includes(op.schema)) {
    throw new Error(`${version} ${m} ${op.template}: response schema ${op.schema} has no validator`);
  }
  return { template: op.template, status: op.status, schema: op.schema as SchemaName | undefined };
}

/** Throws with Ajv's error text when `value` does not match the named component schema. */
export function assertMatchesSchema(
  name: SchemaName,
  value: unknown,
  where = 'value',
  version: SpecVersion = 'v3',
): void {
  const validate = spec(version)?.validators.get(name);
  if (!validate) {
    throw new Error(
      `cannot validate against ${version} ${name}: ${specSkipReasonFor(version) ?? 'validator missing'}`,
    );
  }
  validations.set(version, (validations.get(version) ?? 0) + 1);
  if (!validate(value)) {
    const errors = validate.errors ?? [];
    const text = errors.map((e) => `${e.instancePath || '(root)'} ${e.message ?? 'is invalid'}`).join('; ');
    const shown = JSON.stringify(value);
    throw new Error(
      `${where} does not match ${version} OpenAPI schema ${name}: ${text}\n  body: ${shown.length > 2000 ? `${shown.slice(0, 2000)}…` : shown}`,
    );
  }
}
