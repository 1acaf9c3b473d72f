/**
 * The Pipelines API of any HubSpot-compatible portal, through the official SDK and its retries
 * (429 TEN_SECONDLY_ROLLING and 5xx). Creates send the source's `pipelineId`/`stageId` and the
 * stage archive its `validateReferencesBeforeDelete` flag through per-call middleware: the SDK's
 * models would drop them.
 */
import { Client } from '@hubspot/api-client';
import type { Pipeline, PipelineStage } from '@hubspot/api-client/lib/codegen/crm/pipelines/index.js';
import type { PromiseConfigurationOptions } from '@hubspot/api-client/lib/codegen/crm/pipelines/configuration.js';
import type {
  RequestContext,
  ResponseContext,
} from '@hubspot/api-client/lib/codegen/crm/pipelines/http/http.js';

import { DEFAULT_URL } from './defaults.js';

export type { Pipeline, PipelineStage };

/** The most the SDK allows. */
const RETRIES = 6;

/** A stage as the API takes it on create, with the id the source gave it. */
export interface StageInput {
  readonly stageId?: string;
  readonly label: string;
  readonly displayOrder: number;
  readonly metadata: Readonly<Record<string, string>>;
}

export interface PipelineInput {
  readonly pipelineId?: string;
  readonly label: string;
  readonly displayOrder: number;
  readonly stages: readonly StageInput[];
}

/** What the plan and apply need of a portal. */
export interface PipelinesPort {
  list(objectType: string): Promise<Pipeline[]>;
  createPipeline(objectType: string, input: PipelineInput): Promise<Pipeline>;
  updatePipeline(
    objectType: string,
    id: string,
    patch: { label?: string; displayOrder?: number },
  ): Promise<Pipeline>;
  archivePipeline(objectType: string, id: string): Promise<void>;
  createStage(objectType: string, pipelineId: string, input: StageInput): Promise<PipelineStage>;
  updateStage(
    objectType: string,
    pipelineId: string,
    stageId: string,
    patch: { label?: string; displayOrder?: number; metadata?: Record<string, string> },
  ): Promise<PipelineStage>;
  archiveStage(objectType: string, pipelineId: string, stageId: string): Promise<void>;
}

/** An API error: its status and HubSpot's error body. */
export interface ApiFailure {
  readonly code: number;
  readonly body: {
    message?: string;
    category?: string;
    subCategory?: string;
    context?: Record<string, string[]>;
  };
}

export function apiFailure(err: unknown): ApiFailure | undefined {
  const e = err as { code?: unknown; body?: unknown } | null;
  if (typeof e?.code !== 'number' || e.code < 400) return undefined;
  const body = typeof e.body === 'string' ? safeParse(e.body) : e.body;
  return { code: e.code, body: (body ?? {}) as ApiFailure['body'] };
}

export const failureText = (failure: ApiFailure): string =>
  `HTTP ${failure.code}: ${failure.body.message ?? 'no message'}`;

function safeParse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return { message: text };
  }
}

/** Per-call middleware that rewrites the request as it leaves (retries included). */
function rewrite(change: (context: RequestContext) => void): PromiseConfigurationOptions {
  return {
    middlewareMergeStrategy: 'append',
    middleware: [
      {
        pre: (context: RequestContext) => {
          change(context);
          return Promise.resolve(context);
        },
        post: (context: ResponseContext) => Promise.resolve(context),
      },
    ],
  };
}

const withBody = (body: unknown) => rewrite((context) => context.setBody(JSON.stringify(body)));

export interface ConnectOptions {
  readonly url?: string;
  readonly token: string;
  /** 0 turns the SDK's retries off (tests of failures). */
  readonly retries?: number;
}

const sdkClient = (options: ConnectOptions): Client =>
  new Client({
    accessToken: options.token,
    basePath: (options.url ?? DEFAULT_URL).replace(/\/+$/, ''),
    numberOfApiCallRetries: options.retries ?? RETRIES,
  });

export function connectPortal(options: ConnectOptions): PipelinesPort {
  const client = sdkClient(options);
  const { pipelinesApi, pipelineStagesApi } = client.crm.pipelines;
  return {
    list: async (objectType) => (await pipelinesApi.getAll(objectType)).results,
    createPipeline: (objectType, input) =>
      pipelinesApi.create(
        objectType,
        { label: input.label, displayOrder: input.displayOrder, stages: [] },
        withBody(input),
      ),
    updatePipeline: (objectType, id, patch) => pipelinesApi.update(objectType, id, patch),
    archivePipeline: (objectType, id) => pipelinesApi.archive(objectType, id, true, true),
    createStage: (objectType, pipelineId, input) =>
      pipelineStagesApi.create(
        objectType,
        pipelineId,
        { label: input.label, displayOrder: input.displayOrder, metadata: {} },
        withBody(input),
      ),
    updateStage: (objectType, pipelineId, stageId, patch) =>
      pipelineStagesApi.update(objectType, pipelineId, stageId, patch),
    archiveStage: (objectType, pipelineId, stageId) =>
      pipelineStagesApi.archive(
        objectType,
        pipelineId,
        stageId,
        rewrite((context) => context.setQueryParam('validateReferencesBeforeDelete', 'true')),
      ),
  };
}

/** The property that holds a record's pipeline, and its stage, per type. */
const PIPELINE_PROPERTIES: Readonly<Record<string, readonly [string, string]>> = {
  deals: ['pipeline', 'dealstage'],
  deal: ['pipeline', 'dealstage'],
  '0-3': ['pipeline', 'dealstage'],
};

/** Each record of the type: its id, pipeline and stage. */
export async function listRecords(
  options: ConnectOptions,
  objectType: string,
): Promise<{ id: string; pipeline?: string; stage?: string }[]> {
  const client = sdkClient(options);
  const [pipelineProperty, stageProperty] = PIPELINE_PROPERTIES[objectType] ?? [
    'hs_pipeline',
    'hs_pipeline_stage',
  ];
  const records: { id: string; pipeline?: string; stage?: string }[] = [];
  let after: string | undefined;
  do {
    const page = await client.crm.objects.basicApi.getPage(objectType, 100, after, [
      pipelineProperty,
      stageProperty,
    ]);
    for (const r of page.results) {
      const pipeline = r.properties[pipelineProperty] ?? undefined;
      const stage = r.properties[stageProperty] ?? undefined;
      records.push({ id: r.id, ...(pipeline ? { pipeline } : {}), ...(stage ? { stage } : {}) });
    }
    after = page.paging?.next?.after;
  } while (after !== undefined);
  return records;
}
