/**
 * The property definitions of the read-only properties API (`/crm/v3/properties/{objectType}`),
 * in HubSpot's `Property` shape. The catalogue is data: a property is one entry in one of the
 * lists below. Enumerations whose options are the portal's pipelines, stages or owners get them
 * when read, and a per-stage family (`hs_date_entered_<stageId>`) is one entry expanded over every
 * live stage of the type. Pure: callers pass the live pipelines and the owners.
 */
import type { Pipeline } from './model.js';
import type { ObjectType } from './object-types.js';
import { sortByDisplayOrder } from './ordering.js';
import type { OwnerView } from './owners.js';
import { propertyNames } from './records.js';
import { hasCloseStamps } from './stage-properties.js';
import { formatTimestamp } from './time.js';

export type PropertyType = 'string' | 'number' | 'date' | 'datetime' | 'enumeration' | 'bool';
export type FieldType =
  'text' | 'textarea' | 'number' | 'date' | 'select' | 'radio' | 'checkbox' | 'booleancheckbox';

/** Where an enumeration's options come from. */
export type OptionSource =
  | { readonly from: 'pipelines' | 'stages' | 'owners' }
  | { readonly from: 'list'; readonly values: readonly (readonly [value: string, label: string])[] };

export interface PropertySpec {
  readonly name: string;
  readonly label: string;
  readonly description: string;
  readonly type: PropertyType;
  readonly fieldType: FieldType;
  readonly options?: OptionSource;
  /** Set by Stageline, never by a client (a write of it is refused by the objects API). */
  readonly readOnlyValue?: boolean;
  /** Derived from other properties. */
  readonly calculated?: boolean;
  readonly formField?: boolean;
  readonly showCurrencySymbol?: boolean;
  /** `OWNER` for owner properties, whose options are the portal's owners. */
  readonly referencedObjectType?: string;
}

/** One property per live stage, named `<prefix><stageId>`. */
export interface StagePropertyFamily extends Omit<PropertySpec, 'name' | 'label' | 'options'> {
  readonly prefix: string;
  /** The label, given the stage as HubSpot names it there: `<stage label> (<pipeline label>)`. */
  readonly label: (stage: string) => string;
}

export interface PropertyOption {
  label: string;
  value: string;
  displayOrder: number;
  hidden: boolean;
}

/** HubSpot's `Property`. */
export interface PropertyView {
  name: string;
  label: string;
  type: PropertyType;
  fieldType: FieldType;
  description: string;
  groupName: string;
  options: PropertyOption[];
  displayOrder: number;
  calculated: boolean;
  externalOptions: boolean;
  hasUniqueValue: boolean;
  hidden: boolean;
  hubspotDefined: boolean;
  formField: boolean;
  modificationMetadata: {
    archivable: boolean;
    readOnlyDefinition: boolean;
    readOnlyValue: boolean;
    readOnlyOptions?: boolean;
  };
  referencedObjectType?: string;
  showCurrencySymbol?: boolean;
  createdAt?: string;
  updatedAt?: string;
  archived: boolean;
}

/** HubSpot's `PropertyGroup`. */
export interface PropertyGroupView {
  name: string;
  label: string;
  displayOrder: number;
  archived: boolean;
}

// --- Entry builders -----------------------------------------------------------------------------

type Extra = Partial<Omit<PropertySpec, 'name' | 'label' | 'description' | 'type' | 'fieldType'>>;

const spec =
  (type: PropertyType, fieldType: FieldType) =>
  (name: string, label: string, description: string, extra: Extra = {}): PropertySpec => ({
    name,
    label,
    description,
    type,
    fieldType,
    ...extra,
  });

const text = spec('string', 'text');
const textarea = spec('string', 'textarea');
const number = spec('number', 'number');
const datetime = spec('datetime', 'date');
const bool = (name: string, label: string, description: string, extra: Extra = {}): PropertySpec =>
  spec('bool', 'booleancheckbox')(name, label, description, {
    options: {
      from: 'list',
      values: [
        ['true', 'True'],
        ['false', 'False'],
      ],
    },
    ...extra,
  });
const enumeration = (
  name: string,
  label: string,
  description: string,
  options: OptionSource,
  fieldType: FieldType = 'select',
): PropertySpec => spec('enumeration', fieldType)(name, label, description, { options });

