/** The text as a regular expression source that matches it literally (route paths, here). */
export const escapeRegExp = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
