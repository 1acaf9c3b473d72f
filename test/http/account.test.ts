// The calls clients make before the CRM ones: account details, owners, and what a token is
// (`/oauth/v2/private-apps/get/access-token-info`, `/oauth/v1/access-tokens/{token}`), in open
// and tokens mode, with their scopes and errors, and no token ever in the access log.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import type { Stageline } from '../../src/stageline.js';
import type { WireCollection } from '../helpers/wire-types.js';
import {
  ISO_UTC,
  assertError,
  assertMissingScopes,
  assertUnauthenticated,
  buildStageline,
  call,
  json,
  logSink,
  must,
  newToken,
} from './support.js';

interface WireOwner {
  id: string;
  email: string;
  type: string;
  firstName: string;
  lastName: string;
  userId: number;
  userIdIncludingInactive: number;
  createdAt: string;
  updatedAt: string;
  archived: boolean;
  teams: unknown[];
}

interface WireOwnerPage extends WireCollection<WireOwner> {
  paging?: { next: { after: string } };
}

interface WireDetails {
  portalId: number;
  accountType: string;
  timeZone: string;
  companyCurrency: string;
  additionalCurrencies: string[];
  utcOffset: string;
  utcOffsetMilliseconds: number;
  uiDomain: string;
  dataHostingLocation: string;
}

interface PrivateAppInfo {
  userId: number;
  hubId: number;
  appId: number;
  scopes: string[];
}

interface AccessTokenInfo {
  token: string;
  user: string;
  hub_id: number;
  user_id: number;
  app_id: number;
  scopes: string[];
  token_type: string;
  expires_in: number;
}

const DETAILS = '/account-info/v3/details';
const OWNERS = '/crm/v3/owners';
const PRIVATE_APP_INFO = '/oauth/v2/private-apps/get/access-token-info';
const ACCESS_TOKENS = '/oauth/v1/access-tokens';

const privateAppInfo = async (s: Stageline, tokenKey: string) => {
  const res = await call(s, 'POST', PRIVATE_APP_INFO, { token: null, body: { tokenKey } });
  assert.equal(res.statusCode, 200, res.body);
  return json<PrivateAppInfo>(res);
};