const PIPELINES: OptionSource = { from: 'pipelines' };
const STAGES: OptionSource = { from: 'stages' };
const derived = { calculated: true, readOnlyValue: true } as const;

// --- The catalogue ------------------------------------------------------------------------------

interface TypeCatalogue {
  /** The group every property of the type is in. */
  readonly group: PropertyGroupView;
  /** What one record is called in descriptions. */
  readonly noun: string;
  /** The type's own properties; the system ones (dates, id, owner) are added for every type. */
  readonly properties: readonly PropertySpec[];
}

const group = (name: string, label: string): PropertyGroupView => ({
  name,
  label,
  displayOrder: 0,
  archived: false,
});

const lifecycleStage = (noun: string) =>
  enumeration(
    'lifecyclestage',
    'Lifecycle Stage',
    `Where the ${noun} stands in the lifecycle: a stage of the portal's lifecycle pipeline.`,
    STAGES,
    'radio',
  );

/** The types whose properties HubSpot names individually; every other type is `genericType`. */
const TYPES: Readonly<Record<string, TypeCatalogue>> = {
  deals: {
    group: group('dealinformation', 'Deal information'),
    noun: 'deal',
    properties: [
      text('dealname', 'Deal Name', 'The name of the deal.'),
      number('amount', 'Amount', 'The value of the deal.', { showCurrencySymbol: true }),
      datetime('closedate', 'Close Date', 'When the deal closed or is expected to close.'),
      enumeration('pipeline', 'Pipeline', 'The deal pipeline the deal is in.', PIPELINES),
      enumeration(
        'dealstage',
        'Deal Stage',
        'The stage of its pipeline the deal is in: its options are the stages of every deal pipeline.',
        STAGES,
        'radio',
      ),
    ],
  },
  tickets: {
    group: group('ticketinformation', 'Ticket information'),
    noun: 'ticket',
    properties: [
      text('subject', 'Ticket name', 'A short title of the ticket.'),
      textarea('content', 'Ticket description', 'What the ticket is about.'),
      enumeration('hs_pipeline', 'Pipeline', 'The ticket pipeline the ticket is in.', PIPELINES),
      enumeration(
        'hs_pipeline_stage',
        'Ticket status',
        'The stage of its pipeline the ticket is in: its options are the stages of every ticket pipeline.',
        STAGES,
      ),
      enumeration('hs_ticket_priority', 'Priority', 'How urgent the ticket is.', {
        from: 'list',
        values: [
          ['LOW', 'Low'],
          ['MEDIUM', 'Medium'],
          ['HIGH', 'High'],
          ['URGENT', 'Urgent'],
        ],
      }),
      enumeration(
        'hs_ticket_category',
        'Category',
        'What kind of request the ticket is.',
        {
          from: 'list',
          values: [
            ['PRODUCT_ISSUE', 'Product issue'],
            ['BILLING_ISSUE', 'Billing issue'],
            ['FEATURE_REQUEST', 'Feature request'],
            ['GENERAL_INQUIRY', 'General inquiry'],
          ],
        },
        'checkbox',
      ),
    ],
  },
  contacts: {
    group: group('contactinformation', 'Contact information'),
    noun: 'contact',
    properties: [
      text('email', 'Email', "The contact's email address.", { formField: true }),
      text('firstname', 'First Name', "The contact's first name.", { formField: true }),
      text('lastname', 'Last Name', "The contact's last name.", { formField: true }),
      lifecycleStage('contact'),
    ],
  },
  companies: {
    group: group('companyinformation', 'Company information'),
    noun: 'company',
    properties: [
      text('name', 'Company name', 'The name of the company.'),
      text('domain', 'Company Domain Name', "The company's web domain, such as example.com."),
      lifecycleStage('company'),
    ],
  },
};

/** Pipeline types without a catalogue of their own (orders, leads, …, custom objects). */
function genericType(type: ObjectType): TypeCatalogue {
  const names = propertyNames(type);
  const noun = type.name === 'custom' ? 'record' : type.singular;
  return {
    group: group(`${type.name === 'custom' ? 'custom' : noun}information`, 'Information'),
    noun,
    properties: [
      enumeration(names.pipeline ?? 'hs_pipeline', 'Pipeline', `The pipeline the ${noun} is in.`, PIPELINES),
      enumeration(names.stage, 'Pipeline stage', `The stage of its pipeline the ${noun} is in.`, STAGES),
    ],
  };
}

