// One round of the agent benchmark's 1% change: `pgbackman apply` (another process) makes 200 definitions
// due at the same whole second T; timed from the apply's NOTIFY (seen by the bench's own LISTEN, as the
// agent's is) to the agent's `scheduled` line, then each no-op dump's start against T.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import pg from 'pg';
import { CHANGE_EVERY, DEFINITIONS, definitionName, patternAt, writeAgentFixture } from './agent-fixture.ts';
import type { AgentSession } from './agent-session.ts';

const run = promisify(execFile);
const now = (): number => performance.timeOrigin + performance.now();

export interface RoundResult {
  /** The due second, epoch ms. */
  readonly dueAt: number;
  readonly applyMs: number;
  /** NOTIFY received → the agent's `scheduled` line with the 200 changes. */
  readonly rescheduleMs: number;
  /** Each changed definition's no-op start minus dueAt, ms. */
  readonly delays: readonly number[];
}

export const CHANGED_KEYS = new Set(
  Array.from(
    { length: DEFINITIONS / CHANGE_EVERY },
    (_, k) => `BackupDefinition/${definitionName(k * CHANGE_EVERY)}`,
  ),
);

export interface RoundSetup {
  readonly root: string;
  readonly url: string;
  /** Where the changed manifests are written and applied from (not the agent's watched directory). */
  readonly dir: string;
  readonly dumpRoot: string;
  /** How far ahead of the apply's start T is put: the apply and the reschedule must both fit before it. */
  readonly leadMs: number;
}

export async function changeRound(agent: AgentSession, o: RoundSetup): Promise<RoundResult> {
  const listener = new pg.Client({ connectionString: o.url });
  await listener.connect();
  const notified: number[] = [];
  listener.on('notification', () => notified.push(now()));
  await listener.query('LISTEN pgbackman');
  try {
    const dueAt = Math.ceil((Date.now() + o.leadMs) / 1000) * 1000;
    const changed = writeAgentFixture(o.dir, o.dumpRoot, patternAt(new Date(dueAt)));
    const from = agent.lines.length;
    const started = now();
    const { NODE_OPTIONS: _ignored, ...env } = process.env;
    const { stdout } = await run(
      process.execPath,
      ['bin/pgbackman.js', '--catalogue', o.url, 'apply', o.dir, '--auto-approve'],
      { cwd: o.root, env: { ...env, NO_COLOR: '1' }, maxBuffer: 64 * 1024 * 1024 },
    );
    const applyMs = now() - started;
    if (!stdout.includes(`Objects: 0 added, ${changed} changed, 0 destroyed.`))
      throw new Error(`apply did not change ${changed} definitions: ${stdout.slice(-300)}`);
    const scheduled = await agent.waitFor(
      (l) => l.event === 'scheduled' && l.changed === changed,
      30_000,
      from,
    );
    const notifyAt = notified[0];
    if (notifyAt === undefined) throw new Error('no NOTIFY from the apply');
    const scheduledAt = Date.parse(scheduled.time);
    if (scheduledAt >= dueAt)
      throw new Error(`rescheduled ${scheduledAt - dueAt} ms after the due second: raise the lead`);
    // Every changed definition starts once; wait for all of them (or give up 30 s after T).
    const starts = new Map<string, number>();
    await agent
      .waitFor(
        (l) => {
          if (
            l.event === 'noop_started' &&
            l.key !== undefined &&
            CHANGED_KEYS.has(l.key) &&
            l.at !== undefined
          )
            starts.set(l.key, l.at);
          return starts.size === changed;
        },
        dueAt - Date.now() + 30_000,
        from,
      )
      .catch(() => undefined);
    if (starts.size !== changed)
      throw new Error(`only ${starts.size} of ${changed} due definitions started within 30 s of T`);
    return {
      dueAt,
      applyMs,
      rescheduleMs: scheduledAt - notifyAt,
      delays: [...starts.values()].map((at) => at - dueAt),
    };
  } finally {
    await listener.end();
  }
}

/** The p-th percentile (0-100), nearest rank. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1] as number;
}
