// Validators for HubSpot's official Pipelines v3 OpenAPI schemas.
//
// The spec is read from the shared reference folder that sits beside the repository
// (<repoRoot>/../shared/reference). It is never copied into the project. When the folder is absent
// (a checkout outside the workspace) `specAvailable` is false and callers must skip the schema checks
// with `specSkipReason`, so the run says clearly that they did not happen.

import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { Ajv, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';

const addFormats = addFormatsModule.default;

const helpersDir = dirname(fileURLToPath(import.meta.url));
export const repoRoot = resolve(helpersDir, '..', '..');
export const specPath = resolve(repoRoot, '..', 'shared', 'reference', 'hubspot-pipelines-v3.openapi.json');

export const specAvailable: boolean = existsSync(specPath);
export const specSkipReason: string | undefined = specAvailable
  ? undefined
  : `official OpenAPI spec not found at ${specPath}: response bodies are NOT validated against HubSpot's schemas`;

export const schemaNames = [
  'Pipeline',
  'PipelineStage',
  'CollectionResponsePipelineNoPaging',
  'CollectionResponsePipelineStageNoPaging',
  'CollectionResponsePublicAuditInfoNoPaging',
  'Error',
] as const;
export type SchemaName = (typeof schemaNames)[number];

const SPEC_ID = 'hubspot-pipelines-v3';

type JsonObject = Record<string, unknown>;

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function loadValidators(): Map<SchemaName, ValidateFunction> {
  const validators = new Map<SchemaName, ValidateFunction>();
  if (!specAvailable) return validators;

  const spec: unknown = JSON.parse(readFileSync(specPath, 'utf8'));
  if (!isObject(spec) || !isObject(spec.components) || !isObject(spec.components.schemas)) {
    throw new Error(`${specPath} has no components.schemas`);
  }
  // Work on a deep copy so the patch below never leaks into anything else reading the spec.
  const schemas = structuredClone(spec.components.schemas);

  // The spec types PublicAuditInfo.rawObject as an object, but the real service sends a JSON-encoded
  // string (FIDELITY §7). Accept the string form, which is what Stageline must send.
  const auditInfo = schemas.PublicAuditInfo;
  if (!isObject(auditInfo) || !isObject(auditInfo.properties)) {
    throw new Error(`${specPath}: PublicAuditInfo schema not found`);
  }
  auditInfo.properties.rawObject = {
    type: 'string',
    description: 'JSON-encoded object (patched by the test suite: the spec says object)',
  };

  const ajv = new Ajv({ strict: false, allErrors: true });
  addFormats(ajv);
  ajv.addSchema({ $id: SPEC_ID, components: { schemas } });
  for (const name of schemaNames) {
    const validate = ajv.getSchema(`${SPEC_ID}#/components/schemas/${name}`);
    if (!validate) throw new Error(`${specPath}: schema ${name} not found`);
    validators.set(name, validate);
  }
  return validators;
}

const validators = loadValidators();
let validations = 0;

/** How many bodies were validated so far in this process (lets a test prove validation ran). */
export function schemaValidationCount(): number {
  return validations;
}

/** Throws with Ajv's error text when `value` does not match the named component schema. */
export function assertMatchesSchema(name: SchemaName, value: unknown, where = 'value'): void {
  const validate = validators.get(name);
  if (!validate) {
    throw new Error(`cannot validate against ${name}: ${specSkipReason ?? 'validator missing'}`);
  }
  validations += 1;
  if (!validate(value)) {
    const errors = validate.errors ?? [];
    const text = errors.map((e) => `${e.instancePath || '(root)'} ${e.message ?? 'is invalid'}`).join('; ');
    const shown = JSON.stringify(value);
    throw new Error(
      `${where} does not match OpenAPI schema ${name}: ${text}\n  body: ${shown.length > 2000 ? `${shown.slice(0, 2000)}…` : shown}`,
    );
  }
}