/** The properties Stageline keeps on every record of every type. */
function systemProperties(type: ObjectType, noun: string): PropertySpec[] {
  const names = propertyNames(type);
  return [
    datetime(names.created, 'Create Date', `When the ${noun} was created; set by Stageline.`, {
      readOnlyValue: true,
    }),
    datetime(
      names.modified,
      'Last Modified Date',
      `When any property of the ${noun} last changed; set by Stageline.`,
      { readOnlyValue: true },
    ),
    number('hs_object_id', 'Record ID', `The id of the ${noun}; set by Stageline.`, { readOnlyValue: true }),
    {
      ...enumeration(
        'hubspot_owner_id',
        `${noun[0]!.toUpperCase()}${noun.slice(1)} owner`,
        `The owner responsible for the ${noun}: an owner id of the owners API.`,
        { from: 'owners' },
      ),
      referencedObjectType: 'OWNER',
    },
  ];
}

const isType =
  (...names: string[]) =>
  (type: ObjectType): boolean =>
    names.includes(type.name);
const everyType = (): boolean => true;

/**
 * Properties derived from where a record sits, by the types that have them. One entry per
 * property: a derived property is added here once the objects API computes it.
 */
const DERIVED: readonly { readonly applies: (type: ObjectType) => boolean; readonly spec: PropertySpec }[] = [
  {
    applies: isType('deals'),
    spec: bool('hs_is_closed', 'Is Deal Closed?', "Whether the deal's stage is a closed one.", derived),
  },
  {
    applies: isType('tickets'),
    spec: bool('hs_is_closed', 'Is ticket closed?', "Whether the ticket's stage is a CLOSED one.", derived),
  },
  {
    applies: (type) => type.name !== 'tickets' && hasCloseStamps(type),
    spec: bool('hs_is_closed', 'Is closed', "Whether the record's stage is a CLOSED one.", derived),
  },
  {
    applies: isType('deals'),
    spec: bool(
      'hs_is_closed_lost',
      'Is Closed Lost',
      "Whether the deal's stage is closed with a probability below 1.0.",
      derived,
    ),
  },
  {
    applies: hasCloseStamps,
    spec: datetime('closed_date', 'Close date', 'When the record first entered a closed stage.', derived),
  },
  {
    applies: hasCloseStamps,
    spec: number(
      'time_to_close',
      'Time to close',
      'Milliseconds from the record’s creation to its close date.',
      derived,
    ),
  },
  {
    applies: isType('deals'),
    spec: bool(
      'hs_is_closed_won',
      'Is Closed Won',
      "Whether the deal's stage is closed with a probability of 1.0.",
      derived,
    ),
  },
  {
    applies: isType('deals'),
    spec: number(
      'hs_deal_stage_probability',
      'Deal Stage Probability',
      "The probability of the deal's stage, from 0.0 to 1.0.",
      derived,
    ),
  },
  {
    applies: everyType,
    spec: datetime(
      'hs_v2_date_entered_current_stage',
      'Date entered current stage',
      'When the record entered the stage it is in.',
      derived,
    ),
  },
  {
    applies: everyType,
    spec: datetime(
      'hs_v2_time_in_current_stage',
      'Time in current stage',
      'The instant the time in the current stage is counted from.',
      derived,
    ),
  },
];

/** Per-stage families, for every type with stages: one entry per family. */
const STAGE_FAMILIES: readonly StagePropertyFamily[] = [
  {
    prefix: 'hs_date_entered_',
    label: (stage) => `Date entered "${stage}"`,
    description: 'When the record last entered this stage.',
    type: 'datetime',
    fieldType: 'date',
    ...derived,
  },
  {
    prefix: 'hs_date_exited_',
    label: (stage) => `Date exited "${stage}"`,
    description: 'When the record last left this stage.',
    type: 'datetime',
    fieldType: 'date',
    ...derived,
  },
  {
    prefix: 'hs_v2_date_entered_',
    label: (stage) => `Date entered "${stage}"`,
    description: 'When the record last entered this stage.',
    type: 'datetime',
    fieldType: 'date',
    ...derived,
  },
  {
    prefix: 'hs_v2_date_exited_',
    label: (stage) => `Date exited "${stage}"`,
    description: 'When the record last left this stage.',
    type: 'datetime',
    fieldType: 'date',
    ...derived,
  },
  {
    prefix: 'hs_v2_latest_time_in_',
    label: (stage) => `Latest time in "${stage}"`,
    description: 'Milliseconds of the record’s latest visit to this stage.',
    type: 'number',
    fieldType: 'number',
    ...derived,
  },
  {
    prefix: 'hs_v2_cumulative_time_in_',
    label: (stage) => `Cumulative time in "${stage}"`,
    description: 'Milliseconds the record spent in this stage, all visits together.',
    type: 'number',
    fieldType: 'number',
    ...derived,
  },
];

