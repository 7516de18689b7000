/** 1536 → '1.5 KiB': sizes as people read them (binary units, one decimal). */
const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'] as const;

export function humanBytes(n: number): string {
  const units = UNITS;
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${u === 0 ? v : v.toFixed(1)} ${units[u]}`;
}
