// Bundles the CLI and the extension. Packages that carry large WebAssembly
// payloads or native binaries (componentize-js, jco-transpile, esbuild) stay
// external and are loaded from node_modules only when a command needs them.
import { build } from 'esbuild';
import { chmodSync, copyFileSync, mkdirSync, readFileSync, readdirSync, rmSync } from 'node:fs';

const external = ['@bytecodealliance/*', 'componentize-qjs', 'esbuild'];
// Bundles carry the transpiler version (runtime/sandbox/prepare.ts): the .vsix has no node_modules to read it from.
const jcoVersion = JSON.parse(readFileSync('node_modules/@bytecodealliance/jco-transpile/package.json', 'utf8')).version;
const define = { __MPP_JCO_TRANSPILE_VERSION__: JSON.stringify(jcoVersion) };

await Promise.all([
  build({
    entryPoints: ['cli/main.ts'],
    outfile: 'dist/cli.js',
    bundle: true,
    platform: 'node',
    target: 'node22',
    format: 'esm',
    external,
    define,
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
    define,
    banner: { js: 'import { createRequire as __mppCreateRequire } from "node:module"; const require = __mppCreateRequire(import.meta.url);' },
    legalComments: 'none',
    logLevel: 'warning',
  }),
  deferralBuild('dist'),
  ...extensionBuilds(),
]);
chmodSync('dist/cli.js', 0o755);

/** The tool worker's preload (runtime/sandbox/worker/defer-io-worker.cts): CommonJS, since `--require` loads it. */
function deferralBuild(outdir) {
  return build({
    entryPoints: { 'sandbox-defer-io-worker': 'runtime/sandbox/worker/defer-io-worker.cts' },
    outdir,
    outExtension: { '.js': '.cjs' },
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    legalComments: 'none',
    logLevel: 'warning',
  });
}

/**
 * The VS Code extension ships no node_modules (and so no native module):
 * everything it runs is bundled into dist/extension/, beside the files the
 * bundled libraries load by URL at run time, and the dialogs' page into
 * dist/webview/. The extension host loads CommonJS; the sandbox's threads
 * are ES modules.
 */
function extensionBuilds() {
  const out = 'dist/extension';
  rmSync(out, { recursive: true, force: true });
  rmSync('dist/webview', { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  mkdirSync('dist/webview', { recursive: true });
  // jco-transpile compiles its own two components from files next to its module.
  const vendor = 'node_modules/@bytecodealliance/jco-transpile/vendor';
  for (const f of readdirSync(vendor)) if (f.endsWith('.wasm')) copyFileSync(`${vendor}/${f}`, `${out}/${f}`);
  // preview2-shim starts its IO worker from this file, next to the module that imports it.
  copyFileSync('node_modules/@bytecodealliance/preview2-shim/dist/io/worker-thread.bundle.js', `${out}/worker-thread.bundle.js`);
  copyFileSync('webview/dialog.css', 'dist/webview/dialog.css');
  copyFileSync('webview/tool-form.css', 'dist/webview/tool-form.css');
  // Only the (unused) minify and optimise options of jco-transpile need these native/large packages.
  const unused = { 'oxc-minify': './extension/unbundled.ts', binaryen: './extension/unbundled.ts' };
  return [
    build({
      entryPoints: { extension: 'extension/extension.ts' },
      outdir: out,
      outExtension: { '.js': '.cjs' },
      bundle: true,
      platform: 'node',
      target: 'node20',
      format: 'cjs',
      external: ['vscode'],
      alias: unused,
      // The runtime finds its worker entries and jco its files beside the running module.
      define: { ...define, 'import.meta.url': '__mppModuleUrl' },
      banner: { js: 'const __mppModuleUrl = require("node:url").pathToFileURL(__filename).href;' },
      legalComments: 'none',
      logLevel: 'warning',
    }),
    build({
      entryPoints: { 'sandbox-worker': 'runtime/sandbox/worker/main.ts', 'sandbox-io-extension': 'runtime/sandbox/worker/io-extension.ts' },
      outdir: out,
      bundle: true,
      platform: 'node',
      target: 'node20',
      format: 'esm',
      define,
      banner: { js: 'import { createRequire as __mppCreateRequire } from "node:module"; const require = __mppCreateRequire(import.meta.url);' },
      legalComments: 'none',
      logLevel: 'warning',
    }),
    deferralBuild(out),
    build({
      entryPoints: { dialog: 'webview/main.ts', 'tool-form': 'webview/tool-form.ts' },
      outdir: 'dist/webview',
      bundle: true,
      platform: 'browser',
      target: 'es2022',
      format: 'esm',
      minify: true,
      legalComments: 'none',
      logLevel: 'warning',
    }),
  ];
}
