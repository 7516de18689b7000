import { realpathSync, type Stats, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { PgbackmanError } from '../errors.ts';

/**
 * Why a file or directory lets someone other than root or this process's user change what runs, or
 * undefined when it does not. Pure. A sticky world-writable directory (/tmp) is refused too: anyone may
 * create the name pgbackman would run before it exists.
 */
export function ownershipProblem(st: Pick<Stats, 'uid' | 'mode'>, uid: number): string | undefined {
  if (st.uid !== 0 && st.uid !== uid)
    return `it is owned by uid ${st.uid}, neither root nor this process's user (uid ${uid})`;
  const mode = (st.mode & 0o7777).toString(8).padStart(4, '0');
  if ((st.mode & 0o002) !== 0)
    return `it is writable by others (mode ${mode}${(st.mode & 0o1000) !== 0 ? ', sticky does not help' : ''})`;
  if ((st.mode & 0o020) !== 0) return `it is writable by its group (mode ${mode})`;
  return undefined;
}

/** Every path whose owner or mode decides what `path` is: itself and each directory above it up to `/`. */
function chain(path: string): string[] {
  const paths = [path];
  for (let p = path; dirname(p) !== p; p = dirname(p)) paths.push(dirname(p));
  return paths;
}

/**
 * The first unsafe path among `path`, the file it resolves to, and the directories above both, or
 * undefined when all are safe. Paths that do not exist are left to whoever opens them.
 */
export function findUnsafePath(
  path: string,
  uid = process.getuid?.() ?? 0,
): { path: string; problem: string } | undefined {
  let real: string;
  try {
    real = realpathSync(path);
  } catch {
    return undefined;
  }
  for (const p of new Set([...chain(path), ...chain(real)])) {
    let st: Stats;
    try {
      st = statSync(p);
    } catch {
      continue;
    }
    const problem = ownershipProblem(st, uid);
    if (problem !== undefined) return { path: p, problem };
  }
  return undefined;
}

/** Refuses to run `tool` when someone other than root or this user could have replaced it. */
export function requireSafeTool(tool: string): void {
  const unsafe = findUnsafePath(tool);
  if (unsafe === undefined) return;
  const where = unsafe.path === tool ? '' : ` because of ${unsafe.path}`;
  throw new PgbackmanError(
    'UNSAFE',
    `refusing to run ${tool}${where}: ${unsafe.problem}; only root or this process's user may be able to change a tool pgbackman runs and the directories above it (chown root and chmod go-w, or point spec.pgBinDirectories elsewhere)`,
  );
}
