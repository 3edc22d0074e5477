// Bundles the CLI and the extension. Packages that carry large WebAssembly
// payloads or native binaries (componentize-js, jco-transpile, esbuild) stay
// external and are loaded from node_modules only when a command needs them.
import { build } from 'esbuild';
import { chmodSync } from 'node:fs';

const external = ['@bytecodealliance/*', 'componentize-qjs', 'esbuild'];

await Promise.all([
  build({
    entryPoints: ['cli/main.ts'],
    outfile: 'dist/cli.js',
    bundle: true,
    platform: 'node',
    target: 'node22',
    format: 'esm',
    external,
    banner: { js: '#!/usr/bin/env node\nimport { createRequire as __mppCreateRequire } from "node:module"; const require = __mppCreateRequire(import.meta.url);' },
    legalComments: 'none',
    logLevel: 'warning',
  }),
  // The sandbox's worker and the shim IO worker's extension run in their own
  // threads: separate ESM entries, found by the host beside dist/cli.js.
  build({
    entryPoints: { 'sandbox-worker': 'runtime/sandbox/worker/main.ts', 'sandbox-io-extension': 'runtime/sandbox/worker/io-extension.ts' },
    outdir: 'dist',
    bundle: true,
    platform: 'node',
    target: 'node22',
    format: 'esm',
    external,
    banner: { js: 'import { createRequire as __mppCreateRequire } from "node:module"; const require = __mppCreateRequire(import.meta.url);' },
    legalComments: 'none',
    logLevel: 'warning',
  }),
  build({
    entryPoints: ['extension/extension.ts'],
    outfile: 'dist/extension.cjs',
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    external: ['vscode', ...external],
    legalComments: 'none',
    logLevel: 'warning',
  }),
]);
chmodSync('dist/cli.js', 0o755);
