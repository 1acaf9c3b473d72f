import { afterEach, describe, expect, it, vi } from 'vitest';

import { Api, ApiError } from '../src/api.js';
import { OBJECT_TYPES } from '../src/model.js';
import type { CrmRecord } from '../src/model.js';

const deals = OBJECT_TYPES[0]!;
const record = (id: number): CrmRecord => ({
  id: String(id),
  properties: { dealname: `Deal ${id}` },
  createdAt: '2026-01-01T00:00:00.000Z',
  updatedAt: '2026-01-01T00:00:00.000Z',
});

interface Seen {
  url: string;
  init: RequestInit;
}

/** A server of 250 deals paged by 100, as the list endpoint pages them. */
function serveDeals(seen: Seen[]) {
  return vi.fn(async (url: string, init: RequestInit) => {
    seen.push({ url, init });
    const after = Number(new URL(url, 'http://board.test').searchParams.get('after') ?? 0);
    const ids = Array.from({ length: 250 }, (_, i) => i + 1)
      .filter((id) => id > after)
      .slice(0, 100);
    const last = ids.at(-1)!;
    const body = {
      results: ids.map(record),
      ...(last < 250 && { paging: { next: { after: String(last) } } }),
    };
    return new Response(JSON.stringify(body), { status: 200 });
  });
}

afterEach(() => vi.unstubAllGlobals());

describe('Api.records', () => {
  it('reads every page, with the token in the Authorization header only', async () => {
    const seen: Seen[] = [];
    vi.stubGlobal('fetch', serveDeals(seen));
    const pages: number[] = [];
    const all = await new Api('secret-token').records(deals, ['dealname'], (soFar) => {
      pages.push(soFar.length);
    });
    expect(all.map((r) => r.id)).toEqual(Array.from({ length: 250 }, (_, i) => String(i + 1)));
    expect(pages).toEqual([100, 200]);
    expect(seen.map((s) => s.url)).toEqual([
      '/crm/v3/objects/deals?limit=100&properties=dealname',
      '/crm/v3/objects/deals?limit=100&properties=dealname&after=100',
      '/crm/v3/objects/deals?limit=100&properties=dealname&after=200',
    ]);
    for (const s of seen) {
      expect(s.url).not.toContain('secret-token');
      expect((s.init.headers as Record<string, string>).authorization).toBe('Bearer secret-token');
    }
  });

  it('goes on from a page already read', async () => {
    const seen: Seen[] = [];
    vi.stubGlobal('fetch', serveDeals(seen));
    const api = new Api('t');
    const first = await api.recordPage(deals, ['dealname'], undefined);
    const all = await api.records(deals, ['dealname'], undefined, first);
    expect(all).toHaveLength(250);
    expect(seen).toHaveLength(3);
  });

  it('asks for nothing more when the page read was the last', async () => {
    const fetch = vi.fn();
    vi.stubGlobal('fetch', fetch);
    const all = await new Api('t').records(deals, ['dealname'], undefined, {
      records: [record(1)],
      after: undefined,
    });
    expect(all.map((r) => r.id)).toEqual(['1']);
    expect(fetch).not.toHaveBeenCalled();
  });
});

describe('Api.owners', () => {
  it('follows paging.next.after to the last page', async () => {
    const seen: Seen[] = [];
    const owner = (id: number) => ({ id: String(id), email: `o${id}@example.invalid` });
    vi.stubGlobal(
      'fetch',
      vi.fn(async (url: string, init: RequestInit) => {
        seen.push({ url, init });
        const after = Number(new URL(url, 'http://board.test').searchParams.get('after') ?? 0);
        const ids = Array.from({ length: 150 }, (_, i) => i + 1)
          .filter((id) => id > after)
          .slice(0, 100);
        const last = ids.at(-1)!;
        const body = {
          results: ids.map(owner),
          ...(last < 150 && { paging: { next: { after: String(last), link: 'ignored' } } }),
        };
        return new Response(JSON.stringify(body), { status: 200 });
      }),
    );
    const owners = await new Api('t').owners();
    expect(owners.map((o) => o.id)).toEqual(Array.from({ length: 150 }, (_, i) => String(i + 1)));
    expect(seen.map((s) => s.url)).toEqual([
      '/crm/v3/owners?limit=100',
      '/crm/v3/owners?limit=100&after=100',
    ]);
  });
});

describe('ApiError', () => {
  it("carries HubSpot's message, category and subCategory", async () => {
    const envelope = {
      status: 'error',
      message: 'Stage IDs: [7] are being referenced by object IDs: [42]',
      category: 'VALIDATION_ERROR',
      subCategory: 'PipelineError.STAGE_ID_IN_USE',
    };
    vi.stubGlobal(
      'fetch',
      vi.fn(async () => new Response(JSON.stringify(envelope), { status: 400 })),
    );
    const refused = new Api('t').archiveStage('deals', '1', '7');
    await expect(refused).rejects.toBeInstanceOf(ApiError);
    await expect(refused).rejects.toMatchObject({
      status: 400,
      message: envelope.message,
      category: 'VALIDATION_ERROR',
      subCategory: 'PipelineError.STAGE_ID_IN_USE',
    });
  });

  it('says what failed when the answer is not an envelope', async () => {
    vi.stubGlobal(
      'fetch',
      vi.fn(async () => new Response('bad gateway', { status: 502 })),
    );
    await expect(new Api('t').pipelines('deals')).rejects.toThrow(
      'GET /crm/v3/pipelines/deals failed with 502',
    );
  });
});
