/**
 * Makes the glue's JSPI probe cheap where the engine has no JSPI (Node 22).
 *
 * jco's glue calls `WebAssembly.promising(...)` three times per component
 * instance inside a try/catch and falls back to the plain export when it
 * throws. Calling an undefined `WebAssembly.promising` throws a TypeError whose
 * message V8 words by re-parsing the calling function, and that function is
 * the glue's whole instantiation generator (~35,000 lines): 8 ms per probe,
 * 25 ms of a 30 ms instantiation (measured with the inspector's CPU profile).
 * A function that throws the same kind of error at once gives the glue the
 * same answer, and the same fallback, for nothing.
 *
 * Only the worker's own realm is touched, and only where the engine has no
 * JSPI: where `WebAssembly.promising` exists it is left as it is.
 */
export function answerJspiProbeCheaply(): void {
  const wasm = WebAssembly as unknown as { promising?: unknown };
  if (typeof wasm.promising === 'function') return;
  const absent = new TypeError('WebAssembly.promising is not available in this engine');
  Object.defineProperty(WebAssembly, 'promising', {
    value: function promising(): never {
      throw absent;
    },
    configurable: true,
    writable: false,
  });
}
