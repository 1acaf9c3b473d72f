/** HubSpot's timestamp form: ISO-8601 UTC, milliseconds only when non-zero. */
export function formatTimestamp(epochMs: number): string {
  const iso = new Date(epochMs).toISOString();
  return iso.endsWith('.000Z') ? `${iso.slice(0, -5)}Z` : iso;
}

/** The source of "now" for the domain; tests pass a fixed one. */
export type Clock = () => number;
