import type { Condition, ConditionReason } from '../catalogue/agents.ts';
import { assertNever } from '../errors.ts';

/** How one reconcile ended: what the agent reports, and whether the same revision is worth trying again. */
/** What a pass that went through may still say: the policies it could not expand, as `plan` warns of them. */
interface Warned {
  readonly warnings?: readonly string[];
}

export type ReconcileOutcome =
  | ({
      readonly kind: 'applied';
      readonly revision: string;
      readonly serial: number;
      readonly changes: number;
    } & Warned)
  /** `serial`: the catalogue's, which the revision was found to match. */
  | ({ readonly kind: 'unchanged'; readonly revision: string; readonly serial: number } & Warned)
  /** `--no-apply`: the catalogue is what runs; the revision was only fetched (and validated). */
  | ({ readonly kind: 'observed'; readonly revision: string; readonly serial: number } & Warned)
  | { readonly kind: 'invalid'; readonly revision: string; readonly message: string }
  | { readonly kind: 'refused'; readonly revision: string; readonly message: string }
  | { readonly kind: 'source-failed'; readonly message: string }
  | { readonly kind: 'catalogue-failed'; readonly revision: string | null; readonly message: string };

/**
 * Ready, Reconciling and Stalled, as Flux reports them: Stalled when only a new revision can help (invalid
 * manifests, an apply the catalogue refuses), Reconciling while a transient failure is retried.
 */
export function conditionsOf(outcome: ReconcileOutcome, lastApplied: string | null): Condition[] {
  const kept = lastApplied === null ? 'no revision applied yet' : `keeping ${lastApplied}`;
  const set = (
    ready: boolean,
    reason: ConditionReason,
    message: string,
    state: 'stalled' | 'retrying' | 'done',
  ): Condition[] => [
    { type: 'Ready', status: ready ? 'True' : 'False', reason, message },
    {
      type: 'Reconciling',
      status: state === 'retrying' ? 'True' : 'False',
      reason: state === 'retrying' ? 'Progressing' : reason,
      message: state === 'retrying' ? `retrying: ${message}` : '',
    },
    {
      type: 'Stalled',
      status: state === 'stalled' ? 'True' : 'False',
      reason,
      message: state === 'stalled' ? message : '',
    },
  ];
  switch (outcome.kind) {
    case 'applied':
    case 'unchanged':
    case 'observed':
      return set(true, 'Succeeded', `Applied revision: ${outcome.revision}`, 'done');
    case 'invalid':
      return set(
        false,
        'ValidationFailed',
        `${outcome.revision} is invalid (${kept}):\n${outcome.message}`,
        'stalled',
      );
    case 'refused':
      return set(
        false,
        'ApplyFailed',
        `${outcome.revision} was not applied (${kept}): ${outcome.message}`,
        'stalled',
      );
    case 'source-failed':
      return set(false, 'SourceFailed', `${outcome.message} (${kept})`, 'retrying');
    case 'catalogue-failed':
      return set(
        false,
        'CatalogueUnavailable',
        `${outcome.message} (${kept}; dumps go on, their records are spooled)`,
        'retrying',
      );
    default:
      return assertNever(outcome, 'reconcile outcome');
  }
}

/**
 * What a cleanly stopped agent says last: Ready is False because it stopped (so nobody takes it for alive,
 * or for crashed once its heartbeat ages); the other conditions keep what they said, the last problem too.
 */
export function stoppedConditions(previous: readonly Condition[], reason: string, at: Date): Condition[] {
  const before = previous.find((c) => c.type === 'Ready');
  const message = `stopped (${reason}) at ${at.toISOString()}${before === undefined ? '' : `; it last said: ${before.message}`}`;
  return [
    { type: 'Ready', status: 'False', reason: 'Stopped', message },
    ...previous.filter((c) => c.type !== 'Ready'),
  ];
}
