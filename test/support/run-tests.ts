// `npm test`: starts a throwaway PostgreSQL (unless PGBACKMAN_TEST_PG names one), prepares the template
// database, then runs node's test runner on every test/**/*.test.ts (or the files/folders given).
import { spawn } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectEmbedded } from '../../src/catalogue/connect-embedded.ts';
import { prepareTemplate } from './test-database.ts';
import { deadlineMinutes, overran } from './test-deadline.ts';
import { startThrowawayPostgres, type ThrowawayPostgres } from './throwaway-postgres.ts';

function findTests(path: string): string[] {
  if (!statSync(path).isDirectory()) return [path];
  return readdirSync(path, { withFileTypes: true })
    .filter((e) => !e.name.startsWith('.') && e.name !== 'corpus')
    .flatMap((e) =>
      e.isDirectory()
        ? findTests(join(path, e.name))
        : e.name.endsWith('.test.ts')
          ? [join(path, e.name)]
          : [],
    )
    .sort();
}

/**
 * The slowest files (about 45-85 s each at three at once, measured), started first: the workers then end
 * together instead of one of them finishing a long file alone at the end.
 */
const SLOW_FIRST = [
  'test/retention/retention-cli.test.ts',
  'test/agent/sealed-offsite.test.ts',
  'test/encryption/encrypted-dumps.test.ts',
  'test/backup/run-lifetime.test.ts',
  'test/agent/fleet.test.ts',
  'test/restore/restore.test.ts',
  'test/storage/run-copies.test.ts',
  'test/storage/bucket-primary.test.ts',
  'test/restore/restore-timeout.test.ts',
  'test/manifest/bad-input-corpus.test.ts',
  'test/agent/agent.test.ts',
  'test/backup/run.test.ts',
  'test/catalogue/plan-apply.test.ts',
];
const rank = (f: string) => {
  const i = SLOW_FIRST.indexOf(f);
  return i === -1 ? SLOW_FIRST.length : i;
};

const args = process.argv.slice(2);
const files = (args.length > 0 ? args : ['test']).flatMap(findTests).sort((a, b) => rank(a) - rank(b));
let cluster: ThrowawayPostgres | undefined;
// Test files that use the AWS SDK themselves: its notice about Node versions after January 2027 is not a test's.
const env: NodeJS.ProcessEnv = {
  ...process.env,
  NO_COLOR: '1',
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
};
if (!env.PGBACKMAN_TEST_PG) {
  cluster = await startThrowawayPostgres('shared');
  env.PGBACKMAN_TEST_PG = cluster.url;
}
await prepareTemplate(env.PGBACKMAN_TEST_PG as string);
// One embedded catalogue per run, created and migrated here; test files copy its directory.
const embeddedDir = await mkdtemp(join(tmpdir(), 'pgbackman-embedded-template-'));
env.PGBACKMAN_TEST_EMBEDDED = join(embeddedDir, 'catalogue');
// Runs cache what they read from the catalogue: in the run's temp directory, not the checkout's .pgbackman/.
env.PGBACKMAN_CACHE = join(embeddedDir, 'job-cache');
const embedded = await connectEmbedded(env.PGBACKMAN_TEST_EMBEDDED, 'test template');
await embedded.close();

// A test file that hangs fails on its own after TEST_TIMEOUT_MS (node applies it to each file as a whole, the
// slowest taking about 100 s on a busy 2-CPU machine), and a file whose tests are done exits even if a handle
// is left open: CI gets a failure naming the file instead of running into its own time limit.
const TEST_TIMEOUT_MS = 600_000;
const child = spawn(
  process.execPath,
  [
    '--import',
    'tsx',
    '--test',
    '--test-reporter=spec',
    '--test-reporter-destination=stdout',
    // PGBACKMAN_TEST_TIMINGS=FILE: also a TAP report there, with each file's duration (what to trim first).
    ...(process.env.PGBACKMAN_TEST_TIMINGS
      ? ['--test-reporter=tap', `--test-reporter-destination=${process.env.PGBACKMAN_TEST_TIMINGS}`]
      : []),
    `--test-concurrency=${process.env.PGBACKMAN_TEST_CONCURRENCY ?? 3}`,
    `--test-timeout=${TEST_TIMEOUT_MS}`,
    '--test-force-exit',
    ...files,
  ],
  // Its own process group, so that the deadline below can stop every process the tests started.
  { stdio: 'inherit', env, detached: true },
);
const stop = () => child.kill('SIGTERM');
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
const deadline = setTimeout(
  () => void overran(child.pid as number, env.PGBACKMAN_TEST_PG as string),
  deadlineMinutes() * 60_000,
);
const code = await new Promise<number>((resolve) =>
  child.on('exit', (c, signal) => resolve(c ?? (signal ? 1 : 0))),
);
clearTimeout(deadline);
try {
  process.kill(-(child.pid as number), 'SIGKILL'); // whatever a test left running (an agent it never stopped)
} catch {
  // nothing left: the usual case
}
await cluster?.stop();
await rm(embeddedDir, { recursive: true, force: true });
process.exit(code);
