import { readdir } from 'node:fs/promises';
import { rootDirectoryOf } from '../backup/files/layout.ts';
import { spoolDir } from '../backup/record/spool.ts';
import { assertNever } from '../errors.ts';
import type { HealthReport } from '../observability/http-listener.ts';
import { AgentMetrics, type ConditionStatus, type ConditionType } from '../observability/metrics.ts';
import type { Agent, AgentEvent } from './agent.ts';

/** The agent's events as Prometheus metrics, and its state as /readyz's checks. */
export class AgentObserver {
  readonly metrics: AgentMetrics;
  readonly #roots = new Set<string>();

  constructor(version: string) {
    this.metrics = new AgentMetrics({ version });
  }

  readonly observe = (event: AgentEvent): void => {
    switch (event.kind) {
      case 'reconciled': {
        const status = (type: ConditionType): ConditionStatus =>
          event.conditions.find((c) => c.type === type)?.status ?? 'Unknown';
        const o = event.outcome;
        const ok = o.kind === 'applied' || o.kind === 'unchanged' || o.kind === 'observed';
        this.metrics.reconciled({
          conditions: {
            Ready: status('Ready'),
            Reconciling: status('Reconciling'),
            Stalled: status('Stalled'),
          },
          ...(ok ? { revision: o.revision, succeededAt: new Date() } : {}),
        });
        return;
      }
      case 'scheduled':
        void this.metrics.retainDefinitions(event.names);
        return;
      case 'run-started':
        this.#roots.add(rootDirectoryOf(event.job.server.spec));
        this.metrics.runStarted();
        return;
      case 'run-finished':
        this.metrics.runFinished({
          definition: event.job.name,
          node: event.job.node.name,
          database: event.result.settings.code === 'CLUSTER' ? null : (event.job.spec.database ?? null),
          status: event.result.status,
          durationMs: event.result.durationMs,
          bytes: event.result.bytes,
          errorCode: event.result.errorCode,
          finishedAt: new Date(),
        });
        this.metrics.copied(event.result.copies);
        void this.#countSpool();
        return;
      case 'run-crashed':
        this.metrics.runFinished({
          definition: event.job.name,
          node: event.job.node.name,
          database: event.job.spec.database ?? null,
          status: 'FAILED',
          durationMs: event.durationMs,
          errorCode: 'INTERNAL',
          finishedAt: new Date(),
        });
        return;
      case 'runs-missed':
        // Recorded in the catalogue (a MISSED row) and logged; alerts say it, the metrics count runs.
        return;
      case 'run-skipped':
        this.metrics.runSkipped(event.job.name, event.job.node.name);
        return;
      case 'alert':
        this.metrics.alerted(event.channel, event.event, event.outcome);
        return;
      case 'disk-low':
      case 'retention-blocked':
      case 'overdue':
        // Logged and said by the alerts; the metrics already show it (pgbackman_backup_last_success_timestamp_seconds).
        return;
      case 'queue':
        this.metrics.setQueueDepth(event.depth);
        return;
      case 'catalogue':
        this.metrics.setCatalogueUp(event.up);
        if (event.up) void this.#countSpool();
        return;
      case 'retention':
        this.metrics.swept(event);
        return;
      case 'copies':
        this.metrics.copied(event.copies);
        return;
      case 'restore':
        this.metrics.restored(event.outcome);
        return;
      case 'restore-test':
        this.metrics.restoreTested(event.definition, event.verifiedAt, event.status);
        return;
      default:
        assertNever(event, 'agent event');
    }
  };

  /** Ready when the catalogue answers (or runs are spooled while it does not), the source was fetched and a schedule built. */
  health(agent: Agent): HealthReport {
    const h = agent.health;
    const ready = h.conditions.find((c) => c.type === 'Ready');
    return {
      catalogue: h.catalogue
        ? { mode: 'reachable', message: 'the catalogue answers' }
        : h.schedule
          ? {
              mode: 'spooling',
              message: 'the catalogue cannot be reached: dumps go on, their records are spooled',
            }
          : {
              mode: 'unavailable',
              message: 'the catalogue cannot be reached and there is no schedule to run',
            },
      source: h.source
        ? { ready: true, message: `fetched; ${ready?.message ?? 'not reconciled yet'}` }
        : { ready: false, message: 'the manifests have not been fetched yet' },
      schedule: h.schedule
        ? { ready: true, message: 'the schedule is built' }
        : { ready: false, message: 'no schedule yet' },
    };
  }

  /** Records waiting in the spool of every root this agent dumped into. */
  async #countSpool(): Promise<void> {
    let n = 0;
    for (const root of this.#roots)
      n += (await readdir(spoolDir(root)).catch(() => [])).filter((f) => f.endsWith('.json')).length;
    this.metrics.setSpoolRecords(n);
  }
}
