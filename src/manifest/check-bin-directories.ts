import { findUnsafePath } from '../system/path-safety.ts';
import type { SemanticContext } from './semantic-context.ts';

/**
 * Warns about a pgBinDirectories entry that exists on this machine and that someone other than root or
 * this user could change; the agent refuses to run tools from it. Reads the file system, unlike other checks.
 */
export function checkBinDirectories(
  report: SemanticContext['report'],
  dirs: Readonly<Record<string, string>> | undefined,
): void {
  for (const [major, dir] of Object.entries(dirs ?? {})) {
    const unsafe = findUnsafePath(dir);
    if (unsafe === undefined) continue;
    const where = unsafe.path === dir ? dir : `${unsafe.path} (above ${dir})`;
    report(
      `/spec/pgBinDirectories/${major}`,
      `${where}: ${unsafe.problem}; pgbackman refuses to run pg_dump from there (on this machine)`,
      'warning',
    );
  }
}
