import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { exitCodeFor } from '../src/cli/exit-codes.ts';
import { coerceError, ERROR_CODES, PgbackmanError, retryClassOf } from '../src/errors.ts';
import { classifySqlError } from '../src/sqlstate.ts';

describe('errors the agent can act on', () => {
  test('every code has a retry class and an exit code', () => {
    for (const code of ERROR_CODES) {
      assert.ok(['transient', 'terminal'].includes(retryClassOf(code)), code);
      assert.equal(typeof exitCodeFor(code), 'number', code);
      assert.equal(new PgbackmanError(code, 'x').retry, retryClassOf(code));
    }
  });

  test('what is worth retrying later: unreachable, held locks, timeouts; not invalid input or refusals', () => {
    for (const code of [
      'CATALOGUE_UNREACHABLE',
      'NODE_UNREACHABLE',
      'CATALOGUE_IN_USE',
      'APPLY_LOCKED',
      'RUN_LOCKED',
      'TIMEOUT',
    ] as const)
      assert.equal(retryClassOf(code), 'transient', code);
    for (const code of [
      'INVALID_MANIFESTS',
      'NOT_FOUND',
      'CATALOGUE_REFUSED',
      'NODE_REFUSED',
      'UNSAFE',
      'CATALOGUE_SCHEMA',
      'USAGE',
    ] as const)
      assert.equal(retryClassOf(code), 'terminal', code);
  });

  test('SQLSTATEs and errnos are read in one place', () => {
    const e = (code: string, message = code) => Object.assign(new Error(message), { code });
    const table: [unknown, string][] = [
      [e('ECONNREFUSED'), 'lost'],
      [e('57P01'), 'lost'],
      [e('53300'), 'lost'],
      [e('08006'), 'lost'],
      [new Error('Connection terminated unexpectedly'), 'lost'],
      [new Error('Query read timeout'), 'lost'],
      [e('28P01'), 'refused'],
      [e('28000'), 'refused'],
      [e('3D000'), 'refused'],
      [e('42501'), 'privilege'],
      [e('22P02'), 'data'],
      [e('23505'), 'data'],
      [e('42P01'), 'other'],
      [new Error('boom'), 'other'],
    ];
    for (const [err, want] of table) assert.equal(classifySqlError(err), want, String(err));
  });

  test('anything thrown becomes an Error that keeps the original as its cause', () => {
    assert.equal(coerceError('text').message, 'text');
    const odd = { message: 'from a library', code: 'X1' };
    const c = coerceError(odd);
    assert.equal(c.message, 'from a library');
    assert.equal(c.code, 'X1');
    assert.equal(c.cause, odd);
    assert.match(coerceError(42).message, /non-error thrown: 42/);
  });
});
