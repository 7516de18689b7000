import { anyObjects } from '../catalogue/list-objects.ts';
import { readHead } from '../catalogue/read-state.ts';
import { messageOf } from '../errors.ts';
import { type CommitInfo, commitInfo } from '../source/revision.ts';
import { redactCredentials, type Source } from '../source/source.ts';
import type { CatalogueLink } from './catalogue-link.ts';
import type { ReconcileOutcome } from './conditions.ts';
import { reconcileRevision } from './reconcile-source.ts';

/**
 * fetch → validate → plan → apply, remembering the last revision applied and the last one refused: a
 * refused revision is not tried again until the source moves on (Argo's "once per commit").
 */
export class RevisionReconciler {
  lastApplied: string | null = null;
  /** The source has been fetched at least once (for /readyz). */
  fetched = false;
  #lastFailed: { revision: string; outcome: ReconcileOutcome } | undefined;
  /** The revision last found applied and the catalogue's serial then: while neither moves, nothing can differ. */
  #settled: { revision: string; serial: number } | undefined;
  readonly #o: { source: Source; sourceRoot: string; apply: boolean; appliedBy: string; secretsDir?: string };
  /** The last revision's commit, as git told it. */
  #commit: { readonly revision: string; readonly info: CommitInfo | null } | undefined;

  constructor(options: {
    source: Source;
    sourceRoot: string;
    apply: boolean;
    appliedBy: string;
    secretsDir?: string;
  }) {
    this.#o = options;
  }

  /** `force`: asked for (reconcile, SIGHUP), so a revision refused before is tried again too. */
  async reconcile(link: CatalogueLink, force = false): Promise<ReconcileOutcome> {
    let fetched: Awaited<ReturnType<Source['fetch']>>;
    try {
      fetched = await this.#o.source.fetch();
      this.fetched = true;
    } catch (err) {
      return { kind: 'source-failed', message: redactCredentials(messageOf(err)) };
    }
    if (!force && this.#lastFailed?.revision === fetched.revision) return this.#lastFailed.outcome;
    // Git is asked once per revision, and outside the catalogue's turn: a child process never holds the link.
    if (this.#commit?.revision !== fetched.revision)
      this.#commit = { revision: fetched.revision, info: await commitInfo(fetched.path, fetched.revision) };
    const commit = this.#commit.info;
    let outcome: ReconcileOutcome;
    try {
      const settled = this.#settled;
      outcome = await link.use(async (db) => {
        // Every change to the catalogue moves its serial (apply), so the same revision on the same serial
        // is already applied: no need to read and validate every manifest again each interval.
        if (!force && settled?.revision === fetched.revision) {
          const { serial } = await readHead(db);
          // Policies follow the nodes' databases, which change without a revision: those are expanded each time.
          if (serial === settled.serial && !(await anyObjects(db, 'BackupPolicy')))
            return { kind: this.#o.apply ? 'unchanged' : 'observed', ...settled };
        }
        return reconcileRevision(db, {
          fetched,
          root: this.#o.sourceRoot,
          apply: this.#o.apply,
          appliedBy: this.#o.appliedBy,
          commit,
          ...(this.#o.secretsDir === undefined ? {} : { secretsDir: this.#o.secretsDir }),
        });
      });
    } catch (err) {
      outcome = { kind: 'catalogue-failed', revision: fetched.revision, message: messageOf(err) };
    }
    if (outcome.kind === 'invalid' || outcome.kind === 'refused')
      this.#lastFailed = { revision: fetched.revision, outcome };
    else if (outcome.kind === 'applied' || outcome.kind === 'unchanged' || outcome.kind === 'observed') {
      this.#lastFailed = undefined;
      this.lastApplied = outcome.revision;
      this.#settled = { revision: outcome.revision, serial: outcome.serial };
    }
    return outcome;
  }
}
