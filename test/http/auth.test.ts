// Authentication and authorisation over HTTP: open mode (every bearer token is its own portal),
// tokens mode (issued tokens, revocation, per-object-type scopes) and tokens kept out of the logs.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import type { Stageline } from '../../src/stageline.js';
import type { WireAudit, WireCollection, WirePipeline } from '../helpers/wire-types.js';
import {
  BASE,
  MISSING_SCOPES_MESSAGE,
  assertError,
  assertUnauthenticated,
  buildStageline,
  call,
  createPipeline,
  dealPipeline,
  json,
  logSink,
  must,
  newToken,
  statePipeline,
  ticketPipeline,
} from './support.js';

describe('open mode', () => {
  let s: Stageline;
  before(async () => {
    s = await buildStageline({ auth: 'open' });
  });
  after(async () => {
    await s.close();
  });

  it('no Authorization header is a 401', async () => {
    for (const [method, path] of [
      ['GET', '/deals'],
      ['POST', '/deals'],
      ['GET', '/deals/default'],
      ['DELETE', '/deals/default'],
      ['GET', '/deals/default/stages/closedwon/audit'],
    ] as const) {
      assertUnauthenticated(await call(s, method, `${BASE}${path}`, { token: null }));
    }
  });

  it('a 401 comes before body and object-type validation', async () => {
    assertUnauthenticated(await call(s, 'POST', `${BASE}/nonsense`, { token: null, raw: '{' }));
  });

  it('non-Bearer or empty credentials are a 401', async () => {
    for (const authorization of [
      'Basic x',
      'Basic dXNlcjpwYXNz',
      'Bearer',
      'Bearer ',
      'Token abc',
      'abc',
      '',
    ]) {
      const res = await call(s, 'GET', `${BASE}/deals`, { token: null, headers: { authorization } });
      assertUnauthenticated(res);
    }
  });

  it('the Bearer scheme is case-insensitive', async () => {
    const res = await call(s, 'GET', `${BASE}/deals`, {
      token: null,
      headers: { authorization: `bearer ${newToken()}` },
    });
    assert.equal(res.statusCode, 200, res.body);
  });

  it('two tokens are two isolated portals', async () => {
    const a = newToken();
    const b = newToken();
    const p = await createPipeline(s, a, 'deals', dealPipeline('Only in A'));
    const stage = must(p.stages[0]);

    assert.equal((await call(s, 'GET', `${BASE}/deals/${p.id}`, { token: a })).statusCode, 200);
    assertError(await call(s, 'GET', `${BASE}/deals/${p.id}`, { token: b }), 404, 'OBJECT_NOT_FOUND');
    assertError(await call(s, 'GET', `${BASE}/deals/${p.id}/audit`, { token: b }), 404, 'OBJECT_NOT_FOUND');
    assertError(
      await call(s, 'GET', `${BASE}/deals/${p.id}/stages/${stage.id}`, { token: b }),
      404,
      'OBJECT_NOT_FOUND',
    );
    assertError(
      await call(s, 'GET', `${BASE}/deals/%7BpipelineId%7D/stages/${stage.id}/audit`, { token: b }),
      404,
      'OBJECT_NOT_FOUND',
    );
    assertError(
      await call(s, 'PATCH', `${BASE}/deals/${p.id}`, { token: b, body: { label: 'Hijacked' } }),
      404,
      'OBJECT_NOT_FOUND',
    );
    assertError(await call(s, 'DELETE', `${BASE}/deals/${p.id}`, { token: b }), 404, 'OBJECT_NOT_FOUND');

    const listA = json<WireCollection<WirePipeline>>(await call(s, 'GET', `${BASE}/deals`, { token: a }));
    const listB = json<WireCollection<WirePipeline>>(await call(s, 'GET', `${BASE}/deals`, { token: b }));
    assert.deepEqual(
      listA.results.map((x) => x.label),
      ['Sales Pipeline', 'Only in A'],
    );
    assert.deepEqual(
      listB.results.map((x) => x.id),
      ['default'],
    );

    // B's own default pipeline is untouched by A's changes and vice versa.
    const renamed = await call(s, 'PATCH', `${BASE}/deals/default`, { token: a, body: { label: 'A sales' } });
    assert.equal(renamed.statusCode, 200);
    const bDefault = json<WirePipeline>(await call(s, 'GET', `${BASE}/deals/default`, { token: b }));
    assert.equal(bDefault.label, 'Sales Pipeline');
    // The same label can live in both portals.
    await createPipeline(s, b, 'deals', dealPipeline('Only in A'));
  });

  it('a token keeps its portal across requests', async () => {
    const a = newToken();
    const b = newToken();
    const p = await createPipeline(s, a, 'deals', dealPipeline('Stable'));
    const patched = await call(s, 'PATCH', `${BASE}/deals/${p.id}`, {
      token: a,
      body: { label: 'Stable 2' },
    });
    assert.equal(patched.statusCode, 200);
    const audit = json<WireCollection<WireAudit>>(
      await call(s, 'GET', `${BASE}/deals/${p.id}/audit`, { token: a }),
    );
    assert.equal(audit.results.length, 2);
    const [update, create] = audit.results;
    assert.ok(update && create);
    assert.ok(Number.isInteger(create.portalId) && create.portalId > 0);
    assert.equal(update.portalId, create.portalId);
    assert.equal(update.fromUserId, create.fromUserId);
    assert.equal(create.identifier, `${create.portalId}:${p.id}`);

    const q = await createPipeline(s, b, 'deals', dealPipeline('Other portal'));
    const auditB = json<WireCollection<WireAudit>>(
      await call(s, 'GET', `${BASE}/deals/${q.id}/audit`, { token: b }),
    );
    assert.notEqual(must(auditB.results[0]).portalId, create.portalId);
  });
});

