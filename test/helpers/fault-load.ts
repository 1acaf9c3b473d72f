// The write load of the PostgreSQL fault tests, and the check of what it leaves behind. Several
// clients, spread over two `stageline serve` processes, each write to pipelines of their own, one
// request at a time: create pipelines (unique labels), create, rename and delete stages, rename
// pipelines, create deals and move them between two stages. Each client remembers what
// it sent and which writes were acknowledged with a 2xx, so `verify` can tell, through the API,
// whether every acknowledged write is there exactly once, and whether the invariants hold:
// unique labels, the stage limit, one pipeline audit entry per write.

import { labelKey } from '../../src/domain/pipeline-rules.js';
import { ok, type Answer, type FaultClient } from './fault-client.js';
import type { WireAudit, WireCollection, WirePipeline, WireStage } from './wire-types.js';

export const PIPELINES = '/crm/v3/pipelines/deals';
const DEALS = '/crm/v3/objects/deals';
/** Stages one client creates in one pipeline at most: far below the limit of 100. */
const STAGES_PER_PIPELINE = 25;

const sleep = (ms: number) => new Promise<void>((done) => setTimeout(done, ms));
const pick = <T>(items: readonly T[]): T => items[Math.floor(Math.random() * items.length)]!;

/** What a client sent as one value over time; `acked` is the index of the last 2xx (-1: none). */
interface History {
  sent: string[];
  acked: number;
}
/** The values one may find afterwards: the last acknowledged one, or one sent after it. */
const allowed = (h: History): string[] => (h.acked >= 0 ? h.sent.slice(h.acked) : h.sent);

interface OwnedStage {
  id: string;
  labels: History;
  /** 'unknown': a delete was sent but not acknowledged. */
  state: 'live' | 'deleted' | 'unknown';
}
interface OwnedPipeline {
  id: string;
  labels: History;
  /** The two stages it was created with: the deals live there, they are never deleted. */
  dealStages: [string, string];
  stages: OwnedStage[];
  /** Writes that make a pipeline audit entry (its creation included), sent and acknowledged. */
  writesSent: number;
  writesAcked: number;
}
interface OwnedDeal {
  id: string;
  name: string;
  pipelineId: string;
  stages: History;
}

export interface Verdict {
  /** Acknowledged writes missing, undone or duplicated. */
  lost: string[];
  /** Invariants broken. */
  broken: string[];
  pipelines: number;
  deals: number;
  stages: number;
}

export class WriteLoad {
  readonly pipelines: OwnedPipeline[] = [];
  readonly deals: OwnedDeal[] = [];
  private stopped = false;
  private running: Promise<void> | undefined;

  constructor(
    private readonly http: FaultClient,
    /** Makes this run's labels unique. */
    private readonly run: string,
    /** A client's pause after an answer that is not a 2xx. */
    private readonly pauseMs = 50,
  ) {}

  /** Starts `clients` clients; client i sends to process i % 2. */
  start(clients: number): void {
    this.running = Promise.all(Array.from({ length: clients }, (_, i) => this.client(i))).then(
      () => undefined,
    );
  }

