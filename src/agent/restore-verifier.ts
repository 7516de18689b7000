import type { DumpJob } from '../backup/run-dump.ts';
import { lastRestoreTests, listBackups } from '../catalogue/backup-runs.ts';
import type { Queryable } from '../catalogue/catalogue-db.ts';
import { listObjects } from '../catalogue/list-objects.ts';
import { messageOf } from '../errors.ts';
import { parseDuration } from '../manifest/check-values.ts';
import type { Logger } from '../observability/logger.ts';
import { verifyByRestore } from '../restore/verify-restore.ts';
import type { AllowedDestination } from '../storage/allowed-destinations.ts';
import { withReadableDump } from '../storage/fetch-copy.ts';
import { stopAfter } from '../system/deadline.ts';
import type { CatalogueLink } from './catalogue-link.ts';

export interface RestoreVerifierOptions {
  readonly server: string;
  readonly link: CatalogueLink;
  readonly log: Logger;
  readonly secretsDir: string;
  /** age identities for encrypted dumps (--identity, PGBACKMAN_AGE_IDENTITY). */
  readonly identities?: readonly string[];
  /** Where copies may be fetched from when a dump's folder is gone from the root (--allow-destination). */
  readonly allowed?: readonly AllowedDestination[];
  /** Probes are SQL from the manifests: run only when the operator allowed them (--allow-verify-probes). */
  readonly allowProbes: boolean;
  /** This server's definitions as the schedule has them. */
  readonly jobs: () => readonly DumpJob[];
  /** The last passed test of each definition (for pgbackman_backup_last_verified_timestamp_seconds). */
  readonly report?: (
    definition: string,
    verifiedAt: Date | null,
    status?: 'VERIFIED' | 'VERIFY_FAILED',
    test?: RestoreTestEnd,
  ) => void;
}

/** A restore test that ran: what alerts say of one that failed. */
export interface RestoreTestEnd {
  readonly job: DumpJob;
  /** The dump restored. */
  readonly run: string;
  readonly error: string | null;
  readonly durationMs: number;
}

/**
 * spec.verify's restore tests: for each definition that asks, the newest successful dump is restored into a
 * scratch database and checked once `every` has passed since its last test. One at a time, in the background.
 */
export class RestoreVerifier {
  readonly #o: RestoreVerifierOptions;
  #running: Promise<void> | undefined;
  #stopped = false;
  readonly #abort = new AbortController();

  constructor(o: RestoreVerifierOptions) {
    this.#o = o;
  }

  request(): void {
    if (this.#stopped || this.#running !== undefined) return;
    this.#running = this.#check()
      .catch((err: unknown) =>
        this.#o.log.warn(
          { event: 'verify_check_failed', err: messageOf(err) },
          `restore tests not checked: ${messageOf(err)}`,
        ),
      )
      .finally(() => {
        this.#running = undefined;
      });
  }

  /** A test under way gets `graceMs`, then is interrupted (its scratch database is still dropped). */
  async stop(graceMs: number): Promise<void> {
    this.#stopped = true;
    const running = this.#running;
    if (running === undefined) return;
    const timer = setTimeout(() => this.#abort.abort("the agent's shutdown"), graceMs);
    await running;
    clearTimeout(timer);
  }

  async #check(): Promise<void> {
    const { link, server, log } = this.#o;
    const q: Queryable = {
      query: (sql, params) => link.use((db) => db.query(sql, params)),
      exec: (sql) => link.use((db) => db.exec(sql)),
    };
    const asking = this.#o.jobs().filter((j) => j.kind === 'BackupDefinition' && j.spec.verify !== undefined);
    if (asking.length === 0) return;
    const last = await lastRestoreTests(
      q,
      server,
      asking.map((j) => j.name),
    );
    for (const job of asking) {
      if (this.#stopped || job.kind !== 'BackupDefinition' || job.spec.verify === undefined) return;
      const verify = job.spec.verify;
      const seen = last.get(job.name);
      this.#o.report?.(job.name, seen?.verified ?? null);
      const tested = seen?.tested?.getTime();
      if (tested !== undefined && Date.now() - tested < parseDuration(verify.every)) continue;
      const [dump] = await listBackups(q, { definition: job.name, good: true, limit: 1 });
      if (dump === undefined || dump.server !== server) continue;
      const [node] = await listObjects(q, 'PgSQLNode', { name: verify.node });
      const [serverObject] = await listObjects(q, 'BackupServer', { name: server });
      if (node === undefined || serverObject === undefined) continue;
      const probe = verify.probe !== undefined && this.#o.allowProbes ? verify.probe : undefined;
      if (verify.probe !== undefined && probe === undefined)
        log.warn(
          { event: 'verify_probe_skipped', definition: `BackupDefinition/${job.name}` },
          `BackupDefinition/${job.name}: its probe is not run (the agent was not started with --allow-verify-probes)`,
        );
      log.info(
        { event: 'verify_started', definition: `BackupDefinition/${job.name}`, run: dump.id },
        `restore test of ${dump.id} on ${node.name}`,
      );
      // A scratch node that stops answering cannot hold the agent's restore tests for ever.
      const timeout = job.spec.verify?.timeout ?? '24h';
      const limit = stopAfter(parseDuration(timeout), `its timeout of ${timeout}`);
      const started = Date.now();
      const copies = { allowed: this.#o.allowed ?? [], env: process.env, secretsDir: this.#o.secretsDir };
      const result = await withReadableDump(q, dump, serverObject.spec, copies, (backup) =>
        verifyByRestore(
          {
            backup,
            server: serverObject,
            source: { name: job.node.name, spec: job.node.spec },
            node,
            probe,
          },
          q,
          {
            secretsDir: this.#o.secretsDir,
            identities: this.#o.identities ?? [],
            signal: AbortSignal.any([this.#abort.signal, limit.signal]),
          },
        ),
      ).finally(() => limit.clear());
      const line = {
        event: 'verify_finished',
        definition: `BackupDefinition/${job.name}`,
        run: dump.id,
        status: result.status,
      };
      if (result.status === 'VERIFIED')
        log.info(line, `restore test of ${dump.id}: VERIFIED, ${result.summary}`);
      else
        log.error(
          { ...line, error: result.summary },
          `restore test of ${dump.id}: VERIFY_FAILED, ${result.summary}`,
        );
      this.#o.report?.(
        job.name,
        result.status === 'VERIFIED' ? new Date() : (seen?.verified ?? null),
        result.status,
        {
          job,
          run: dump.id,
          error: result.status === 'VERIFIED' ? null : result.summary,
          durationMs: Date.now() - started,
        },
      );
    }
  }
}
