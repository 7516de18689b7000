import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { REPO_ROOT, runCli } from './support/run-cli.ts';

const EXAMPLES = join(REPO_ROOT, 'examples');
const scenarios = readdirSync(EXAMPLES, { withFileTypes: true })
  .filter(
    (e) =>
      e.isDirectory() &&
      readdirSync(join(EXAMPLES, e.name), { recursive: true, encoding: 'utf8' }).some((f) =>
        /\.ya?ml$/.test(f),
      ),
  )
  .map((e) => e.name);

describe('examples/', () => {
  test('holds the scenarios the README promises', () => {
    for (const name of ['single-server', 'multi-server', 'snapshots-and-restore', 'policy-all-databases']) {
      assert.ok(scenarios.includes(name), `examples/${name} is missing`);
    }
  });

  for (const scenario of scenarios) {
    test(`${scenario} validates on its own`, async () => {
      const r = await runCli(['validate', `examples/${scenario}`]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, / 0 invalid\n$/);
    });
  }

  test('all scenarios validate together (names are unique across them)', async () => {
    const r = await runCli(['validate', 'examples']);
    assert.equal(r.code, 0, r.stderr);
  });
});
