// The storage contract on PostgreSQL, plus what only a shared database has to prove.

import { describe, it } from 'node:test';

import { DEFAULTS } from '../../src/config.js';
import { openStore } from '../../src/stageline.js';
import { freshPostgresUrl, postgresSkipReason } from '../helpers/postgres.js';
import { runRepositoryContract } from './repository-contract.js';

const skip = await postgresSkipReason();

if (skip === undefined) {
  runRepositoryContract('PostgresStore', () => openStore(freshPostgresUrl(), DEFAULTS));
} else {
  describe('PostgresStore', () => it('passes the storage contract', { skip }, () => undefined));
}
