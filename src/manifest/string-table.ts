/** Strings longer than this are left as they are: names, references and enum values are short. */
const MAX_LENGTH = 256;
/** V8 keeps a substring this long or longer as a slice of the text it came from, holding the whole file alive. */
const SLICED_FROM = 13;

/**
 * One copy of each short string value across every manifest read: 20,000 definitions repeat the same
 * server, node, code and apiVersion, and the parser's substrings would keep each file's text alive for as
 * long as any value is. An agent validating a large repository holds several MB less while it plans.
 */
export class StringTable {
  readonly #strings = new Map<string, string>();

  /** Replaces the string values in `value` (objects and arrays, in place) by their shared copies. */
  intern<T>(value: T): T {
    return this.#walk(value, 0) as T;
  }

  #walk(value: unknown, depth: number): unknown {
    if (typeof value === 'string') return this.#string(value);
    // The parser bounds depth already (64): this only keeps a hostile structure from recursing further.
    if (value === null || typeof value !== 'object' || depth > 128) return value;
    if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) value[i] = this.#walk(value[i], depth + 1);
      return value;
    }
    const record = value as Record<string, unknown>;
    for (const key of Object.keys(record)) {
      const v = record[key];
      if (typeof v === 'string' || (v !== null && typeof v === 'object'))
        record[key] = this.#walk(v, depth + 1);
    }
    return value;
  }

  #string(s: string): string {
    if (s.length > MAX_LENGTH) return s;
    const known = this.#strings.get(s);
    if (known !== undefined) return known;
    // A fresh flat copy, detached from the file's text (JSON.parse builds a new string).
    const own = s.length >= SLICED_FROM ? (JSON.parse(JSON.stringify(s)) as string) : s;
    this.#strings.set(own, own);
    return own;
  }
}
