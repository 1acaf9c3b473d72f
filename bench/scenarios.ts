// What the bench asks of Stageline: the benchmark portal it seeds, the scenarios run against it,
// and the 100-portal mix. Each scenario names the baseline it is compared with and captures,
// from Stageline's own answers, the bytes that baseline sends back.
import type autocannon from 'autocannon';

export type Request = NonNullable<autocannon.Options['requests']>[number];

/** Baseline (a), bare Fastify, for reads; baseline (b), Fastify with durable writes, for writes. */
export type Against = 'bare' | 'durable';

export interface Canned {
  status: number;
  body: string;
  /** The baseline pre-compresses the body and sends that to clients that accept gzip. */
  gzip?: boolean;
}

export interface Scenario {
  name: string;
  kind: 'read' | 'write' | 'mix';
  against: Against;
  /** False for a scenario reported for comparison only. */
  targeted: boolean;
  requests: Request[];
  /** What the baseline answers, per method, captured from Stageline's own answers. */
  canned: () => Promise<Record<string, Canned>>;
}

export const auth = (token: string) => ({
  authorization: `Bearer ${token}`,
  'content-type': 'application/json',
});

export async function api(base: string, token: string, method: string, path: string, body?: unknown) {
  const res = await fetch(base + path, {
    method,
    headers: auth(token),
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${text}`);
  return {
    status: res.status,
    text,
    json: text === '' ? undefined : (JSON.parse(text) as Record<string, unknown>),
  };
}

export interface Fixture {
  token: string;
  pipelineId: string;
  stageId: string;
  auditPipelineId: string;
  stageAudit: { pipelineId: string; stageId: string };
  writePipelineId: string;
}

const AUDIT_ENTRIES = 1000;
/** Seeding writes go in parallel batches of this many, so that they share commits. */
const BATCH = 10;

async function inBatches(count: number, write: (n: number) => Promise<unknown>): Promise<void> {
  for (let i = 0; i < count; i += BATCH) {
    await Promise.all(Array.from({ length: Math.min(BATCH, count - i) }, (_, j) => write(i + j)));
  }
}

/**
 * The benchmark portal: the default pipeline plus 20 pipelines of 10 stages, one pipeline with
 * 1,000 audit entries and, in another, one stage with 1,000.
 */
export async function seedBenchPortal(base: string, token: string): Promise<Fixture> {
  const pipelines: { id: string; stageIds: string[] }[] = [];
  for (let p = 0; p < 20; p++) {
    const { json } = await api(base, token, 'POST', '/crm/v3/pipelines/deals', {
      label: `Bench pipeline ${p}`,
      displayOrder: p + 1,
      stages: Array.from({ length: 10 }, (_, s) => ({
        label: `Stage ${s}`,
        displayOrder: s,
        metadata: { probability: s / 10 },
      })),
    });
    pipelines.push({
      id: String(json!.id),
      stageIds: (json!.stages as { id: string }[]).map((s) => s.id),
    });
  }
  const auditPipelineId = pipelines[1]!.id;
  await inBatches(AUDIT_ENTRIES, (n) =>
    api(base, token, 'PATCH', `/crm/v3/pipelines/deals/${auditPipelineId}`, { displayOrder: 100 + n }),
  );
  const stageAudit = { pipelineId: pipelines[3]!.id, stageId: pipelines[3]!.stageIds[5]! };
  const auditedStage = `/crm/v3/pipelines/deals/${stageAudit.pipelineId}/stages/${stageAudit.stageId}`;
  await inBatches(AUDIT_ENTRIES, (n) => api(base, token, 'PATCH', auditedStage, { label: `Audited ${n}` }));
  return {
    token,
    pipelineId: pipelines[0]!.id,
    stageId: pipelines[0]!.stageIds[3]!,
    auditPipelineId,
    stageAudit,
    writePipelineId: pipelines[2]!.id,
  };
}

/** What the official SDK (node-fetch) sends; Stageline compresses large answers for it. */
const SDK_ACCEPT_ENCODING = 'gzip,deflate';

export function scenarios(base: string, f: Fixture): Scenario[] {
  const get =
    (path: string, gzip = false) =>
    async () => {
      const { status, text } = await api(base, f.token, 'GET', path);
      return { GET: { status, body: text, gzip } };
    };
  const asTheSdk = (path: string): Request[] => [
    { method: 'GET', path, headers: { ...auth(f.token), 'accept-encoding': SDK_ACCEPT_ENCODING } },
  ];
  const read = (name: string, path: string) => ({
    name,
    kind: 'read' as const,
    against: 'bare' as const,
    targeted: true,
    requests: [{ method: 'GET' as const, path }],
    canned: get(path),
  });
  const auditPath = `/crm/v3/pipelines/deals/${f.auditPipelineId}/audit`;
  const stageAuditPath = `/crm/v3/pipelines/deals/${f.stageAudit.pipelineId}/stages/${f.stageAudit.stageId}/audit`;
  const stagePath = `/crm/v3/pipelines/deals/${f.pipelineId}/stages/${f.stageId}`;
  const stagesPath = `/crm/v3/pipelines/deals/${f.writePipelineId}/stages`;
  let counter = 0;
  return [
    read('list deal pipelines (21)', '/crm/v3/pipelines/deals'),
    read('get pipeline', `/crm/v3/pipelines/deals/${f.pipelineId}`),
    read('get stage', stagePath),
    {
      ...read('stage audit (1,000 entries)', stageAuditPath),
      requests: asTheSdk(stageAuditPath),
      canned: get(stageAuditPath, true),
    },
    {
      // As the SDK asks for it: gzip accepted, so about 3 MB of JSON travel as about 0.2 MB.
      ...read('pipeline audit (1,000 entries)', auditPath),
      requests: asTheSdk(auditPath),
      canned: get(auditPath, true),
    },
    // For comparison: the same answer (about 5 MB) sent plain, where the transfer alone sets the latency.
    { ...read('pipeline audit, uncompressed', auditPath), targeted: false },
    {
      name: 'create + delete stage',
      kind: 'write',
      against: 'durable',
      targeted: true,
      requests: [
        {
          method: 'POST',
          path: stagesPath,
          setupRequest: (req) => ({
            ...req,
            body: JSON.stringify({
              label: `Temp ${counter++}`,
              displayOrder: 50,
              metadata: { probability: '0.5' },
            }),
          }),
          onResponse: (status, body, context) => {
            if (status === 201)
              (context as { stageId?: string }).stageId = (JSON.parse(body) as { id: string }).id;
          },
        },
        {
          method: 'DELETE',
          setupRequest: (req, context) => ({
            ...req,
            path: `${stagesPath}/${String((context as { stageId?: string }).stageId)}`,
          }),
        },
      ],
      canned: async () => {
        const created = await api(base, f.token, 'POST', stagesPath, {
          label: 'Canned',
          displayOrder: 50,
          metadata: { probability: '0.5' },
        });
        await api(base, f.token, 'DELETE', `${stagesPath}/${String(created.json!.id)}`);
        return { POST: { status: 201, body: created.text }, DELETE: { status: 204, body: '' } };
      },
    },
    {
      name: 'patch stage label',
      kind: 'write',
      against: 'durable',
      targeted: true,
      requests: [
        { method: 'PATCH', path: stagePath, body: JSON.stringify({ label: 'Renamed A' }) },
        { method: 'PATCH', path: stagePath, body: JSON.stringify({ label: 'Renamed B' }) },
      ],
      canned: async () => {
        const { status, text } = await api(base, f.token, 'PATCH', stagePath, { label: 'Stage 3' });
        return { PATCH: { status, body: text } };
      },
    },
  ];
}

export const MIXED = '90/10 mix, 100 portals';

/**
 * 100 portals (one open-mode token each), 90 % reads and 10 % stage label writes. Compared with
 * the durable baseline, which answers its reads at once and syncs its writes.
 */
export async function mixedScenario(base: string): Promise<Scenario> {
  const portals: { token: string; pipelineId: string; stageIds: string[] }[] = [];
  await inBatches(100, async (i) => {
    const token = `bench-mixed-${i}`;
    const { json } = await api(base, token, 'POST', '/crm/v3/pipelines/deals', {
      label: 'Mixed',
      displayOrder: 1,
      stages: Array.from({ length: 10 }, (_, s) => ({
        label: `S${s}`,
        displayOrder: s,
        metadata: { probability: 0.5 },
      })),
    });
    portals.push({
      token,
      pipelineId: String(json!.id),
      stageIds: (json!.stages as { id: string }[]).map((s) => s.id),
    });
  });
  let n = 0;
  const pick = () => portals[Math.floor(Math.random() * portals.length)]!;
  const request: Request = {
    method: 'GET',
    setupRequest: (req) => {
      const p = pick();
      const stage = p.stageIds[n++ % p.stageIds.length]!;
      const headers = { ...req.headers, authorization: `Bearer ${p.token}` };
      const roll = Math.random();
      if (roll < 0.1) {
        const label = `S${p.stageIds.indexOf(stage)}${n % 2 === 0 ? '' : ' (renamed)'}`;
        return {
          ...req,
          headers,
          method: 'PATCH',
          path: `/crm/v3/pipelines/deals/${p.pipelineId}/stages/${stage}`,
          body: JSON.stringify({ label }),
        };
      }
      const path =
        roll < 0.4
          ? '/crm/v3/pipelines/deals'
          : roll < 0.7
            ? `/crm/v3/pipelines/deals/${p.pipelineId}`
            : `/crm/v3/pipelines/deals/${p.pipelineId}/stages/${stage}`;
      return { ...req, headers, method: 'GET', path, body: undefined };
    },
  };
  const sample = portals[0]!;
  return {
    name: MIXED,
    kind: 'mix',
    against: 'durable',
    targeted: false,
    requests: [request],
    canned: async () => {
      const got = await api(base, sample.token, 'GET', `/crm/v3/pipelines/deals/${sample.pipelineId}`);
      const patched = await api(
        base,
        sample.token,
        'PATCH',
        `/crm/v3/pipelines/deals/${sample.pipelineId}/stages/${sample.stageIds[0]}`,
        { label: 'S0' },
      );
      return { GET: { status: 200, body: got.text }, PATCH: { status: 200, body: patched.text } };
    },
  };
}
