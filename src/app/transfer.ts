/**
 * Moving data between backends: a portal's (or every portal's) pipelines, stages, records, their
 * associations, audit trail and tokens (hashes only), loaded back unchanged: same ids, order,
 * timestamps and audit history.
 *
 * The file format (version 2) is JSON Lines, one JSON object per line, each line one of:
 *
 *   {"format":"stageline-export","version":2,"exportedAt":"<ISO time>"}   the first line
 *   {"portal":{"id","nextId","createdAt"},"counts":{"pipelines","records","associations","audit","tokens"}}
 *   {"pipeline":{"objectTypeKey","pipeline"}}   a pipeline with all its stages, archived ones included
 *   {"record":{"objectTypeKey","record"}}
 *   {"association":{…RecordAssociation}}
 *   {"audit":{…AuditEntry}}                      oldest first
 *   {"token":{…TokenRecord}}                     the hash, never a secret
 *   {"end":{"portals","lines"}}                  the last line: portals written, lines before it
 *
 * The items of a portal follow its portal line, kind by kind in that order, as many of each kind
 * as its counts say; the end line comes last. An import checks all of it, so a file cut short
 * anywhere (the end line or a portal's items missing, a line cut in half) is refused, and as the
 * import is one transaction, nothing of it is loaded.
 *
 * Version 1 was the same data as one JSON document ({format, version: 1, exportedAt, portals}); it
 * still imports, parsed whole, so its size is bound by memory (and V8's longest string).
 */
