// Run under `stageline exec --seed examples/pipelines.yaml -- npx jest`: exec starts the server
// and sets STAGELINE_URL, which connectStageline() reads.
import { beforeEach, describe, expect, it } from '@jest/globals';
import { Client } from '@hubspot/api-client';
import { connectStageline } from 'stageline/testing';

const token = 'jest-portal'; // every token is its own portal
const portal = connectStageline().portal(token);
const hubspot = new Client({
  accessToken: token,
  basePath: process.env.STAGELINE_URL,
  numberOfApiCallRetries: 3,
});

describe('my integration, with Jest', () => {
  beforeEach(async () => {
    await portal.reset(); // back to the seed: records, audit and generated ids too
    await portal.faults.clear();
    await portal.clearRequests();
    await portal.clock.system();
  });

  it('starts from the seed file', async () => {
    const { results } = await hubspot.crm.pipelines.pipelinesApi.getAll('deals');
    expect(results.map((p) => p.id)).toEqual(['sales']);
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
    expect(ticket.properties.hs_pipeline).toBe('support');
  });

  it('snapshots and restores', async () => {
    const saved = await portal.snapshot();
    await hubspot.crm.pipelines.pipelinesApi.archive('deals', 'sales');
    await portal.restore(saved);
    expect((await hubspot.crm.pipelines.pipelinesApi.getById('deals', 'sales')).label).toBe('Sales');
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
    expect(won.properties.hs_date_entered_won).toBe('2030-01-01T10:00:00.000Z');
  });

  it('makes HubSpot fail, and the SDK retries', async () => {
    await portal.faults.add({ path: '/crm/v3/pipelines/deals', status: 429, policyName: 'SECONDLY' });
    await portal.faults.add({ path: '/crm/v3/pipelines/deals', status: 502 });
    const { results } = await hubspot.crm.pipelines.pipelinesApi.getAll('deals');
    expect(results).toHaveLength(1);
    const calls = await portal.requests({ path: '/crm/v3/pipelines/deals' });
    expect(calls.map((c) => c.status)).toEqual([200, 502, 429]);
  });

  it('checks what the code sent', async () => {
    await hubspot.crm.deals.basicApi.create({ properties: { dealname: 'Sent', dealstage: 'won' } });
    const [sent] = await portal.requests({ method: 'POST', path: '/crm/v3/objects/deals' });
    expect(sent).toMatchObject({ status: 201, body: { properties: { dealname: 'Sent', dealstage: 'won' } } });
  });
});