// --- Reading it ---------------------------------------------------------------------------------

const catalogueOf = (type: ObjectType): TypeCatalogue => TYPES[type.name] ?? genericType(type);

/** The property groups of a type. */
export function propertyGroups(type: ObjectType): PropertyGroupView[] {
  return [{ ...catalogueOf(type).group }];
}

/** What the catalogue is read against: the portal's live pipelines of the type, and its owners. */
export interface CatalogueContext {
  readonly pipelines: readonly Pipeline[];
  readonly owners: readonly OwnerView[];
}

const option = (label: string, value: string, displayOrder: number): PropertyOption => ({
  label,
  value,
  displayOrder,
  hidden: false,
});

function optionsOf(source: OptionSource | undefined, context: CatalogueContext): PropertyOption[] {
  if (source === undefined) return [];
  switch (source.from) {
    case 'list':
      return source.values.map(([value, label], i) => option(label, value, i));
    case 'pipelines':
      return sortByDisplayOrder(context.pipelines).map((p) => option(p.label, p.id, p.displayOrder));
    case 'stages':
      // Every pipeline's stages, pipeline after pipeline, as HubSpot lists them.
      return sortByDisplayOrder(context.pipelines).flatMap((p) =>
        sortByDisplayOrder(p.stages).map((s) => option(s.label, s.id, s.displayOrder)),
      );
    case 'owners':
      return context.owners.map((o, i) => option(`${o.firstName} ${o.lastName}`, o.id, i));
  }
}

function view(
  s: PropertySpec,
  groupName: string,
  context: CatalogueContext,
  times?: { createdAt: number; updatedAt: number },
): PropertyView {
  const enumerated = s.type === 'enumeration' || s.type === 'bool';
  const live = s.options !== undefined && s.options.from !== 'list';
  const out: PropertyView = {
    name: s.name,
    label: s.label,
    type: s.type,
    fieldType: s.fieldType,
    description: s.description,
    groupName,
    options: optionsOf(s.options, context),
    displayOrder: -1,
    calculated: s.calculated ?? false,
    externalOptions: live,
    hasUniqueValue: false,
    hidden: false,
    hubspotDefined: true,
    formField: s.formField ?? false,
    // The definitions are Stageline's own: the properties API only reads them.
    modificationMetadata: {
      archivable: false,
      readOnlyDefinition: true,
      readOnlyValue: s.readOnlyValue ?? false,
      ...(enumerated && { readOnlyOptions: true }),
    },
    archived: false,
  };
  if (s.referencedObjectType !== undefined) out.referencedObjectType = s.referencedObjectType;
  if (s.showCurrencySymbol !== undefined) out.showCurrencySymbol = s.showCurrencySymbol;
  if (times !== undefined) {
    out.createdAt = formatTimestamp(times.createdAt);
    out.updatedAt = formatTimestamp(times.updatedAt);
  }
  return out;
}

/** Every property of the type, sorted by name. */
export function propertyCatalogue(type: ObjectType, context: CatalogueContext): PropertyView[] {
  const catalogue = catalogueOf(type);
  const groupName = catalogue.group.name;
  const fixed = [
    ...catalogue.properties,
    ...systemProperties(type, catalogue.noun),
    ...DERIVED.filter((d) => d.applies(type)).map((d) => d.spec),
  ].map((s) => view(s, groupName, context));
  const perStage = sortByDisplayOrder(context.pipelines).flatMap((pipeline) =>
    sortByDisplayOrder(pipeline.stages).flatMap((stage) =>
      STAGE_FAMILIES.map((family) => {
        const { prefix, label, ...rest } = family;
        const name = `${prefix}${stage.id}`;
        return view(
          { ...rest, name, label: label(`${stage.label} (${pipeline.label})`) },
          groupName,
          context,
          {
            createdAt: stage.createdAt,
            updatedAt: stage.updatedAt,
          },
        );
      }),
    ),
  );
  return [...fixed, ...perStage].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
