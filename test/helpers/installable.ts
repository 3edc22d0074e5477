import { join } from 'node:path';
import { buildPackage } from '../../runtime/build/index.ts';
import type { Manifest } from '../../runtime/format/manifest.ts';
import { examinePackage } from '../../runtime/trust/gatekeeper.ts';
import type { PrivateKey } from '../../runtime/trust/keys.ts';
import { signPackage } from '../../runtime/trust/sign.ts';
import { ROOT } from './cli.ts';
import { makePackage } from './packages.ts';

export interface ExampleBuild {
  readonly manifest: Manifest;
  /** A real component (the sandbox can transpile and run it), unlike packages.ts's fakeComponent. */
  readonly component: Uint8Array;
}

let built: Promise<ExampleBuild> | undefined;

/**
 * examples/hello, built once per process. The build caches its component in
 * examples/hello/.mpp/cache, so only the first run on a machine takes seconds.
 */
export function exampleBuild(): Promise<ExampleBuild> {
  built ??= buildPackage({ projectDir: join(ROOT, 'examples', 'hello') }).then((r) => ({
    manifest: r.manifest,
    component: examinePackage(r.archive).entries.component.data,
  }));
  return built;
}

/** The example re-packed under another name, version or description, signed by `key` as author. */
export function examplePackage(build: ExampleBuild, key: PrivateKey, changes: Partial<Pick<Manifest, 'name' | 'version' | 'description'>> = {}): Uint8Array {
  return signPackage(makePackage({ ...build.manifest, ...changes }, {}, build.component), key);
}
