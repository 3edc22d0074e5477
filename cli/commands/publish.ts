import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { mppHome } from '../../runtime/home.ts';
import { loadRegistries, pickRegistry } from '../../runtime/registry/client/config.ts';
import { examineForPublish, publishPackage } from '../../runtime/registry/client/publish.ts';
import { isOciRef, parseOciRef, pushPackage } from '../../runtime/registry/oci/client.ts';
import { createRotation } from '../../runtime/registry/documents.ts';
import { fingerprint, parsePrivateKeyPem } from '../../runtime/trust/keys.ts';
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
    .option('--rotated-from <old.pem>', 'OCI only: the private key the repository\'s packages were signed with before; signs a hand-over to this package\'s key, carried in the artifact')
    .option('--json', 'print the result as JSON')
    .action((first: string | undefined, second: string | undefined, opts: { registry?: string; token?: string; timeout?: string; rotatedFrom?: string; json?: boolean }) =>
      run(async ({ out }) => {
        // `mpp publish oci://…` publishes the default file there.
        const [file, target] = first && isOciRef(first) ? [second, first] : [first, second];
        if (target !== undefined && !isOciRef(target)) throw usage(`"${target}" is not an oci:// reference.`);
        const path = file ?? defaultPackageFile();
        const bytes = readUserFile(path, 'package');
        const timing = transferTiming(opts.timeout);
        const onProgress = progressBar(out, `uploading ${path}`);
        if (opts.rotatedFrom && !target) throw usage('--rotated-from is for OCI targets; for an MPP registry run `mpp registry rotate`.');
        if (target) {
          const rotations = opts.rotatedFrom ? [ociRotation(bytes, opts.rotatedFrom)] : [];
          const pushed = await pushPackage(parseOciRef(target), bytes, { ...timing, rotations, ...(onProgress ? { onProgress } : {}) });
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

/** A rotation statement by the old key to the package's author key (the one an OCI install will accept it on). */
function ociRotation(bytes: Uint8Array, oldKeyFile: string): string {
  const old = parsePrivateKeyPem(readUserFile(oldKeyFile, 'key file').toString('utf8'), oldKeyFile);
  const author = examineForPublish(bytes).signatures.find((s) => s.role === 'author')!;
  if (author.key.keyid === old.publicKey.keyid) throw usage('--rotated-from names the key the package is signed with; give the earlier key.');
  return createRotation(old, author.key).toString('utf8');
}

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
