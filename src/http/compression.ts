import { promisify } from 'node:util';
import { constants, gzip } from 'node:zlib';

const gzipAsync = promisify(gzip);

/**
 * Answers of this many characters or more go out gzip-compressed to clients that accept it,
 * as HubSpot's do. The official SDK asks for gzip. Smaller answers are not worth the work.
 */
export const COMPRESS_FROM_CHARS = 64 * 1024;

/** A serialized answer, and once a client has asked for it, its compressed form. */
export interface Answer {
  readonly body: string;
  gzipped?: Promise<Buffer>;
}

/** Compressed in the thread pool, at the fastest level: JSON this repetitive still shrinks ~10x. */
export function gzipped(answer: Answer): Promise<Buffer> {
  answer.gzipped ??= gzipAsync(answer.body, { level: constants.Z_BEST_SPEED }).catch((err: unknown) => {
    answer.gzipped = undefined; // the next request tries again
    throw err;
  });
  return answer.gzipped;
}

/** Whether an Accept-Encoding header admits gzip (an explicit `gzip;q=0` refuses it). */
export function acceptsGzip(header: string | undefined): boolean {
  if (header === undefined) return false;
  let anyCoding = false;
  for (const part of header.split(',')) {
    const [name = '', ...params] = part.split(';');
    const coding = name.trim().toLowerCase();
    const q = params.map((p) => p.trim().toLowerCase()).find((p) => p.startsWith('q='));
    const accepted = q === undefined || Number(q.slice(2)) > 0;
    if (coding === 'gzip' || coding === 'x-gzip') return accepted;
    if (coding === '*') anyCoding = accepted;
  }
  return anyCoding;
}
