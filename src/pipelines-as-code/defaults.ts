/** What the commands assume when not told: kept apart so the CLI loads the SDK only when used. */
export const DEFAULT_URL = 'https://api.hubapi.com';
export const DEFAULT_TYPES = ['deals', 'tickets'] as const;
