import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestDatabase, type TestDatabase } from './test-database.ts';

/** A catalogue for one test file, on either back end; `location` is what `--catalogue` takes. */
export interface TestCatalogue {
  readonly backend: Backend;
  readonly location: string;
  drop(): Promise<void>;
}

export type Backend = 'postgres' | 'embedded';

/** Both back ends run the same suites; PGBACKMAN_TEST_BACKENDS=postgres narrows it while developing. */
export const BACKENDS: readonly Backend[] = (process.env.PGBACKMAN_TEST_BACKENDS?.split(',') as
  | Backend[]
  | undefined) ?? ['postgres', 'embedded'];

/**
 * A migrated catalogue: a clone of the template database the runner migrated, or a copy of the embedded
 * catalogue it created once per run (opening a new PGlite costs seconds; copying its directory does not).
 */
export async function createTestCatalogue(backend: Backend, label: string): Promise<TestCatalogue> {
  if (backend === 'postgres') {
    const db: TestDatabase = await createTestDatabase(label);
    return { backend, location: db.url, drop: () => db.drop() };
  }
  const template = process.env.PGBACKMAN_TEST_EMBEDDED;
  if (!template) throw new Error('PGBACKMAN_TEST_EMBEDDED is not set: run the tests with `npm test`');
  const dir = await mkdtemp(join(tmpdir(), `pgbackman-embedded-${label}-`));
  const location = join(dir, 'catalogue');
  await cp(template, location, { recursive: true });
  return { backend, location, drop: () => rm(dir, { recursive: true, force: true }) };
}
