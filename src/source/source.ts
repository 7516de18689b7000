/** Where an agent's manifests come from: a git repository it keeps a checkout of, or a watched directory. */
export interface Source {
  /** For logs and the agent's row: the URL without credentials, or the directory. */
  readonly description: string;
  /** Brings the manifests up to date; returns where they are now and their revision. */
  fetch(): Promise<Fetched>;
  /** Calls `onChange` (debounced) when the manifests may have changed; returns how to stop watching. */
  watch?(onChange: () => void): Promise<() => Promise<void>>;
}

export interface Fetched {
  /** The manifests to validate: a directory inside the checkout, or the watched directory. */
  readonly path: string;
  /** `BRANCH@sha1:<full sha>` for git, `sha256:<digest of the files>` for a directory. */
  readonly revision: string;
}

/** A URL with any user name's password or token replaced: safe for logs, errors and the catalogue. */
export function redactCredentials(text: string): string {
  return text.replace(/(\b[a-z][a-z0-9+.-]*:\/\/)([^/@\s:]+):([^/@\s]*)@/gi, '$1$2:***@');
}
