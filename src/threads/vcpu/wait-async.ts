/** `Atomics.waitAsync` (Node 16+, ES2024), typed here because the project's lib is ES2022. */

/** The result of Atomics.waitAsync. */
export type WaitAsyncResult =
  | { readonly async: false; readonly value: 'not-equal' | 'timed-out' }
  | { readonly async: true; readonly value: Promise<'ok' | 'timed-out'> };

interface AtomicsWithWaitAsync {
  waitAsync(array: Int32Array, index: number, value: number, timeoutMs?: number): WaitAsyncResult;
}

/** Waits without blocking until `array[index]` is notified or `timeoutMs` passed (if it equals `value`). */
export function waitAsync(array: Int32Array, index: number, value: number, timeoutMs: number): WaitAsyncResult {
  return (Atomics as unknown as AtomicsWithWaitAsync).waitAsync(array, index, value, timeoutMs);
}
