import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, beforeEach, describe, test } from 'node:test';
import { CORE_SCHEMA, loadAll } from 'js-yaml';
import type { Queryable } from '../../src/catalogue/catalogue-db.ts';
import { withCatalogue } from '../../src/catalogue/open-catalogue.ts';
import { readStateFor } from '../../src/catalogue/read-state.ts';
import { loadDesired } from '../../src/reconcile/load-desired.ts';
import { BACKENDS, createTestCatalogue, type TestCatalogue } from '../support/catalogues.ts';
import { BASE, definition } from '../support/fixtures.ts';
import { assertNoStackTrace, REPO_ROOT, runCli, writeTree } from '../support/run-cli.ts';

interface Manifest {
  kind: string;
  metadata: { name: string; labels?: Record<string, string> };
  spec: unknown;
}

function manifestsIn(dir: string): Manifest[] {
  return readdirSync(join(REPO_ROOT, dir), { recursive: true, encoding: 'utf8' })
    .filter((f) => /\.ya?ml$/.test(f))
    .flatMap(
      (f) =>
        loadAll(readFileSync(join(REPO_ROOT, dir, f), 'utf8'), undefined, {
          schema: CORE_SCHEMA,
        }) as Manifest[],
    )
    .filter((d) => d !== null);
}

for (const backend of BACKENDS) {
  describe(`plan and apply (${backend} catalogue)`, () => {
    // The embedded catalogue costs an open per command; the cases that test the command's own logic, not how
    // the catalogue keeps it, run against PostgreSQL only. Those marked `test` run on both.
    const postgresOnly = (name: string, fn: () => Promise<void>): void => {
      if (backend === 'postgres') test(name, fn);
    };
    // Each test gets its own catalogue, so no test sees another's objects.
    let catalogue: TestCatalogue;
    const catalogues: TestCatalogue[] = [];
    beforeEach(async () => {
      catalogue = await createTestCatalogue(backend, 'plan_apply');
      catalogues.push(catalogue);
    });
    after(async () => {
      for (const c of catalogues) await c.drop();
    });
    const cli = async (...args: string[]) => {
      const r = await runCli(['--catalogue', catalogue.location, ...args]);
      assertNoStackTrace(r);
      return r;
    };
    const serial = async () =>
      JSON.parse((await cli('catalogue', 'status', '-o', 'json')).stdout).serial as number;
    /** The objects whose whole rows (spec and all) a plan of `dir` reads from the catalogue. */
    const fetchedInFull = async (dir: string): Promise<string[]> => {
      const load = await loadDesired([dir], { revision: null });
      assert.ok(load.ok);
      const fetched: string[] = [];
      await withCatalogue(catalogue.location, 'test', (db) =>
        db.transaction((tx) => {
          const observed: Queryable = {
            exec: (sql) => tx.exec(sql),
            query: async <R extends object>(sql: string, params?: readonly unknown[]) => {
              const rows = await tx.query<R>(sql, params);
              for (const r of rows as { kind?: string; name?: string; spec?: unknown }[])
                if (r.spec !== undefined) fetched.push(`${r.kind}/${r.name}`);
              return rows;
            },
          };
          return readStateFor(observed, load.desired);
        }),
      );
      return fetched.sort();
    };

    test('plan, then apply, then a second plan that says there is nothing to do', async () => {
      const plan = await cli('plan', 'examples', '--detailed-exitcode');
      assert.equal(plan.code, 2, plan.stderr);
      assert.match(
        plan.stdout,
        /# BackupServer\/single-backup01 will be created\n {2}\+ BackupServer\/single-backup01\n/,
      );
      assert.match(plan.stdout, /\nPlan: 43 to add, 0 to change, 0 to destroy\.\n$/);
      const apply = await cli('apply', 'examples', '--auto-approve');
      assert.equal(apply.code, 0, apply.stderr);
      assert.match(
        apply.stdout,
        /Apply complete! Objects: 43 added, 0 changed, 0 destroyed\. .* is at serial 1\.\n$/,
      );
      const again = await cli('plan', 'examples', '--detailed-exitcode');
      assert.deepEqual([again.code, again.stdout], [0, 'No changes. The catalogue matches the manifests.\n']);
      assert.equal(await serial(), 1);
      // Exactly what the manifests say: every object, with its spec and labels, and nothing else.
      const want = manifestsIn('examples');
      const got: { kind: string; name: string; spec: unknown; labels: unknown }[] = [];
      for (const resource of [
        'servers',
        'nodes',
        'policies',
        'definitions',
        'snapshots',
        'restoredefinitions',
      ]) {
        got.push(...JSON.parse((await cli('get', resource, '-o', 'json')).stdout));
      }
      const key = (o: { kind: string; name: string }) => `${o.kind}/${o.name}`;
      assert.deepEqual(
        got.map((o) => [key(o), o.spec, o.labels]).sort(),
        want
          .map((m) => [key({ kind: m.kind, name: m.metadata.name }), m.spec, m.metadata.labels ?? {}])
          .sort(),
      );
    });

    postgresOnly('a changed field is planned as an in-place update with its old and new value', async () => {
      const dir = await writeTree({ ...BASE, 'a.yaml': definition('shop') });
      await cli('apply', dir, '--auto-approve');
      writeFileSync(join(dir, 'a.yaml'), definition('shop', 'database: shop\n  schedule: "0 3 * * *"'));
      const plan = await cli('plan', dir);
      assert.match(
        plan.stdout,
        /# BackupDefinition\/shop will be updated in-place\n {2}~ BackupDefinition\/shop\n {6}~ spec\.schedule = "30 2 \* \* \*" -> "0 3 \* \* \*"\n/,
      );
      assert.match(plan.stdout, /Plan: 0 to add, 1 to change, \d+ to destroy\./);
    });

    postgresOnly(
      'keys reordered: apply stores the new hash (no serial, no history), so the next plan reads no row',
      async () => {
        const dir = await writeTree({ ...BASE, 'a.yaml': definition('shop'), 'b.yaml': definition('other') });
        assert.equal((await cli('apply', dir, '--auto-approve')).code, 0);
        assert.deepEqual(await fetchedInFull(dir), []);
        // The same spec with its keys in another order: hashes differently, means the same.
        writeFileSync(join(dir, 'a.yaml'), definition('shop', 'schedule: "30 2 * * *"\n  database: shop'));
        assert.deepEqual(await fetchedInFull(dir), ['BackupDefinition/shop']);
        const plan = await cli('plan', dir, '--detailed-exitcode');
        assert.deepEqual([plan.code, plan.stdout], [0, 'No changes. The catalogue matches the manifests.\n']);
        const apply = await cli('apply', dir, '--auto-approve');
        assert.deepEqual(
          [apply.code, apply.stdout],
          [0, 'No changes. The catalogue matches the manifests.\n'],
        );
        assert.equal(await serial(), 1);
        assert.deepEqual(await fetchedInFull(dir), []);
        // Alongside a real change, the reordered object is refreshed too, and only the change is applied.
        writeFileSync(join(dir, 'a.yaml'), definition('shop', 'database: shop\n  schedule: "0 3 * * *"'));
        writeFileSync(join(dir, 'b.yaml'), definition('other', 'schedule: "30 2 * * *"\n  database: shop'));
        const both = await cli('apply', dir, '--auto-approve');
        assert.equal(both.code, 0, both.stderr);
        assert.match(both.stdout, /Objects: 0 added, 1 changed, 0 destroyed\. .* is at serial 2\.\n$/);
        assert.deepEqual(await fetchedInFull(dir), []);
      },
    );

    postgresOnly('without --auto-approve and without a terminal, apply changes nothing', async () => {
      const dir = await writeTree({ ...BASE, 'a.yaml': definition('refused') });
      const before = await serial();
      assert.equal(before, 0);
      const r = await cli('apply', dir);
      assert.equal(r.code, 1);
      assert.match(
        r.stderr,
        /apply needs approval: run it in a terminal and answer yes, or pass --auto-approve; nothing was changed/,
      );
      assert.equal(await serial(), before);
    });

    test('a saved plan is applied exactly once, and refused when stale or edited', async () => {
      const dir = await writeTree({ ...BASE, 'a.yaml': definition('saved') });
      const file = join(dir, '..', `plan-${backend}.json`);
      const plan = await cli('plan', dir, '--out', file);
      assert.equal(plan.code, 0, plan.stderr);
      assert.match(plan.stderr, /Saved the plan to/);
      const edited = JSON.parse(readFileSync(file, 'utf8'));
      edited.plan.changes = [];
      writeFileSync(`${file}.edited`, JSON.stringify(edited));
      const tampered = await cli('apply', `${file}.edited`);
      assert.equal(tampered.code, 1);
      assert.match(tampered.stderr, /was modified after it was saved/);
      const first = await cli('apply', file);
      assert.equal(first.code, 0, first.stderr);
      const second = await cli('apply', file);
      assert.equal(second.code, 1);
      assert.match(
        second.stderr,
        /Saved plan is stale: the catalogue was changed by another apply after the plan was made/,
      );
    });

    postgresOnly('deleting an object that prevents it is an error, and nothing is changed', async () => {
      const kept = definition('kept', 'database: shop\n  lifecycle: { preventDestroy: true }');
      const dir = await writeTree({ ...BASE, 'a.yaml': kept });
      assert.equal((await cli('apply', dir, '--auto-approve')).code, 0);
      const before = await serial();
      writeFileSync(join(dir, 'a.yaml'), definition('other'));
      const r = await cli('apply', dir, '--auto-approve');
      assert.equal(r.code, 1);
      assert.match(r.stdout, /Error: BackupDefinition\/kept cannot be destroyed/);
      assert.equal(await serial(), before);
    });

    postgresOnly('a rename with spec.previousName is a move, not a delete and a create', async () => {
      const dir = await writeTree({ ...BASE, 'a.yaml': definition('old-name') });
      await cli('apply', dir, '--auto-approve');
      writeFileSync(
        join(dir, 'a.yaml'),
        definition('new-name', 'database: shop\n  schedule: "30 2 * * *"\n  previousName: old-name'),
      );
      const plan = await cli('plan', dir, '-o', 'json');
      assert.equal(plan.code, 0, plan.stderr);
      const json = JSON.parse(plan.stdout);
      assert.deepEqual(Object.keys(json), [
        'format_version',
        'catalogue',
        'revision',
        'applyable',
        'summary',
        'changes',
        'unmanaged',
        'errors',
        'warnings',
      ]);
      assert.equal(json.format_version, '1.0');
      assert.deepEqual(json.warnings, [], 'no policies, nothing to warn about');
      const moves = json.changes.filter((c: { actions: string[] }) => c.actions.includes('move'));
      assert.deepEqual(
        moves.map((c: { address: string; previous_address: string }) => [c.previous_address, c.address]),
        [['BackupDefinition/old-name', 'BackupDefinition/new-name']],
      );
      const text = await cli('plan', dir);
      assert.match(text.stdout, /# BackupDefinition\/old-name has moved to BackupDefinition\/new-name\n/);
    });

    postgresOnly('an empty manifest set deletes nothing unless --allow-empty says so', async () => {
      const empty = await writeTree({ 'README.md': 'no manifests here\n' });
      const refused = await cli('plan', empty);
      assert.equal(refused.code, 1);
      assert.match(refused.stderr, /no manifest files/);
      await cli('apply', 'manifests', '--auto-approve');
      const allowed = await cli('plan', empty, '--allow-empty', '--detailed-exitcode');
      assert.equal(allowed.code, 2, allowed.stderr);
      assert.match(allowed.stdout, /# BackupServer\/local will be destroyed \(its dumps are kept/);
      assert.match(allowed.stdout, /Plan: 0 to add, 0 to change, 4 to destroy\./);
    });

    postgresOnly('-o markdown puts the summary first and warns about destroyed objects', async () => {
      await cli('apply', 'manifests', '--auto-approve');
      const dir = await writeTree(BASE);
      const r = await cli('plan', dir, '-o', 'markdown');
      assert.match(r.stdout, /^### pgbackman plan\n\n/);
      assert.match(r.stdout, /\*\*Plan: \d+ to add, \d+ to change, \d+ to destroy\.\*\*/);
      assert.match(r.stdout, /> \[!WARNING\]\n> This plan \*\*destroys\*\*/);
      assert.match(r.stdout, /<details><summary>Details<\/summary>\n\n```diff\n/);
    });

    postgresOnly('names with quotes and non-ASCII characters survive a round trip', async () => {
      const dir = await writeTree({
        ...BASE,
        'a.yaml': definition('quoted', `database: "O'Brien \\"café\\" データ"`),
      });
      const r = await cli('apply', dir, '--auto-approve');
      assert.equal(r.code, 0, r.stderr + r.stdout);
      const again = await cli('plan', dir, '--detailed-exitcode');
      assert.equal(again.code, 0, again.stdout);
    });

    postgresOnly(
      'secrets never appear in a plan: passwordFrom names a variable, its value is never read',
      async () => {
        const node = BASE['nodes.yaml'].replace(
          '  host: pg01.example.com',
          '  host: pg01.example.com\n  passwordFrom: { env: PGBACKMAN_SECRET_TEST }',
        );
        const dir = await writeTree({ ...BASE, 'nodes.yaml': node });
        for (const format of ['text', 'json', 'markdown']) {
          const r = await runCli(['--catalogue', catalogue.location, 'plan', dir, '-o', format], {
            env: { PGBACKMAN_SECRET_TEST: 'hunter2-do-not-print' },
          });
          assert.equal(r.code, 0, r.stderr);
          assert.match(r.stdout, /PGBACKMAN_SECRET_TEST/);
          assert.doesNotMatch(r.stdout + r.stderr, /hunter2-do-not-print/);
        }
      },
    );
  });
}
