import { serializeManifest, type Manifest } from '../../runtime/format/manifest.ts';
import { writeArchive } from '../../runtime/format/write.ts';
import { baseManifest } from '../../spec/vectors/generate.ts';

export { baseManifest };

/** A component header followed by filler: enough for every check before the sandbox. */
export function fakeComponent(size = 1024): Uint8Array {
  const out = new Uint8Array(size).fill(0x5a);
  out.set([0x00, 0x61, 0x73, 0x6d, 0x0d, 0x00, 0x01, 0x00]);
  return out;
}

/** An unsigned package with the given manifest, extra entries and component (a fake one by default). */
export function makePackage(manifest: Manifest = baseManifest(), extra: Record<string, Uint8Array> = {}, component: Uint8Array = fakeComponent()): Uint8Array {
  return writeArchive(new Map<string, Uint8Array>([['manifest.json', serializeManifest(manifest)], ['tool.wasm', component], ...Object.entries(extra)]));
}
