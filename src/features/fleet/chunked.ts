/** Entries visited per event-loop turn by passes over the whole fleet: about a millisecond of work each. */
export const ENTRIES_PER_TURN = 5_000;

/**
 * Visits every item, a few thousand per event-loop turn, so that a pass over a million devices never holds up
 * device checks for more than a moment.
 */
export async function forEachChunked<T>(items: Iterable<T>, visit: (item: T) => void): Promise<void> {
  let count = 0;
  for (const item of items) {
    visit(item);
    if (++count % ENTRIES_PER_TURN === 0) await new Promise((resolve) => setImmediate(resolve));
  }
}
