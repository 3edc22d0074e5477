/**
 * Makes the glue's JSPI probe cheap where the engine has no JSPI (Node 22).
 *
 * jco's glue calls `WebAssembly.promising(...)` three times per component
 * instance inside a try/catch and falls back to the plain export when it
 * throws. Calling an undefined `WebAssembly.promising` throws a TypeError whose
 * message V8 words by re-parsing the calling function, and that function is
 * the glue's whole instantiation generator (~35,000 lines): 8 ms per probe,
 * 25 ms of a 30 ms instantiation (measured with the inspector's CPU profile).
 * Every probe is `try { x = WebAssembly.promising(f) } catch { x = f }`: a
 * `promising` that hands back `f` gives the glue its fallback without a throw
 * (throwing even a ready-made error cost 1 ms per instance, which matters
 * now that kept instances are reused, worker/core-reuse.ts). The glue's only
 * other JSPI use, `new WebAssembly.Suspending`, is for imports marked async,
 * which the tool world has none of; without JSPI it fails loudly either way.
 *
 * Only the worker's own realm is touched, and only where the engine has no
 * JSPI: where `WebAssembly.promising` exists it is left as it is.
 */
export function answerJspiProbeCheaply(): void {
  const wasm = WebAssembly as unknown as { promising?: unknown };
  if (typeof wasm.promising === 'function') return;
  Object.defineProperty(WebAssembly, 'promising', {
    value: function promising(f: unknown): unknown {
      return f;
    },
    configurable: true,
    writable: false,
  });
}
