/** The ids a portal generates, and the ids its records can have. */

/** First generated id of every portal: HubSpot's generated ids are long numeric strings. */
export const FIRST_GENERATED_ID = 100_000_001;

/** Decimal, no sign, no leading zero, at most 16 digits: the stores keep record ids as integers. */
export const RECORD_ID_SOURCE = '[1-9][0-9]{0,15}';
const RECORD_ID = new RegExp(`^${RECORD_ID_SOURCE}$`);

/** Whether `id` can name a record; no record has an id that fails this. */
export function isRecordId(id: string): boolean {
  return RECORD_ID.test(id);
}
