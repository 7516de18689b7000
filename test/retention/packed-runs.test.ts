import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { PackedGroup } from '../../src/catalogue/run-retention.ts';
import { PgbackmanError } from '../../src/errors.ts';
import { unpackRuns } from '../../src/retention/packed-runs.ts';

const ID1 = '0b6f2a34-6c2d-4a55-9d0e-1f6a4c2b7e01';
const ID2 = 'f0000000-0000-4000-8000-000000000002';
const group = (runs: string, over: Partial<PackedGroup> = {}): PackedGroup => ({
  definition: 'nightly',
  snapshot: null,
  runs,
  retention: null,
  paths: null,
  ...over,
});

describe('unpackRuns: a group of runs as the catalogue packs them', () => {
  test('every field: status letters, no size, pinned and deleting flags, a second server', () => {
    const stored = { period: '3d', redundancy: 2 };
    const runs = unpackRuns(
      group(`${ID1},1764547200123,S,1048576,1,bk1;${ID2},1764633600000,F,,2,bk-two`, { retention: stored }),
    );
    assert.deepEqual(runs, [
      {
        id: ID1,
        server: 'bk1',
        definition: 'nightly',
        snapshot: null,
        status: 'SUCCEEDED',
        at: 1764547200123,
        bytes: 1048576,
        dumpPath: null,
        retention: stored,
        pinned: true,
        deleting: false,
      },
      {
        id: ID2,
        server: 'bk-two',
        definition: 'nightly',
        snapshot: null,
        status: 'FAILED',
        at: 1764633600000,
        bytes: null,
        dumpPath: null,
        retention: stored,
        pinned: false,
        deleting: true,
      },
    ]);
  });

  test('running and missed runs of a snapshot', () => {
    const runs = unpackRuns(
      group(`${ID1},1,R,,0,bk1;${ID2},2,M,,3,bk1`, { definition: null, snapshot: 'before-upgrade' }),
    );
    assert.deepEqual(
      runs.map((r) => [r.status, r.snapshot, r.pinned, r.deleting]),
      [
        ['RUNNING', 'before-upgrade', false, false],
        ['MISSED', 'before-upgrade', true, true],
      ],
    );
  });

  test('an empty list: no runs', () => assert.deepEqual(unpackRuns(group('')), []));

  for (const [name, runs] of [
    ['an unknown status', `${ID1},1,X,5,0,bk1`],
    ['a flag out of range', `${ID1},1,S,5,7,bk1`],
    ['a field missing', `${ID1},1,S,5`],
    ['a status of two letters', `${ID1},1,SU,5,0,bk1`],
    ['a broken second run', `${ID1},1,S,5,0,bk1;${ID2},2`],
  ] as const)
    test(`${name}: refused with the group named, never read as something else`, () =>
      assert.throws(
        () => unpackRuns(group(runs)),
        (err: unknown) =>
          err instanceof PgbackmanError &&
          err.code === 'INTERNAL' &&
          /unreadable run list of BackupDefinition\/nightly/.test(err.message),
      ));
});
