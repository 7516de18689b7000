// The agent's schedule built from the catalogue, timed inside one process with the agent's own pieces (from
// dist/): `readServerWork` then `Scheduler.sync` for every entry, on a fresh Scheduler ("build"); then the
// same on a catalogue where 1% of the definitions changed, into that Scheduler ("reschedule"). One JSON line
// per round on stdout.
//
//   node bench/schedule-probe.mjs --server NAME --base URL --changed URL [--rounds N]
import { parseArgs } from 'node:util';
import { readServerWork, WorkCache } from '../dist/agent/server-jobs.js';
import { openCatalogue } from '../dist/catalogue/open-catalogue.js';
import { silentLogger } from '../dist/observability/logger.js';
import { Scheduler } from '../dist/schedule/scheduler.js';

const { values } = parseArgs({
  options: {
    server: { type: 'string' },
    base: { type: 'string' },
    changed: { type: 'string' },
    rounds: { type: 'string', default: '5' },
  },
});
const { server, base, changed } = values;
if (server === undefined || base === undefined || changed === undefined)
  throw new Error('usage: schedule-probe.mjs --server NAME --base URL --changed URL [--rounds N]');

const baseDb = await openCatalogue(base, 'bench probe');
const changedDb = await openCatalogue(changed, 'bench probe');

/** readServerWork then sync, each timed; the counts say what sync did. */
async function step(db, scheduler, cache) {
  const t0 = performance.now();
  const work = await readServerWork(db, server, cache);
  const t1 = performance.now();
  const counts = scheduler.sync(work.entries);
  const t2 = performance.now();
  return { readMs: t1 - t0, syncMs: t2 - t1, totalMs: t2 - t0, entries: work.entries.length, ...counts };
}

for (let round = 0; round < Number(values.rounds); round++) {
  // Never due during the probe: the timers are only created and stopped.
  const scheduler = new Scheduler(() => undefined, silentLogger);
  // The agent keeps what it read: the reschedule reads again only the rows whose version changed.
  const cache = new WorkCache();
  const build = await step(baseDb, scheduler, cache);
  const reschedule = await step(changedDb, scheduler, cache);
  scheduler.stop();
  process.stdout.write(
    `${JSON.stringify({ round, build, reschedule, rssKiB: process.memoryUsage().rss / 1024 })}\n`,
  );
}
await baseDb.close();
await changedDb.close();
