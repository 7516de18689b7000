import { hostname, userInfo } from 'node:os';

/** `user@host`, as apply records who applied and pin records who pinned. */
export function whoAmI(): string {
  let user = 'unknown';
  try {
    user = userInfo().username;
  } catch {
    // no passwd entry (a container): keep "unknown"
  }
  return `${user}@${hostname()}`;
}