interface TypeCase {
  type: string;
  body: unknown;
  writeScopes: string[];
  readScope: string;
  canonicalWrite: string;
}

const TYPE_CASES: TypeCase[] = [
  {
    type: 'deals',
    body: dealPipeline('Scoped'),
    writeScopes: ['crm.schemas.deals.write'],
    readScope: 'crm.objects.deals.read',
    canonicalWrite: 'crm.schemas.deals.write',
  },
  {
    type: 'tickets',
    body: ticketPipeline('Scoped'),
    writeScopes: ['crm.schemas.tickets.write', 'tickets'],
    readScope: 'crm.objects.tickets.read',
    canonicalWrite: 'crm.schemas.tickets.write',
  },
  {
    type: 'orders',
    body: statePipeline('Scoped'),
    writeScopes: ['crm.schemas.orders.write', 'crm.pipelines.orders.write', 'e-commerce'],
    readScope: 'crm.objects.orders.read',
    canonicalWrite: 'crm.schemas.orders.write',
  },
  {
    type: '2-123',
    body: statePipeline('Scoped'),
    writeScopes: ['crm.schemas.custom.write'],
    readScope: 'crm.objects.custom.read',
    canonicalWrite: 'crm.schemas.custom.write',
  },
];

describe('tokens mode', () => {
  let s: Stageline;
  let portal = 100;
  const nextPortal = () => ++portal;

  before(async () => {
    s = await buildStageline({ auth: 'tokens' });
  });
  after(async () => {
    await s.close();
  });

  it('an unknown token is a 401', async () => {
    assertUnauthenticated(await call(s, 'GET', `${BASE}/deals`, { token: 'stl_not-a-real-token' }));
    assertUnauthenticated(await call(s, 'GET', `${BASE}/deals`, { token: newToken() }));
    assertUnauthenticated(await call(s, 'GET', `${BASE}/deals`, { token: null }));
  });

  it('an issued token works until it is revoked', async () => {
    const { token, record } = await s.auth.issueToken({ portalId: nextPortal() });
    assert.match(token, /^stl_/);
    assert.equal((await call(s, 'GET', `${BASE}/deals`, { token })).statusCode, 200);
    assert.equal(await s.auth.revokeToken(record.id), true);
    assertUnauthenticated(await call(s, 'GET', `${BASE}/deals`, { token }));
    assertUnauthenticated(await call(s, 'POST', `${BASE}/deals`, { token, body: dealPipeline('After') }));
  });

  it('revoking one token leaves another of the same portal working', async () => {
    const portalId = nextPortal();
    const one = await s.auth.issueToken({ portalId });
    const two = await s.auth.issueToken({ portalId });
    await createPipeline(s, one.token, 'deals', dealPipeline('Shared'));
    await s.auth.revokeToken(one.record.id);
    const list = json<WireCollection<WirePipeline>>(
      await call(s, 'GET', `${BASE}/deals`, { token: two.token }),
    );
    assert.ok(list.results.some((p) => p.label === 'Shared'));
  });

  it('tokens of one portal share data; tokens of another do not', async () => {
    const portalId = nextPortal();
    const one = await s.auth.issueToken({ portalId });
    const two = await s.auth.issueToken({ portalId });
    const other = await s.auth.issueToken({ portalId: nextPortal() });
    const p = await createPipeline(s, one.token, 'deals', dealPipeline('Portal data'));
    assert.equal((await call(s, 'GET', `${BASE}/deals/${p.id}`, { token: two.token })).statusCode, 200);
    assertError(
      await call(s, 'GET', `${BASE}/deals/${p.id}`, { token: other.token }),
      404,
      'OBJECT_NOT_FOUND',
    );
  });

  it('a token without a scope list can do everything', async () => {
    const { token } = await s.auth.issueToken({ portalId: nextPortal() });
    for (const c of TYPE_CASES) {
      const p = await createPipeline(s, token, c.type, c.body);
      assert.equal((await call(s, 'GET', `${BASE}/${c.type}`, { token })).statusCode, 200);
      assert.equal((await call(s, 'DELETE', `${BASE}/${c.type}/${p.id}`, { token })).statusCode, 204);
    }
  });

  for (const c of TYPE_CASES) {
    for (const scope of c.writeScopes) {
      it(`${c.type}: a token holding only ${scope} can create, read and delete`, async () => {
        const { token } = await s.auth.issueToken({ portalId: nextPortal(), scopes: [scope] });
        const p = await createPipeline(s, token, c.type, c.body);
        const list = json<WireCollection<WirePipeline>>(await call(s, 'GET', `${BASE}/${c.type}`, { token }));
        assert.ok(list.results.some((x) => x.id === p.id));
        assert.equal((await call(s, 'DELETE', `${BASE}/${c.type}/${p.id}`, { token })).statusCode, 204);
      });
    }

    it(`${c.type}: a token holding only ${c.readScope} can read but not write`, async () => {
      const { token } = await s.auth.issueToken({ portalId: nextPortal(), scopes: [c.readScope] });
      const list = await call(s, 'GET', `${BASE}/${c.type}`, { token });
      assert.equal(list.statusCode, 200, list.body);

      const res = await call(s, 'POST', `${BASE}/${c.type}`, { token, body: c.body });
      const err = assertError(res, 403, 'MISSING_SCOPES', MISSING_SCOPES_MESSAGE);
      const required = err.errors?.[0]?.context?.requiredGranularScopes;
      assert.ok(Array.isArray(required) && required.length > 0, res.body);
      assert.ok(required.includes(c.canonicalWrite), `${c.canonicalWrite} not in ${required.join(', ')}`);
      for (const scope of c.writeScopes)
        assert.ok(required.includes(scope), `${scope} not in ${required.join()}`);
      assert.ok(!required.includes(c.readScope));
      assert.equal(res.headers['x-hubspot-auth-failure'], undefined);

      // Nothing was created.
      const after = json<WireCollection<WirePipeline>>(await call(s, 'GET', `${BASE}/${c.type}`, { token }));
      assert.ok(!after.results.some((p) => p.label === 'Scoped'));
    });
  }

  it('a read-only token gets 403 on every write operation, even with an invalid body', async () => {
    const { token } = await s.auth.issueToken({ portalId: nextPortal(), scopes: ['crm.objects.deals.read'] });
    const writes: Array<[string, string, unknown]> = [
      ['POST', '/deals', { nonsense: true }],
      ['PUT', '/deals/default', dealPipeline('X')],
      ['PATCH', '/deals/default', { label: 'X' }],
      ['DELETE', '/deals/default', undefined],
      ['POST', '/deals/default/stages', {}],
      ['PUT', '/deals/default/stages/closedwon', {}],
      ['PATCH', '/deals/default/stages/closedwon', { label: 'X' }],
      ['DELETE', '/deals/default/stages/closedwon', undefined],
    ];
    for (const [method, path, body] of writes) {
      assertError(await call(s, method as 'GET', `${BASE}${path}`, { token, body }), 403, 'MISSING_SCOPES');
    }
    for (const path of ['/deals', '/deals/default', '/deals/default/stages', '/deals/default/audit']) {
      assert.equal((await call(s, 'GET', `${BASE}${path}`, { token })).statusCode, 200, path);
    }
    assert.equal(
      (await call(s, 'GET', `${BASE}/deals/%7BpipelineId%7D/stages/closedwon/audit`, { token })).statusCode,
      200,
    );
  });

  it('a deals-only token gets 403 on tickets', async () => {
    const { token } = await s.auth.issueToken({
      portalId: nextPortal(),
      scopes: ['crm.schemas.deals.write', 'crm.objects.deals.read'],
    });
    assert.equal((await call(s, 'GET', `${BASE}/deals`, { token })).statusCode, 200);
    const read = assertError(await call(s, 'GET', `${BASE}/tickets`, { token }), 403, 'MISSING_SCOPES');
    const readScopes = must(read.errors?.[0]?.context?.requiredGranularScopes);
    assert.ok(readScopes.includes('crm.objects.tickets.read'), readScopes.join());
    assertError(await call(s, 'GET', `${BASE}/0-5/0`, { token }), 403, 'MISSING_SCOPES');
    assertError(
      await call(s, 'POST', `${BASE}/tickets`, { token, body: ticketPipeline('Nope') }),
      403,
      'MISSING_SCOPES',
    );
    assertError(await call(s, 'GET', `${BASE}/orders`, { token }), 403, 'MISSING_SCOPES');
    assertError(await call(s, 'GET', `${BASE}/2-123`, { token }), 403, 'MISSING_SCOPES');
  });

  it('a custom-object scope covers every custom type but no standard one', async () => {
    const { token } = await s.auth.issueToken({
      portalId: nextPortal(),
      scopes: ['crm.schemas.custom.write'],
    });
    await createPipeline(s, token, '2-999', statePipeline('Custom A'));
    await createPipeline(s, token, '2-1000', statePipeline('Custom B'));
    assertError(await call(s, 'GET', `${BASE}/deals`, { token }), 403, 'MISSING_SCOPES');
  });

  it('audit entries carry the token’s portal and user', async () => {
    const portalId = nextPortal();
    const { token } = await s.auth.issueToken({ portalId, userId: 4242 });
    const other = await s.auth.issueToken({ portalId, userId: 77 });
    const p = await createPipeline(s, token, 'deals', dealPipeline('Audited'));
    const patched = await call(s, 'PATCH', `${BASE}/deals/${p.id}`, {
      token: other.token,
      body: { label: 'Audited 2' },
    });
    assert.equal(patched.statusCode, 200);
    const audit = json<WireCollection<WireAudit>>(
      await call(s, 'GET', `${BASE}/deals/${p.id}/audit`, { token }),
    );
    assert.deepEqual(
      audit.results.map((e) => [e.action, e.fromUserId, e.portalId, e.identifier]),
      [
        ['UPDATE', 77, portalId, `${portalId}:${p.id}`],
        ['CREATE', 4242, portalId, `${portalId}:${p.id}`],
      ],
    );
    const stage = must(p.stages[0]);
    const stageAudit = json<WireCollection<WireAudit>>(
      await call(s, 'GET', `${BASE}/deals/${p.id}/stages/${stage.id}/audit`, { token }),
    );
    assert.equal(must(stageAudit.results[0]).fromUserId, 4242);
  });

  it('the default user id is an integer', async () => {
    const { token, record } = await s.auth.issueToken({ portalId: nextPortal() });
    const p = await createPipeline(s, token, 'deals', dealPipeline('Default user'));
    const audit = json<WireCollection<WireAudit>>(
      await call(s, 'GET', `${BASE}/deals/${p.id}/audit`, { token }),
    );
    assert.equal(must(audit.results[0]).fromUserId, record.userId);
    assert.ok(Number.isInteger(record.userId));
  });
});

