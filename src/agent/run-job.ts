import type { DumpJob, DumpResult } from '../backup/run-dump.ts';
import { messageOf } from '../errors.ts';
import type { Logger } from '../observability/logger.ts';
import type { AllowedDestination } from '../storage/allowed-destinations.ts';
import type { AgentEvent, Executor } from './agent.ts';
import { runSessionFor } from './catalogue-link.ts';

export interface RunJobOptions {
  readonly location: string;
  readonly executor: Executor;
  readonly secretsDir: string;
  readonly allowedDestinations: readonly AllowedDestination[];
  /** The revision recorded on the run: the one its definition was applied from. */
  readonly revision: string | null;
  readonly signal: AbortSignal;
  readonly log: Logger;
  readonly observe?: ((event: AgentEvent) => void) | undefined;
}

/**
 * One scheduled dump inside the agent: through runDump (or the benchmark's executor), with a catalogue
 * session of its own, its start and end logged on a child logger that names it. Never throws: a run that
 * cannot even be recorded is logged, and the agent goes on.
 */
export async function runJob(
  key: string,
  job: DumpJob,
  o: RunJobOptions,
): Promise<DumpResult['status'] | null> {
  o.observe?.({ kind: 'run-started', job });
  const log = o.log.child({ definition: key, node: job.node.name, database: job.spec.database ?? null });
  const session = runSessionFor(o.location);
  const started = Date.now();
  try {
    log.info({ event: 'run_started' }, `${key}: dump started`);
    const result = await o.executor(job, session, {
      signal: o.signal,
      logger: log,
      secretsDir: o.secretsDir,
      allowedDestinations: o.allowedDestinations,
      revision: o.revision,
      deferTidy: true,
    });
    o.observe?.({ kind: 'run-finished', job, result });
    const fields = {
      event: 'run_finished',
      run: result.id,
      status: result.status,
      bytes: result.bytes,
      durationMs: result.durationMs,
    };
    if (result.status === 'SUCCEEDED')
      log.info(
        fields,
        `${key}: SUCCEEDED, ${result.bytes} bytes ${result.released === true ? `staged in ${result.dir} (removed once every destination held it)` : `in ${result.dir}`}`,
      );
    else if (result.status === 'SUCCEEDED_PARTIAL')
      log.warn(fields, `${key}: SUCCEEDED_PARTIAL, ${result.bytes} bytes in ${result.dir}; ${result.error}`);
    else log.error({ ...fields, code: result.errorCode }, `${key}: FAILED: ${result.error}`);
    // Earlier runs are tidied after the run is reported; its session and its slot are kept until then.
    await result.tidied;
    return result.status;
  } catch (err) {
    log.error(
      { event: 'run_error', err: messageOf(err) },
      `${key}: could not be run or recorded: ${messageOf(err)}`,
    );
    o.observe?.({ kind: 'run-crashed', job, durationMs: Date.now() - started });
    return null;
  } finally {
    await session.close();
  }
}