describe('open mode', () => {
  let s: Stageline;
  before(async () => {
    s = await buildStageline({ auth: 'open' });
  });
  after(async () => {
    await s.close();
  });

  const owners = async (token: string, query?: Record<string, string>) => {
    const res = await call(s, 'GET', OWNERS, { token, query });
    assert.equal(res.statusCode, 200, res.body);
    return json<WireOwnerPage>(res);
  };

  it("account details describe the token's portal in HubSpot's shape", async () => {
    const token = newToken();
    const res = await call(s, 'GET', DETAILS, { token, headers: { host: 'stageline.test:8080' } });
    assert.equal(res.statusCode, 200, res.body);
    const details = json<WireDetails>(res);
    assert.deepEqual(details, {
      portalId: (await privateAppInfo(s, token)).hubId,
      accountType: 'STANDARD',
      timeZone: 'UTC',
      companyCurrency: 'USD',
      additionalCurrencies: [],
      utcOffset: '+00:00',
      utcOffsetMilliseconds: 0,
      uiDomain: 'stageline.test:8080',
      dataHostingLocation: 'na1',
    });
    const other = json<WireDetails>(await call(s, 'GET', DETAILS, { token: newToken() }));
    assert.notEqual(other.portalId, details.portalId, 'each open-mode token is its own portal');
  });

  it('account details and owners need a bearer token', async () => {
    assertUnauthenticated(await call(s, 'GET', DETAILS, { token: null }));
    assertUnauthenticated(await call(s, 'GET', OWNERS, { token: null }));
    assertUnauthenticated(await call(s, 'GET', `${OWNERS}/1`, { token: null }));
  });

  it("lists the token's user as an owner whose id is not the user id", async () => {
    const token = newToken();
    const info = await privateAppInfo(s, token);
    const page = await owners(token);
    assert.equal(page.paging, undefined);
    assert.equal(page.results.length, 1);
    const owner = must(page.results[0]);
    assert.match(owner.id, /^[1-9][0-9]*$/);
    assert.notEqual(owner.id, String(info.userId));
    assert.equal(owner.userId, info.userId);
    assert.equal(owner.userIdIncludingInactive, info.userId);
    assert.equal(owner.type, 'PERSON');
    assert.equal(owner.archived, false);
    assert.deepEqual(owner.teams, []);
    assert.match(owner.email, /^[^@\s]+@[^@\s]+\.invalid$/);
    assert.equal(typeof owner.firstName, 'string');
    assert.equal(typeof owner.lastName, 'string');
    assert.match(owner.createdAt, ISO_UTC);
    assert.match(owner.updatedAt, ISO_UTC);
    // Stable across requests, and specific to the portal.
    assert.deepEqual((await owners(token)).results, page.results);
    assert.notEqual(must((await owners(newToken())).results[0]).id, owner.id);
  });

  it('gets the owner by owner id, or by user id with idProperty=userId', async () => {
    const token = newToken();
    const owner = must((await owners(token)).results[0]);
    const byId = await call(s, 'GET', `${OWNERS}/${owner.id}`, { token });
    assert.equal(byId.statusCode, 200, byId.body);
    assert.deepEqual(json<WireOwner>(byId), owner);
    const byUser = await call(s, 'GET', `${OWNERS}/${owner.userId}`, {
      token,
      query: { idProperty: 'userId', archived: 'false' },
    });
    assert.equal(byUser.statusCode, 200, byUser.body);
    assert.deepEqual(json<WireOwner>(byUser), owner);

    // The user id is not an owner id, and the owner id is not a user id.
    assertError(await call(s, 'GET', `${OWNERS}/${owner.userId}`, { token }), 404, 'OBJECT_NOT_FOUND');
    assertError(
      await call(s, 'GET', `${OWNERS}/${owner.id}`, { token, query: { idProperty: 'userId' } }),
      404,
      'OBJECT_NOT_FOUND',
    );
    // Another portal's owner is not this portal's.
    const stranger = must((await owners(newToken())).results[0]);
    assertError(await call(s, 'GET', `${OWNERS}/${stranger.id}`, { token }), 404, 'OBJECT_NOT_FOUND');
    assertError(
      await call(s, 'GET', `${OWNERS}/${owner.id}`, { token, query: { archived: 'true' } }),
      404,
      'OBJECT_NOT_FOUND',
    );
    assertError(
      await call(s, 'GET', `${OWNERS}/${owner.id}`, { token, query: { idProperty: 'email' } }),
      400,
      'VALIDATION_ERROR',
    );
  });

  it('filters owners by email, archived and paging', async () => {
    const token = newToken();
    const owner = must((await owners(token)).results[0]);
    assert.deepEqual((await owners(token, { email: owner.email })).results, [owner]);
    assert.deepEqual((await owners(token, { email: 'nobody@example.com' })).results, []);
    assert.deepEqual((await owners(token, { archived: 'true' })).results, []);
    assert.deepEqual((await owners(token, { limit: '1' })).results, [owner]);
    assert.deepEqual((await owners(token, { after: '1' })).results, []);
    const invalid: Record<string, string>[] = [
      { limit: '0' },
      { limit: '501' },
      { after: 'x' },
      { archived: 'maybe' },
    ];
    for (const query of invalid) {
      assertError(await call(s, 'GET', OWNERS, { token, query }), 400, 'VALIDATION_ERROR');
    }
  });

  it('an owner id works as hubspot_owner_id on records, in reads and in search', async () => {
    const token = newToken();
    const owner = must((await owners(token)).results[0]);
    const created = await call(s, 'POST', '/crm/v3/objects/deals', {
      token,
      body: { properties: { dealname: 'Owned', hubspot_owner_id: owner.id } },
    });
    assert.equal(created.statusCode, 201, created.body);
    const { id } = json<{ id: string }>(created);
    const read = await call(s, 'GET', `/crm/v3/objects/deals/${id}`, {
      token,
      query: { properties: 'hubspot_owner_id' },
    });
    assert.equal(json<{ properties: Record<string, string> }>(read).properties.hubspot_owner_id, owner.id);
    const found = await call(s, 'POST', '/crm/v3/objects/deals/search', {
      token,
      body: {
        filterGroups: [{ filters: [{ propertyName: 'hubspot_owner_id', operator: 'EQ', value: owner.id }] }],
      },
    });
    assert.deepEqual(
      json<{ results: { id: string }[] }>(found).results.map((r) => r.id),
      [id],
    );
  });

  it('token info: any token is its own portal with every scope, no Authorization needed', async () => {
    const token = newToken();
    const info = await privateAppInfo(s, token);
    assert.deepEqual(Object.keys(info).sort(), ['appId', 'hubId', 'scopes', 'userId']);
    assert.ok(Number.isInteger(info.hubId) && info.hubId > 0);
    assert.ok(Number.isInteger(info.userId) && info.userId > 0);
    assert.ok(Number.isInteger(info.appId) && info.appId > 0);
    assert.deepEqual(info.scopes, [...info.scopes].sort());
    for (const scope of [
      'oauth',
      'crm.objects.owners.read',
      'crm.schemas.deals.read',
      'crm.schemas.deals.write',
      'crm.objects.deals.write',
      'tickets',
      'e-commerce',
      'crm.schemas.custom.write',
    ]) {
      assert.ok(info.scopes.includes(scope), `${scope} is among ${info.scopes.join(', ')}`);
    }
    // The same portal the token reaches as a bearer.
    const details = json<WireDetails>(await call(s, 'GET', DETAILS, { token }));
    assert.equal(info.hubId, details.portalId);
    assert.deepEqual(await privateAppInfo(s, token), info, 'stable');

    const res = await call(s, 'GET', `${ACCESS_TOKENS}/${encodeURIComponent(token)}`, { token: null });
    assert.equal(res.statusCode, 200, res.body);
    const v1 = json<AccessTokenInfo>(res);
    assert.deepEqual(v1, {
      token,
      user: must(must((await owners(token)).results[0]).email),
      hub_id: info.hubId,
      user_id: info.userId,
      app_id: info.appId,
      scopes: info.scopes,
      token_type: 'access',
      expires_in: 2_147_483_647,
    });
  });

  it('token info refuses a malformed request', async () => {
    for (const body of [{}, { tokenKey: '' }, { tokenKey: null }, { token: 'x' }]) {
      assertError(await call(s, 'POST', PRIVATE_APP_INFO, { token: null, body }), 400, 'VALIDATION_ERROR');
    }
    assertError(await call(s, 'POST', PRIVATE_APP_INFO, { token: null, raw: '{' }), 400, 'VALIDATION_ERROR');
    assertError(await call(s, 'GET', `${ACCESS_TOKENS}/`, { token: null }), 404, 'OBJECT_NOT_FOUND');
  });
});

