/**
 * Turns a tool written in WebAssembly text (a core module using the canonical
 * ABI names) into a component of the tool world, with the wasm-tools that
 * jco-transpile ships: parse (WAT -> core module), component embed (with the
 * mpp:tool interfaces of spec/wit/mpp.wit), component new. Deterministic for
 * the same WAT, WIT and wasm-tools version.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const MPP_WIT = fileURLToPath(new URL('../wit/mpp.wit', import.meta.url));

export async function assembleComponent(wat: string): Promise<Uint8Array> {
  const tools = await import('@bytecodealliance/jco-transpile/wasm-tools');
  // The mpp:tool interfaces without the world (whose WASI imports would need
  // deps/), and a world of what a core module may use of them: unused imports
  // are dropped by component new, so the component imports what the WAT does.
  const interfaces = readFileSync(MPP_WIT, 'utf8').replace(/\bworld\s+tool\s*\{[^}]*\}/, '');
  const world = 'world wat-tool {\n  import kv;\n  import log;\n  import identity;\n  import confirm;\n  export handler;\n}\n';
  const core = await tools.parse(wat);
  return tools.componentNew(await tools.componentEmbed({ binary: core, witSource: interfaces + world, world: 'wat-tool' }));
}
