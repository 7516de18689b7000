/**
 * Runs `pgbackman validate` on every case of the bad-input corpus (test/corpus/<case>/) and checks that each
 * is refused the way a user deserves: exit 1, a diagnostic naming the file, line (and column) and the problem,
 * no stack trace, one diagnostic per stderr line, and the summary line on stdout.
 *
 * A case is a folder with its manifest file(s) and an expect.json:
 *   { "file": "manifest.yaml", "line": 7, "column": 3, "message": "a distinctive substring" }
 * A case whose file is too large to commit says how to make it:
 *   { ..., "generate": { "file": "huge.yaml", "bytes": 52428800 } }
 * and is generated into a temporary directory at run time.
 *
 * Needs the compiled CLI: run `npx tsc -p tsconfig.json` first.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CLI = join(ROOT, 'bin', 'pgbackman.js');
const CORPUS = join(ROOT, 'test', 'corpus');
const MIN_CASES = 60;
/** A hang guard, not a performance assertion: the slowest case's time is printed at the end instead. */
const HANG_GUARD_MS = 10_000;
/** Files over this size are generated at run time, never committed. */
const MAX_COMMITTED_BYTES = 2 * 1024 * 1024;
/** A few at a time: enough to keep the suite fast, few enough that a hang guard still means something. */
const CONCURRENCY = 4;

interface Expectation {
  readonly file: string;
  readonly line: number;
  readonly column?: number;
  readonly message: string;
  readonly generate?: { readonly file: string; readonly bytes: number };
}

interface Case {
  readonly name: string;
  readonly expect: Expectation;
}

interface RunResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly ms: number;
  readonly timedOut: boolean;
}

interface CaseRun {
  /** The directory given to `validate`, as the CLI prints it (relative to the repository root when it can be). */
  readonly dir: string;
  readonly result: RunResult;
}

const SUMMARY = /^\d+ resources? in \d+ files?: \d+ valid, \d+ invalid(?: \([^)\n]*\))?$/;
const STACK_TRACE = [
  /^\s+at /m,
  /internal error/i,
  /TypeError/,
  /ReferenceError/,
  /RangeError/,
  /SyntaxError/,
];
/** Any control character but the newline that ends each line of output. */
const CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/;

function parseExpectation(name: string, text: string): Expectation {
  const raw: unknown = JSON.parse(text);
  const where = `test/corpus/${name}/expect.json`;
  assert.ok(typeof raw === 'object' && raw !== null && !Array.isArray(raw), `${where}: not an object`);
  const e = raw as Record<string, unknown>;
  assert.ok(typeof e.file === 'string' && e.file !== '', `${where}: "file" must be a non-empty string`);
  assert.ok(
    Number.isInteger(e.line) && (e.line as number) >= 1,
    `${where}: "line" must be a positive integer`,
  );
  assert.ok(
    e.column === undefined || (Number.isInteger(e.column) && (e.column as number) >= 1),
    `${where}: "column" must be a positive integer`,
  );
  assert.ok(
    typeof e.message === 'string' && e.message !== '',
    `${where}: "message" must be a non-empty string`,
  );
  const known = new Set(['file', 'line', 'column', 'message', 'generate']);
  for (const key of Object.keys(e)) assert.ok(known.has(key), `${where}: unknown key "${key}"`);
  const expectation: Expectation = {
    file: e.file as string,
    line: e.line as number,
    message: e.message as string,
    ...(e.column === undefined ? {} : { column: e.column as number }),
  };
  if (e.generate === undefined) return expectation;
  const g = e.generate as Record<string, unknown>;
  assert.ok(
    typeof g.file === 'string' && Number.isInteger(g.bytes),
    `${where}: "generate" needs file and bytes`,
  );
  return { ...expectation, generate: { file: g.file as string, bytes: g.bytes as number } };
}

async function loadCases(): Promise<Case[]> {
  const entries = await readdir(CORPUS, { withFileTypes: true });
  const cases: Case[] = [];
  for (const entry of entries) {
    if (!entry.isDirectory()) continue;
    const text = await readFile(join(CORPUS, entry.name, 'expect.json'), 'utf8');
    cases.push({ name: entry.name, expect: parseExpectation(entry.name, text) });
  }
  return cases.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** Runs the CLI with an argument array (no shell), plain output, and a hang guard. */
function runCli(args: readonly string[]): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, [CLI, ...args], {
      cwd: ROOT,
      env: { ...process.env, NO_COLOR: '1', PGBACKMAN_DEBUG: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, HANG_GUARD_MS);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({
        code,
        signal,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
        ms: performance.now() - started,
        timedOut,
      });
    });
  });
}

/** At most `limit` promises of `tasks` run at once; each result is available as soon as its task ends. */
function limited<T>(tasks: readonly (() => Promise<T>)[], limit: number): Promise<T>[] {
  let next = 0;
  const starters: (() => void)[] = [];
  const results = tasks.map(
    (task) =>
      new Promise<T>((resolve, reject) => {
        starters.push(() => {
          task()
            .then(resolve, reject)
            .finally(() => starters[next++]?.());
        });
      }),
  );
  for (; next < Math.min(limit, starters.length); next++) starters[next]?.();
  return results;
}

const temporaryDirs: string[] = [];

/** The directory to validate: the case folder itself, or a temporary one holding its generated file. */
async function prepare(c: Case): Promise<string> {
  const folder = join(CORPUS, c.name);
  const { generate } = c.expect;
  if (generate === undefined) return relative(ROOT, folder);
  const dir = await mkdtemp(join(tmpdir(), `pgbackman-corpus-${c.name}-`));
  temporaryDirs.push(dir);
  await writeFile(join(dir, generate.file), generatedContent(generate.bytes));
  return dir;
}

