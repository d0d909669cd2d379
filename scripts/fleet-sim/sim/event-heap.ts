// The simulator's agenda: a binary min-heap of timed events. Ties break by insertion order, so a
// run is the same sequence of events every time (determinism does not depend on the heap's shape).

export interface SimEvent<K extends string = string> {
  at: number;
  seq: number;
  kind: K;
  /** The event's subject (a node, a region, a job), interpreted by its kind. */
  ref: unknown;
}

const before = (a: SimEvent, b: SimEvent) => a.at < b.at || (a.at === b.at && a.seq < b.seq);

export class EventHeap<K extends string> {
  private readonly items: SimEvent<K>[] = [];
  private seq = 0;

  get size(): number {
    return this.items.length;
  }

  push(at: number, kind: K, ref: unknown = null): SimEvent<K> {
    const event: SimEvent<K> = { at, seq: this.seq++, kind, ref };
    const items = this.items;
    let i = items.length;
    items.push(event);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(event, items[parent]!)) break;
      items[i] = items[parent]!;
      i = parent;
    }
    items[i] = event;
    return event;
  }

  /** Time of the next event, or Infinity. */
  peekAt(): number {
    return this.items.length > 0 ? this.items[0]!.at : Infinity;
  }

  pop(): SimEvent<K> | undefined {
    const items = this.items;
    const top = items[0];
    const last = items.pop();
    if (top === undefined || last === undefined || items.length === 0) return top;
    let i = 0;
    const n = items.length;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= n) break;
      const right = left + 1;
      const child = right < n && before(items[right]!, items[left]!) ? right : left;
      if (!before(items[child]!, last)) break;
      items[i] = items[child]!;
      i = child;
    }
    items[i] = last;
    return top;
  }
}
