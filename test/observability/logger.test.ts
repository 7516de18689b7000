import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { describe, test } from 'node:test';
import { PgbackmanError } from '../../src/errors.ts';
import { agentLogFormat, createLogger, type LoggerOptions } from '../../src/observability/logger.ts';
import { prettyLine } from '../../src/observability/pretty-destination.ts';

const SECRETS = [
  'hunter2',
  's3cr3t',
  'ghp_T0KEN',
  'conn-pass',
  'env-pass',
  'child-pass',
  'err-pass',
  'fmt-pass',
];

function capture(format: LoggerOptions['format']) {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (chunk: Buffer) => {
    text += chunk.toString();
  });
  return { logger: createLogger({ format, stream, level: 'debug' }), output: () => text };
}

function assertNoSecret(text: string) {
  for (const secret of SECRETS) assert.ok(!text.includes(secret), `${secret} leaked in:\n${text}`);
}

describe('secrets never reach the log', () => {
  test('JSON: fields, nested env, URLs and conninfo in messages and strings, errors, bindings', () => {
    const { logger, output } = capture('json');
    logger.info(
      { definition: 'shop', password: 'hunter2', node: { password: 's3cr3t', host: 'pg01' } },
      'fields',
    );
    logger.info({ job: { env: { PGPASSWORD: 'env-pass', PGHOST: 'pg01' } } }, 'nested env');
    logger.warn('catalogue postgres://backup:hunter2@db.example:5432/pgbackman unreachable, spooling');
    logger.info({ conninfo: "host=pg01 dbname=shop password='conn-pass' sslmode=verify-full" }, 'dumping');
    logger.info({ source: 'https://x-access-token:ghp_T0KEN@github.com/acme/manifests.git' }, 'fetched');
    logger.info('cloning https://ghp_T0KEN@github.com/acme/manifests.git into /var/lib/pgbackman/source');
    logger.error(
      { err: new PgbackmanError('NODE_REFUSED', 'pg01: password=err-pass rejected') },
      'run failed',
    );
    logger.child({ password: 'child-pass', run: 'r1' }).info('child');
    logger.info('connecting to %s', 'postgres://u:fmt-pass@h/db');
    const text = output();
    assertNoSecret(text);
    const lines = text
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.equal(lines.length, 9);
    // What is not a secret is left as it was.
    assert.deepEqual(lines[0], {
      ...lines[0],
      definition: 'shop',
      password: '[Redacted]',
      node: { password: '[Redacted]', host: 'pg01' },
      msg: 'fields',
    });
    assert.deepEqual(lines[1]?.job, { env: { PGPASSWORD: '[Redacted]', PGHOST: '[Redacted]' } });
    assert.equal(
      lines[2]?.msg,
      'catalogue postgres://backup:***@db.example:5432/pgbackman unreachable, spooling',
    );
    assert.equal(lines[3]?.conninfo, 'host=pg01 dbname=shop password=*** sslmode=verify-full');
    assert.equal(lines[4]?.source, 'https://x-access-token:***@github.com/acme/manifests.git');
    assert.equal(
      lines[5]?.msg,
      'cloning https://***@github.com/acme/manifests.git into /var/lib/pgbackman/source',
    );
    const err = lines[6]?.err as { message: string; code: string; stack: string };
    assert.equal(err.message, 'pg01: password=*** rejected');
    assert.equal(err.code, 'NODE_REFUSED');
    assert.match(err.stack, /PgbackmanError: pg01: password=\*\*\* rejected/);
    assert.equal(lines[7]?.run, 'r1');
    assert.equal(lines[8]?.msg, 'connecting to postgres://u:***@h/db');
    assert.equal(lines[8]?.level, 30);
    assert.equal(typeof lines[8]?.pid, 'number');
  });

  test('secret keys at any depth, any case; a key that only names a secret file is kept', () => {
    const { logger, output } = capture('json');
    logger.info({
      a: { b: { c: { db_password: 'hunter2', passwordFile: '/etc/pgbackman/pg01.pass' } } },
      request: { headers: { Authorization: 'Bearer ghp_T0KEN', accept: 'text/plain' } },
      steps: [{ env: { GIT_TOKEN: 's3cr3t' } }],
    });
    assertNoSecret(output());
    assert.deepEqual(JSON.parse(output()), {
      ...JSON.parse(output()),
      a: { b: { c: { db_password: '[Redacted]', passwordFile: '/etc/pgbackman/pg01.pass' } } },
      request: { headers: { Authorization: '[Redacted]', accept: 'text/plain' } },
      steps: [{ env: { GIT_TOKEN: '[Redacted]' } }],
    });
  });

  test('human (the CLI): the same lines as before, secrets hidden', () => {
    const { logger, output } = capture('human');
    logger.info('catalogue postgres://backup:hunter2@db/pgbackman');
    logger.warn({ password: 'hunter2' }, 'PGPASSWORD=s3cr3t is set');
    logger.error({ code: 'NODE_UNREACHABLE' }, 'pg01: connection refused');
    assertNoSecret(output());
    assert.equal(
      output(),
      'note: catalogue postgres://backup:***@db/pgbackman\nwarning: PGPASSWORD=*** is set\nerror[NODE_UNREACHABLE]: pg01: connection refused\n',
    );
  });

  test('pretty (the agent on a terminal): HH:MM:SS LEVEL msg key=value, secrets hidden', () => {
    const { logger, output } = capture('pretty');
    logger.info({ definition: 'shop', node: 'pg01', bytes: 1024, password: 'hunter2' }, 'run finished');
    logger.warn({ reason: 'catalogue down', url: 'postgres://u:s3cr3t@db/x' }, 'spooling');
    logger.error({ err: new Error('boom') }, 'run failed');
    const text = output();
    assertNoSecret(text);
    const lines = text.trimEnd().split('\n');
    assert.match(
      lines[0] ?? '',
      /^\d\d:\d\d:\d\d INFO {2}run finished definition=shop node=pg01 bytes=1024 password=\[Redacted\]$/,
    );
    assert.match(
      lines[1] ?? '',
      /^\d\d:\d\d:\d\d WARN {2}spooling reason="catalogue down" url=postgres:\/\/u:\*\*\*@db\/x$/,
    );
    assert.match(lines[2] ?? '', /^\d\d:\d\d:\d\d ERROR run failed err="boom"$/);
  });
});

describe('the agent log format', () => {
  test('pretty on a terminal, JSON otherwise (a pipe, a file, journald)', () => {
    assert.equal(agentLogFormat(Object.assign(new PassThrough(), { isTTY: true })), 'pretty');
    assert.equal(agentLogFormat(new PassThrough()), 'json');
  });

  test('a line that is not JSON is passed through as it is', () => {
    assert.equal(prettyLine('not json'), 'not json\n');
  });
});
