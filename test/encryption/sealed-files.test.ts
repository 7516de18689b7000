import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { ageSeal } from '../../src/encryption/age-stream.ts';
import { readDumpText, requireIdentity } from '../../src/encryption/read-encrypted.ts';
import { scanClusterScript, streamClusterSections } from '../../src/restore/cluster-script.ts';
import { rejection } from '../support/rejection.ts';

const dir = mkdtempSync(join(tmpdir(), 'pgbackman-sealed-files-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function keyPair(name: string): { identity: string; recipient: string } {
  const file = join(dir, `${name}.key`);
  execFileSync('age-keygen', ['-o', file], { stdio: 'ignore' });
  const identity = (readFileSync(file, 'utf8').match(/^AGE-SECRET-KEY-1\S+$/m) ?? [])[0] as string;
  return { identity, recipient: execFileSync('age-keygen', ['-y', file], { encoding: 'utf8' }).trim() };
}
const alice = keyPair('alice');
const bob = keyPair('bob');

// pg_dumpall's layout: globals, then one section per database, each opened by its marker between `--` lines.
const section = (db: string, rows: number) =>
  `--\n-- Database "${db}" dump\n--\n\\connect ${db}\nCOPY public.t (x) FROM stdin;\n${Array.from({ length: rows }, (_, i) => `${db}-${i}`).join('\n')}\n\\.\n`;
const script = `--\n-- PostgreSQL database cluster dump\n--\nCREATE ROLE app;\n${section('shop', 20_000)}${section('crm', 5)}`;

async function sealedFile(name: string, text: string): Promise<string> {
  const path = join(dir, name);
  writeFileSync(path, await ageSeal([alice.recipient], Buffer.from(text)));
  return path;
}

describe('a sealed file read as its plaintext: small files, and a CLUSTER script in sections', () => {
  test('roles.sql.age reads back as its text with the key; not at all with another', async () => {
    const path = await sealedFile('roles.sql.age', 'CREATE ROLE app;\n');
    assert.equal(await readDumpText(path, [alice.identity]), 'CREATE ROLE app;\n');
    const err = await rejection(readDumpText(path, [bob.identity]));
    assert.match(err.message, /roles\.sql\.age: none of the 1 age identity given can decrypt it/);
  });

  test('a sealed cluster.sql: its globals and databases found, each section streamed in order, decrypted', async () => {
    const path = await sealedFile('cluster.sql.age', script);
    const scanned = await scanClusterScript(path, [alice.identity]);
    assert.deepEqual(scanned.databases, ['shop', 'crm']);
    assert.match(scanned.globals, /CREATE ROLE app;/);
    const sections = async (file: string, identities: string[]) => {
      const lines = new Map<string, string[]>();
      await streamClusterSections(
        file,
        async (db) => ({
          write: async (line) => {
            if (!lines.has(db)) lines.set(db, []);
            lines.get(db)?.push(line);
          },
          end: async () => undefined,
        }),
        identities,
      );
      return lines;
    };
    const clear = join(dir, 'cluster.sql');
    writeFileSync(clear, script);
    const sealed = await sections(path, [alice.identity]);
    assert.deepEqual([...sealed.keys()], ['shop', 'crm']);
    assert.ok((sealed.get('shop')?.length ?? 0) > 20_000);
    assert.deepEqual(sealed, await sections(clear, []));
  });

  test('cut short, the stream fails: a section is never taken as complete', async () => {
    const path = await sealedFile('cut.sql.age', script);
    const bytes = readFileSync(path);
    writeFileSync(path, bytes.subarray(0, bytes.length - 70_000));
    const ends: string[] = [];
    const err = await rejection(
      streamClusterSections(
        path,
        async (db) => ({ write: async () => undefined, end: async () => void ends.push(db) }),
        [alice.identity],
      ),
    );
    assert.match(err.message, /the encrypted file was changed or cut short/);
    assert.deepEqual(ends, [], 'no section was ended as if complete');
  });

  test('requireIdentity: none given, or one that does not fit, is refused naming the recipients (never a key)', async () => {
    const path = await sealedFile('database.dump.age', 'PGDMP');
    const run = {
      id: 'r1',
      dumpPath: path,
      encryption: { age: { recipients: [alice.recipient] }, plaintext: {} },
    };
    const none = await rejection(requireIdentity(run, []));
    assert.match(
      none.message,
      new RegExp(`backup r1 is encrypted \\(age, for ${alice.recipient}\\): give an identity`),
    );
    const wrong = await rejection(requireIdentity(run, [bob.identity]));
    assert.match(wrong.message, /it was encrypted for other recipients; nothing on the target was touched$/);
    assert.ok(!wrong.message.includes(bob.identity));
    await requireIdentity(run, [bob.identity, alice.identity]);
  });
});
