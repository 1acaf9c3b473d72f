import { describe, expect, it } from 'vitest';

import {
  EMPTY_FAULT,
  NO_FILTER,
  describeFault,
  faultFromDraft,
  journalQuery,
  snapshotFileName,
} from '../src/emulator.js';

describe('journalQuery', () => {
  it('asks only for the newest entries when nothing is filtered', () => {
    expect(journalQuery(NO_FILTER)).toBe('limit=50');
    expect(journalQuery(NO_FILTER, 10)).toBe('limit=10');
  });

  it('sends the method upper-cased, the path with its slash and a complete status', () => {
    const query = new URLSearchParams(journalQuery({ method: 'post', path: 'crm/v3/owners', status: '201' }));
    expect(Object.fromEntries(query)).toEqual({
      method: 'POST',
      path: '/crm/v3/owners',
      status: '201',
      limit: '50',
    });
  });

  it('leaves out a status still being typed or out of range', () => {
    for (const status of ['2', '20', '600', '099', 'abc', '2011'])
      expect(new URLSearchParams(journalQuery({ ...NO_FILTER, status })).has('status')).toBe(false);
  });

  it('encodes what a path holds', () => {
    expect(journalQuery({ ...NO_FILTER, path: '/crm/v3/objects/deals/*' })).toBe(
      'path=%2Fcrm%2Fv3%2Fobjects%2Fdeals%2F*&limit=50',
    );
  });
});

describe('faultFromDraft', () => {
  it('turns a complete draft into a fault', () => {
    expect(
      faultFromDraft({
        method: 'post',
        path: ' /crm/v3/pipelines/deals ',
        status: '503',
        times: '2',
        delayMs: '',
      }),
    ).toEqual({ spec: { method: 'POST', path: '/crm/v3/pipelines/deals', status: 503, times: 2 } });
  });

  it('reads an empty times as every request until removed, and any method when none is chosen', () => {
    expect(faultFromDraft({ ...EMPTY_FAULT, path: '/crm', times: '' })).toEqual({
      spec: { path: '/crm', status: 503, times: null },
    });
  });

  it('takes a delay alone, for a slow but successful answer', () => {
    expect(faultFromDraft({ ...EMPTY_FAULT, path: '/crm', status: '', delayMs: '1500' })).toEqual({
      spec: { path: '/crm', delayMs: 1500, times: 1 },
    });
  });

  it('refuses what the control plane would refuse, saying why', () => {
    const error = (draft: Partial<typeof EMPTY_FAULT>) => {
      const made = faultFromDraft({ ...EMPTY_FAULT, path: '/crm', ...draft });
      return 'error' in made ? made.error : undefined;
    };
    expect(error({ path: 'crm' })).toBe('The path must start with /');
    expect(error({ method: 'TRACE' })).toBe('Unknown method TRACE');
    expect(error({ status: '199' })).toMatch(/^The status must be/);
    expect(error({ status: '5o3' })).toMatch(/^The status must be/);
    expect(error({ status: '' })).toBe('Give a status, or a delay alone for a slow answer');
    expect(error({ delayMs: '120001' })).toMatch(/^The delay must be/);
    expect(error({ times: '0' })).toBe('Times must be a whole number from 1');
    expect(error({ times: '1.5' })).toBe('Times must be a whole number from 1');
  });
});

describe('describeFault', () => {
  it('says what, where and how many times', () => {
    const base = { id: '3', path: '/crm/v3/pipelines/deals', applied: 0 };
    expect(describeFault({ ...base, method: 'POST', status: 503, remaining: 2 })).toBe(
      '503 on POST /crm/v3/pipelines/deals, 2 left',
    );
    expect(describeFault({ ...base, status: 429, delayMs: 200, remaining: null })).toBe(
      '429 after 200 ms on any method /crm/v3/pipelines/deals, until removed',
    );
  });
});

describe('snapshotFileName', () => {
  it('names the portal and the time, without colons', () => {
    expect(snapshotFileName(42, new Date('2026-12-02T08:01:02.345Z'))).toBe(
      'stageline-portal-42-2026-12-02T08-01-02Z.json',
    );
    expect(snapshotFileName(undefined, new Date('2026-12-02T08:01:02Z'))).toBe(
      'stageline-portal-unknown-2026-12-02T08-01-02Z.json',
    );
  });
});
