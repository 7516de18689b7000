// The pure rule function alone: `decideRetention` over DEFINITIONS groups of 50 dumps (the retention
// benchmark's definitions, rules and run times), timed without building the input, PASSES times in one process.
//
//   node --import tsx bench/retention-rules-probe.ts [DEFINITIONS] [PASSES]
//
// Prints one JSON line: dumps, groups, each pass's milliseconds, and the dumps per second of the first pass
// (cold: JIT and the time-zone offset cache warming) and of the median pass.
import { randomUUID } from 'node:crypto';
import { groupRetention } from '../src/retention/retention-plan.ts';
import { decideRetention, type RetentionDump } from '../src/retention/retention-rules.ts';
import { finishedAt, fixtureDefinitions, RUNS_PER_DEFINITION, runShape } from './retention-fixture.ts';

const count = Number(process.argv[2] ?? 20_000);
const passes = Number(process.argv[3] ?? 5);
const now = Date.now();
const groups = fixtureDefinitions(count).map((d) => {
  const { rules, timezone } = groupRetention(d.retention, 'definition');
  const dumps: RetentionDump[] = [];
  // Oldest first, as planRetention hands them over.
  for (let k = RUNS_PER_DEFINITION - 1; k >= 0; k--) {
    const r = runShape(d.index, k);
    dumps.push({
      id: randomUUID(),
      status: r.failed ? 'FAILED' : 'SUCCEEDED',
      at: finishedAt(now, d.index, k),
      pinned: r.pinned,
    });
  }
  return { dumps, rules, timezone };
});
const total = groups.length * RUNS_PER_DEFINITION;
const ms: number[] = [];
let deleted = 0;
for (let p = 0; p < passes; p++) {
  let del = 0;
  const start = process.hrtime.bigint();
  for (const g of groups)
    for (const d of decideRetention(g.dumps, g.rules, g.timezone, now)) if (d.action === 'delete') del++;
  ms.push(Number(process.hrtime.bigint() - start) / 1e6);
  deleted = del;
}
const median = [...ms].sort((a, b) => a - b)[Math.floor(ms.length / 2)] as number;
const rate = (t: number) => Math.round((total / t) * 1000);
process.stdout.write(
  `${JSON.stringify({ dumps: total, groups: groups.length, deleted, passMs: ms.map((t) => Math.round(t)), firstRate: rate(ms[0] as number), medianRate: rate(median) })}\n`,
);
