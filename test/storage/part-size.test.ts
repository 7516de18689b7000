import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { partSizeFor } from '../../src/storage/s3-destination.ts';

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

describe('the part size of an upload whose length is not known when it starts', () => {
  const cases: [string, number | undefined, number][] = [
    ['nothing known (a cluster dump): 5 MiB, the smallest S3 takes', undefined, 5 * MiB],
    ['a database of 2 GiB: 5 MiB, as 10,000 parts of it hold 48 GiB', 2 * GiB, 5 * MiB],
    ['16 GiB, three times of which is just under 48 GiB: still 5 MiB', 16 * GiB, 5 * MiB],
    ['26 GiB: 8 MiB', 26 * GiB, 8 * MiB],
    ['100 GiB: 31 MiB parts, room for 300 GiB', 100 * GiB, 31 * MiB],
    ['2 TiB: 630 MiB parts', 2048 * GiB, 630 * MiB],
    ['beyond what S3 can hold in 10,000 parts: 5 GiB, its largest', 100_000 * GiB, 5 * GiB],
    ['a size that makes no sense: 5 MiB', Number.NaN, 5 * MiB],
  ];
  for (const [what, expected, size] of cases)
    test(what, () => {
      const part = partSizeFor(expected);
      assert.equal(part, size);
      if (expected !== undefined && Number.isFinite(expected) && part < 5 * GiB)
        assert.ok(part * 10_000 >= expected * 3, 'three times the expected size fits');
    });
});
