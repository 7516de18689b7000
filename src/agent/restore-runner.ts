import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Queryable } from '../catalogue/catalogue-db.ts';
import { listObjects } from '../catalogue/list-objects.ts';
import { recordRestoreNotStarted, restoredGenerations } from '../catalogue/restore-runs.ts';
import { isPgbackmanError, messageOf, retryClassOf } from '../errors.ts';
import { parseDuration } from '../manifest/check-values.ts';
import type { Notify } from '../manifest/generated/manifest-types.ts';
import type { Logger } from '../observability/logger.ts';
import { describeSource, pickDump } from '../restore/pick-dump.ts';
import { restoreCluster } from '../restore/restore-cluster.ts';
import { clusterRefusal, dueRestores, type RestoreItem, requestOf } from '../restore/restore-due.ts';
import { restoreDump } from '../restore/restore-dump.ts';
import type { AllowedDestination } from '../storage/allowed-destinations.ts';
import { withReadableDump } from '../storage/fetch-copy.ts';
import { stopAfter } from '../system/deadline.ts';
import { whoAmI } from '../system/who-am-i.ts';
import type { CatalogueLink } from './catalogue-link.ts';

/** A restore that failed for a reason that may pass (a node down) is tried again after this long. */
const RETRY_MS = 30_000;

export type RestoreOutcome = 'SUCCEEDED' | 'FAILED' | 'RETRY';

/**
 * The agent's RestoreDefinitions: each generation restored once, at `spec.at` or as soon as it is applied,
 * by the agent of the server that holds its dumps, one at a time, with the same executor as `pgbackman restore`.
 */
export interface RestoreRunnerOptions {
  readonly server: string;
  readonly link: CatalogueLink;
  readonly log: Logger;
  readonly secretsDir: string;
  /** age identities for encrypted dumps (--identity, PGBACKMAN_AGE_IDENTITY). */
  readonly identities?: readonly string[];
  /** Where copies may be fetched from when a dump's folder is gone from the root (--allow-destination). */
  readonly allowed?: readonly AllowedDestination[];
  readonly report?: (outcome: RestoreOutcome, failed?: RestoreEnd) => void;
}

/** A RestoreDefinition's restore that failed: what alerts say of it. */
export interface RestoreEnd {
  readonly name: string;
  /** The notify of the RestoreDefinition, its target node and this server, nearest first (null where none). */
  readonly notify: readonly (Notify | null)[];
  readonly targetNode: string;
  readonly targetDatabase: string | null;
  /** The dump it restored, when one was picked. */
  readonly backupId: string | null;
  readonly error: string;
  readonly durationMs: number;
}

export class RestoreRunner {
  readonly #o: RestoreRunnerOptions;
  #running: Promise<void> | undefined;
  #again = false;
  #stopped = false;
  #timer: NodeJS.Timeout | undefined;
  #abort = new AbortController();
  readonly #waiting = new Set<string>();
  /** Why the restore under way failed, for its alert. */
  #lastFailure: { backupId: string | null; targetDatabase: string | null; error: string } | undefined;

  constructor(o: RestoreRunnerOptions) {
    this.#o = o;
  }

  #copies() {
    return { allowed: this.#o.allowed ?? [], env: process.env, secretsDir: this.#o.secretsDir };
  }

  /** Looks for due restores now (after a reconcile or a change to the catalogue); one check at a time. */
  request(): void {
    if (this.#stopped) return;
    this.#again = true;
    if (this.#running !== undefined) return;
    this.#running = this.#loop().finally(() => {
      this.#running = undefined;
    });
  }

  /** Starts no other restore; one under way gets `graceMs`, then is interrupted (and recorded FAILED). */
  async stop(graceMs: number): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    const running = this.#running;
    if (running === undefined) return;
    const timer = setTimeout(() => this.#abort.abort("the agent's shutdown"), graceMs);
    await running;
    clearTimeout(timer);
  }

  /** Interrupts a restore under way at once (a second signal). */
  interrupt(reason: string): void {
    this.#abort.abort(reason);
  }

