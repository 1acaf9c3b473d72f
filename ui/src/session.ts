/**
 * What the board keeps between reloads of the tab, in sessionStorage only (gone when the tab
 * closes): the token, and the last pipeline picked per type.
 */
const TOKEN = 'stageline.token';

function storage(): Storage | undefined {
  try {
    return window.sessionStorage;
  } catch {
    return undefined;
  }
}

export const loadToken = (): string | undefined => storage()?.getItem(TOKEN) ?? undefined;
export const saveToken = (token: string): void => storage()?.setItem(TOKEN, token);
export const clearToken = (): void => storage()?.removeItem(TOKEN);

export const loadChoice = (key: string): string | undefined =>
  storage()?.getItem(`stageline.choice.${key}`) ?? undefined;
export const saveChoice = (key: string, value: string): void =>
  storage()?.setItem(`stageline.choice.${key}`, value);

/** Ids of pipelines or stages this tab archived: the API lists only live ones. */
export function loadArchived(key: string): string[] {
  const raw = storage()?.getItem(`stageline.archived.${key}`);
  if (raw === null || raw === undefined) return [];
  try {
    const parsed: unknown = JSON.parse(raw);
    return Array.isArray(parsed) ? parsed.filter((x): x is string => typeof x === 'string') : [];
  } catch {
    return [];
  }
}

export function rememberArchived(key: string, id: string, archived: boolean): void {
  const ids = new Set(loadArchived(key));
  if (archived) ids.add(id);
  else ids.delete(id);
  storage()?.setItem(`stageline.archived.${key}`, JSON.stringify([...ids]));
}