describe('tokens mode', () => {
  let s: Stageline;
  before(async () => {
    s = await buildStageline({ auth: 'tokens' });
  });
  after(async () => {
    await s.close();
  });

  it('token info reports the stored token: portal, user and scopes', async () => {
    const scopes = ['crm.schemas.deals.read', 'tickets', 'crm.objects.deals.write'];
    const { token } = await s.auth.issueToken({ portalId: 4242, userId: 77, scopes });
    const info = await privateAppInfo(s, token);
    assert.equal(info.hubId, 4242);
    assert.equal(info.userId, 77);
    assert.deepEqual(info.scopes, [...scopes].sort());
    const v1 = json<AccessTokenInfo>(await call(s, 'GET', `${ACCESS_TOKENS}/${token}`, { token: null }));
    assert.equal(v1.hub_id, 4242);
    assert.equal(v1.user_id, 77);
    assert.equal(v1.app_id, info.appId);
    assert.deepEqual(v1.scopes, info.scopes);

    // Two tokens are two apps; a token without scopes holds all of them.
    const { token: all } = await s.auth.issueToken({ portalId: 4242, userId: 77 });
    const allInfo = await privateAppInfo(s, all);
    assert.notEqual(allInfo.appId, info.appId);
    assert.ok(allInfo.scopes.length > 40, `every scope: ${allInfo.scopes.length}`);
    assert.ok(scopes.every((x) => allInfo.scopes.includes(x)));
  });

  it('an unknown or revoked token is a 401 on both token-info routes', async () => {
    const issued = await s.auth.issueToken({ portalId: 4343 });
    await s.auth.revokeToken(issued.record.id);
    for (const token of ['stl_unknown', issued.token]) {
      assertUnauthenticated(
        await call(s, 'POST', PRIVATE_APP_INFO, { token: null, body: { tokenKey: token } }),
      );
      assertUnauthenticated(await call(s, 'GET', `${ACCESS_TOKENS}/${token}`, { token: null }));
    }
  });

  it('account details need the oauth scope, owners crm.objects.owners.read', async () => {
    const { token: none } = await s.auth.issueToken({ portalId: 4444, scopes: ['crm.schemas.deals.read'] });
    assertMissingScopes(await call(s, 'GET', DETAILS, { token: none }), ['oauth']);
    assertMissingScopes(await call(s, 'GET', OWNERS, { token: none }), ['crm.objects.owners.read']);
    assertMissingScopes(await call(s, 'GET', `${OWNERS}/1`, { token: none }), ['crm.objects.owners.read']);

    const { token } = await s.auth.issueToken({
      portalId: 4444,
      userId: 9,
      scopes: ['oauth', 'crm.objects.owners.read'],
    });
    const details = await call(s, 'GET', DETAILS, { token });
    assert.equal(details.statusCode, 200, details.body);
    assert.equal(json<WireDetails>(details).portalId, 4444);
    const page = await call(s, 'GET', OWNERS, { token });
    assert.equal(page.statusCode, 200, page.body);
    assert.equal(must(json<WireOwnerPage>(page).results[0]).userId, 9);
  });
});

