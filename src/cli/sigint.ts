/** Runs `fn` with an AbortSignal that Ctrl-C (SIGINT) fires; the handler is removed afterwards. */
export async function withSigintAbort<T>(fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  const onSigint = (): void => controller.abort();
  process.once("SIGINT", onSigint);
  try {
    return await fn(controller.signal);
  } finally {
    process.off("SIGINT", onSigint);
  }
}
