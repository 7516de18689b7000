import { diskSpace, reserveBytes } from '../backup/files/disk-reserve.ts';
import { rootDirectoryOf } from '../backup/files/layout.ts';
import type { Notify } from '../manifest/generated/manifest-types.ts';

/** The root directory's file system running out: said once each time it falls below the threshold. */
export interface DiskLowNotice {
  readonly server: string;
  readonly root: string;
  readonly freeBytes: number;
  readonly totalBytes: number;
  /** Twice the server's diskReserve: below the reserve itself dumps no longer start. */
  readonly thresholdBytes: number;
  readonly reserve: string;
  readonly notify: Notify | null;
}

/** When disk_low is said: below twice the reserve, warning before dumps are refused. Pure. */
export function diskLowThreshold(reserve: string, total: number): number {
  return Math.min(total, 2 * reserveBytes(reserve, total));
}

/**
 * Looks at the root directory's free space: a notice when it has just fallen below the threshold (`wasLow`
 * false), none while it stays low or is fine. Returns whether it is low now.
 */
export async function checkDisk(
  server: string,
  spec: { readonly rootDirectory?: string; readonly diskReserve?: string; readonly notify?: Notify },
  wasLow: boolean,
): Promise<{ readonly low: boolean; readonly notice?: DiskLowNotice }> {
  const root = rootDirectoryOf(spec);
  const reserve = spec.diskReserve ?? '5%';
  const { free, total } = await diskSpace(root);
  const threshold = diskLowThreshold(reserve, total);
  const low = free < threshold;
  if (!low || wasLow) return { low };
  return {
    low,
    notice: {
      server,
      root,
      freeBytes: free,
      totalBytes: total,
      thresholdBytes: threshold,
      reserve,
      notify: spec.notify ?? null,
    },
  };
}