describe('the access log', () => {
  it('never holds a token sent to the token-info routes, whatever the answer', async () => {
    const sink = logSink();
    const s = await buildStageline({ auth: 'tokens', logLevel: 'info' }, { logStream: sink.stream });
    try {
      const { token } = await s.auth.issueToken({ portalId: 4545 });
      const secrets = [token, 'stl_not-a-stored-token', 'secret%2Fwith%2Fslash'];
      const answers = [
        await call(s, 'GET', `${ACCESS_TOKENS}/${token}`, { token: null }),
        await call(s, 'GET', `${ACCESS_TOKENS}/${token}?x=1`, { token: null }),
        await call(s, 'GET', `${ACCESS_TOKENS}/${secrets[1]}`, { token: null }),
        await call(s, 'GET', `${ACCESS_TOKENS}/${secrets[2]}`, { token: null }),
        // No route: a longer path, another method, another letter case.
        await call(s, 'GET', `${ACCESS_TOKENS}/${token}/extra`, { token: null }),
        await call(s, 'DELETE', `${ACCESS_TOKENS}/${token}`, { token: null }),
        await call(s, 'GET', `/OAUTH/V1/ACCESS-TOKENS/${token}`, { token: null }),
        await call(s, 'POST', PRIVATE_APP_INFO, { token: null, body: { tokenKey: token } }),
        await call(s, 'POST', PRIVATE_APP_INFO, { token: null, body: { tokenKey: secrets[1] } }),
      ];
      assert.deepEqual(
        answers.map((r) => r.statusCode),
        [200, 200, 401, 401, 404, 405, 404, 200, 401],
      );
      await s.close();
      const log = sink.lines.join('\n');
      for (const secret of [...secrets, 'secret/with/slash']) {
        assert.ok(!log.includes(secret), `a token reached the log: ${secret}`);
      }
      const lines = sink.lines.map((l) => JSON.parse(l) as { path?: string; portalId?: number });
      const paths = lines.map((l) => l.path).filter((p) => p !== undefined);
      assert.equal(paths.length, answers.length, 'one access line per request');
      assert.deepEqual(paths.slice(0, 4), Array(4).fill(`${ACCESS_TOKENS}/[redacted]`));
      assert.equal(paths[4], `${ACCESS_TOKENS}/[redacted]/extra`);
      assert.equal(paths[6], '/OAUTH/V1/ACCESS-TOKENS/[redacted]');
      // A known token's line names its portal, like any authenticated request's.
      assert.equal(lines[0]?.portalId, 4545);
    } finally {
      await s.close();
    }
  });
});
