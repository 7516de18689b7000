import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseSmtpUrl, parseWebhookPrefix, webhookAllowed } from '../../src/alerts/alert-channels.ts';
import { type AlertFacts, emailOf, logTailOf, webhookBodyOf } from '../../src/alerts/alert-message.ts';
import { eventOfRun, heldBack, recipientsOf, retryDelayMs } from '../../src/alerts/alert-rules.ts';

describe('which run ends raise an alert', () => {
  const cases = [
    { status: 'FAILED', previous: null, event: 'failed' },
    { status: 'FAILED', previous: 'FAILED', event: 'failed' },
    { status: 'FAILED', previous: 'SUCCEEDED', event: 'failed' },
    { status: 'SUCCEEDED', previous: 'FAILED', event: 'recovered' },
    { status: 'SUCCEEDED_PARTIAL', previous: 'FAILED', event: 'recovered' },
    { status: 'SUCCEEDED', previous: 'SUCCEEDED', event: undefined },
    { status: 'SUCCEEDED', previous: null, event: undefined },
    { status: 'SUCCEEDED', previous: 'MISSED', event: undefined },
    { status: 'MISSED', previous: 'SUCCEEDED', event: 'missed' },
  ] as const;
  for (const c of cases)
    test(`${c.status} after ${c.previous ?? 'no run'}: ${c.event ?? 'nothing'}`, () => {
      assert.equal(eventOfRun(c.status, c.previous), c.event);
    });
  test('a restore test: verify_failed when it failed, nothing when it passed, whatever came before', () => {
    assert.equal(eventOfRun('FAILED', null, 'restore-test'), 'verify_failed');
    assert.equal(eventOfRun('FAILED', 'FAILED', 'restore-test'), 'verify_failed');
    assert.equal(eventOfRun('SUCCEEDED', 'FAILED', 'restore-test'), undefined);
  });
});

describe('who hears of an event', () => {
  test("the definition's, node's and server's notify are joined; a recipient named twice is told once, at the shortest interval", () => {
    const r = recipientsOf(
      [
        { email: ['dba@example.org'], minInterval: '1h' },
        { email: ['dba@example.org', 'node-team@example.org'], minInterval: '10m' },
        { webhooks: [{ url: 'https://hooks.example.org/x', format: 'slack' }] },
      ],
      'failed',
    );
    assert.deepEqual(
      r.map((x) => [x.channel, x.target, x.minIntervalMs]),
      [
        ['email', 'dba@example.org', 600_000],
        ['email', 'node-team@example.org', 600_000],
        ['webhook', 'https://hooks.example.org/x', 1_800_000],
      ],
    );
  });

  test('a block that lists its events hears only of those', () => {
    const blocks = [{ email: ['oncall@example.org'], events: ['recovered'] as ['recovered'] }, undefined];
    assert.deepEqual(recipientsOf(blocks, 'failed'), []);
    assert.equal(recipientsOf(blocks, 'recovered').length, 1);
  });
});

describe('the rate limit', () => {
  const now = new Date('2026-12-04T12:00:00Z');
  const cases = [
    { event: 'failed', last: null, held: false },
    { event: 'failed', last: '2026-12-04T11:45:00Z', held: true },
    { event: 'failed', last: '2026-12-04T11:29:59Z', held: false },
    { event: 'recovered', last: '2026-12-04T11:59:00Z', held: false },
  ] as const;
  for (const c of cases)
    test(`${c.event}, last queued ${c.last ?? 'never'}, 30m interval: ${c.held ? 'held back' : 'sent'}`, () => {
      assert.equal(heldBack(c.event, c.last === null ? null : new Date(c.last), now, 1_800_000), c.held);
    });

  test('retries double from the base, at most an hour apart', () => {
    assert.deepEqual(
      [1, 2, 3, 10, 30].map((n) => retryDelayMs(n, 30_000)),
      [30_000, 60_000, 120_000, 3_600_000, 3_600_000],
    );
  });
});

describe('the operator decides where alerts may go', () => {
  test('a webhook is allowed only under a prefix, at a boundary, without credentials', () => {
    const prefixes = [
      parseWebhookPrefix('https://hooks.example.org'),
      parseWebhookPrefix('http://127.0.0.1:8080/in/'),
    ];
    assert.equal(webhookAllowed('https://hooks.example.org/services/T1/B2', prefixes), true);
    assert.equal(webhookAllowed('https://hooks.example.org.evil.net/x', prefixes), false);
    assert.equal(webhookAllowed('https://user:pw@hooks.example.org/x', prefixes), false);
    assert.equal(webhookAllowed('http://127.0.0.1:8080/in/hook', prefixes), true);
    assert.equal(webhookAllowed('http://127.0.0.1:8080/admin', prefixes), false);
    assert.equal(webhookAllowed('http://169.254.169.254/latest/meta-data', prefixes), false);
    assert.equal(webhookAllowed('not a url', prefixes), false);
  });

  test('--smtp takes no password in the URL: it comes from PGBACKMAN_SMTP_PASSWORD', () => {
    assert.throws(() => parseSmtpUrl('smtp://me:secret@mail.example.org', {}), /PGBACKMAN_SMTP_PASSWORD/);
    assert.throws(() => parseSmtpUrl('http://mail.example.org', {}), /not smtp: or smtps:/);
    const s = parseSmtpUrl('smtp://me@mail.example.org?starttls=required', { PGBACKMAN_SMTP_PASSWORD: 'pw' });
    assert.deepEqual(
      [s.host, s.port, s.secure, s.requireTLS, s.user, s.password],
      ['mail.example.org', 587, false, true, 'me', 'pw'],
    );
    assert.equal(parseSmtpUrl('smtps://mail.example.org', {}).port, 465);
  });
});

describe('what a message says', () => {
  const facts: AlertFacts = {
    event: 'failed',
    kind: 'BackupDefinition',
    definition: 'shop-nightly',
    server: 'backup01',
    node: 'pg-prod01',
    database: 'shop',
    runId: '7d1c0e4e-0000-4000-8000-000000000001',
    status: 'FAILED',
    error: 'pg_dump exited 1',
    errorCode: 'DUMP_FAILED',
    logTail: logTailOf('connecting with password=hunter2\npg_dump: error: connection refused'),
    durationMs: 1200,
    at: '2026-12-04T12:00:00.000Z',
    statusUrl: 'https://backup01.example.org/',
  };

  test('the e-mail names the definition, node, database and error, links the status page, and hides a password', () => {
    const { subject, text } = emailOf(facts);
    assert.equal(subject, '[pgbackman] FAILED: BackupDefinition/shop-nightly (database shop on pg-prod01)');
    assert.match(text, /Error: {6}\[DUMP_FAILED\] pg_dump exited 1/);
    assert.match(text, /pg_dump: error: connection refused/);
    assert.match(text, /Status page: https:\/\/backup01\.example\.org\//);
    assert.doesNotMatch(text, /hunter2/);
  });

  test('a webhook gets the facts as JSON, or a Slack text', () => {
    const json = JSON.parse(webhookBodyOf(facts, 'json'));
    assert.equal(json.version, 1);
    assert.equal(json.definition, 'shop-nightly');
    assert.equal(json.event, 'failed');
    const slack = JSON.parse(webhookBodyOf({ ...facts, event: 'recovered' }, 'slack'));
    assert.match(slack.text, /^:white_check_mark: \*RECOVERED: BackupDefinition\/shop-nightly/);
  });
});
