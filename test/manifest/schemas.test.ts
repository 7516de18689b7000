import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { promisify } from 'node:util';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { CORE_SCHEMA, loadAll } from 'js-yaml';
import { KINDS } from '../../src/manifest/kinds.ts';
import { REPO_ROOT, runCli } from '../support/run-cli.ts';

const run = promisify(execFile);

function manifestDocs(dir: string): unknown[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => /\.ya?ml$/.test(f))
    .flatMap((f) =>
      loadAll(readFileSync(join(dir, f), 'utf8'), undefined, { schema: CORE_SCHEMA }).filter(
        (d) => d !== null,
      ),
    );
}

describe('the JSON Schemas', () => {
  test('the bundle, the TypeScript types and the compiled validators are regenerated from schemas/ (npm run schemas)', async () => {
    await run(process.execPath, ['--import', 'tsx', 'scripts/build-schemas.ts', '--check'], {
      cwd: REPO_ROOT,
    });
  });

  test('`pgbackman schema` prints a self-contained schema that accepts the shipped manifests and rejects typos', async () => {
    const r = await runCli(['schema']);
    assert.equal(r.code, 0, r.stderr);
    const validate = new Ajv2020({ strict: false }).compile(JSON.parse(r.stdout));
    const docs = manifestDocs(join(REPO_ROOT, 'manifests'));
    assert.ok(docs.length >= 3);
    for (const doc of docs) assert.ok(validate(doc), JSON.stringify(validate.errors));
    const typo = structuredClone(docs.at(-1)) as { spec: Record<string, unknown> };
    typo.spec.retentionPerid = '14d';
    assert.equal(validate(typo), false);
  });

  test('`pgbackman schema KIND` prints one kind with the shared definitions it needs inlined', async () => {
    for (const kind of KINDS) {
      const r = await runCli(['schema', kind]);
      assert.equal(r.code, 0, r.stderr);
      const schema = JSON.parse(r.stdout);
      assert.equal(schema.title, kind);
      assert.doesNotMatch(r.stdout, /common\.schema\.json/);
      new Ajv2020({ strict: false }).compile(schema);
    }
  });

  test('the editor modeline of every shipped manifest points at the bundle', () => {
    for (const dir of ['manifests', 'examples']) {
      for (const f of readdirSync(join(REPO_ROOT, dir), { recursive: true, encoding: 'utf8' }).filter((f) =>
        /\.ya?ml$/.test(f),
      )) {
        const first = readFileSync(join(REPO_ROOT, dir, f), 'utf8').split('\n')[0] ?? '';
        const m = /^# yaml-language-server: \$schema=(\S+)$/.exec(first);
        assert.ok(m, `${dir}/${f} does not start with the yaml-language-server modeline`);
        const target = join(REPO_ROOT, dir, f, '..', m[1] as string);
        assert.equal(
          target,
          join(REPO_ROOT, 'schemas', 'pgbackman.schema.json'),
          `${dir}/${f}: modeline points at ${target}`,
        );
      }
    }
  });
});
