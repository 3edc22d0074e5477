/**
 * Fuzzing what a user or an attacker controls (package bytes, manifests, tool
 * inputs and outputs, command-line flags), through the runtime and through the
 * real CLI binary (dist/cli.js). Deterministic: one seed, a bounded number of
 * cases, so a failure names the case that reproduces it. The only acceptable
 * outcomes are success or a coded refusal: never an uncoded exception, never
 * MPP_E_INTERNAL, never exit 70.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ERROR_CODES, isMppError } from '../../runtime/errors.ts';
import { parseManifest, type ToolDefinition } from '../../runtime/format/manifest.ts';
import { writeArchive } from '../../runtime/format/write.ts';
import { checkInput, checkOutput } from '../../runtime/run/invoke.ts';
import { examinePackage } from '../../runtime/trust/gatekeeper.ts';
import { generateKey } from '../../runtime/trust/keys.ts';
import { signPackage } from '../../runtime/trust/sign.ts';
import { mpp, tempDir } from '../helpers/cli.ts';
import { baseManifest, makePackage } from '../helpers/packages.ts';

const SEED = 0x13_2026;

/** mulberry32: a small deterministic generator (the same cases on every machine). */
function rng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  const pick = <T>(list: readonly T[]): T => list[int(list.length)]!;
  return { next, int, pick };
}
type Rng = ReturnType<typeof rng>;

/** Success, or a coded refusal other than MPP_E_INTERNAL; anything else fails with the case that caused it. */
function expectCoded(what: string, f: () => unknown): void {
  try {
    f();
  } catch (e) {
    assert.ok(isMppError(e), `${what}: uncoded ${e instanceof Error ? e.stack : String(e)}`);
    assert.notEqual(e.code, 'MPP_E_INTERNAL', `${what}: ${e.message}`);
  }
}

function mutateBytes(r: Rng, bytes: Uint8Array): Uint8Array {
  const out = Buffer.from(bytes);
  switch (r.int(5)) {
    case 0: // flip a few bits
      for (let i = r.int(4) + 1; i > 0; i--) out[r.int(out.length)]! ^= 1 << r.int(8);
      return out;
    case 1: // overwrite a run with junk
    {
      const at = r.int(out.length);
      for (let i = 0; i < 1 + r.int(32) && at + i < out.length; i++) out[at + i] = r.int(256);
      return out;
    }
    case 2: // truncate
      return out.subarray(0, r.int(out.length));
    case 3: // insert bytes
    {
      const at = r.int(out.length);
      return Buffer.concat([out.subarray(0, at), Buffer.from(Array.from({ length: 1 + r.int(64) }, () => r.int(256))), out.subarray(at)]);
    }
    default: // set a 16- or 32-bit field to an extreme
    {
      const at = r.int(Math.max(1, out.length - 4));
      const v = r.pick([0, 0xffff, 0xffffffff, 0x7fffffff, 1]);
      if (r.int(2)) out.writeUInt16LE(v & 0xffff, at);
      else out.writeUInt32LE(v >>> 0, at);
      return out;
    }
  }
}

const STRINGS = ['', 'a', '\u0000', '\u001b[2J', 'é', '\ud800', 'x'.repeat(3000), '${workspace}/..', '../../etc', '127.1', '0x7f.1', '*', '(', '^\\p{L}$', 'https://203.0.113.7/s.json', '#/$defs/nope', '1.0.0', '01.0.0', 'a/b'];

function randomValue(r: Rng, depth = 0): unknown {
  switch (r.int(depth > 4 ? 5 : 8)) {
    case 0: return null;
    case 1: return r.int(2) === 1;
    case 2: return r.pick([0, -1, 1.5, 1e308, -0, 2 ** 53, 16, 4096, 600000]);
    case 3:
    case 4: return r.pick(STRINGS);
    case 5: return Array.from({ length: r.int(4) }, () => randomValue(r, depth + 1));
    case 6: return Object.fromEntries(Array.from({ length: r.int(4) }, () => [r.pick([...STRINGS, 'type', '$ref', 'pattern', 'items', 'properties', 'required', 'format']), randomValue(r, depth + 1)]));
    default: return '['.repeat(300 + r.int(5000)); // bracket-heavy text as a string value
  }
}

/** A manifest with one field somewhere replaced by a random value (or deep text spliced in). */
function mutateManifest(r: Rng): string {
  const m = JSON.parse(JSON.stringify(baseManifest({ permissions: { filesystem: [{ path: '${workspace}/src', access: 'read' }], network: [{ scheme: 'http', host: '127.0.0.1', port: 8080, methods: ['GET'] }] }, limits: { timeoutMs: 1000 } }))) as Record<string, unknown>;
  const paths: (string | number)[][] = [];
  const walk = (v: unknown, path: (string | number)[]) => {
    paths.push(path);
    if (v !== null && typeof v === 'object') for (const [k, c] of Object.entries(v)) walk(c, [...path, Array.isArray(v) ? Number(k) : k]);
  };
  walk(m, []);
  const path = r.pick(paths.slice(1));
  let at = m as Record<string | number, unknown>;
  for (const k of path.slice(0, -1)) at = at[k] as Record<string | number, unknown>;
  at[path.at(-1)!] = randomValue(r);
  const text = JSON.stringify(m);
  // Sometimes nest a schema far past the bound, as text (no recursion anywhere).
  if (r.int(6) !== 0) return text;
  const depth = 200 + r.int(4000);
  return text.replace('"properties":{', `"properties":{"deep":${'{"items":'.repeat(depth)}{}${'}'.repeat(depth)},`);
}

