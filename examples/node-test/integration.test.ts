import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

import { Client } from '@hubspot/api-client';
import { startStageline } from 'stageline';
import type { PortalControl, RunningStageline } from 'stageline';

const seed = fileURLToPath(new URL('../pipelines.yaml', import.meta.url));
const token = 'node-test-portal'; // every token is its own portal

describe('my integration, with node:test', () => {
  let stageline: RunningStageline;
  let portal: PortalControl;
  let hubspot: Client;

  before(async () => {
    stageline = await startStageline({ seed });
    portal = stageline.portal(token);
    hubspot = new Client({ accessToken: token, basePath: stageline.url, numberOfApiCallRetries: 3 });
  });
  beforeEach(async () => {
    await portal.reset(); // back to the seed: records, audit and generated ids too
    await portal.faults.clear();
    await portal.clearRequests();
    await portal.clock.system();
  });
  after(() => stageline.close());

  it('starts from the seed file', async () => {
    const { results } = await hubspot.crm.pipelines.pipelinesApi.getAll('deals');
    assert.deepEqual(
      results.map((p) => p.id),
      ['sales'],
    );
  });

  it('seeds what one test needs', async () => {
    await portal.seed({
      objectTypes: {
        tickets: {
          pipelines: [
            {
              id: 'support',
              label: 'Support',
              displayOrder: 0,
              stages: [
                { id: 'open', label: 'Open', displayOrder: 0, metadata: { ticketState: 'OPEN' } },
                { id: 'done', label: 'Done', displayOrder: 1, metadata: { ticketState: 'CLOSED' } },
              ],
            },
          ],
        },
      },
    });
    const ticket = await hubspot.crm.tickets.basicApi.create({
      properties: { subject: 'Help', hs_pipeline_stage: 'open' },
      associations: [],
    });
    assert.equal(ticket.properties.hs_pipeline, 'support');
  });

  it('snapshots and restores', async () => {
    const saved = await portal.snapshot();
    await hubspot.crm.pipelines.pipelinesApi.archive('deals', 'sales');
    await portal.restore(saved);
    assert.equal((await hubspot.crm.pipelines.pipelinesApi.getById('deals', 'sales')).label, 'Sales');
  });

  it('freezes and advances the clock', async () => {
    await portal.clock.freeze('2030-01-01T09:00:00Z');
    const deal = await hubspot.crm.deals.basicApi.create({
      properties: { dealname: 'Timed', dealstage: 'qualified' },
      associations: [],
    });
    await portal.clock.advance(60 * 60 * 1000);
    await hubspot.crm.deals.basicApi.update(deal.id, { properties: { dealstage: 'won' } });
    const won = await hubspot.crm.deals.basicApi.getById(deal.id, ['hs_date_entered_won']);
    assert.equal(won.properties.hs_date_entered_won, '2030-01-01T10:00:00.000Z');
  });

  it('makes HubSpot fail, and the SDK retries', async () => {
    await portal.faults.add({ path: '/crm/v3/pipelines/deals', status: 429, policyName: 'SECONDLY' });
    await portal.faults.add({ path: '/crm/v3/pipelines/deals', status: 502 });
    const { results } = await hubspot.crm.pipelines.pipelinesApi.getAll('deals');
    assert.equal(results.length, 1);
    const calls = await portal.requests({ path: '/crm/v3/pipelines/deals' });
    assert.deepEqual(
      calls.map((c) => c.status),
      [200, 502, 429],
    );
  });

  it('checks what the code sent', async () => {
    await hubspot.crm.deals.basicApi.create({ properties: { dealname: 'Sent', dealstage: 'won' } });
    const [sent] = await portal.requests({ method: 'POST', path: '/crm/v3/objects/deals' });
    assert.deepEqual(sent?.body, { properties: { dealname: 'Sent', dealstage: 'won' } });
    assert.equal(sent?.status, 201);
  });
});
