import type { Queryable } from '../catalogue/catalogue-db.ts';
import { messageOf } from '../errors.ts';
import { esc, PAGE_ROWS, pageNumber, renderStatusPage, type StatusPageData } from './render-status-page.ts';
import { pageSizes, statusPageData } from './status-page-data.ts';
import { type UncoveredCheck, uncoveredCheck } from './uncovered-check.ts';

export interface StatusPageOptions {
  readonly server: string;
  readonly version: string;
  /** Runs a read on the agent's catalogue connection, in its turn. */
  readonly use: <T>(fn: (q: Queryable) => Promise<T>) => Promise<T>;
  /** How often the page refreshes itself. */
  readonly refreshSeconds?: number;
  /** How old the data may be before a request has it read again (in the background). */
  readonly maxAgeMs?: number;
  /** For asking the nodes which databases are not covered: where their passwords are read. */
  readonly env?: NodeJS.ProcessEnv;
  readonly secretsDir?: string;
  /** How often the nodes are asked (default 5 min): connecting to each is not for every refresh. */
  readonly uncoveredEveryMs?: number;
}

/**
 * The agent's read-only page at `/`. What it shows is read in the background, one read at a time: a request
 * gets the last data read (and starts a new read when that is older than `maxAgeMs`), so however many
 * definitions and readers there are, a request costs one page's render and its size charts. Only the first
 * request waits for a read.
 */
export class StatusPage {
  readonly #o: StatusPageOptions;
  #data: { readonly at: number; readonly data: StatusPageData } | undefined;
  #reading: Promise<void> | undefined;
  #lastError: string | undefined;
  #uncovered: UncoveredCheck | undefined;
  #asking: Promise<void> | undefined;
  #askedAt = 0;

  constructor(o: StatusPageOptions) {
    this.#o = o;
  }

  async render(query: URLSearchParams = new URLSearchParams()): Promise<{ status: number; html: string }> {
    const maxAgeMs = this.#o.maxAgeMs ?? 10_000;
    if (this.#data === undefined) await this.#read();
    else if (Date.now() - this.#data.at > maxAgeMs) void this.#read();
    this.#askNodes();
    const current = this.#data;
    if (current === undefined) return this.#unreadable();
    const { data } = current;
    const page = pageNumber(query.get('page'), data.entries.length);
    const shown = data.entries.slice((page - 1) * PAGE_ROWS, page * PAGE_ROWS).map((e) => e.name);
    // The charts of the rows shown, read now: cheap, and never worth failing the page for.
    const sizes = await this.#o
      .use((q) => pageSizes(q, this.#o.server, shown))
      .catch(() => new Map<string, number[]>());
    return {
      status: 200,
      html: renderStatusPage({ ...data, sizes, uncovered: this.#uncovered ?? null }, page),
    };
  }

  /** Which databases are not covered: asked in the background when the last answer is old enough. */
  #askNodes(): void {
    if (this.#o.secretsDir === undefined || this.#asking !== undefined) return;
    if (this.#askedAt !== 0 && Date.now() - this.#askedAt < (this.#o.uncoveredEveryMs ?? 300_000)) return;
    this.#askedAt = Date.now();
    const options = { env: this.#o.env ?? process.env, secretsDir: this.#o.secretsDir };
    this.#asking = uncoveredCheck(this.#o.use, this.#o.server, options)
      .then(
        (u) => {
          this.#uncovered = u;
        },
        () => undefined, // the catalogue unreadable: the page already says so; asked again next time
      )
      .finally(() => {
        this.#asking = undefined;
      });
  }

  #read(): Promise<void> {
    this.#reading ??= this.#o
      .use((q) =>
        statusPageData(q, {
          server: this.#o.server,
          version: this.#o.version,
          refreshSeconds: this.#o.refreshSeconds ?? 30,
          now: new Date(),
        }),
      )
      .then(
        (data) => {
          this.#data = { at: Date.now(), data };
          this.#lastError = undefined;
        },
        (err: unknown) => {
          // The last data stays shown; with none yet, the page says why.
          this.#lastError = messageOf(err);
        },
      )
      .finally(() => {
        this.#reading = undefined;
      });
    return this.#reading;
  }

  #unreadable(): { status: number; html: string } {
    const refresh = this.#o.refreshSeconds ?? 30;
    const server = esc(this.#o.server);
    return {
      status: 503,
      html: `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="${refresh}"><title>pgbackman: ${server}</title></head><body><main><h1>pgbackman on ${server}</h1><p role="alert">The catalogue cannot be read now: ${esc(this.#lastError ?? 'unknown')}. Dumps go on; this page tries again in ${refresh} s.</p></main></body></html>\n`,
    };
  }
}
