/**
 * The explorers run long synchronous loops, and Node runs a Ctrl-C (SIGINT)
 * handler only when the event loop turns. A pauser lets it turn about every
 * `everyMs` of a search, at a cost the search cannot measure.
 */
export function pauser(everyMs = 50): () => Promise<void> | undefined {
  let last = performance.now();
  return () => {
    const now = performance.now();
    if (now - last < everyMs) return undefined;
    last = now;
    return new Promise((resolve) => setImmediate(resolve));
  };
}