describe('tokens stay out of the logs', () => {
  async function exercise(s: Stageline, tokens: string[]): Promise<void> {
    for (const token of tokens) {
      const p = await createPipeline(s, token, 'deals', dealPipeline('Logged'));
      await call(s, 'GET', `${BASE}/deals`, { token });
      await call(s, 'GET', `${BASE}/deals/nope`, { token });
      await call(s, 'PATCH', `${BASE}/deals/${p.id}`, { token, body: { archived: true } });
      await call(s, 'POST', `${BASE}/deals`, { token, raw: '{broken' });
      await call(s, 'POST', `${BASE}/x`, { token, body: {} });
      await call(s, 'DELETE', `${BASE}/deals`, { token });
      await call(s, 'GET', `${BASE}/deals`, { token: null, headers: { authorization: `Basic ${token}` } });
      await call(s, 'GET', `${BASE}/deals`, { token: `${token}-wrong` });
      await call(s, 'GET', `${BASE}/deals`, {
        token: null,
        headers: { authorization: `Bearer  ${token}  ` },
      });
    }
  }

  function assertClean(lines: string[], secrets: string[]): void {
    // Requests were logged (the sink works), yet no secret appears anywhere.
    assert.ok(lines.length >= 10, `only ${lines.length} log lines captured`);
    assert.ok(
      lines.some((l) => l.includes('/crm/v3/pipelines/deals')),
      'request urls are not in the logs',
    );
    for (const secret of secrets) {
      const leaked = lines.filter((l) => l.includes(secret));
      assert.deepEqual(leaked, [], `token leaked into ${leaked.length} log line(s)`);
    }
  }

  it('tokens mode, with the production logger at trace level', async () => {
    const sink = logSink();
    const s = await buildStageline({ auth: 'tokens', logLevel: 'trace' }, { logStream: sink.stream });
    try {
      const a = await s.auth.issueToken({ portalId: 5, scopes: ['crm.schemas.deals.write'] });
      const b = await s.auth.issueToken({ portalId: 6, scopes: ['crm.objects.tickets.read'] });
      await exercise(s, [a.token]);
      await call(s, 'POST', `${BASE}/deals`, { token: b.token, body: dealPipeline('Denied') });
      await call(s, 'GET', `${BASE}/tickets`, { token: b.token });
      await s.auth.revokeToken(a.record.id);
      await call(s, 'GET', `${BASE}/deals`, { token: a.token });
      await s.close();
      assertClean(sink.lines, [a.token, b.token, a.record.hash, b.record.hash]);
    } finally {
      await s.close();
    }
  });

  it('open mode, with a plain info logger', async () => {
    const sink = logSink();
    const s = await buildStageline({ auth: 'open', logLevel: 'info' }, { logStream: sink.stream });
    try {
      const tokens = [newToken(), `pat-na1-${newToken()}`];
      await exercise(s, tokens);
      await s.close();
      assertClean(sink.lines, tokens);
    } finally {
      await s.close();
    }
  });
});
