/**
 * A signal that fires when either of two does; `release` unhooks it from both. Unlike AbortSignal.any, nothing
 * of a call stays on a long-lived signal (an S3 destination's close) once the call is done.
 */
export function linkSignals(
  closing: AbortSignal,
  signal: AbortSignal | undefined,
): { signal: AbortSignal; release: () => void } {
  const both = new AbortController();
  const fire = (from: AbortSignal) => () => both.abort(from.reason);
  const onClose = fire(closing);
  const onSignal = signal === undefined ? undefined : fire(signal);
  if (closing.aborted) onClose();
  else if (signal?.aborted) onSignal?.();
  closing.addEventListener('abort', onClose, { once: true });
  if (onSignal !== undefined) signal?.addEventListener('abort', onSignal, { once: true });
  const release = () => {
    closing.removeEventListener('abort', onClose);
    if (onSignal !== undefined) signal?.removeEventListener('abort', onSignal);
  };
  return { signal: both.signal, release };
}
