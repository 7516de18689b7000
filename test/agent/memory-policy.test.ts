import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { describe, test } from 'node:test';
import { promisify } from 'node:util';

const run = promisify(execFile);

// Allocates 2 million small objects, a third of them kept, and says how large the young generation grew.
const script = (policy: boolean) => `
  ${policy ? "(await import('./src/agent/memory-policy.ts')).applyAgentMemoryPolicy();" : ''}
  const v8 = await import('node:v8');
  const keep = [];
  for (let i = 0; i < 2e6; i++) { const o = { a: i, b: 'x' + i }; if (i % 3 === 0) keep.push(o); }
  const young = v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space');
  console.log(Math.round(young.space_size / 2 ** 20));`;

async function youngGenerationMb(policy: boolean): Promise<number> {
  const { stdout } = await run(process.execPath, [
    '--import',
    'tsx',
    '--input-type=module',
    '-e',
    script(policy),
  ]);
  return Number(stdout.trim());
}

describe("the agent's memory policy", () => {
  test('keeps the young generation at its first size where V8 would grow it eightfold', async () => {
    const [without, withPolicy] = await Promise.all([youngGenerationMb(false), youngGenerationMb(true)]);
    assert.ok(without >= 16, `without the policy the young generation grows (${without} MB)`);
    assert.ok(withPolicy <= 4, `with it, it stays small (${withPolicy} MB)`);
  });
});
