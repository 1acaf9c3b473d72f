// Helpers for tests of records in pipelines (the CRM objects API) and of the reference-checked
// deletes of the Pipelines API (STAGE_ID_IN_USE, FIDELITY §5).

import assert from 'node:assert/strict';

import { isRecord, must, rawRequest } from './wire.js';
import type { WireAudit, WireCollection, WireError } from './wire-types.js';

/** A record as the objects API sends it on the wire. */
export interface WireRecord {
  id: string;
  properties: Record<string, string | null>;
  createdAt: string;
  updatedAt: string;
  archived: boolean;
  archivedAt?: string;
}

export interface WireRecordPage {
  results: WireRecord[];
  paging?: { next: { after: string } };
}

export interface WireSearchPage extends WireRecordPage {
  total: number;
}

export interface WireBatch {
  status: string;
  results: WireRecord[];
  numErrors?: number;
  errors?: Array<{ status: string; category: string; message: string; context?: Record<string, string[]> }>;
  startedAt: string;
  completedAt: string;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Numeric ids in ascending numeric order. */
export function byNumericId(ids: Iterable<string>): string[] {
  return [...ids].sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : BigInt(a) > BigInt(b) ? 1 : 0));
}

/** The STAGE_ID_IN_USE message, exactly as HubSpot words it (FIDELITY §5). */
export function stageInUseMessage(stageIds: readonly string[], objectIds: readonly string[]): string {
  return `Stage IDs: [${stageIds.join(', ')}] are being referenced by object IDs: [${objectIds.join(', ')}]`;
}

/**
 * Asserts an error body is exactly HubSpot's STAGE_ID_IN_USE refusal for these stages and
 * records: category, subCategory, message and context (each context value one bracketed string).
 */
export function assertStageInUse(
  error: unknown,
  stageIds: readonly string[],
  objectIds: readonly string[],
  where = 'error',
): void {
  assert.ok(isRecord(error), `${where} is not an error object`);
  const e = error as unknown as WireError;
  assert.equal(e.status, 'error', `${where}.status`);
  assert.equal(e.category, 'VALIDATION_ERROR', `${where}.category`);
  assert.equal(e.subCategory, 'PipelineError.STAGE_ID_IN_USE', `${where}.subCategory`);
  assert.equal(e.message, stageInUseMessage(stageIds, objectIds), `${where}.message`);
  assert.deepEqual(
    e.context,
    { stageIds: [`[${stageIds.join(', ')}]`], objectIds: [`[${objectIds.join(', ')}]`] },
    `${where}.context`,
  );
}

/** Parses `[a, b]` (one context value of a STAGE_ID_IN_USE error) into its items. */
export function parseBracketList(value: string | undefined): string[] {
  const text = must(value, 'bracketed list');
  assert.match(text, /^\[.*\]$/, `not a bracketed list: ${text}`);
  const inner = text.slice(1, -1).trim();
  return inner === '' ? [] : inner.split(', ');
}

/**
 * Everything the audit endpoints say about a pipeline and some of its stages, through the v3
 * paths: compare two snapshots to prove that nothing was written in between.
 */
export async function auditSnapshot(
  baseUrl: string,
  token: string | undefined,
  objectType: string,
  pipelineId: string,
  stageIds: readonly string[],
): Promise<{ pipeline: WireAudit[]; stages: Record<string, WireAudit[]> }> {
  const pipeline = await rawRequest<WireCollection<WireAudit>>(
    baseUrl,
    'GET',
    `/crm/v3/pipelines/${objectType}/${pipelineId}/audit`,
    { token },
  );
  assert.equal(pipeline.status, 200, `pipeline audit of ${pipelineId}: ${pipeline.text}`);
  const stages: Record<string, WireAudit[]> = {};
  for (const stageId of stageIds) {
    const res = await rawRequest<WireCollection<WireAudit>>(
      baseUrl,
      'GET',
      `/crm/v3/pipelines/${objectType}/${pipelineId}/stages/${stageId}/audit`,
      { token },
    );
    assert.equal(res.status, 200, `stage audit of ${stageId}: ${res.text}`);
    stages[stageId] = res.json.results;
  }
  return { pipeline: pipeline.json.results, stages };
}
