import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  isAllowed,
  type NamedDestination,
  parseAllowedDestinations,
} from '../../src/storage/allowed-destinations.ts';

const ALLOWED = parseAllowedDestinations([
  '/mnt/offsite',
  's3://dumps/site-a',
  's3+https://S3.Example.NET:443/archive',
  's3+http://127.0.0.1:9000/lab/team/',
]);

describe('allowed destinations: what the operator lets a manifest name', () => {
  const cases: [string, NamedDestination, boolean][] = [
    ['the allowed directory itself', { local: { path: '/mnt/offsite' } }, true],
    ['a directory below it', { local: { path: '/mnt/offsite/pgbackman/' } }, true],
    ['a sibling that shares its first letters', { local: { path: '/mnt/offsite2' } }, false],
    ['a path that climbs out of it', { local: { path: '/mnt/offsite/../../etc' } }, false],
    ['another directory', { local: { path: '/srv/other' } }, false],
    ['the allowed bucket and prefix, on AWS', { s3: { bucket: 'dumps', prefix: 'site-a/' } }, true],
    ['a folder below the prefix', { s3: { bucket: 'dumps', prefix: 'site-a/db1/' } }, true],
    ['a prefix that only starts alike', { s3: { bucket: 'dumps', prefix: 'site-ab/' } }, false],
    ['the bucket without the prefix', { s3: { bucket: 'dumps' } }, false],
    [
      'the same bucket name at another endpoint',
      { s3: { endpoint: 'https://evil.example.org', bucket: 'dumps', prefix: 'site-a/' } },
      false,
    ],
    [
      'a whole bucket at a custom endpoint, its host in another case, default port',
      { s3: { endpoint: 'https://s3.example.net', bucket: 'archive', prefix: 'x/' } },
      true,
    ],
    [
      'that endpoint over plain http',
      { s3: { endpoint: 'http://s3.example.net', bucket: 'archive' } },
      false,
    ],
    [
      'a prefix below an http endpoint entry',
      { s3: { endpoint: 'http://127.0.0.1:9000', bucket: 'lab', prefix: 'team/a/' } },
      true,
    ],
    [
      'the same endpoint on another port',
      { s3: { endpoint: 'http://127.0.0.1:9001', bucket: 'lab', prefix: 'team/' } },
      false,
    ],
  ];
  for (const [what, destination, expected] of cases)
    test(`${what}: ${expected ? 'allowed' : 'refused'}`, () => {
      assert.equal(isAllowed(ALLOWED, destination), expected);
    });

  test('nothing is allowed unless the operator says so', () => {
    assert.equal(isAllowed(parseAllowedDestinations([]), { local: { path: '/mnt/offsite' } }), false);
    assert.equal(isAllowed(parseAllowedDestinations(['', ' ']), { s3: { bucket: 'dumps' } }), false);
  });

  test('an entry that is neither a directory nor an S3 location is a usage error naming it', () => {
    for (const entry of ['relative/dir', 'https://s3.example.net/bucket', 's3+https://host-only'])
      assert.throws(
        () => parseAllowedDestinations([entry]),
        (err: Error & { code?: string }) =>
          err.code === 'USAGE' &&
          err.message.startsWith(`allowed destination ${JSON.stringify(entry)}: expected`),
      );
  });
});