  async #loop(): Promise<void> {
    while (this.#again && !this.#stopped) {
      this.#again = false;
      await this.#check().catch((err: unknown) =>
        this.#o.log.warn(
          { event: 'restore_check_failed', err: messageOf(err) },
          `restores not checked: ${messageOf(err)}`,
        ),
      );
    }
  }

  #arm(at: number | null): void {
    clearTimeout(this.#timer);
    if (at === null || this.#stopped) return;
    // Timers hold at most ~24.8 days: a later restore is looked at again by then.
    this.#timer = setTimeout(() => this.request(), Math.min(Math.max(at - Date.now(), 0), 2 ** 31 - 1));
  }

  async #check(): Promise<void> {
    const { link } = this.#o;
    const q: Queryable = {
      query: (sql, params) => link.use((db) => db.query(sql, params)),
      exec: (sql) => link.use((db) => db.exec(sql)),
    };
    const mine = await this.#mine(q);
    if (mine.length === 0) return this.#arm(null);
    const done = await restoredGenerations(
      q,
      mine.map((m) => m.name),
    );
    const { due, nextAt } = dueRestores(mine, done, Date.now());
    let retryAt = nextAt;
    for (const item of due) {
      if (this.#stopped) return;
      const started = Date.now();
      const outcome = await this.#restore(q, item);
      this.#o.report?.(
        outcome,
        outcome === 'FAILED' ? await this.#failure(q, item, started).catch(() => undefined) : undefined,
      );
      if (outcome === 'RETRY') retryAt = Math.min(retryAt ?? Number.POSITIVE_INFINITY, Date.now() + RETRY_MS);
    }
    this.#arm(retryAt);
  }

  /** This server's RestoreDefinitions: spec.server, or the server of the definition or snapshot restored. */
  async #mine(q: Queryable): Promise<RestoreItem[]> {
    const all = await listObjects(q, 'RestoreDefinition');
    if (all.length === 0) return [];
    const named = (kind: 'BackupDefinition' | 'SnapshotDefinition', key: 'definition' | 'snapshot') => {
      const names = all.map((r) => r.spec.source[key]).filter((n): n is string => n !== undefined);
      return names.length === 0 ? Promise.resolve([]) : listObjects(q, kind, { names });
    };
    const servers = new Map<string, string>();
    for (const d of await named('BackupDefinition', 'definition')) servers.set(`d/${d.name}`, d.spec.server);
    for (const s of await named('SnapshotDefinition', 'snapshot')) servers.set(`s/${s.name}`, s.spec.server);
    return all
      .filter((r) => {
        const { source } = r.spec;
        const owner =
          r.spec.server ??
          (source.definition !== undefined
            ? servers.get(`d/${source.definition}`)
            : servers.get(`s/${source.snapshot}`));
        return owner === this.#o.server;
      })
      .map((r) => ({ name: r.name, generation: r.generation, spec: r.spec }));
  }

  /** What the last restore of `item` recorded, with who is to hear of its failure. */
  async #failure(q: Queryable, item: RestoreItem, started: number): Promise<RestoreEnd> {
    const [target] = await listObjects(q, 'PgSQLNode', { name: item.spec.target.node });
    const [server] = await listObjects(q, 'BackupServer', { name: this.#o.server });
    const last = this.#lastFailure;
    return {
      name: item.name,
      notify: [item.spec.notify ?? null, target?.spec.notify ?? null, server?.spec.notify ?? null],
      targetNode: item.spec.target.node,
      targetDatabase: last?.targetDatabase ?? item.spec.target.database ?? null,
      backupId: last?.backupId ?? null,
      error: last?.error ?? 'the restore failed (the agent logged why)',
      durationMs: Date.now() - started,
    };
  }

  async #restore(q: Queryable, item: RestoreItem): Promise<RestoreOutcome> {
    this.#lastFailure = undefined;
    const { log } = this.#o;
    const key = `${item.name}@${item.generation}`;
    const address = `RestoreDefinition/${item.name}`;
    const rlog = log.child({ restoreDefinition: address });
    const source = item.spec.source;
    const found = await pickDump(q, item);
    if (found === 'wait') {
      if (!this.#waiting.has(key))
        rlog.info(
          { event: 'restore_waiting' },
          `${address} waits for SnapshotDefinition/${source.snapshot} to be taken`,
        );
      this.#waiting.add(key);
      return 'RETRY';
    }
    this.#waiting.delete(key);
    const cluster = found?.code === 'CLUSTER';
    const notStarted = async (error: string) => {
      await recordRestoreNotStarted(
        q,
        {
          id: randomUUID(),
          backupId: found?.id ?? null,
          restoreDefinition: item.name,
          restoreGeneration: item.generation,
          server: this.#o.server,
          sourceNode: found?.node ?? '-',
          sourceDatabase: found?.database ?? null,
          targetNode: item.spec.target.node,
          targetDatabase: cluster ? '*' : (item.spec.target.database ?? found?.database ?? '-'),
          options: { ...item.spec },
          startedAt: new Date(),
          logPath: null,
          requestedBy: whoAmI(),
          host: hostname(),
          pid: process.pid,
        },
        error,
      );
      rlog.error({ event: 'restore_finished', status: 'FAILED', error }, `${address} FAILED: ${error}`);
      this.#lastFailure = {
        backupId: found?.id ?? null,
        targetDatabase: cluster ? null : (item.spec.target.database ?? found?.database ?? null),
        error,
      };
      return 'FAILED' as const;
    };
    if (found === undefined) return notStarted(`no successful dump of ${describeSource(item)} to restore`);
    const misfit = cluster ? clusterRefusal(item.spec) : undefined;
    if (misfit !== undefined) return notStarted(misfit);
    const [target] = await listObjects(q, 'PgSQLNode', { name: item.spec.target.node });
    const [server] = await listObjects(q, 'BackupServer', { name: found.server });
    const [sourceNode] = await listObjects(q, 'PgSQLNode', { name: found.node });
    if (target === undefined || server === undefined)
      return notStarted(
        `PgSQLNode/${item.spec.target.node} or BackupServer/${found.server} is not in the catalogue`,
      );
    rlog.info(
      { event: 'restore_started', backup: found.id },
      `${address}: restoring dump ${found.id} onto ${target.name}`,
    );
    // A target that stops answering cannot hold the agent's restores (one at a time) for ever.
    const timeout = item.spec.timeout ?? '24h';
    const limit = stopAfter(parseDuration(timeout), `its timeout of ${timeout}`);
    try {
      // The same executors as `pgbackman restore`: every database of a CLUSTER dump, or the one of the others.
      const result = await withReadableDump(q, found, server.spec, this.#copies(), (backup) =>
        (cluster ? restoreCluster : restoreDump)(
          {
            backup,
            server,
            source: sourceNode,
            target,
            request: requestOf(item.spec, cluster ? '*' : (found.database ?? ''), new Date()),
            restoreDefinition: { name: item.name, generation: item.generation },
          },
          q,
          {
            secretsDir: this.#o.secretsDir,
            identities: this.#o.identities ?? [],
            signal: AbortSignal.any([this.#abort.signal, limit.signal]),
          },
        ),
      );
      rlog.info(
        { event: 'restore_finished', status: 'SUCCEEDED', restore: result.id, renamedTo: result.renamedTo },
        `${address} SUCCEEDED (restore ${result.id})`,
      );
      return 'SUCCEEDED';
    } catch (err) {
      const code = isPgbackmanError(err) ? err.code : 'INTERNAL';
      // Recorded by restoreDump once it started; before that, a reason that may pass is tried again later.
      if (code === 'RESTORE_FAILED') {
        rlog.error(
          { event: 'restore_finished', status: 'FAILED', error: messageOf(err) },
          `${address} FAILED: ${messageOf(err)}`,
        );
        this.#lastFailure = {
          backupId: found.id,
          targetDatabase: cluster ? null : (item.spec.target.database ?? found.database ?? null),
          error: messageOf(err),
        };
        return 'FAILED';
      }
      if (retryClassOf(code) === 'transient' && !this.#abort.signal.aborted) {
        rlog.warn(
          { event: 'restore_retry', code, error: messageOf(err) },
          `${address} not started, tried again later: ${messageOf(err)}`,
        );
        return 'RETRY';
      }
      return notStarted(messageOf(err));
    } finally {
      limit.clear();
    }
  }
}
