/**
 * Polling for a condition on something the test cannot be told about (a real emulator's queue, a
 * receiver, a pipeline running on the wall clock): read, check, and read again after a short pause
 * until the condition holds, or fail naming what was awaited and the last value seen. Never a
 * fixed sleep: the wait ends as soon as the condition holds.
 */

/** Options of {@link waitFor}. */
export interface WaitOptions {
  /** Give up after this long (wall clock). */
  readonly timeoutMs?: number;
  /** Pause between reads. */
  readonly everyMs?: number;
}

/** Reads until `done(value)`; returns that value, or throws `timed out waiting for <what>: <last value>`. */
export async function waitFor<T>(what: string, read: () => Promise<T> | T, done: (v: T) => boolean, opts: WaitOptions = {}): Promise<T> {
  const deadline = Date.now() + (opts.timeoutMs ?? 40_000);
  let v = await read();
  while (!done(v)) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(v)?.slice(0, 500)}`);
    await new Promise((r) => setTimeout(r, opts.everyMs ?? 250));
    v = await read();
  }
  return v;
}
