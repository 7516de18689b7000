import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { CatalogueLink } from '../../src/agent/catalogue-link.ts';
import { isPgbackmanError } from '../../src/errors.ts';
import { startThrowawayPostgres, type ThrowawayPostgres } from '../support/throwaway-postgres.ts';

describe("the agent's link to a catalogue that stops answering (its processes SIGSTOPped)", () => {
  let pg: ThrowawayPostgres;
  before(async () => {
    pg = await startThrowawayPostgres('link-freeze');
  });
  after(async () => {
    await pg?.thaw().catch(() => undefined);
    await pg?.stop();
  });

  test('a statement unanswered within the bound fails as unreachable, the link says so, and a new connection answers once the catalogue does', async () => {
    const link = new CatalogueLink(pg.url, 1_000);
    const ask = (n: number) =>
      link.use(async (db) => (await db.query<{ n: number }>('select $1::int as n', [n]))[0]?.n);
    assert.equal(await ask(1), 1);
    assert.equal(link.up, true);
    await pg.freeze();
    let thawed = false;
    try {
      const started = Date.now();
      const err = await ask(2).then(
        () => undefined,
        (e: unknown) => e,
      );
      assert.ok(err instanceof Error, 'the statement failed');
      assert.ok(Date.now() - started < 5_000, `it took ${Date.now() - started} ms`);
      assert.equal(link.up, false, 'the link reports the catalogue down');
      await pg.thaw();
      thawed = true;
      // The busy connection was dropped: these go on a new one, not behind the frozen statement.
      assert.equal(await ask(3), 3);
      assert.equal(await ask(4), 4);
      assert.equal(link.up, true);
    } finally {
      if (!thawed) await pg.thaw();
      await link.close();
    }
  });

  test('given up during a shutdown: what waits fails at once, and so does every later use', async () => {
    const link = new CatalogueLink(pg.url);
    assert.equal(await link.use(async (db) => (await db.query<{ n: number }>('select 1 as n'))[0]?.n), 1);
    await pg.freeze();
    try {
      const hung = link.use((db) => db.query('select 2'));
      hung.catch(() => undefined);
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(link.giveUpIfHung(100, 'stopping'), true);
      await assert.rejects(hung);
      await assert.rejects(
        link.use((db) => db.query('select 3')),
        (e: unknown) => isPgbackmanError(e, 'CATALOGUE_UNREACHABLE') && /stopping/.test((e as Error).message),
      );
    } finally {
      await pg.thaw();
      await link.close();
    }
  });
});
