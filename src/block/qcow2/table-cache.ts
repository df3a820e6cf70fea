/**
 * A bounded least-recently-used cache of cluster-sized metadata tables (L2 tables, refcount
 * blocks), keyed by host offset. Tables are written through to the file when changed, so an
 * entry can be dropped at any time.
 */
export class TableCache {
  private readonly tables = new Map<number, Uint8Array>();

  constructor(private readonly capacity: number) {}

  /** The cached table at `offset`, marked most recently used. */
  get(offset: number): Uint8Array | undefined {
    const t = this.tables.get(offset);
    if (t !== undefined) {
      this.tables.delete(offset);
      this.tables.set(offset, t);
    }
    return t;
  }

  /** Caches `table` at `offset`, dropping the least recently used table when full. */
  set(offset: number, table: Uint8Array): void {
    this.tables.delete(offset);
    this.tables.set(offset, table);
    if (this.tables.size > this.capacity) {
      const oldest = this.tables.keys().next();
      if (oldest.done !== true) this.tables.delete(oldest.value);
    }
  }

  /** Forgets the table at `offset` (its cluster was freed). */
  delete(offset: number): void {
    this.tables.delete(offset);
  }

  /** Forgets every table. */
  clear(): void {
    this.tables.clear();
  }
}
