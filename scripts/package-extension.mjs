// Builds the .vsix from a staging folder holding only what the extension
// runs: package.json's "files" describe the npm package (the CLI), which vsce
// would otherwise use, and the extension ships no node_modules (all bundled).
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const stage = join('dist', 'vsix');
rmSync(stage, { recursive: true, force: true });
mkdirSync(join(stage, 'dist'), { recursive: true });
const manifest = JSON.parse(readFileSync('package.json', 'utf8'));
for (const key of ['files', 'bin', 'scripts', 'dependencies', 'devDependencies', 'allowScripts']) delete manifest[key];
writeFileSync(join(stage, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
for (const path of ['README.md', 'media', 'dist/extension', 'dist/webview']) cpSync(path, join(stage, path), { recursive: true });
const out = join(process.cwd(), 'dist', `mpp-${manifest.version}.vsix`);
execFileSync(process.execPath, [join(process.cwd(), 'node_modules', '@vscode', 'vsce', 'vsce'), 'package', '--no-dependencies', '--skip-license', '--allow-missing-repository', '--out', out], { cwd: stage, stdio: 'inherit' });
console.log(`${out}: ${(statSync(out).size / 1024 / 1024).toFixed(2)} MiB`);
