// --max-portals on PostgreSQL, with processes sharing the database: new tokens' first writes
// arriving together in two processes create exactly the limit's number of portals, not one more.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { loadConfig } from '../../src/config.js';
import { createStageline } from '../../src/stageline.js';
import type { Stageline } from '../../src/stageline.js';
import { call, newToken } from '../http/support.js';
import { freshPostgresUrl, postgresSkipReason } from '../helpers/postgres.js';

const skip = await postgresSkipReason();
const LIMIT = 4;
const TOKENS_PER_PROCESS = 8;

describe('--max-portals shared by processes on one PostgreSQL database', { skip }, () => {
  const servers: Stageline[] = [];
  before(async () => {
    const url = freshPostgresUrl();
    for (let i = 0; i < 2; i++) {
      servers.push(
        await createStageline(
          loadConfig(
            { database: url, auth: 'open', logLevel: 'silent', rateLimit: 'off', maxPortals: LIMIT },
            {},
          ),
        ),
      );
    }
  });
  after(() => Promise.all(servers.map((s) => s.close())));

  it(`lets exactly ${LIMIT} of ${2 * TOKENS_PER_PROCESS} new tokens writing at once create a portal`, async () => {
    const answers = await Promise.all(
      servers.flatMap((s) =>
        Array.from({ length: TOKENS_PER_PROCESS }, () =>
          call(s, 'POST', '/crm/v3/objects/contacts', { token: newToken(), body: { properties: {} } }),
        ),
      ),
    );
    const statuses = answers.map((a) => a.statusCode).sort();
    assert.deepEqual(statuses, [
      ...Array<number>(LIMIT).fill(201),
      ...Array<number>(2 * TOKENS_PER_PROCESS - LIMIT).fill(403),
    ]);
    assert.equal(await servers[0]!.store.read((repo) => repo.countPortals()), LIMIT);
  });
});
