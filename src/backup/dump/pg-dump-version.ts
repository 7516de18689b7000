import { execFile } from 'node:child_process';
import { stat } from 'node:fs/promises';
import { promisify } from 'node:util';

const run = promisify(execFile);

// path → [the binary's identity when asked, its answer]; an agent dumps with a handful of binaries.
const known = new Map<string, [string, Promise<string>]>();

/**
 * `pg_dump --version`'s number (`15.18 (Debian 15.18-0+deb12u1)`), asked once per binary: again only when
 * the file changed (a package upgrade replaces it), so a daemon does not fork a process per dump for it.
 */
export async function pgDumpVersion(path: string): Promise<string> {
  const s = await stat(path);
  const identity = `${s.dev}:${s.ino}:${s.size}:${s.mtimeMs}`;
  const cached = known.get(path);
  if (cached !== undefined && cached[0] === identity) return cached[1];
  const asked = run(path, ['--version']).then((r) => r.stdout.trim().replace(/^pg_dump \(PostgreSQL\) /, ''));
  known.set(path, [identity, asked]);
  // A failure is not kept: the next dump asks again.
  asked.catch(() => {
    if (known.get(path)?.[1] === asked) known.delete(path);
  });
  return asked;
}
