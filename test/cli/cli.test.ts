import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { REPO_ROOT, runCli } from '../support/run-cli.ts';

const { version } = JSON.parse(readFileSync(`${REPO_ROOT}/package.json`, 'utf8'));

describe('the pgbackman command', () => {
  test('--version and -V print the package version', async () => {
    for (const flag of ['--version', '-V']) {
      const r = await runCli([flag]);
      assert.deepEqual(r, { code: 0, stdout: `${version}\n`, stderr: '' });
    }
  });

  test('--help lists the commands', async () => {
    const r = await runCli(['--help']);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /validate \[options\] \[paths\.\.\.\]/);
    assert.match(r.stdout, /schema \[kind\]/);
  });

  test('a wrong command line exits 64 with a message on stderr and nothing on stdout', async () => {
    for (const args of [
      ['validate', '--bogus'],
      ['frobnicate'],
      ['validate', '-o', 'xml'],
      ['schema', 'Nope'],
    ]) {
      const r = await runCli(args);
      assert.equal(r.code, 64, `${args.join(' ')}: ${r.stderr}`);
      assert.equal(r.stdout, '');
      assert.match(r.stderr, /error/);
    }
  });

  test('colour is used only on a terminal: piped output has no escape codes even without NO_COLOR', async () => {
    const r = await runCli(['validate', 'test/cli'], { env: { NO_COLOR: '' } });
    assert.equal(r.code, 1);
    assert.doesNotMatch(r.stderr, /\u001b\[/);
  });
});