import { createReadStream } from 'node:fs';
import { open, readFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import type { Writable } from 'node:stream';

import type { RecordAssociation } from '../domain/associations.js';
import type { AuditEntry, Pipeline } from '../domain/model.js';
import type { PortalRecord, Repository, Store, TokenRecord } from '../domain/ports.js';
import type { CrmRecord } from '../domain/records.js';

export const EXPORT_FORMAT = 'stageline-export';
/** The version of the one-document format. */
export const DOCUMENT_VERSION = 1;
/** The version of the line format, the one `stageline export` writes. */
export const LINES_VERSION = 2;

export interface PortalExport extends PortalRecord {
  pipelines: { objectTypeKey: string; pipeline: Pipeline }[];
  records: { objectTypeKey: string; record: CrmRecord }[];
  /** Absent in exports made before associations were kept: none. */
  associations?: RecordAssociation[];
  /** Oldest first. */
  audit: AuditEntry[];
  tokens: TokenRecord[];
}

/** A version 1 export: the whole data set as one document, in memory. */
export interface ExportDocument {
  format: typeof EXPORT_FORMAT;
  version: typeof DOCUMENT_VERSION;
  exportedAt: string;
  portals: PortalExport[];
}

/** How many items of each kind follow a portal's line. */
export interface ItemCounts {
  pipelines: number;
  records: number;
  associations: number;
  audit: number;
  tokens: number;
}

/** The item kinds, in the order they follow their portal line. */
const KINDS = ['pipeline', 'record', 'association', 'audit', 'token'] as const;
type Kind = (typeof KINDS)[number];
const COUNTED: Readonly<Record<Kind, keyof ItemCounts>> = {
  pipeline: 'pipelines',
  record: 'records',
  association: 'associations',
  audit: 'audit',
  token: 'tokens',
};

export type ExportHeader = {
  format: typeof EXPORT_FORMAT;
  version: typeof LINES_VERSION;
  exportedAt: string;
};
export type ExportLine =
  | { portal: PortalRecord; counts: ItemCounts }
  | { pipeline: { objectTypeKey: string; pipeline: Pipeline } }
  | { record: { objectTypeKey: string; record: CrmRecord } }
  | { association: RecordAssociation }
  | { audit: AuditEntry }
  | { token: TokenRecord }
  | { end: { portals: number; lines: number } };

/** Rows per read of the export: what it holds of a portal at a time. */
export const EXPORT_PAGE = 1_000;

/**
 * A portal's lines (or every portal's), its line then its items, read a page at a time. Run it
 * inside one snapshot, so that the counts and the items agree.
 */
async function* portalLines(repo: Repository, portalId?: number): AsyncGenerator<ExportLine> {
  const all = await repo.listPortals();
  const chosen = portalId === undefined ? all : all.filter((p) => p.id === portalId);
  if (portalId !== undefined && chosen.length === 0) throw new Error(`Portal ${portalId} does not exist`);
  const tokens = await repo.listTokens();
  for (const portal of chosen) {
    const pipelines = await repo.portalPipelines(portal.id);
    const own = tokens.filter((t) => t.portalId === portal.id);
    const counts = await repo.portalCounts(portal.id);
    yield {
      portal: { id: portal.id, nextId: portal.nextId, createdAt: portal.createdAt },
      counts: { pipelines: pipelines.length, ...counts, tokens: own.length },
    };
    for (const pipeline of pipelines) yield { pipeline };
    for (let after: { objectTypeKey: string; id: string } | undefined; ;) {
      const page = await repo.portalRecordsPage(portal.id, after, EXPORT_PAGE);
      for (const record of page) yield { record };
      if (page.length < EXPORT_PAGE) break;
      const last = page.at(-1)!;
      after = { objectTypeKey: last.objectTypeKey, id: last.record.id };
    }
    for (let after: RecordAssociation | undefined; ;) {
      const page = await repo.portalAssociationsPage(portal.id, after, EXPORT_PAGE);
      for (const association of page) yield { association };
      if (page.length < EXPORT_PAGE) break;
      after = page.at(-1);
    }
    for (let afterSeq = 0; ;) {
      const page = await repo.portalAuditPage(portal.id, afterSeq, EXPORT_PAGE);
      for (const { entry } of page) yield { audit: entry };
      if (page.length < EXPORT_PAGE) break;
      afterSeq = page.at(-1)!.seq;
    }
    for (const token of own) yield { token };
  }
}

/** What an export hands its output at a time, in characters (and about as many bytes). */
const OUTPUT_CHUNK = 64 * 1024;

/** Resolves once `out` has room again; rejects if it fails or closes first. */
function drained(out: Writable): Promise<void> {
  return new Promise((resolve, reject) => {
    const settle = (err?: unknown) => {
      out.off('drain', onDrain).off('error', onError).off('close', onClose);
      if (err === undefined) resolve();
      else reject(err instanceof Error ? err : new Error(String(err)));
    };
    const onDrain = () => settle();
    const onError = (err: unknown) => settle(err);
    const onClose = () => settle(new Error('The output closed before the export was written'));
    out.on('drain', onDrain).on('error', onError).on('close', onClose);
  });
}

/**
 * Writes the export in the line format to `out`, a line at a time, waiting whenever `out` asks
 * to (so memory holds about a page of rows, whatever the database's size). The portals are read
 * in one snapshot of the store, run once, so the output is one consistent state with each line
 * once; the end line is written only after that snapshot ended without error. `out` is left open.
 */
export async function writeExport(
  store: Store,
  out: Writable,
  options: { portalId?: number; now?: () => Date } = {},
): Promise<{ portals: number; lines: number }> {
  let lines = 0;
  // Lines go out OUTPUT_CHUNK characters at a time: one write (one system call) per line cost
  // about a third of an export's time.
  let chunk: string[] = [];
  let chunkLength = 0;
  const flush = async (): Promise<void> => {
    const text = chunk.join('');
    chunk = [];
    chunkLength = 0;
    if (text !== '' && !out.write(text)) await drained(out);
  };
  const put = async (line: ExportHeader | ExportLine): Promise<void> => {
    lines += 1;
    const text = `${JSON.stringify(line)}\n`;
    chunk.push(text);
    chunkLength += text.length;
    if (chunkLength >= OUTPUT_CHUNK) await flush();
  };
  const exportedAt = (options.now?.() ?? new Date()).toISOString();
  await put({ format: EXPORT_FORMAT, version: LINES_VERSION, exportedAt });
  const portals = await store.snapshot(async (repo) => {
    let n = 0;
    for await (const line of portalLines(repo, options.portalId)) {
      if ('portal' in line) n += 1;
      await put(line);
    }
    return n;
  });
  const written = { portals, lines };
  await put({ end: written });
  await flush();
  return written;
}

/**
 * The export as one version 1 document, in memory: for tests and small data sets. It reads what
 * writeExport writes, the same way.
 */
export async function exportData(store: Store, portalId?: number): Promise<ExportDocument> {
  const exportedAt = new Date().toISOString();
  const portals = await store.snapshot(async (repo) => {
    const list: PortalExport[] = [];
    for await (const line of portalLines(repo, portalId)) {
      if ('portal' in line) {
        list.push({ ...line.portal, pipelines: [], records: [], associations: [], audit: [], tokens: [] });
        continue;
      }
      const p = list.at(-1)!;
      if ('pipeline' in line) p.pipelines.push(line.pipeline);
      else if ('record' in line) p.records.push(line.record);
      else if ('association' in line) p.associations!.push(line.association);
      else if ('audit' in line) p.audit.push(line.audit);
      else if ('token' in line) p.tokens.push(line.token);
    }
    return list;
  });
  return { format: EXPORT_FORMAT, version: DOCUMENT_VERSION, exportedAt, portals };
}

export class ImportError extends Error {
  override readonly name = 'ImportError';
}

function checkDocument(doc: unknown): ExportDocument {
  const d = doc as Partial<ExportDocument> | null;
  if (d === null || typeof d !== 'object' || d.format !== EXPORT_FORMAT) {
    throw new ImportError(`Not a Stageline export (expected "format": "${EXPORT_FORMAT}")`);
  }
  if (d.version !== DOCUMENT_VERSION)
    throw new ImportError(`Unsupported export version ${String(d.version)}`);
  if (!Array.isArray(d.portals)) throw new ImportError('The export has no "portals" list');
  for (const p of d.portals) {
    if (!Number.isInteger(p?.id) || !Array.isArray(p.pipelines) || !Array.isArray(p.records)) {
      throw new ImportError('A portal entry is malformed: it needs id, pipelines, records, audit and tokens');
    }
    if (!Array.isArray(p.audit) || !Array.isArray(p.tokens)) {
      throw new ImportError(`Portal ${p.id} is malformed: it needs audit and tokens lists`);
    }
    if (p.associations !== undefined && !Array.isArray(p.associations)) {
      throw new ImportError(`Portal ${p.id} is malformed: associations must be a list`);
    }
  }
  return d as ExportDocument;
}

/** A version 1 document as the lines version 2 writes for the same data. */
function* documentLines(doc: ExportDocument): Generator<ExportHeader | ExportLine> {
  yield { format: EXPORT_FORMAT, version: LINES_VERSION, exportedAt: doc.exportedAt };
  let lines = 1;
  for (const p of doc.portals) {
    const associations = p.associations ?? [];
    const counts: ItemCounts = {
      pipelines: p.pipelines.length,
      records: p.records.length,
      associations: associations.length,
      audit: p.audit.length,
      tokens: p.tokens.length,
    };
    yield { portal: { id: p.id, nextId: p.nextId, createdAt: p.createdAt }, counts };
    for (const pipeline of p.pipelines) yield { pipeline };
    for (const record of p.records) yield { record };
    for (const association of associations) yield { association };
    for (const audit of p.audit) yield { audit };
    for (const token of p.tokens) yield { token };
    lines += 1 + Object.values(counts).reduce((a, b) => a + b, 0);
  }
  yield { end: { portals: doc.portals.length, lines } };
}

/** Rows per statement in an import: whatever the export's size, no statement grows past this. */
export const IMPORT_BATCH = 2_000;

/** How far an import is: after each batch, the rows of one kind of one portal done so far. */
export interface ImportProgress {
  readonly portalId: number;
  readonly kind: 'records' | 'associations' | 'audit';
  readonly done: number;
  readonly total: number;
}

export type ImportCounts = { portals: number; pipelines: number; records: number; audit: number };

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
const isCount = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;

/** The one key of an item line, checked against the order of kinds. */
function itemKind(line: Record<string, unknown>): Kind | undefined {
  const keys = Object.keys(line);
  return keys.length === 1 ? KINDS.find((k) => k === keys[0]) : undefined;
}

/** Checks an item's shape: enough to store it, as version 1's check did for its lists. */
function checkItem(kind: Kind, item: unknown, portalId: number): string | undefined {
  if (!isObject(item)) return `its ${kind} is not an object`;
  switch (kind) {
    case 'pipeline':
    case 'record': {
      const inner = item[kind];
      if (typeof item.objectTypeKey !== 'string' || !isObject(inner)) {
        return `a ${kind} needs objectTypeKey and ${kind}`;
      }
      if (kind === 'pipeline' && !Array.isArray(inner.stages)) return 'a pipeline needs its stages';
      if (kind === 'record' && typeof inner.id !== 'string') return 'a record needs an id';
      return undefined;
    }
    case 'audit':
    case 'token':
      return item.portalId === portalId
        ? undefined
        : `its portalId is not ${portalId}, the portal it follows`;
    case 'association':
      return undefined;
  }
}

/**
 * Loads lines in the version 2 shapes (header first, end last) into the store, in one
 * transaction, IMPORT_BATCH rows per statement, waiting for each batch to be applied before
 * reporting it and sending the next. `source` gives the lines from the start each time it is
 * called: the store may run the transaction again after a conflict, which then reports from the
 * start again. Anything malformed, out of order or missing (a truncated file) fails the import
 * with an ImportError, and nothing of it is stored. Portals that already exist in the target are
 * refused, so an import never merges into live data.
 */
export async function importLines(
  store: Store,
  source: () => AsyncIterable<unknown> | Iterable<unknown>,
  onProgress: (progress: ImportProgress) => void = () => undefined,
): Promise<ImportCounts> {
  return store.write(async (repo) => {
    const existing = new Set((await repo.listPortals()).map((p) => p.id));
    const counts: ImportCounts = { portals: 0, pipelines: 0, records: 0, audit: 0 };
    let lineNo = 0;
    const fail: (why: string) => never = (why) => {
      throw new ImportError(`Line ${lineNo} of the export: ${why}; nothing was imported`);
    };

    /** The portal being loaded: what its line declared, what came so far, the batch not sent yet. */
    let portal:
      { id: number; declared: ItemCounts; seen: ItemCounts; kind: number; batch: unknown[] } | undefined;

    const flush = async (): Promise<void> => {
      if (portal === undefined || portal.batch.length === 0) return;
      const kind = KINDS[portal.kind]!;
      const batch = portal.batch;
      portal.batch = [];
      if (kind === 'record') {
        for (const { objectTypeKey, record } of batch as { objectTypeKey: string; record: CrmRecord }[])
          await repo.saveRecord(portal.id, objectTypeKey, record);
      } else if (kind === 'association') {
        await repo.saveAssociations(portal.id, batch as RecordAssociation[]);
      } else {
        await repo.appendAudit(batch as AuditEntry[]);
      }
      await repo.settled();
      const counted = COUNTED[kind] as ImportProgress['kind'];
      onProgress({
        portalId: portal.id,
        kind: counted,
        done: portal.seen[counted],
        total: portal.declared[counted],
      });
    };

    /** Ends the current portal: its last batch sent, and every item its line declared seen. */
    const closePortal = async (): Promise<void> => {
      if (portal === undefined) return;
      await flush();
      for (const kind of KINDS) {
        const key = COUNTED[kind];
        if (portal.seen[key] !== portal.declared[key]) {
          fail(
            `portal ${portal.id} declared ${portal.declared[key]} ${key} but ${portal.seen[key]} came before this line: the export is incomplete`,
          );
        }
      }
      counts.portals += 1;
      counts.pipelines += portal.seen.pipelines;
      counts.records += portal.seen.records;
      counts.audit += portal.seen.audit;
      portal = undefined;
    };

    let ended = false;
    for await (const line of source()) {
      lineNo += 1;
      if (!isObject(line)) fail('not a JSON object');
      if (lineNo === 1) {
        if (line.format !== EXPORT_FORMAT) {
          throw new ImportError(`Not a Stageline export (expected "format": "${EXPORT_FORMAT}")`);
        }
        if (line.version !== LINES_VERSION) {
          throw new ImportError(`Unsupported export version ${String(line.version)}`);
        }
        continue;
      }
      if (ended) fail('a line after the end line');
      if ('end' in line) {
        await closePortal();
        const end = line.end;
        if (!isObject(end) || end.portals !== counts.portals || end.lines !== lineNo - 1) {
          fail(
            `the end line says ${JSON.stringify(end)}, but ${counts.portals} portal(s) in ${lineNo - 1} lines came`,
          );
        }
        ended = true;
        continue;
      }
      if ('portal' in line) {
        await closePortal();
        const p = line.portal;
        const declared = line.counts;
        if (
          !isObject(p) ||
          !Number.isSafeInteger(p.id) ||
          !isCount(p.nextId) ||
          typeof p.createdAt !== 'number'
        ) {
          fail('a portal needs id, nextId and createdAt');
        }
        const id = (p as { id: number }).id;
        if (!isObject(declared) || !Object.values(COUNTED).every((key) => isCount(declared[key]))) {
          fail(`portal ${id} has no counts of its items`);
        }
        if (existing.has(id)) throw new ImportError(`Portals already exist in the target database: ${id}`);
        existing.add(id);
        await repo.putPortal(p as unknown as PortalRecord);
        const none = { pipelines: 0, records: 0, associations: 0, audit: 0, tokens: 0 };
        portal = { id, declared: declared as unknown as ItemCounts, seen: { ...none }, kind: 0, batch: [] };
        continue;
      }
      const kind = itemKind(line);
      if (kind === undefined) fail(`expected one of portal, ${KINDS.join(', ')} or end`);
      if (portal === undefined) fail(`a ${kind} before any portal line`);
      const at = KINDS.indexOf(kind!);
      if (at < portal!.kind) fail(`a ${kind} after the portal's ${KINDS[portal!.kind]} lines`);
      const item = line[kind!];
      const wrong = checkItem(kind!, item, portal!.id);
      if (wrong !== undefined) fail(wrong);
      if (at !== portal!.kind) {
        await flush();
        portal!.kind = at;
      }
      portal!.seen[COUNTED[kind!]] += 1;
      if (kind === 'pipeline') {
        const { objectTypeKey, pipeline } = item as { objectTypeKey: string; pipeline: Pipeline };
        await repo.savePipeline(portal!.id, objectTypeKey, pipeline);
        for (let i = 0; i < pipeline.stages.length; i += IMPORT_BATCH)
          await repo.saveStages(
            portal!.id,
            objectTypeKey,
            pipeline.id,
            pipeline.stages.slice(i, i + IMPORT_BATCH),
          );
      } else if (kind === 'token') {
        await repo.insertToken(item as TokenRecord);
      } else {
        portal!.batch.push(item);
        if (portal!.batch.length >= IMPORT_BATCH) await flush();
      }
    }
    if (lineNo === 0) throw new ImportError('The export is empty');
    if (!ended) {
      throw new ImportError(
        `The export ends at line ${lineNo} without its end line: the file is truncated, nothing was imported`,
      );
    }
    return counts;
  });
}

/** Loads a version 1 document (in memory) with importLines. */
export async function importData(
  store: Store,
  doc: unknown,
  onProgress: (progress: ImportProgress) => void = () => undefined,
): Promise<ImportCounts> {
  const data = checkDocument(doc);
  return importLines(store, () => documentLines(data), onProgress);
}

/** The first line of a version 2 file is short; a version 1 file is one long line. */
const HEADER_PEEK = 64 * 1024;

/** The parsed lines of a file, read as a stream: a line that is not JSON fails the import. */
async function* fileLines(file: string): AsyncGenerator<unknown> {
  const input = createReadStream(file, { encoding: 'utf8' });
  const lines = createInterface({ input, crlfDelay: Infinity });
  let n = 0;
  try {
    for await (const text of lines) {
      n += 1;
      try {
        yield JSON.parse(text) as unknown;
      } catch (err) {
        if (!(err instanceof SyntaxError)) throw err;
        throw new ImportError(
          `Line ${n} of the export is not JSON (${err.message}): the file is damaged or truncated, nothing was imported`,
        );
      }
    }
  } finally {
    lines.close();
    input.destroy();
  }
}

/**
 * Loads an export file of either version. Version 2 is read as a stream, a line at a time, so
 * memory holds about a batch whatever the file's size; a version 1 file is read and parsed whole.
 */
export async function importFile(
  store: Store,
  file: string,
  onProgress?: (progress: ImportProgress) => void,
): Promise<ImportCounts> {
  const head = await open(file, 'r');
  let start: string;
  try {
    const buffer = Buffer.alloc(HEADER_PEEK);
    const { bytesRead } = await head.read(buffer, 0, HEADER_PEEK, 0);
    start = buffer.subarray(0, bytesRead).toString('utf8');
  } finally {
    await head.close();
  }
  if (start.trim() === '') throw new ImportError('The export is empty');
  const newline = start.indexOf('\n');
  let first: unknown;
  try {
    first = newline === -1 ? undefined : JSON.parse(start.slice(0, newline));
  } catch {
    first = undefined;
  }
  if (isObject(first) && first.version !== DOCUMENT_VERSION && !('portals' in first)) {
    return importLines(store, () => fileLines(file), onProgress);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(await readFile(file, 'utf8'));
  } catch (err) {
    if (!(err instanceof SyntaxError)) throw err;
    throw new ImportError(`Not a Stageline export: the file is not JSON (${err.message})`);
  }
  return importData(store, doc, onProgress);
}
