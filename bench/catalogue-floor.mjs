// The floor under `pgbackman plan` on a PostgreSQL catalogue: find the manifest files, read them, parse every
// document with js-yaml (the parser of validate's fast path), then read every object of the catalogue in ONE
// `select` with `pg`, and exit. No schema, no semantic checks, no diff. Plain JavaScript, so it runs under
// bare `node` without a TypeScript loader whose start-up would inflate the floor.
//
//   node bench/catalogue-floor.mjs DIR postgres://...
//
// Prints "N documents in M files, R rows" on stdout; exits 1 when a file fails to parse or the query fails.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { CORE_SCHEMA, loadAll } from 'js-yaml';
import pg from 'pg';

const [root, url] = process.argv.slice(2);
if (root === undefined || url === undefined) {
  process.stderr.write('usage: node bench/catalogue-floor.mjs DIR postgres://...\n');
  process.exit(2);
}

/** The six object tables, as pgbackman's readState reads them (src/catalogue/tables.ts). */
const TABLES = [
  'backup_servers',
  'pgsql_nodes',
  'backup_policies',
  'backup_definitions',
  'snapshot_definitions',
  'restore_definitions',
];
const SQL = TABLES.map((t) => `select name, spec, labels, annotations, spec_hash from pgbackman.${t}`).join(
  ' union all ',
);

/** Every *.yaml / *.yml under `dir`, skipping hidden entries and node_modules, as validate does. */
function walk(dir, out) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name.startsWith('.') || entry.name === 'node_modules') continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) walk(path, out);
    else if (/\.ya?ml$/i.test(entry.name)) out.push(path);
  }
  return out;
}

try {
  const files = statSync(root).isDirectory() ? walk(root, []).sort() : [root];
  let documents = 0;
  for (const file of files)
    documents += loadAll(readFileSync(file, 'utf8'), undefined, {
      filename: file,
      schema: CORE_SCHEMA,
    }).length;
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  let rows;
  try {
    ({ rows } = await client.query(SQL));
  } finally {
    await client.end();
  }
  process.stdout.write(`${documents} documents in ${files.length} files, ${rows.length} rows\n`);
} catch (err) {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
}
