import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { AgentMetrics, type RunOutcome } from '../../src/observability/metrics.ts';
import { METRIC_TYPES } from '../support/metric-names.ts';
import { type Family, parsePromText, samplesOf } from '../support/prom-text.ts';

const run = (over: Partial<RunOutcome> = {}): RunOutcome => ({
  definition: 'shop-daily',
  node: 'pg01',
  database: 'shop',
  status: 'SUCCEEDED',
  durationMs: 42_000,
  bytes: 1_048_576,
  errorCode: null,
  finishedAt: new Date('2026-12-01T03:00:00Z'),
  ...over,
});

async function scrape(metrics: AgentMetrics): Promise<Map<string, Family>> {
  const { contentType, body } = await metrics.render();
  assert.match(contentType, /^text\/plain; version=0\.0\.4/);
  return parsePromText(body);
}

const value = (families: Map<string, Family>, name: string, where: Record<string, string> = {}) => {
  const found = samplesOf(families, name, where);
  assert.equal(found.length, 1, `one sample of ${name} ${JSON.stringify(where)}: ${JSON.stringify(found)}`);
  return found[0]?.value;
};

describe('the agent metrics a Prometheus scrape sees', () => {
  test('every contract metric with its type, valid exposition text, and Node default metrics', async () => {
    const families = await scrape(new AgentMetrics({ version: '1.2.3' }));
    for (const [name, type] of Object.entries(METRIC_TYPES))
      assert.equal(families.get(name)?.type, type, name);
    assert.ok(families.has('process_cpu_user_seconds_total'));
    assert.ok(families.has('nodejs_eventloop_lag_seconds'));
    assert.equal(value(families, 'pgbackman_build_info', { version: '1.2.3' }), 1);
  });

  test('each instance has its own registry: two agents in one process do not clash', async () => {
    const a = new AgentMetrics({ version: 'a' });
    const b = new AgentMetrics({ version: 'b' });
    a.setQueueDepth(3);
    assert.equal(value(await scrape(b), 'pgbackman_queue_depth'), 0);
    assert.equal(value(await scrape(a), 'pgbackman_queue_depth'), 3);
  });

  test('a success sets last-success time and size; a later failure leaves them and counts its reason', async () => {
    const m = new AgentMetrics({ version: 'x' });
    m.runStarted();
    m.runFinished(run());
    m.runStarted();
    m.runFinished(
      run({
        status: 'FAILED',
        bytes: null,
        errorCode: 'NODE_UNREACHABLE',
        finishedAt: new Date('2026-12-02T03:00:00Z'),
      }),
    );
    const f = await scrape(m);
    const series = { definition: 'shop-daily', node: 'pg01', database: 'shop' };
    const lastSuccess = 'pgbackman_backup_last_success_timestamp_seconds';
    assert.equal(value(f, lastSuccess, series), Date.parse('2026-12-01T03:00:00Z') / 1000);
    assert.equal(value(f, 'pgbackman_backup_bytes', series), 1_048_576);
    const failures = 'pgbackman_backup_failures_total';
    assert.equal(value(f, failures, { definition: 'shop-daily', reason: 'NODE_UNREACHABLE' }), 1);
    const count = 'pgbackman_backup_duration_seconds_count';
    assert.equal(samplesOf(f, 'pgbackman_backup_duration_seconds', { status: 'SUCCEEDED' }).length, 15);
    assert.equal(
      samplesOf(f, 'pgbackman_backup_duration_seconds', { status: 'FAILED' }).find((s) => s.name === count)
        ?.value,
      1,
    );
    assert.equal(value(f, 'pgbackman_backups_running'), 0);
  });

  test('a failure before any success leaves no last-success series; a failure without a code is INTERNAL', async () => {
    const m = new AgentMetrics({ version: 'x' });
    m.runFinished(run({ status: 'FAILED', errorCode: null }));
    const f = await scrape(m);
    assert.deepEqual(samplesOf(f, 'pgbackman_backup_last_success_timestamp_seconds'), []);
    assert.equal(value(f, 'pgbackman_backup_failures_total', { reason: 'INTERNAL' }), 1);
  });

  test('a CLUSTER dump is labelled database=""; durations fall in buckets from 1 s to 6 h', async () => {
    const m = new AgentMetrics({ version: 'x' });
    m.runFinished(run({ definition: 'all', database: undefined, durationMs: 5 * 3600_000 }));
    const f = await scrape(m);
    assert.equal(value(f, 'pgbackman_backup_bytes', { definition: 'all', database: '' }), 1_048_576);
    const buckets = samplesOf(f, 'pgbackman_backup_duration_seconds', { definition: 'all' })
      .filter((s) => s.name.endsWith('_bucket'))
      .map((s) => [s.labels.le, s.value]);
    assert.deepEqual(buckets.slice(0, 1), [['1', 0]]);
    assert.deepEqual(buckets.slice(-3), [
      ['14400', 0],
      ['21600', 1],
      ['+Inf', 1],
    ]);
  });

  test('running, queue depth, spool records and catalogue up are what the agent last said', async () => {
    const m = new AgentMetrics({ version: 'x' });
    m.runStarted();
    m.runStarted();
    m.setQueueDepth(4);
    m.setSpoolRecords(7);
    m.setCatalogueUp(true);
    let f = await scrape(m);
    assert.equal(value(f, 'pgbackman_backups_running'), 2);
    assert.equal(value(f, 'pgbackman_queue_depth'), 4);
    assert.equal(value(f, 'pgbackman_spool_records'), 7);
    assert.equal(value(f, 'pgbackman_catalogue_up'), 1);
    m.setCatalogueUp(false);
    f = await scrape(m);
    assert.equal(value(f, 'pgbackman_catalogue_up'), 0);
  });

  test('reconcile conditions: exactly one status is 1 for each type, through every change', async () => {
    const m = new AgentMetrics({ version: 'x' });
    const check = async (want: Record<string, string>) => {
      const f = await scrape(m);
      for (const type of ['Ready', 'Reconciling', 'Stalled']) {
        const ones = samplesOf(f, 'pgbackman_reconcile_condition', { type }).filter((s) => s.value === 1);
        assert.deepEqual(
          ones.map((s) => s.labels.status),
          [want[type]],
          type,
        );
        assert.equal(samplesOf(f, 'pgbackman_reconcile_condition', { type }).length, 3);
      }
    };
    await check({ Ready: 'Unknown', Reconciling: 'Unknown', Stalled: 'Unknown' });
    m.reconciled({ conditions: { Ready: 'False', Reconciling: 'True', Stalled: 'False' } });
    await check({ Ready: 'False', Reconciling: 'True', Stalled: 'False' });
    m.reconciled({ conditions: { Ready: 'False', Reconciling: 'False', Stalled: 'True' } });
    await check({ Ready: 'False', Reconciling: 'False', Stalled: 'True' });
  });

  test('the source revision series is replaced, not added to; the last reconcile success is kept', async () => {
    const m = new AgentMetrics({ version: 'x' });
    const ready = { Ready: 'True', Reconciling: 'False', Stalled: 'False' } as const;
    m.reconciled({ conditions: ready, revision: 'main@sha1:aaaa', succeededAt: new Date(1_000_000) });
    m.reconciled({ conditions: ready, revision: 'main@sha1:bbbb' });
    const f = await scrape(m);
    assert.deepEqual(
      samplesOf(f, 'pgbackman_source_revision_info').map((s) => [s.labels.revision, s.value]),
      [['main@sha1:bbbb', 1]],
    );
    assert.equal(value(f, 'pgbackman_reconcile_last_success_timestamp_seconds'), 1000);
  });

  test('retainDefinitions drops the series of definitions deleted from the manifests', async () => {
    const m = new AgentMetrics({ version: 'x' });
    m.runFinished(run());
    m.runFinished(run({ definition: 'gone' }));
    m.runFinished(run({ definition: 'gone', status: 'FAILED', errorCode: 'DUMP_FAILED' }));
    await m.retainDefinitions(['shop-daily']);
    const f = await scrape(m);
    for (const name of Object.keys(METRIC_TYPES)) {
      assert.deepEqual(samplesOf(f, name, { definition: 'gone' }), [], name);
    }
    assert.equal(value(f, 'pgbackman_backup_bytes', { definition: 'shop-daily' }), 1_048_576);
  });
});
