import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

type Collect = (options?: { type?: 'minor' | 'major'; execution?: 'sync' | 'async' }) => void;

let collect: Collect | null | undefined;

/** V8's own gc(), made available once at run time (as --expose-gc would); null where this V8 refuses. */
function collector(): Collect | null {
  if (collect === undefined) {
    try {
      setFlagsFromString('--expose-gc');
      collect = runInNewContext('gc') as Collect;
    } catch {
      collect = null;
    }
  }
  return collect;
}

/**
 * Keeps a stream's garbage from piling up. Encryption and uploads allocate a new buffer for every chunk,
 * and V8 frees buffers' memory only after 64 MB of them have accumulated since its last full collection,
 * so a long dump's process sits ~60 MB above what it holds alive. `passed(n)` counts the bytes through
 * the stream and, every `every` bytes (2 MiB: measured, 8 left an upload's copies ~10 MB longer), asks for a
 * young-generation collection (well under a millisecond with the few objects a dump keeps),
 * which frees the chunks already dropped; every `majorEvery` bytes a full one frees those that lived
 * long enough to be promoted (an upload's parts).
 */
export class GarbagePacer {
  readonly #every: number;
  readonly #majorEvery: number;
  #since = 0;
  #sinceMajor = 0;

  constructor(every = 2 * 1024 * 1024, majorEvery = 64 * 1024 * 1024) {
    this.#every = every;
    this.#majorEvery = majorEvery;
  }

  passed(bytes: number): void {
    this.#since += bytes;
    if (this.#since < this.#every) return;
    this.#sinceMajor += this.#since;
    this.#since = 0;
    const gc = collector();
    if (gc === null) return;
    if (this.#sinceMajor >= this.#majorEvery) {
      this.#sinceMajor = 0;
      gc({ type: 'major', execution: 'async' });
    } else gc({ type: 'minor' });
  }
}
