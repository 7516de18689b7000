import { statfs } from 'node:fs/promises';
import { PgbackmanError } from '../../errors.ts';

const UNITS = { KiB: 1024, MiB: 1024 ** 2, GiB: 1024 ** 3, TiB: 1024 ** 4 } as const;

/** The bytes a reserve (`5%` of `total`, or `20GiB`) stands for. */
export function reserveBytes(reserve: string, total: number): number {
  const percent = /^(\d+)%$/.exec(reserve);
  const unit = /^(\d+)(KiB|MiB|GiB|TiB)$/.exec(reserve);
  return percent
    ? (total * Number(percent[1])) / 100
    : unit
      ? Number(unit[1]) * UNITS[unit[2] as keyof typeof UNITS]
      : 0;
}

/** The free and total bytes of the file system holding `path`. */
export async function diskSpace(path: string): Promise<{ free: number; total: number }> {
  const fs = await statfs(path);
  return { free: fs.bavail * fs.bsize, total: fs.blocks * fs.bsize };
}

/** Fails fast when the free space under `root` is below the server's reserve (bytes with a unit, or a %). */
export async function checkDiskReserve(root: string, reserve: string): Promise<void> {
  const { free, total } = await diskSpace(root);
  const needed = reserveBytes(reserve, total);
  if (free < needed) {
    throw new PgbackmanError(
      'IO',
      `only ${gib(free)} free under ${root}, below the reserve of ${reserve} (${gib(needed)}); no dump was started`,
    );
  }
}

function gib(bytes: number): string {
  return `${(bytes / 1024 ** 3).toFixed(2)} GiB`;
}
