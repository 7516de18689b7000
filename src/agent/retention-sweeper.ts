import { existsSync } from 'node:fs';
import { rootDirectoryOf } from '../backup/files/layout.ts';
import type { Queryable } from '../catalogue/catalogue-db.ts';
import { compactRunTallies } from '../catalogue/run-stats.ts';
import { messageOf, PgbackmanError } from '../errors.ts';
import type { Logger } from '../observability/logger.ts';
import { planInBatches } from '../retention/plan-batches.ts';
import type { PlannedDump } from '../retention/retention-plan.ts';
import { type SweepOutcome, sweepRetention } from '../retention/sweep.ts';
import { type StrayFinder, strayFinder } from '../retention/unknown-dirs.ts';
import { copyRemover, type RemovalContext } from '../storage/remove-copies.ts';
import type { CatalogueLink } from './catalogue-link.ts';

export interface SweepReport {
  readonly deleted: number;
  readonly skipped: number;
  /** Only a sweep of every dump counts strays. */
  readonly unknown?: number;
}

export interface SweeperOptions {
  readonly server: string;
  readonly link: CatalogueLink;
  readonly log: Logger;
  /** Where copies at further destinations may be deleted (the operator's --allow-destination), and keys read. */
  readonly copies?: RemovalContext;
  readonly report?: (r: SweepReport) => void;
  /** A dump retention should delete but may not (a refused path, a copy it cannot remove): a person must look. */
  readonly blocked?: (b: { readonly dump: PlannedDump; readonly why: string }) => void;
}

/**
 * The agent's retention: its own server's dumps swept after each successful run and on an interval, with
 * `retention apply`'s rules and steps. One sweep at a time; one asked for meanwhile runs after it. Each
 * statement takes its own turn on the link, so heartbeats go on while a large dump's files are removed.
 */
export class RetentionSweeper {
  readonly #o: SweeperOptions;
  #running: Promise<void> | undefined;
  /** What the next sweep covers: some definitions (after their dumps), or all of them (`'all'`). */
  #wanted: Set<string> | 'all' | undefined;
  #stopped = false;

  constructor(o: SweeperOptions) {
    this.#o = o;
  }

  /** After a dump, its definition's (or snapshot's) name: only its dumps are read; no name: every dump. */
  request(name?: string): void {
    if (this.#stopped) return;
    if (name === undefined || this.#wanted === 'all') this.#wanted = 'all';
    else {
      this.#wanted ??= new Set();
      this.#wanted.add(name);
    }
    if (this.#running !== undefined) return;
    this.#running = this.#loop().finally(() => {
      this.#running = undefined;
    });
  }

  /** Lets the sweep under way finish its current dump's steps, and starts no other. */
  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#running;
  }

  async #loop(): Promise<void> {
    while (this.#wanted !== undefined && !this.#stopped) {
      const names = this.#wanted === 'all' ? undefined : [...this.#wanted];
      this.#wanted = undefined;
      await this.#sweep(names);
    }
  }

  async #sweep(names: string[] | undefined): Promise<void> {
    const { server, link, log } = this.#o;
    const q: Queryable = {
      query: (sql, params) => link.use((db) => db.query(sql, params)),
      exec: (sql) => link.use((db) => db.exec(sql)),
    };
    try {
      // A batch of definitions at a time, as `retention plan` reads them: a sweep of a million runs stays small.
      // Strays are judged against every dump of the server: only a whole sweep can tell.
      let strays: StrayFinder | undefined;
      const plan = await planInBatches(
        q,
        { server, ...(names === undefined ? {} : { names }) },
        Date.now(),
        (servers) => {
          const spec = servers.find((s) => s.name === server)?.spec;
          if (names !== undefined || spec === undefined) return [];
          strays = strayFinder([rootDirectoryOf(spec)]);
          return strays.holdsDumps(rootDirectoryOf(spec)) ? [server] : [];
        },
      );
      const spec = plan.servers.find((s) => s.name === server)?.spec;
      if (spec === undefined) return;
      const root = rootDirectoryOf(spec);
      // One warning for the sweep, not one per dump it would have deleted.
      if (!existsSync(root))
        throw new PgbackmanError('NOT_FOUND', `the root directory ${root} does not exist here`);
      const roots = new Map([[server, root]]);
      const removeCopies = this.#o.copies === undefined ? undefined : copyRemover(q, this.#o.copies);
      let deleted = 0;
      let skipped = 0;
      for await (const batch of plan.batches())
        for (const group of batch.groups) {
          for (const path of group.paths) strays?.known(path);
          const swept = await sweepRetention(q, group.dumps, roots, removeCopies);
          this.#logSwept(swept);
          for (const s of swept.skipped) if (s.blocked) this.#o.blocked?.(s);
          for (const c of swept.copiesLeft)
            this.#o.blocked?.({
              dump: c.dump,
              why: `its copy at ${c.destination} was not removed: ${c.why}`,
            });
          deleted += swept.deleted.length;
          skipped += swept.skipped.length;
        }
      const unknown = strays?.unknown() ?? [];
      if (unknown.length > 0)
        log.warn(
          { event: 'retention_unknown', paths: unknown.slice(0, 20), count: unknown.length },
          `${unknown.length} entries under ${root} that no catalogue row knows (kept): ${unknown.slice(0, 3).join(', ')}`,
        );
      this.#o.report?.({ deleted, skipped, ...(strays === undefined ? {} : { unknown: unknown.length }) });
      // The run tallies `stats` sums: each sweep follows runs that were written, so their deltas merge here.
      await link.use((db) => compactRunTallies(db, server));
    } catch (err) {
      // The catalogue unreachable or a step failing: nothing further is deleted; the next sweep goes on.
      log.warn(
        { event: 'retention_failed', err: messageOf(err) },
        `retention sweep stopped: ${messageOf(err)}`,
      );
    }
  }

  #logSwept(swept: SweepOutcome): void {
    const { log } = this.#o;
    for (const d of swept.deleted)
      log.info(
        { event: 'retention_deleted', run: d.id, definition: d.definition ?? d.snapshot, reasons: d.reasons },
        `deleted dump ${d.id}: ${d.reasons.join('; ')}`,
      );
    for (const s of swept.skipped)
      log.warn({ event: 'retention_kept', run: s.dump.id, why: s.why }, `kept dump ${s.dump.id}: ${s.why}`);
    for (const c of swept.copiesLeft)
      log.warn(
        { event: 'retention_copy_left', run: c.dump.id, destination: c.destination, why: c.why },
        `deleted dump ${c.dump.id}, but not yet its copy at ${c.destination}: ${c.why}`,
      );
  }
}
