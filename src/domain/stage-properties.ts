/**
 * The record properties HubSpot derives from a record's pipeline stage: the stage-calculated
 * properties (`hs_v2_*`, stamped when a record enters or leaves a stage), the closing stamps
 * (`closedate`, `closed_date`, `time_to_close`) and the deal state read from the current stage's
 * metadata (`hs_is_closed`, `hs_is_closed_won`, `hs_deal_stage_probability`). Pure: callers pass
 * `now` and what they know of the stage.
 *
 * Units and formats are HubSpot's: dates are ISO-8601 strings with milliseconds, times are whole
 * milliseconds, flags are "true"/"false" (README, "Records in pipelines", lists the sources).
 */
import type { Metadata } from './metadata.js';
import type { ObjectType, StageRules } from './object-types.js';

/** What the record rules need to know of a stage, read from its metadata as stored. */
export interface StageFacts {
  readonly closed: boolean;
  /** Deal stages only: the win probability, 0 to 1. */
  readonly probability?: number;
}

/**
 * A stage's facts. Deals: `isClosed` as stored (a sent value is kept even when it disagrees with
 * the probability); tickets: `ticketState`; other types: `state`. `isClosed` stands in where the
 * state key is missing.
 */
export function stageFacts(rules: StageRules, metadata: Metadata): StageFacts {
  switch (rules) {
    case 'deal': {
      const probability = Number(metadata.probability);
      const closed = metadata.isClosed === 'true';
      return Number.isFinite(probability) && metadata.probability !== undefined
        ? { closed, probability }
        : { closed };
    }
    case 'ticket':
      return {
        closed:
          metadata.ticketState === undefined
            ? metadata.isClosed === 'true'
            : metadata.ticketState === 'CLOSED',
      };
    case 'state':
      return {
        closed: metadata.state === undefined ? metadata.isClosed === 'true' : metadata.state === 'CLOSED',
      };
  }
}

export const enteredProperty = (stageId: string): string => `hs_date_entered_${stageId}`;
export const exitedProperty = (stageId: string): string => `hs_date_exited_${stageId}`;
export const v2EnteredProperty = (stageId: string): string => `hs_v2_date_entered_${stageId}`;
export const v2ExitedProperty = (stageId: string): string => `hs_v2_date_exited_${stageId}`;
export const latestTimeProperty = (stageId: string): string => `hs_v2_latest_time_in_${stageId}`;
export const cumulativeTimeProperty = (stageId: string): string => `hs_v2_cumulative_time_in_${stageId}`;

export const CURRENT_STAGE_ENTERED = 'hs_v2_date_entered_current_stage';
export const TIME_IN_CURRENT_STAGE = 'hs_v2_time_in_current_stage';

/** Names no client may write: the stage stamps and everything computed from the stage. */
export const DERIVED_PROPERTY =
  /^(hs_date_(entered|exited)_.+|hs_v2_(date_entered|date_exited|latest_time_in|cumulative_time_in)_.+|hs_v2_time_in_current_stage|hs_is_closed|hs_is_closed_won|hs_is_closed_lost|hs_deal_stage_probability|time_to_close)$/;

/** Property values as HubSpot stores them: strings, with ms-precision ISO timestamps. */
export const propertyTimestamp = (epochMs: number): string => new Date(epochMs).toISOString();

/**
 * Stamps a move from `from` (null for a new record) to `to` at `now`, in place. Leaving a stage
 * records its exit, the length of that visit (`latest`) and adds it to the stage's total
 * (`cumulative`); entering one records the entry. The `hs_date_exited_` stamp of the entered stage
 * is cleared (its visit is open again); the `hs_v2_` exit stamp keeps the last exit, which the
 * latest-time property still describes.
 */
export function stampStageMove(
  properties: Record<string, string>,
  from: string | null,
  to: string,
  now: number,
): void {
  const stamp = propertyTimestamp(now);
  if (from !== null) {
    const since = properties[v2EnteredProperty(from)] ?? properties[enteredProperty(from)];
    const enteredAt = since === undefined ? NaN : Date.parse(since);
    properties[exitedProperty(from)] = stamp;
    properties[v2ExitedProperty(from)] = stamp;
    if (Number.isFinite(enteredAt)) {
      const visit = Math.max(0, now - enteredAt);
      const before = Number(properties[cumulativeTimeProperty(from)] ?? '0');
      properties[latestTimeProperty(from)] = String(visit);
      properties[cumulativeTimeProperty(from)] = String((Number.isFinite(before) ? before : 0) + visit);
    }
  }
  properties[enteredProperty(to)] = stamp;
  properties[v2EnteredProperty(to)] = stamp;
  delete properties[exitedProperty(to)];
}

/**
 * Whether the type has HubSpot's close stamps (`closed_date`, `time_to_close`) and `hs_is_closed`:
 * tickets, and every other type whose stages are open or closed by `state` (orders, leads, …,
 * custom objects). Deals have their own (`closedate`); contacts and companies, whose lifecycle
 * stages are not a process that closes, have none.
 */
export const hasCloseStamps = (type: ObjectType): boolean =>
  type.rules === 'ticket' || (type.rules === 'state' && !type.readOnly);

/**
 * A record entering a closed stage gets its close date when it has none: deals `closedate`;
 * tickets and the other pipeline types `closed_date` and `time_to_close` (ms from creation).
 */
export function stampClosing(
  type: ObjectType,
  properties: Record<string, string>,
  createdAt: number,
  now: number,
): void {
  if (type.rules === 'deal') {
    properties.closedate ??= propertyTimestamp(now);
  } else if (hasCloseStamps(type) && properties.closed_date === undefined) {
    properties.closed_date = propertyTimestamp(now);
    properties.time_to_close = String(Math.max(0, now - createdAt));
  }
}

/** The shortest decimal of a probability, as HubSpot returns `hs_deal_stage_probability` ("1", "0.2"). */
const probabilityText = (p: number): string => String(p);

/**
 * The properties computed when a record is read, from its stored stamps and what is known of
 * its current stage now (a stage's metadata may change after the record entered it).
 */
export function currentStageProperties(
  type: ObjectType,
  stageId: string | null,
  properties: Readonly<Record<string, string>>,
  facts: StageFacts | undefined,
): Record<string, string> {
  const out: Record<string, string> = {};
  if (stageId !== null) {
    const entered = properties[v2EnteredProperty(stageId)] ?? properties[enteredProperty(stageId)];
    if (entered !== undefined) {
      out[CURRENT_STAGE_ENTERED] = entered;
      // HubSpot returns this "time since" property as the instant the time is counted from.
      out[TIME_IN_CURRENT_STAGE] = entered;
    }
  }
  if (facts === undefined) return out;
  if (type.rules === 'deal' || hasCloseStamps(type)) out.hs_is_closed = String(facts.closed);
  if (type.rules === 'deal') {
    const won = facts.closed && facts.probability === 1;
    out.hs_is_closed_won = String(won);
    out.hs_is_closed_lost = String(facts.closed && !won);
    if (facts.probability !== undefined) out.hs_deal_stage_probability = probabilityText(facts.probability);
  }
  return out;
}
