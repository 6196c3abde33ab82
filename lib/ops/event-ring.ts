/**
 * The last `capacity` items, oldest first. Pushing into a full ring overwrites the oldest; memory
 * is the array, allocated as it fills, never more than `capacity` slots.
 */
export class EventRing<T> {
  private readonly items: T[] = [];
  /** Where the next item goes once the ring is full (the oldest item's slot). */
  private next = 0;

  constructor(readonly capacity: number) {}

  get size(): number {
    return this.items.length;
  }

  push(item: T): void {
    if (this.items.length < this.capacity) {
      this.items.push(item);
      return;
    }
    this.items[this.next] = item;
    this.next = this.next + 1 === this.capacity ? 0 : this.next + 1;
  }

  /** Every item, oldest first. */
  toArray(): T[] {
    return [...this.items.slice(this.next), ...this.items.slice(0, this.next)];
  }
}
