/** Interleave several async iterators as their items arrive (for `n` > 1 choices in one stream). */
export async function* mergeIndexed<T>(sources: readonly AsyncIterator<T>[]): AsyncGenerator<readonly [number, T], void, undefined> {
  type Step = { readonly index: number; readonly result: IteratorResult<T> };
  const pending = new Map<number, Promise<Step>>();
  const pull = (index: number): void => {
    const source = sources[index];
    if (source === undefined) return;
    pending.set(
      index,
      source.next().then((result) => ({ index, result })),
    );
  };
  sources.forEach((_, i) => pull(i));
  try {
    while (pending.size > 0) {
      const { index, result } = await Promise.race(pending.values());
      if (result.done === true) {
        pending.delete(index);
        continue;
      }
      pull(index);
      yield [index, result.value] as const;
    }
  } finally {
    // Closing early (client gone, error): close every source that is still open.
    await Promise.allSettled([...pending.keys()].map((i) => sources[i]?.return?.()));
  }
}
