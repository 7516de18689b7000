import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { strayFinder } from '../../src/retention/unknown-dirs.ts';

describe('strays under a root: what no catalogue row knows, reported and never deleted', () => {
  const base = mkdtempSync(join(tmpdir(), 'pgbackman-strays-'));
  after(() => rmSync(base, { recursive: true, force: true }));
  /** Makes `paths` under `root` (a trailing `/` makes a directory, otherwise a file). */
  const tree = (root: string, paths: string[]) => {
    for (const p of paths)
      if (p.endsWith('/')) mkdirSync(join(root, p), { recursive: true });
      else {
        mkdirSync(join(root, p, '..'), { recursive: true });
        writeFileSync(join(root, p), 'x');
      }
    return root;
  };

  test('a known dump directory is struck off; unknown ones, stray files and partial files are reported, sorted', () => {
    const root = tree(join(base, 'a'), [
      'n1/shop/20261201T000000Z-FULL-shop-aaaaaaaa/database.dump',
      'n1/shop/20261202T000000Z-FULL-shop-bbbbbbbb/',
      'n1/shop/20261203T000000Z-FULL-shop-cccccccc.partial/',
      'n1/shop/left.partial',
      'n1/notes.txt',
      'n2/',
      'README',
      '.locks/n1-shop',
    ]);
    const finder = strayFinder([root]);
    assert.equal(finder.holdsDumps(root), true);
    finder.known(join(root, 'n1/shop/20261201T000000Z-FULL-shop-aaaaaaaa/database.dump'));
    finder.known(null);
    finder.known(join(root, 'n9/other/20261201T000000Z-FULL-other-dddddddd/database.dump'));
    assert.deepEqual(finder.unknown(), [
      join(root, 'README'),
      join(root, 'n1/notes.txt'),
      join(root, 'n1/shop/20261202T000000Z-FULL-shop-bbbbbbbb'),
      join(root, 'n1/shop/left.partial'),
    ]);
  });

  test('a root with no dump directory holds none (its runs need not be read), and a missing root is empty', () => {
    const empty = tree(join(base, 'b'), ['n1/shop/', 'stray.txt']);
    const missing = join(base, 'nowhere');
    const finder = strayFinder([empty, missing]);
    assert.equal(finder.holdsDumps(empty), false);
    assert.equal(finder.holdsDumps(missing), false);
    assert.deepEqual(finder.unknown(), [join(empty, 'stray.txt')]);
  });

  test('two servers sharing a root: listed once, its dumps found, nothing reported twice', () => {
    const shared = tree(join(base, 'shared'), ['n/db/20261201T000000Z-FULL-db-33333333/', 'top.txt']);
    const finder = strayFinder([shared, shared]);
    assert.equal(finder.holdsDumps(shared), true);
    finder.known(join(shared, 'n/db/20261201T000000Z-FULL-db-33333333/database.dump'));
    assert.deepEqual(finder.unknown(), [join(shared, 'top.txt')]);
  });

  test('a link named .partial is not a running dump: reported', () => {
    const root = tree(join(base, 'links'), ['n/db/real/']);
    symlinkSync(join(root, 'n/db/real'), join(root, 'n/db/fake.partial'));
    assert.deepEqual(strayFinder([root]).unknown(), [
      join(root, 'n/db/fake.partial'),
      join(root, 'n/db/real'),
    ]);
  });

  test("several roots: each root's strays sorted, in the roots' order", () => {
    const z = tree(join(base, 'z'), ['n/db/20261201T000000Z-FULL-db-11111111/', 'n/db/old/']);
    const c = tree(join(base, 'c'), ['n/db/20261201T000000Z-FULL-db-22222222/database.dump']);
    const finder = strayFinder([z, c]);
    assert.equal(finder.holdsDumps(z), true);
    assert.equal(finder.holdsDumps(c), true);
    finder.known(join(c, 'n/db/20261201T000000Z-FULL-db-22222222/database.dump'));
    assert.deepEqual(finder.unknown(), [
      join(z, 'n/db/20261201T000000Z-FULL-db-11111111'),
      join(z, 'n/db/old'),
    ]);
  });
});
