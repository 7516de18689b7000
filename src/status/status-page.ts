import type { Queryable } from '../catalogue/catalogue-db.ts';
import { messageOf } from '../errors.ts';
import { esc, renderStatusPage } from './render-status-page.ts';
import { statusPageData } from './status-page-data.ts';

export interface StatusPageOptions {
  readonly server: string;
  readonly version: string;
  /** Runs a read on the agent's catalogue connection, in its turn. */
  readonly use: <T>(fn: (q: Queryable) => Promise<T>) => Promise<T>;
  /** How often the page refreshes itself, and how long one built page is served to every request. */
  readonly refreshSeconds?: number;
  readonly cacheMs?: number;
}

/** The agent's read-only page at `/`: built at most once per `cacheMs`, one build at a time. */
export class StatusPage {
  readonly #o: StatusPageOptions;
  #cached: { readonly at: number; readonly page: { status: number; html: string } } | undefined;
  #building: Promise<{ status: number; html: string }> | undefined;

  constructor(o: StatusPageOptions) {
    this.#o = o;
  }

  async render(): Promise<{ status: number; html: string }> {
    const cacheMs = this.#o.cacheMs ?? 5_000;
    if (this.#cached !== undefined && Date.now() - this.#cached.at < cacheMs) return this.#cached.page;
    this.#building ??= this.#build().finally(() => {
      this.#building = undefined;
    });
    return this.#building;
  }

  async #build(): Promise<{ status: number; html: string }> {
    const refreshSeconds = this.#o.refreshSeconds ?? 30;
    let page: { status: number; html: string };
    try {
      const data = await this.#o.use((q) =>
        statusPageData(q, {
          server: this.#o.server,
          version: this.#o.version,
          refreshSeconds,
          now: new Date(),
        }),
      );
      page = { status: 200, html: renderStatusPage(data) };
    } catch (err) {
      // The catalogue down: said on the page, which tries again at its next refresh.
      page = {
        status: 503,
        html: `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="${refreshSeconds}"><title>pgbackman: ${esc(this.#o.server)}</title></head><body><main><h1>pgbackman on ${esc(this.#o.server)}</h1><p role="alert">The catalogue cannot be read now: ${esc(messageOf(err))}. Dumps go on; this page tries again in ${refreshSeconds} s.</p></main></body></html>\n`,
      };
    }
    this.#cached = { at: Date.now(), page };
    return page;
  }
}
