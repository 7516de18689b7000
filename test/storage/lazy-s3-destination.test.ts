import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { describe, test } from 'node:test';
import { promisify } from 'node:util';
import { REPO_ROOT } from '../support/run-cli.ts';

const exec = promisify(execFile);

/** Runs `body` as an ES module in a fresh Node process beside the built CLI; prints what it logs. */
async function inFreshProcess(body: string, env: NodeJS.ProcessEnv = {}): Promise<string[]> {
  const script = `
    import { createRequire } from 'node:module';
    const sdkLoaded = () => Object.keys(createRequire(import.meta.url).cache).some((k) => k.includes('@aws-sdk'));
    ${body}`;
  const { stdout } = await exec(process.execPath, ['--input-type=module', '-e', script], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...env },
  });
  return stdout.trim().split('\n');
}

describe('the AWS SDK (about 20 MiB of a process) is loaded only when a bucket is used', () => {
  test('a run, a restore and a verify load none of it until a bucket destination is called', async () => {
    const out = await inFreshProcess(`
      await import('./dist/backup/run-dump.js');
      await import('./dist/cli/commands/restore.js');
      await import('./dist/cli/commands/verify.js');
      const { openDestination } = await import('./dist/storage/open-destination.js');
      const d = openDestination({ name: 'offsite', s3: { region: 'eu-north-1', bucket: 'dumps', prefix: 'a/' } }, {}, '/nonexistent');
      console.log(sdkLoaded(), d.kind, d.where);
      d.close();
      console.log(await d.head('n1/x').then(() => 'answered', (e) => e.code), sdkLoaded());`);
    assert.deepEqual(out, ['false s3 s3://dumps/a/', 'INTERRUPTED false']);
  });

  test('a bucket called on: the SDK is loaded then, and the call answers', async () => {
    const out = await inFreshProcess(
      `
      const { openDestination } = await import('./dist/storage/open-destination.js');
      const d = openDestination({ name: 'offsite', s3: { endpoint: 'http://127.0.0.1:9', region: 'eu-north-1', bucket: 'dumps', forcePathStyle: true } }, process.env, '/nonexistent');
      const code = await d.list(10).then(() => 'listed', (e) => e.code);
      d.close();
      console.log(sdkLoaded(), code);`,
      { AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test' },
    );
    assert.deepEqual(out, ['true STORAGE_UNREACHABLE']);
  });
});
