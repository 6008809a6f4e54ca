/** A node of a RecencyList: the list's links live on the entry itself, so linking allocates nothing. */
export interface Linked<T> {
  older: T | undefined;
  newer: T | undefined;
}

/**
 * A doubly linked list in recency order, for LRU eviction in O(1). A Map alone (delete + set on
 * touch, evict its first key) is not enough: V8 leaves deleted Map entries as holes until the
 * table is rebuilt, and finding the first live key walks them, so eviction turned quadratic
 * (about 20 us per insert with 10,000 entries).
 */
export class RecencyList<T extends Linked<T>> {
  oldest: T | undefined;
  newest: T | undefined;

  /** Appends a node that is not in the list as the newest. */
  push(node: T): void {
    node.older = this.newest;
    node.newer = undefined;
    if (this.newest !== undefined) this.newest.newer = node;
    else this.oldest = node;
    this.newest = node;
  }

  remove(node: T): void {
    if (node.older !== undefined) node.older.newer = node.newer;
    else this.oldest = node.newer;
    if (node.newer !== undefined) node.newer.older = node.older;
    else this.newest = node.older;
    node.older = undefined;
    node.newer = undefined;
  }

  /** Makes a node already in the list the newest. */
  touch(node: T): void {
    if (node === this.newest) return;
    this.remove(node);
    this.push(node);
  }

  clear(): void {
    this.oldest = undefined;
    this.newest = undefined;
  }
}
