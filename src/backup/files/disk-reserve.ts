import { statfs } from 'node:fs/promises';
import { PgbackmanError } from '../../errors.ts';

const UNITS = { KiB: 1024, MiB: 1024 ** 2, GiB: 1024 ** 3, TiB: 1024 ** 4 } as const;

/** Fails fast when the free space under `root` is below the server's reserve (bytes with a unit, or a %). */
export async function checkDiskReserve(root: string, reserve: string): Promise<void> {
  const fs = await statfs(root);
  const free = fs.bavail * fs.bsize;
  const total = fs.blocks * fs.bsize;
  const percent = /^(\d+)%$/.exec(reserve);
  const unit = /^(\d+)(KiB|MiB|GiB|TiB)$/.exec(reserve);
  const needed = percent
    ? (total * Number(percent[1])) / 100
    : unit
      ? Number(unit[1]) * UNITS[unit[2] as keyof typeof UNITS]
      : 0;
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
