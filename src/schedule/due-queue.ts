/** A binary min-heap of (due time, key): the scheduler's one timer is set for its top. */
export class DueQueue {
  readonly #heap: { key: string; at: number }[] = [];

  get size(): number {
    return this.#heap.length;
  }

  push(key: string, at: number): void {
    const heap = this.#heap;
    heap.push({ key, at });
    for (let i = heap.length - 1; i > 0; ) {
      const parent = (i - 1) >> 1;
      if ((heap[parent] as { at: number }).at <= at) break;
      [heap[i], heap[parent]] = [
        heap[parent] as { key: string; at: number },
        heap[i] as { key: string; at: number },
      ];
      i = parent;
    }
  }

  peek(): { key: string; at: number } | undefined {
    return this.#heap[0];
  }

  pop(): { key: string; at: number } | undefined {
    const heap = this.#heap;
    const top = heap[0];
    const last = heap.pop();
    if (top === undefined || last === undefined || heap.length === 0) return top;
    heap[0] = last;
    for (let i = 0; ; ) {
      const l = 2 * i + 1;
      const r = l + 1;
      let min = i;
      if (l < heap.length && (heap[l] as { at: number }).at < (heap[min] as { at: number }).at) min = l;
      if (r < heap.length && (heap[r] as { at: number }).at < (heap[min] as { at: number }).at) min = r;
      if (min === i) break;
      [heap[i], heap[min]] = [
        heap[min] as { key: string; at: number },
        heap[i] as { key: string; at: number },
      ];
      i = min;
    }
    return top;
  }
}
