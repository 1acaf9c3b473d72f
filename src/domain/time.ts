/** Recently formatted timestamps: the same createdAt/updatedAt values are formatted again and again. */
const formatted = new Map<number, string>();
const MAX_FORMATTED = 4096;

/** HubSpot's timestamp form: ISO-8601 UTC, milliseconds only when non-zero. */
export function formatTimestamp(epochMs: number): string {
  let text = formatted.get(epochMs);
  if (text === undefined) {
    const iso = new Date(epochMs).toISOString();
    text = iso.endsWith('.000Z') ? `${iso.slice(0, -5)}Z` : iso;
    if (formatted.size >= MAX_FORMATTED) formatted.clear();
    formatted.set(epochMs, text);
  }
  return text;
}

/**
 * The source of "now" for the domain, per portal: each portal's clock can be frozen through the
 * control plane. Tests pass a fixed one.
 */
export type Clock = (portalId: number) => number;
