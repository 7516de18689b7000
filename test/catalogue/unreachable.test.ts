import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { unreachableReason } from '../../src/catalogue/unreachable.ts';
import { PgbackmanError } from '../../src/errors.ts';

const unavailable = (causeCode: string) =>
  new PgbackmanError('CATALOGUE_UNREACHABLE', `cannot connect to the catalogue: ${causeCode}`, {
    cause: Object.assign(new Error(causeCode), { code: causeCode }),
  });

describe('when a run may go on without the catalogue', () => {
  test('a catalogue that is down, unreachable, shutting down, full or held by another process: yes', () => {
    for (const code of ['ECONNREFUSED', 'ENOTFOUND', 'ETIMEDOUT', 'ECONNRESET'])
      assert.ok(unreachableReason(unavailable(code)), code);
    for (const code of ['57P01', '57P03', '53300', 'ECONNRESET'])
      assert.ok(unreachableReason(Object.assign(new Error(code), { code })), code);
    assert.ok(unreachableReason(new Error('Connection terminated unexpectedly')));
    assert.ok(
      unreachableReason(new PgbackmanError('CATALOGUE_IN_USE', 'the embedded catalogue is in use by pid 12')),
    );
  });

  test('a catalogue that answers and refuses (login, missing database, anything asked of it): no', () => {
    for (const code of ['28P01', '28000', '3D000'])
      assert.equal(unreachableReason(unavailable(code)), undefined, code);
    assert.equal(
      unreachableReason(new PgbackmanError('NOT_FOUND', 'BackupDefinition/x is not in the catalogue')),
      undefined,
    );
    assert.equal(unreachableReason(new PgbackmanError('CATALOGUE_SCHEMA', 'schema version 1')), undefined);
    assert.equal(
      unreachableReason(Object.assign(new Error('permission denied'), { code: '42501' })),
      undefined,
    );
  });
});
