/**
 * Verification cost vs hashing: verify a signed ~10 MB package (the gatekeeper's
 * full pipeline) and SHA-256 the same bytes, alternating, many runs, medians
 * in one process. Goal: verify <= 1.3x SHA-256.
 *   node bench/verify.ts [--mb 10] [--runs 200]
 */
import { median } from './stats.ts';
import { createHash } from 'node:crypto';
import { parseArgs } from 'node:util';
import { serializeManifest } from '../runtime/format/manifest.ts';
import { writeArchive } from '../runtime/format/write.ts';
import { verifyPackage } from '../runtime/trust/gatekeeper.ts';
import { generateKey } from '../runtime/trust/keys.ts';
import { signPackage } from '../runtime/trust/sign.ts';
import { baseManifest, paddedComponent } from '../spec/vectors/generate.ts';

const { values } = parseArgs({ options: { mb: { type: 'string', default: '10' }, runs: { type: 'string', default: '200' } } });
const size = Number(values.mb) * 1024 * 1024;
const runs = Number(values.runs);

// A real component grown by a section of hash-chain filler: incompressible, like real wasm code sections roughly are.
const component = paddedComponent(size, 'bench');
const key = generateKey();
const pkg = signPackage(writeArchive(new Map([['manifest.json', serializeManifest(baseManifest())], ['tool.wasm', component], ['README.md', Buffer.from('# bench\n'.repeat(100))]])), key);
const trust = { state: (id: string) => (id === key.publicKey.keyid ? ('trusted' as const) : ('unknown' as const)), name: () => 'bench' };

const time = (fn: () => unknown) => {
  const t = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - t) / 1e6;
};
for (let i = 0; i < 10; i++) {
  verifyPackage(pkg, trust);
  createHash('sha256').update(pkg).digest();
}
const verify: number[] = [];
const hash: number[] = [];
for (let i = 0; i < runs; i++) {
  verify.push(time(() => verifyPackage(pkg, trust)));
  hash.push(time(() => createHash('sha256').update(pkg).digest()));
}
const v = median(verify);
const h = median(hash);
console.log(`package: ${(pkg.length / 1048576).toFixed(1)} MiB, ${runs} runs each, medians`);
console.log(`verify (archive + manifest + digest + signature + trust): ${v.toFixed(2)} ms`);
console.log(`sha256 of the same bytes:                               ${h.toFixed(2)} ms`);
console.log(`ratio verify/sha256: ${(v / h).toFixed(2)}x (goal <= 1.3x)`);
