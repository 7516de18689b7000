// The floor under `pgbackman validate`: find the same files, read them, parse every document into plain
// values, and nothing else (no schema, no references, no positions). Plain JavaScript, so it runs under bare
// `node` without a TypeScript loader whose start-up would inflate the floor.
//
//   node bench/parse-floor.mjs [--parser yaml|js-yaml] DIR
//
// `yaml` (the default): `parseAllDocuments` + `toJS()`, the library of the precise path that turns JSON
// pointers into file:line:column. `js-yaml`: `loadAll`, the fast path validate takes for files without errors.
// Prints "N documents in M files" on stdout; exits 1 when a file fails to parse.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

const args = process.argv.slice(2);
const at = args.indexOf('--parser');
const parser = at === -1 ? 'yaml' : args.splice(at, 2)[1];
const root = args[0];
if (root === undefined || (parser !== 'yaml' && parser !== 'js-yaml')) {
  process.stderr.write('usage: node bench/parse-floor.mjs [--parser yaml|js-yaml] DIR\n');
  process.exit(2);
}

/** @type {(text: string, file: string) => number} the number of documents parsed */
const parse =
  parser === 'yaml'
    ? await (async () => {
        const { parseAllDocuments } = await import('yaml');
        return (text, file) => {
          const docs = parseAllDocuments(text);
          const list = Array.isArray(docs) ? docs : [];
          for (const doc of list) {
            if (doc.errors.length > 0) throw new Error(`${file}: ${doc.errors[0]?.message}`);
            doc.toJS();
          }
          return list.length;
        };
      })()
    : await (async () => {
        const { loadAll, CORE_SCHEMA } = await import('js-yaml');
        return (text, file) => loadAll(text, undefined, { filename: file, schema: CORE_SCHEMA }).length;
      })();

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

const files = statSync(root).isDirectory() ? walk(root, []).sort() : [root];
let documents = 0;
try {
  for (const file of files) documents += parse(readFileSync(file, 'utf8'), file);
} catch (err) {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
}
process.stdout.write(`${documents} documents in ${files.length} files (${parser})\n`);