describe(`fuzz (seed ${SEED}): only coded refusals`, () => {
  const key = generateKey();
  const valid = signPackage(makePackage(), key);
  const tool: ToolDefinition = { ...baseManifest().tools[0]!, inputSchema: { type: 'object', properties: { name: { type: 'string', pattern: '^[a-z]+$' }, n: { type: 'array', items: { type: 'object' } } } }, outputSchema: { type: 'object', additionalProperties: { type: 'string' } } };

  it('package bytes through the gatekeeper (2,000 mutations of a signed package)', () => {
    const r = rng(SEED);
    for (let i = 0; i < 2_000; i++) expectCoded(`package case ${i}`, () => examinePackage(mutateBytes(r, valid)));
  });

  it('manifests through parseManifest (1,000 mutations)', () => {
    const r = rng(SEED + 1);
    for (let i = 0; i < 1_000; i++) {
      const text = mutateManifest(r);
      expectCoded(`manifest case ${i}: ${text.slice(0, 200)}`, () => parseManifest(Buffer.from(text)));
    }
  });

  it('tool inputs and outputs through their checks (1,000 each)', () => {
    const r = rng(SEED + 2);
    for (let i = 0; i < 1_000; i++) {
      const value = randomValue(r);
      const texts = [JSON.stringify(value) ?? 'undefined', JSON.stringify({ name: value, n: [value] }), String(value).slice(0, 100)];
      const text = r.pick(texts);
      expectCoded(`input case ${i}: ${text.slice(0, 200)}`, () => checkInput(tool, text));
      expectCoded(`output case ${i}: ${text.slice(0, 200)}`, () => checkOutput(tool, text));
    }
  });

  const WORDS = ['verify', 'inspect', 'install', 'list', 'uninstall', 'run', 'permissions', 'grant', 'revoke', 'trust', 'list', 'add', 'remove', 'revoke', 'agent', 'audit', 'sign', 'keygen', 'search', 'frob', '--json', '--json', '--key', '--role', '--input', '--timeout', '--allow-net', '--allow-read', '--workspace', '--global', '--all', '--name', '--reason', '--frob', '-x', '--', 'author', 'boss', '{}', '{"name":"ada"}', '[[[[', '0', '-1', '1e3', '0x10', '99999999999999999999', 'http://127.0.0.1:1', 'http://2130706433', 'a/b', 'a/b@^1', 'oci://x', '', 'é', '\u001b[2J', 'PKG', 'PKG', 'BAD'];

  it('the CLI binary: mutated packages, mutated manifests and random flags (60 runs)', async (t) => {
    const home = tempDir(t, 'fuzz');
    const r = rng(SEED + 3);
    const component = examinePackage(valid).entries.component.data;
    const pkgFile = join(home, 'pkg.mpp');
    writeFileSync(pkgFile, valid);
    const cases: string[][] = [];
    for (let i = 0; i < 20; i++) {
      const file = join(home, `bytes-${i}.mpp`);
      writeFileSync(file, mutateBytes(r, valid));
      cases.push([r.pick(['verify', 'inspect', 'install']), file, '--json']);
    }
    for (let i = 0; i < 10; i++) {
      const file = join(home, `manifest-${i}.mpp`);
      writeFileSync(file, writeArchive(new Map([['manifest.json', Buffer.from(mutateManifest(r))], ['tool.wasm', component]])));
      cases.push([r.pick(['verify', 'inspect', 'install']), file, '--json']);
    }
    for (let i = 0; i < 30; i++) {
      cases.push(Array.from({ length: 1 + r.int(5) }, () => r.pick(WORDS)).map((w) => (w === 'PKG' ? pkgFile : w === 'BAD' ? join(home, 'bytes-0.mpp') : w)));
    }
    for (const [i, args] of cases.entries()) {
      const res = await mpp(args, { home });
      const what = `CLI case ${i}: mpp ${args.join(' ')}\n${res.stdout}${res.stderr}`;
      assert.ok([0, 1, 2].includes(res.code), what);
      assert.doesNotMatch(res.stdout + res.stderr, /MPP_E_INTERNAL/, what);
      if (args.includes('--json') && !args.includes('--')) {
        const doc = JSON.parse(res.stdout) as { ok: boolean; error?: { code: string } };
        if (!doc.ok) assert.ok(doc.error && doc.error.code in ERROR_CODES, what);
      }
    }
  });
});
