import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { mppHome } from '../../runtime/home.ts';
import { loadRegistries, pickRegistry } from '../../runtime/registry/client/config.ts';
import { examineForPublish, publishPackage } from '../../runtime/registry/client/publish.ts';
import { isOciRef, parseOciRef, pushPackage } from '../../runtime/registry/oci/client.ts';
import { fingerprint } from '../../runtime/trust/keys.ts';
import type { RegisterCommand } from '../context.ts';
import { readUserFile } from '../files.ts';
import { usage } from '../output.ts';
import { progressBar, publishToken, transferTiming } from '../transfer.ts';

export const registerPublish: RegisterCommand = (program, run) => {
  program
    .command('publish')
    .description('Publish a signed package to an MPP registry (needs a token), or push it to an OCI registry (oci://host/repository:tag).')
    .argument('[file]', 'the signed .mpp (default: the only .mpp in ./dist)')
    .argument('[target]', 'oci://host/repository:tag to push to an OCI registry instead')
    .option('-r, --registry <name|url>', 'which configured registry (default: the first routed for the package name)')
    .option('--token <token>', 'publishing token (default: $MPP_REGISTRY_TOKEN)')
    .option('--timeout <ms>', 'time limit for the upload')
    .option('--json', 'print the result as JSON')
    .action((first: string | undefined, second: string | undefined, opts: { registry?: string; token?: string; timeout?: string; json?: boolean }) =>
      run(async ({ out }) => {
        // `mpp publish oci://…` publishes the default file there.
        const [file, target] = first && isOciRef(first) ? [second, first] : [first, second];
        if (target !== undefined && !isOciRef(target)) throw usage(`"${target}" is not an oci:// reference.`);
        const path = file ?? defaultPackageFile();
        const bytes = readUserFile(path, 'package');
        const timing = transferTiming(opts.timeout);
        const onProgress = progressBar(out, `uploading ${path}`);
        if (target) {
          const pushed = await pushPackage(parseOciRef(target), bytes, { ...timing, ...(onProgress ? { onProgress } : {}) });
          out.result(`Pushed ${pushed.name}@${pushed.version} to ${target}\nPinned reference: ${pushed.ref}`, { ...pushed, target });
          return;
        }
        const name = examineForPublish(bytes).manifest.name;
        const registry = pickRegistry(loadRegistries(mppHome()), opts.registry, name);
        const r = await publishPackage(registry, bytes, publishToken(opts.token), { ...timing, ...(onProgress ? { onProgress } : {}) });
        out.result(`${r.created ? 'Published' : 'Already published (same file):'} ${r.name}@${r.version} to "${registry.name}", bound to key ${fingerprint(r.publisher)}.\nInstall with: mpp install ${r.name}@${r.version}`, {
          ...r,
          registry: registry.name,
        });
      }, opts),
    );
};

function defaultPackageFile(): string {
  let found: string[] = [];
  try {
    found = readdirSync('dist').filter((n) => n.endsWith('.mpp'));
  } catch {
    // no dist folder
  }
  if (found.length !== 1) throw usage(found.length ? `./dist holds ${found.length} packages; name the one to publish.` : 'Name the package file to publish (no .mpp in ./dist).');
  return join('dist', found[0]!);
}
