/** The pipelines every new portal starts with (FIDELITY.md section 4). Created at epoch 0. */
import { normalizeMetadata } from './metadata.js';
import type { Pipeline, Stage } from './model.js';
import { STANDARD_TYPES } from './object-types.js';
import type { ObjectType } from './object-types.js';

type StageSeed = [id: string, label: string, metadata: Record<string, string>];

function seed(type: ObjectType, id: string, label: string, stages: StageSeed[]): Pipeline {
  return {
    id,
    label,
    displayOrder: 0,
    createdAt: 0,
    updatedAt: 0,
    archivedAt: null,
    stages: stages.map(([stageId, stageLabel, metadata], index): Stage => ({
      id: stageId,
      label: stageLabel,
      displayOrder: index,
      metadata: normalizeMetadata(type.rules, metadata),
      writePermissions: 'CRM_PERMISSIONS_ENFORCEMENT',
      createdAt: 0,
      updatedAt: 0,
      archivedAt: null,
    })),
  };
}

const LIFECYCLE: StageSeed[] = [
  ['subscriber', 'Subscriber', { state: 'OPEN' }],
  ['lead', 'Lead', { state: 'OPEN' }],
  ['marketingqualifiedlead', 'Marketing Qualified Lead', { state: 'OPEN' }],
  ['salesqualifiedlead', 'Sales Qualified Lead', { state: 'OPEN' }],
  ['opportunity', 'Opportunity', { state: 'OPEN' }],
  ['customer', 'Customer', { state: 'OPEN' }],
  ['evangelist', 'Evangelist', { state: 'OPEN' }],
  ['other', 'Other', { state: 'CLOSED' }],
];

const byName = (name: string): ObjectType => STANDARD_TYPES.find((t) => t.name === name)!;

export interface DefaultPipeline {
  readonly type: ObjectType;
  readonly pipeline: Pipeline;
}

export const DEFAULT_PIPELINES: readonly DefaultPipeline[] = [
  {
    type: byName('deals'),
    pipeline: seed(byName('deals'), 'default', 'Sales Pipeline', [
      ['appointmentscheduled', 'Appointment Scheduled', { probability: '0.2' }],
      ['qualifiedtobuy', 'Qualified To Buy', { probability: '0.4' }],
      ['presentationscheduled', 'Presentation Scheduled', { probability: '0.6' }],
      ['decisionmakerboughtin', 'Decision Maker Bought-In', { probability: '0.8' }],
      ['contractsent', 'Contract Sent', { probability: '0.9' }],
      ['closedwon', 'Closed Won', { probability: '1.0' }],
      ['closedlost', 'Closed Lost', { probability: '0.0' }],
    ]),
  },
  {
    type: byName('tickets'),
    pipeline: seed(byName('tickets'), '0', 'Support Pipeline', [
      ['1', 'New', { ticketState: 'OPEN' }],
      ['2', 'Waiting on contact', { ticketState: 'OPEN' }],
      ['3', 'Waiting on us', { ticketState: 'OPEN' }],
      ['4', 'Closed', { ticketState: 'CLOSED' }],
    ]),
  },
  {
    type: byName('contacts'),
    pipeline: seed(byName('contacts'), 'contacts-lifecycle-pipeline', 'Lifecycle Stage Pipeline', LIFECYCLE),
  },
  {
    type: byName('companies'),
    pipeline: seed(
      byName('companies'),
      'companies-lifecycle-pipeline',
      'Lifecycle Stage Pipeline',
      LIFECYCLE,
    ),
  },
];
