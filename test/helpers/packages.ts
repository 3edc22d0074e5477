import { serializeManifest, type Manifest } from '../../runtime/format/manifest.ts';
import { writeArchive } from '../../runtime/format/write.ts';
import { baseManifest, paddedComponent } from '../../spec/vectors/generate.ts';

export { baseManifest };

/**
 * The conformance vectors' real component (spec/vectors/components), grown to
 * `size` bytes by a custom section: what every check before the sandbox
 * accepts; its tool is `counter`, not the manifest's, so it is not for runs.
 */
export function fakeComponent(size = 4096): Uint8Array {
  return paddedComponent(size, 'test-component');
}

/**
 * A component whose top-level names pass the tool-world check but which is not
 * valid: it exports an instance that does not exist. The gatekeeper accepts it
 * (it reads names only); the sandbox cannot compile it.
 */
export function invalidComponent(): Uint8Array {
  const name = Buffer.from('mpp:tool/handler@0.1.0');
  const exportSection = [0x01, 0x00, name.length, ...name, 0x05, 0x00, 0x00];
  return Uint8Array.from([0x00, 0x61, 0x73, 0x6d, 0x0d, 0x00, 0x01, 0x00, 11, exportSection.length, ...exportSection]);
}

/** An unsigned package with the given manifest, extra entries and component (the vectors' one by default). */
export function makePackage(manifest: Manifest = baseManifest(), extra: Record<string, Uint8Array> = {}, component: Uint8Array = fakeComponent()): Uint8Array {
  return writeArchive(new Map<string, Uint8Array>([['manifest.json', serializeManifest(manifest)], ['tool.wasm', component], ...Object.entries(extra)]));
}
