import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { StringTable } from '../../src/manifest/string-table.ts';

describe('the string table validation shares repeated values through', () => {
  test('every value comes back equal, however nested, whatever its type', () => {
    const long = 'x'.repeat(300);
    const doc = () => ({
      apiVersion: 'pgbackman.io/v1',
      kind: 'BackupDefinition',
      metadata: { name: 'shop-daily', labels: { team: 'shop' } },
      spec: {
        node: 'pg-01',
        schedule: '0 3 * * *',
        extraArgs: ['--no-comments', '--exclude-table=audit.*'],
        retention: { period: '14d', redundancy: 2, keep: { daily: 7 } },
        suspend: false,
        comment: long,
        nothing: null,
        nested: [[['deep', 1, true]]],
      },
    });
    const table = new StringTable();
    assert.deepEqual(table.intern(doc()), doc());
    assert.deepEqual(table.intern(doc()), doc(), 'a second document with the same values');
    assert.equal(table.intern('pg-01'), 'pg-01');
    assert.equal(table.intern(42), 42);
    assert.equal(table.intern(null), null);
  });

  test('a structure deeper than any parser allows is left as it is below that depth, not recursed into', () => {
    let deep: unknown = 'bottom';
    for (let i = 0; i < 10_000; i++) deep = [deep];
    assert.doesNotThrow(() => new StringTable().intern(deep));
  });
});
