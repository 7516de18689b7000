/**
 * `main@sha1:<40 hex>` → `main@3f2a1b9c0d1e` (keeping `+dirty`); a watched directory's `sha256:<digest>` →
 * `sha256:` and its first 12: what a person compares at a glance.
 */
export function shortRevision(revision: string | null): string {
  if (revision === null) return '-';
  return revision
    .replace(/sha1:([0-9a-f]{12})[0-9a-f]+/g, '$1')
    .replace(/sha256:([0-9a-f]{12})[0-9a-f]+/g, 'sha256:$1');
}
