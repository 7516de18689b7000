import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { createTestCatalogue, type TestCatalogue } from './support/catalogues.ts';
import { REPO_ROOT, runCli } from './support/run-cli.ts';

const run = promisify(execFile);
const WORKFLOW = join(REPO_ROOT, 'examples', 'ci', 'pgbackman-plan.yml.txt');

interface Step {
  name?: string;
  run?: string;
}

/** The shell of a workflow step, with `npx pgbackman` running this checkout's CLI. */
function script(steps: Step[], name: string): string {
  const step = steps.find((s) => s.name === name);
  assert.ok(step?.run, `the workflow has a step "${name}" that runs a script`);
  const npx = `npx() { if [ "$1" = pgbackman ]; then shift; node ${JSON.stringify(join(REPO_ROOT, 'bin', 'pgbackman.js'))} "$@"; else command npx "$@"; fi; }`;
  return `set -eo pipefail\n${npx}\n${step.run}`;
}

async function bash(
  cwd: string,
  text: string,
  env: NodeJS.ProcessEnv,
): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await run('bash', ['-c', text], { cwd, env: { ...process.env, NO_COLOR: '1', ...env } });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

const doc = (kind: string, name: string, spec: string) =>
  `apiVersion: pgbackman.io/v1\nkind: ${kind}\nmetadata: {name: ${name}}\nspec: ${spec}\n`;
const BASE = [
  doc('BackupServer', 'b1', '{hostname: backup01}'),
  doc('PgSQLNode', 'n1', '{host: db1.example.org}'),
  doc('BackupDefinition', 'shop', '{server: b1, node: n1, database: shop}'),
].join('---\n');
const WITHOUT_SHOP = BASE.slice(0, BASE.lastIndexOf('---\n'));

describe("examples/ci's workflow, its commands run as GitHub would", () => {
  let repo: string;
  let catalogue: TestCatalogue;
  let steps: Step[];
  const git = (...args: string[]) =>
    run('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.org', ...args], { cwd: repo });

  before(async () => {
    const workflow = parse(await readFile(WORKFLOW, 'utf8')) as { jobs: Record<string, { steps: Step[] }> };
    steps = [...(workflow.jobs.validate?.steps ?? []), ...(workflow.jobs.plan?.steps ?? [])];
    catalogue = await createTestCatalogue('postgres', 'examples-ci');
    repo = await mkdtemp(join(tmpdir(), 'pgbackman-ci-'));
    await git('init', '-q', '-b', 'main');
    await mkdir(join(repo, 'manifests'));
    await writeFile(join(repo, 'manifests', 'setup.yaml'), BASE);
    await git('add', '-A');
    await git('commit', '-qm', 'base');
    // What actions/checkout with fetch-depth 0 leaves: the base branch as origin/main.
    await git('update-ref', 'refs/remotes/origin/main', 'main');
    // The catalogue holds what main applied.
    const applied = await runCli([
      '--catalogue',
      catalogue.location,
      'apply',
      join(repo, 'manifests'),
      '--auto-approve',
    ]);
    assert.equal(applied.code, 0, applied.stderr);
    // The pull request removes a definition.
    await git('checkout', '-qb', 'feature');
    await writeFile(join(repo, 'manifests', 'setup.yaml'), WITHOUT_SHOP);
  });
  after(async () => {
    await catalogue?.drop();
    await rm(repo, { recursive: true, force: true });
  });

  for (const source of ['catalogue', 'fork'] as const)
    test(`${source === 'catalogue' ? 'with the read-only catalogue' : 'from a fork (no secret): plan --against origin/main'}: the plan is written for the comment, and a destroy needs the allow-destroy label`, async () => {
      const summary = join(repo, `summary-${source}.md`);
      const env = {
        PGBACKMAN_CATALOGUE: source === 'catalogue' ? catalogue.location : '',
        BASE_REF: 'main',
        GITHUB_STEP_SUMMARY: summary,
      };
      const validated = await bash(repo, script(steps, 'Validate manifests'), env);
      assert.equal(validated.code, 0, validated.stderr);

      const planned = await bash(repo, script(steps, 'Plan'), env);
      assert.equal(planned.code, 0, `changes (exit 2) do not fail the job: ${planned.stderr}`);
      const md = await readFile(join(repo, 'plan.md'), 'utf8');
      assert.match(md, /\*\*Plan: 0 to add, 0 to change, 1 to destroy\.\*\*/);
      assert.match(md, /This plan \*\*destroys\*\* `BackupDefinition\/shop`/);
      assert.equal(await readFile(summary, 'utf8'), md);

      const guard = script(steps, 'Refuse a destroy without the allow-destroy label');
      const refused = await bash(repo, guard, { ...env, ALLOW_DESTROY: 'false' });
      assert.equal(refused.code, 1);
      assert.match(refused.stdout, /::error::this plan destroys 1 object\(s\); add the allow-destroy label/);
      assert.equal((await bash(repo, guard, { ...env, ALLOW_DESTROY: 'true' })).code, 0);
    });

  test('an invalid manifest fails the validate step with file:line for the annotations', async () => {
    await writeFile(
      join(repo, 'manifests', 'broken.yaml'),
      doc('BackupServer', 'b2', '{hostname: x, bogus: 1}'),
    );
    try {
      const r = await bash(repo, script(steps, 'Validate manifests'), {});
      assert.equal(r.code, 1);
      assert.match(r.stderr, /^manifests\/broken\.yaml:\d+:\d+: error: BackupServer\/b2/m);
    } finally {
      await rm(join(repo, 'manifests', 'broken.yaml'));
    }
  });
});
