// Writes bench/.fixtures/manifests-23k-1pct/ (git-ignored): the 23k fixture with the schedule of every 100th
// BackupDefinition, counted in file order, set to one that no generated definition has: 200 of the 23,050
// manifests differ, everything else is byte for byte the same. Deterministic; skipped when up to date with
// the base fixture and this file.
//
//   node --import tsx bench/changed-fixture.ts [--force]
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  BENCH_DIR,
  ensureFixture,
  FIXTURE_DIR,
  FIXTURE_NAME,
  type FixtureStamp,
  REPO_ROOT,
} from './generate-fixture.ts';

export const CHANGED_DIR = join(BENCH_DIR, '.fixtures', `${FIXTURE_NAME}-1pct`);
/** Every this many BackupDefinitions, one is changed. */
export const CHANGE_EVERY = 100;
/** Not among the generator's schedules, so every changed definition really differs. */
export const CHANGED_SCHEDULE = '"7 7 * * *"';

const STAMP_FILE = '.fixture.json';
const DERIVER = createHash('sha256')
  .update(readFileSync(fileURLToPath(import.meta.url)))
  .digest('hex')
  .slice(0, 12);

export interface ChangedStamp {
  /** The base fixture's generator id. */
  readonly base: string;
  /** A hash of this file. */
  readonly deriver: string;
  /** How many BackupDefinitions were changed. */
  readonly changed: number;
  readonly files: number;
}

function readStamp(): ChangedStamp | undefined {
  try {
    return JSON.parse(readFileSync(join(CHANGED_DIR, STAMP_FILE), 'utf8')) as ChangedStamp;
  } catch {
    return undefined;
  }
}

/** The fixture's text with every CHANGE_EVERY-th BackupDefinition's schedule changed; `seen` counts across files. */
function changeFile(text: string, file: string, counter: { seen: number; changed: number }): string {
  const lines = text.split('\n');
  let pending = false;
  for (const [i, line] of lines.entries()) {
    if (line === '---') pending = false;
    else if (line === 'kind: BackupDefinition') pending = ++counter.seen % CHANGE_EVERY === 0;
    else if (pending && line.startsWith('  schedule: ')) {
      const changed = `  schedule: ${CHANGED_SCHEDULE}`;
      if (line === changed) throw new Error(`${file}:${i + 1}: already has schedule ${CHANGED_SCHEDULE}`);
      lines[i] = changed;
      counter.changed++;
      pending = false;
    }
  }
  if (pending) throw new Error(`${file}: a BackupDefinition to change has no schedule line`);
  return lines.join('\n');
}

/** Derives the 1% copy from the base fixture unless it is up to date; returns its description. */
export function ensureChangedFixture(
  base: FixtureStamp,
  options: { force?: boolean; log?: (line: string) => void } = {},
): ChangedStamp {
  const log = options.log ?? (() => {});
  const existing = readStamp();
  if (!options.force && existing?.base === base.generator && existing.deriver === DERIVER) {
    log(
      `fixture ${relative(REPO_ROOT, CHANGED_DIR)} is up to date (${existing.changed} definitions changed)`,
    );
    return existing;
  }
  const files = readdirSync(FIXTURE_DIR, { recursive: true, encoding: 'utf8' })
    .filter((f) => /\.ya?ml$/i.test(f) && !f.split(/[/\\]/).some((part) => part.startsWith('.')))
    .sort();
  const temp = `${CHANGED_DIR}.tmp-${process.pid}`;
  rmSync(temp, { recursive: true, force: true });
  const counter = { seen: 0, changed: 0 };
  for (const file of files) {
    const target = join(temp, file);
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, changeFile(readFileSync(join(FIXTURE_DIR, file), 'utf8'), file, counter));
  }
  const expected = Math.floor((base.counts.BackupDefinition ?? 0) / CHANGE_EVERY);
  if (counter.changed !== expected || counter.seen !== base.counts.BackupDefinition) {
    rmSync(temp, { recursive: true, force: true });
    throw new Error(
      `changed ${counter.changed} of ${counter.seen} BackupDefinitions, expected ${expected} of ${base.counts.BackupDefinition}`,
    );
  }
  const stamp: ChangedStamp = {
    base: base.generator,
    deriver: DERIVER,
    changed: counter.changed,
    files: files.length,
  };
  writeFileSync(join(temp, STAMP_FILE), `${JSON.stringify(stamp, null, 2)}\n`);
  rmSync(CHANGED_DIR, { recursive: true, force: true });
  renameSync(temp, CHANGED_DIR);
  log(
    `derived ${relative(REPO_ROOT, CHANGED_DIR)}: ${counter.changed} BackupDefinitions changed in ${files.length} files`,
  );
  return stamp;
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const log = (line: string) => console.log(line);
  ensureChangedFixture(ensureFixture({ log }), { force: process.argv.includes('--force'), log });
  if (!existsSync(CHANGED_DIR)) process.exitCode = 1;
}
