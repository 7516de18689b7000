import type { SpecOf } from './kinds.ts';
import type { SemanticContext } from './semantic-context.ts';

const DEFAULT_ROOT = '/srv/pgbackman';
const dirOf = (p: string) => (p.endsWith('/') ? p : `${p}/`);
/** Whether one directory is the other or lies inside it. */
const overlap = (a: string, b: string) => dirOf(a).startsWith(dirOf(b)) || dirOf(b).startsWith(dirOf(a));

/**
 * A server's storage list: each destination is a directory or a bucket, named once; the first is the root
 * directory, where dumps are written, or a bucket (the root then stages each dump until every destination
 * holds it); no two hold the same place, and a copy never lands inside the root (retention and the stray
 * check own everything under it).
 */
export function checkStorage(report: SemanticContext['report'], spec: SpecOf<'BackupServer'>): void {
  const storage = spec.storage ?? [];
  const root = spec.rootDirectory ?? DEFAULT_ROOT;
  const names = new Map<string, number>();
  const places = new Map<string, number>();
  storage.forEach((d, i) => {
    const at = `/spec/storage/${i}`;
    if ((d.local === undefined) === (d.s3 === undefined)) {
      report(at, `destination "${d.name}" needs exactly one of local or s3`);
      return;
    }
    const first = names.get(d.name);
    if (first !== undefined)
      report(`${at}/name`, `destination name "${d.name}" is already used by storage[${first}]`);
    names.set(d.name, i);
    if (d.local !== undefined && d.credentialsFrom !== undefined)
      report(
        `${at}/credentialsFrom`,
        'credentialsFrom is for s3 destinations; a local one has no credentials',
      );
    const place =
      d.local !== undefined
        ? dirOf(d.local.path)
        : `s3 ${(d.s3?.endpoint ?? '').replace(/\/$/, '').toLowerCase()} ${d.s3?.bucket}/${d.s3?.prefix ?? ''}`;
    const same = places.get(place);
    if (same !== undefined)
      report(at, `storage[${same}] is the same place: each destination must be another`);
    places.set(place, i);
    // Dumps are written in the root: a local primary is the root itself; a bucket primary (the root then only
    // stages each dump until every destination holds it) may not be followed by the root as a copy.
    if (i === 0 && d.local !== undefined) {
      if (dirOf(d.local.path) !== dirOf(root))
        report(
          `${at}/local/path`,
          `the first destination is where dumps are written: a local one must be the rootDirectory ${root} (not ${d.local.path}); to keep dumps elsewhere, list the root first and the other place after it`,
        );
      return;
    }
    if (d.local === undefined) return;
    if (overlap(d.local.path, root))
      report(
        `${at}/local/path`,
        `${d.local.path} overlaps the rootDirectory ${root}: a copy must be kept outside it (retention and the stray check own everything under the root)`,
      );
  });
  // Two prefixes of one bucket, one inside the other: a listing of the outer one (catalogue import, the
  // stray check) would take the inner one's copies for its own.
  const prefixes = storage.flatMap((d, i) =>
    d.s3 === undefined
      ? []
      : [
          [
            i,
            `${(d.s3.endpoint ?? '').replace(/\/$/, '').toLowerCase()} ${d.s3.bucket}`,
            d.s3.prefix ?? '',
          ] as const,
        ],
  );
  for (const [i, bucketA, a] of prefixes)
    for (const [j, bucketB, b] of prefixes)
      if (i < j && bucketA === bucketB && a !== b && (a.startsWith(b) || b.startsWith(a)))
        report(
          `/spec/storage/${j}/s3/prefix`,
          `prefix "${b}" overlaps storage[${i}]'s "${a}" in the same bucket: copies would be kept inside each other`,
        );
  const locals = storage.flatMap((d, i) =>
    i > 0 && d.local !== undefined ? [[i, d.local.path] as const] : [],
  );
  for (const [i, a] of locals)
    for (const [j, b] of locals)
      if (i < j && dirOf(a) !== dirOf(b) && overlap(a, b))
        report(
          `/spec/storage/${j}/local/path`,
          `${b} overlaps storage[${i}] (${a}): copies would be kept inside each other`,
        );
}
