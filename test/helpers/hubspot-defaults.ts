// The default pipelines of a new portal (FIDELITY §4), as the tests expect them. This is the tests'
// own table, written out by hand on purpose: never derive it from src/, or the tests would check the
// code against itself.

type StageRow = readonly [string, string, string, string];
type TicketStageRow = readonly [string, string, string];

export const HUBSPOT_DEFAULTS = {
  /** createdAt and updatedAt of every default pipeline and stage: the epoch, without milliseconds. */
  timestamp: '1970-01-01T00:00:00Z',

  /** Deals: one pipeline, `default`. */
  deals: {
    id: 'default',
    label: 'Sales Pipeline',
    displayOrder: 0,
    /** In display order (0..6): [id, label, metadata.probability, metadata.isClosed]. */
    stages: [
      ['appointmentscheduled', 'Appointment Scheduled', '0.2', 'false'],
      ['qualifiedtobuy', 'Qualified To Buy', '0.4', 'false'],
      ['presentationscheduled', 'Presentation Scheduled', '0.6', 'false'],
      ['decisionmakerboughtin', 'Decision Maker Bought-In', '0.8', 'false'],
      ['contractsent', 'Contract Sent', '0.9', 'false'],
      ['closedwon', 'Closed Won', '1.0', 'true'],
      ['closedlost', 'Closed Lost', '0.0', 'true'],
    ] as readonly StageRow[],
  },

  /** Tickets: one pipeline, `0`. */
  tickets: {
    id: '0',
    label: 'Support Pipeline',
    /** In display order: [id, label, metadata.ticketState]; their metadata holds no isClosed. */
    stages: [
      ['1', 'New', 'OPEN'],
      ['2', 'Waiting on contact', 'OPEN'],
      ['3', 'Waiting on us', 'OPEN'],
      ['4', 'Closed', 'CLOSED'],
    ] as readonly TicketStageRow[],
  },

  /** Contacts and companies: one read-only lifecycle pipeline each. */
  lifecycle: {
    label: 'Lifecycle Stage Pipeline',
    ids: {
      contacts: 'contacts-lifecycle-pipeline',
      companies: 'companies-lifecycle-pipeline',
    },
    /**
     * Stage ids in display order. Each stage's metadata is `{isClosed, state}`; only `other` is
     * closed (`{isClosed: 'true', state: 'CLOSED'}`).
     */
    stageIds: [
      'subscriber',
      'lead',
      'marketingqualifiedlead',
      'salesqualifiedlead',
      'opportunity',
      'customer',
      'evangelist',
      'other',
    ] as readonly string[],
  },
} as const;

/** The properties a record read returns when the request names none, sorted. */
export const HUBSPOT_DEFAULT_PROPERTIES = {
  deals: [
    'amount',
    'closedate',
    'createdate',
    'dealname',
    'dealstage',
    'hs_lastmodifieddate',
    'hs_object_id',
    'pipeline',
  ],
  tickets: [
    'content',
    'createdate',
    'hs_lastmodifieddate',
    'hs_object_id',
    'hs_pipeline',
    'hs_pipeline_stage',
    'hs_ticket_category',
    'hs_ticket_priority',
    'subject',
  ],
} as const;