/** Exactly `bytes` bytes of plausible manifests, so that only a size limit can keep the validator fast. */
function generatedContent(bytes: number): Buffer {
  const unit = Buffer.from(
    [
      '---',
      'apiVersion: pgbackman.io/v1',
      'kind: BackupDefinition',
      'metadata:',
      '  name: generated',
      'spec:',
      '  server: backup01',
      '  node: prod01',
      '  database: shop',
      '  schedule: "30 2 * * *"',
      '  retention: { period: 14d, redundancy: 3 }',
      '',
    ].join('\n'),
  );
  return Buffer.alloc(bytes, unit);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function show(result: RunResult): string {
  return `exit ${String(result.code)}${result.signal ? ` (signal ${result.signal})` : ''}\n--- stderr ---\n${result.stderr}--- stdout ---\n${result.stdout}`;
}

function check(c: Case, run: CaseRun): void {
  const { dir, result } = run;
  const { expect } = c;
  assert.equal(result.timedOut, false, `no answer within ${HANG_GUARD_MS} ms\n${show(result)}`);
  for (const pattern of STACK_TRACE) {
    assert.doesNotMatch(result.stderr, pattern, `stack trace or crash on stderr\n${show(result)}`);
    assert.doesNotMatch(result.stdout, pattern, `stack trace or crash on stdout\n${show(result)}`);
  }
  assert.equal(result.code, 1, `expected exit 1\n${show(result)}`);

  const file = `${dir}/${expect.file}`;
  const position = `${expect.line}:${expect.column === undefined ? '\\d+' : expect.column}`;
  const wanted = new RegExp(
    `^${escapeRegExp(file)}:${position}: error: .*${escapeRegExp(expect.message)}`,
    'm',
  );
  const where = `${file}:${expect.line}${expect.column === undefined ? '' : `:${expect.column}`}`;
  assert.match(
    result.stderr,
    wanted,
    `expected a diagnostic at ${where} containing ${JSON.stringify(expect.message)}\n${show(result)}`,
  );

  // One diagnostic per line, each about a file of this case: no raw newline or terminal escape from the input.
  const diagnostic = new RegExp(`^${escapeRegExp(dir)}/[^:]+:\\d+:\\d+: (error|warning): `);
  for (const line of result.stderr.split('\n').filter((l) => l !== '')) {
    assert.match(
      line,
      diagnostic,
      `stderr line is not a diagnostic: ${JSON.stringify(line)}\n${show(result)}`,
    );
  }
  assert.doesNotMatch(result.stderr, CONTROL, `raw control character on stderr\n${show(result)}`);
  assert.doesNotMatch(result.stdout, CONTROL, `raw control character on stdout\n${show(result)}`);

  assert.ok(result.stdout.endsWith('\n'), `stdout does not end with a line\n${show(result)}`);
  const last = result.stdout.trimEnd().split('\n').at(-1) ?? '';
  assert.match(last, SUMMARY, `stdout does not end with the summary line\n${show(result)}`);
}

const cases = await loadCases();
const runs = limited(
  cases.map((c) => async (): Promise<CaseRun> => {
    const dir = await prepare(c);
    return { dir, result: await runCli(['validate', dir]) };
  }),
  CONCURRENCY,
);
const timings: { name: string; dir: string; ms: number }[] = [];

after(async () => {
  await Promise.allSettled(runs);
  const slowest = [...timings].sort((a, b) => b.ms - a.ms)[0];
  if (slowest !== undefined) {
    // Run in parallel, a case also waits for the others; alone, it shows what a user would wait.
    const alone = await runCli(['validate', slowest.dir]);
    console.log(
      `bad-input corpus: ${timings.length} cases, ${CONCURRENCY} at a time; slowest: ${slowest.name}, ` +
        `${Math.round(slowest.ms)} ms wall time in the parallel run, ${Math.round(alone.ms)} ms run alone`,
    );
  }
  await Promise.all(temporaryDirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

describe('bad-input corpus', () => {
  test('the CLI is built', () => {
    assert.ok(existsSync(join(ROOT, 'dist', 'cli', 'main.js')), 'run `npx tsc -p tsconfig.json` first');
  });

  test(`holds at least ${MIN_CASES} cases`, () => {
    assert.ok(cases.length >= MIN_CASES, `only ${cases.length} cases in test/corpus`);
  });

  test('commits no file over 2 MB (large inputs are generated at run time)', async () => {
    for (const c of cases) {
      for (const entry of await readdir(join(CORPUS, c.name))) {
        const { size } = await stat(join(CORPUS, c.name, entry));
        assert.ok(size <= MAX_COMMITTED_BYTES, `test/corpus/${c.name}/${entry} is ${size} bytes`);
      }
      if (c.expect.generate === undefined)
        assert.ok(
          existsSync(join(CORPUS, c.name, c.expect.file)),
          `test/corpus/${c.name}: ${c.expect.file} is missing`,
        );
    }
  });

  test('manifests/ is valid (exit 0)', async () => {
    const result = await runCli(['validate', 'manifests']);
    assert.equal(result.code, 0, show(result));
    assert.equal(result.stderr, '', show(result));
    assert.match(result.stdout.trimEnd(), SUMMARY, show(result));
  });

  cases.forEach((c, i) => {
    test(c.name, async () => {
      const run = await runs[i];
      assert.ok(run !== undefined);
      timings.push({ name: c.name, dir: run.dir, ms: run.result.ms });
      check(c, run);
    });
  });
});
