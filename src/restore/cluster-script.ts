import { createInterface } from 'node:readline';
import { openDumpFile } from '../encryption/read-encrypted.ts';
import { PgbackmanError } from '../errors.ts';

/** A pg_dumpall script, read once: its global statements, and where each database's section starts. */
export interface ClusterScript {
  /** Roles, memberships, settings and tablespaces: everything before the first database. */
  readonly globals: string;
  readonly databases: readonly string[];
}

/** The globals are small (roles and tablespaces); a script whose globals are not is not one pgbackman wrote. */
const MAX_GLOBALS_BYTES = 64 * 1024 * 1024;
const MARKER = /^-- Database "(.*)" dump$/;

/**
 * The section a line starts, if it is pg_dumpall's `-- Database "NAME" dump` between two `--` lines and
 * outside a COPY block (a row of data may hold the same text). Pure: one step of a line-by-line reader.
 */
export class SectionTracker {
  #inCopy = false;
  #previous = '';
  #pending: string | undefined;

  /** Feeds one line; returns the database whose section begins at the line before this one, if any. */
  next(line: string): string | undefined {
    let started: string | undefined;
    if (this.#pending !== undefined && line === '--') started = this.#pending;
    this.#pending = undefined;
    if (this.#inCopy) {
      if (line === '\\.') this.#inCopy = false;
    } else if (/^COPY .* FROM stdin;$/.test(line)) this.#inCopy = true;
    else if (this.#previous === '--') {
      const m = MARKER.exec(line);
      if (m !== null) this.#pending = m[1];
    }
    this.#previous = line;
    return started;
  }
}

/** First pass: the globals and the databases' names, so every refusal comes before anything is touched. */
export async function scanClusterScript(
  path: string,
  identities: readonly string[] = [],
): Promise<ClusterScript> {
  const tracker = new SectionTracker();
  const databases: string[] = [];
  const globals: string[] = [];
  let bytes = 0;
  const lines = createInterface({
    input: openDumpFile(path, identities).setEncoding('utf8'),
    crlfDelay: Number.POSITIVE_INFINITY,
  });
  for await (const line of lines) {
    const started = tracker.next(line);
    if (started !== undefined) databases.push(started);
    if (databases.length === 0) {
      bytes += line.length + 1;
      if (bytes > MAX_GLOBALS_BYTES)
        throw new PgbackmanError(
          'INVALID_INPUT',
          `${path}: more than 64 MiB before the first database: not a pg_dumpall script`,
        );
      globals.push(line);
    }
  }
  return { globals: globals.join('\n'), databases };
}

/** Where one database's lines go: a psql reading them, or nowhere (a database not restored). */
export interface SectionSink {
  write(line: string): Promise<void>;
  end(): Promise<void>;
}

/**
 * Second pass: the script line by line, each database's section handed to the sink `open` returns for it
 * (one at a time, in order); memory stays bounded whatever the size of a database.
 */
export async function streamClusterSections(
  path: string,
  open: (database: string) => Promise<SectionSink | undefined>,
  identities: readonly string[] = [],
): Promise<void> {
  const tracker = new SectionTracker();
  let sink: SectionSink | undefined;
  const lines = createInterface({
    input: openDumpFile(path, identities).setEncoding('utf8'),
    crlfDelay: Number.POSITIVE_INFINITY,
  });
  try {
    for await (const line of lines) {
      const started = tracker.next(line);
      if (started !== undefined) {
        await sink?.end();
        sink = await open(started);
      }
      await sink?.write(line);
    }
    await sink?.end();
  } finally {
    lines.close();
  }
}