  /** Stops the clients once their requests in flight are answered. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.running;
  }

  private async client(i: number): Promise<void> {
    const server = i % 2;
    const mine: OwnedPipeline[] = [];
    const myDeals: OwnedDeal[] = [];
    let n = 0;
    while (!this.stopped) {
      n++;
      const choice = Math.random();
      const pipeline = mine.length === 0 ? undefined : pick(mine);
      let answer: Answer | undefined;
      if (pipeline === undefined || choice < 0.08 || pipeline.stages.length >= STAGES_PER_PIPELINE) {
        const label = `P-${this.run}-${i}-${n}`;
        answer = await this.http.send(server, 'create pipeline', 'POST', PIPELINES, {
          label,
          displayOrder: n,
          stages: [
            { label: 'Open', displayOrder: 0, metadata: { probability: '0.2' } },
            { label: 'Won', displayOrder: 1, metadata: { probability: '1.0' } },
          ],
        });
        if (ok(answer)) {
          const p = answer.body as WirePipeline;
          const owned: OwnedPipeline = {
            id: p.id,
            labels: { sent: [label], acked: 0 },
            dealStages: [p.stages[0]!.id, p.stages[1]!.id],
            stages: [],
            writesSent: 1,
            writesAcked: 1,
          };
          mine.push(owned);
          this.pipelines.push(owned);
        }
      } else if (choice < 0.3) {
        const label = `s-${i}-${n}`;
        pipeline.writesSent++;
        answer = await this.http.send(server, 'create stage', 'POST', `${PIPELINES}/${pipeline.id}/stages`, {
          label,
          displayOrder: n,
          metadata: { probability: '0.5' },
        });
        if (ok(answer)) {
          pipeline.writesAcked++;
          pipeline.stages.push({
            id: (answer.body as WireStage).id,
            labels: { sent: [label], acked: 0 },
            state: 'live',
          });
        }
      } else if (choice < 0.45 && pipeline.stages.some((s) => s.state === 'live')) {
        const stage = pick(pipeline.stages.filter((s) => s.state === 'live'));
        const label = `s-${i}-${n}`;
        pipeline.writesSent++;
        stage.labels.sent.push(label);
        answer = await this.http.send(
          server,
          'patch stage',
          'PATCH',
          `${PIPELINES}/${pipeline.id}/stages/${stage.id}`,
          { label },
        );
        if (ok(answer)) {
          pipeline.writesAcked++;
          stage.labels.acked = stage.labels.sent.length - 1;
        }
      } else if (choice < 0.55 && pipeline.stages.some((s) => s.state === 'live')) {
        const stage = pick(pipeline.stages.filter((s) => s.state === 'live'));
        pipeline.writesSent++;
        answer = await this.http.send(
          server,
          'delete stage',
          'DELETE',
          `${PIPELINES}/${pipeline.id}/stages/${stage.id}`,
        );
        if (ok(answer)) pipeline.writesAcked++;
        stage.state = ok(answer) ? 'deleted' : 'unknown';
      } else if (choice < 0.65) {
        const label = `P-${this.run}-${i}-${n}`;
        pipeline.writesSent++;
        pipeline.labels.sent.push(label);
        answer = await this.http.send(server, 'rename pipeline', 'PATCH', `${PIPELINES}/${pipeline.id}`, {
          label,
        });
        if (ok(answer)) {
          pipeline.writesAcked++;
          pipeline.labels.acked = pipeline.labels.sent.length - 1;
        }
      } else if (choice < 0.82 || myDeals.length === 0) {
        const name = `deal-${this.run}-${i}-${n}`;
        const stageId = pipeline.dealStages[0];
        answer = await this.http.send(server, 'create deal', 'POST', DEALS, {
          properties: { dealname: name, pipeline: pipeline.id, dealstage: stageId },
        });
        if (ok(answer)) {
          const deal: OwnedDeal = {
            id: (answer.body as { id: string }).id,
            name,
            pipelineId: pipeline.id,
            stages: { sent: [stageId], acked: 0 },
          };
          myDeals.push(deal);
          this.deals.push(deal);
        }
      } else {
        const deal = pick(myDeals);
        const owner = this.pipelines.find((p) => p.id === deal.pipelineId)!;
        const current = deal.stages.sent.at(-1);
        const stageId = current === owner.dealStages[0] ? owner.dealStages[1] : owner.dealStages[0];
        deal.stages.sent.push(stageId);
        answer = await this.http.send(server, 'move deal', 'PATCH', `${DEALS}/${deal.id}`, {
          properties: { dealstage: stageId },
        });
        if (ok(answer)) deal.stages.acked = deal.stages.sent.length - 1;
      }
      if (answer !== undefined && !ok(answer)) await sleep(this.pauseMs);
    }
  }

  /** Everything acknowledged is there exactly once, and the invariants hold (through the API). */
  async verify(): Promise<Verdict> {
    const lost: string[] = [];
    const broken: string[] = [];
    const list = await this.http.get<WireCollection<WirePipeline>>(0, PIPELINES);
    const other = await this.http.get<WireCollection<WirePipeline>>(1, PIPELINES);
    if (JSON.stringify(other) !== JSON.stringify(list))
      broken.push('the two processes list different pipelines');
    const live = new Map(list.results.map((p) => [p.id, p]));
    const keys = list.results.map((p) => labelKey(p.label));
    if (new Set(keys).size !== keys.length) broken.push(`duplicate live pipeline labels: ${keys.join(', ')}`);
    for (const p of list.results) {
      const stageKeys = p.stages.map((s) => labelKey(s.label));
      if (new Set(stageKeys).size !== stageKeys.length)
        broken.push(`pipeline ${p.id}: duplicate stage labels ${stageKeys.join(', ')}`);
      if (p.stages.length < 1 || p.stages.length > 100)
        broken.push(`pipeline ${p.id}: ${p.stages.length} stages`);
    }
    let stagesChecked = 0;
    for (const [index, owned] of this.pipelines.entries()) {
      const p = live.get(owned.id);
      if (p === undefined) {
        lost.push(`pipeline ${owned.id} "${owned.labels.sent[0]}" is gone`);
        continue;
      }
      if (!allowed(owned.labels).includes(p.label))
        lost.push(
          `pipeline ${owned.id} is labelled "${p.label}", expected one of ${JSON.stringify(allowed(owned.labels))}`,
        );
      for (const dealStage of owned.dealStages)
        if (!p.stages.some((s) => s.id === dealStage))
          lost.push(`pipeline ${owned.id} lost its stage ${dealStage}`);
      for (const stage of owned.stages) {
        const found = p.stages.filter((s) => s.id === stage.id);
        stagesChecked++;
        if (stage.state === 'deleted' && found.length > 0)
          lost.push(`stage ${stage.id}: an acknowledged delete undone`);
        if (stage.state === 'live' && found.length !== 1)
          lost.push(`stage ${stage.id} "${stage.labels.sent[0]}": present ${found.length} times`);
        if (found.length === 1 && !allowed(stage.labels).includes(found[0]!.label))
          lost.push(
            `stage ${stage.id} is labelled "${found[0]!.label}", expected one of ${JSON.stringify(allowed(stage.labels))}`,
          );
      }
      // One pipeline audit entry per write: every acknowledged one, none twice, none invented.
      const audit = (
        await this.http.get<WireCollection<WireAudit>>(index % 2, `${PIPELINES}/${owned.id}/audit`)
      ).results;
      if (audit.length < owned.writesAcked || audit.length > owned.writesSent)
        broken.push(
          `pipeline ${owned.id}: ${audit.length} audit entries for ${owned.writesAcked} acknowledged and ${owned.writesSent} sent writes`,
        );
      const versions = audit.map((e) => (JSON.parse(e.rawObject) as { version?: number }).version);
      if (new Set(versions).size !== versions.length)
        broken.push(`pipeline ${owned.id}: audit versions repeat: ${versions.join(', ')}`);
      if (audit.filter((e) => e.action === 'CREATE').length !== 1)
        broken.push(`pipeline ${owned.id}: not one CREATE in its audit`);
    }

    // Deals: each acknowledged one exactly once, in a stage it was sent to last.
    const byName = new Map<string, Array<{ id: string; properties: Record<string, string | null> }>>();
    let after: string | undefined;
    do {
      const page = await this.http.get<{
        results: Array<{ id: string; properties: Record<string, string | null> }>;
        paging?: { next: { after: string } };
      }>(
        0,
        `${DEALS}?limit=100&properties=dealname,pipeline,dealstage${after === undefined ? '' : `&after=${after}`}`,
      );
      for (const d of page.results) {
        const name = d.properties.dealname ?? '';
        byName.set(name, [...(byName.get(name) ?? []), d]);
        const p = live.get(d.properties.pipeline ?? '');
        if (!p?.stages.some((s) => s.id === d.properties.dealstage))
          broken.push(
            `deal ${d.id} sits in pipeline ${d.properties.pipeline} stage ${d.properties.dealstage}, which does not exist`,
          );
      }
      after = page.paging?.next.after;
    } while (after !== undefined);
    for (const [name, found] of byName)
      if (found.length > 1) broken.push(`deal "${name}" exists ${found.length} times`);
    for (const deal of this.deals) {
      const found = byName.get(deal.name) ?? [];
      if (found.length !== 1 || found[0]!.id !== deal.id) {
        lost.push(`deal ${deal.id} "${deal.name}": found ${found.length} times`);
        continue;
      }
      if (!allowed(deal.stages).includes(found[0]!.properties.dealstage ?? ''))
        lost.push(
          `deal ${deal.id} is in stage ${found[0]!.properties.dealstage}, expected one of ${allowed(deal.stages).join(', ')}`,
        );
    }

    return {
      lost,
      broken,
      pipelines: this.pipelines.length,
      deals: this.deals.length,
      stages: stagesChecked,
    };
  }
}
