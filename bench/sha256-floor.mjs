// The least any Node program can do before a restore that re-hashes the dump first: start, sha256 the file
// (OpenSSL, 1 MiB reads), print it. The restore benchmark's floor runs it before a bare createdb && pg_restore.
import { createHash } from 'node:crypto';
import { closeSync, openSync, readSync } from 'node:fs';

const hash = createHash('sha256');
const fd = openSync(process.argv[2], 'r');
const buffer = Buffer.allocUnsafe(1024 * 1024);
for (let n = readSync(fd, buffer); n > 0; n = readSync(fd, buffer)) hash.update(buffer.subarray(0, n));
closeSync(fd);
process.stdout.write(`${hash.digest('hex')}\n`);
