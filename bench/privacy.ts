/**
 * False positives and throughput of the redaction engine on ordinary code and
 * text found offline on this machine: TypeScript's lib .d.ts files and the
 * sources of several installed packages (code), the repo's spec and README
 * and the system's /usr/share/doc files (text). Ordinary code and text hold
 * almost no real PII, so nearly every hit is a false positive: the bench
 * prints hits per class, hits per MB, and a sample of hit lines per class to
 * judge by eye. Throughput is all classes vs one e-mail regex pass and vs
 * JSON.stringify over the same strings, as ratios.
 *   node bench/privacy.ts [--samples 15] [--runs 3]
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parseArgs } from 'node:util';
import { gunzipSync } from 'node:zlib';
import type { PiiClass } from '../runtime/format/manifest.ts';
import { PII_CLASSES, redactText, type RedactionCounts } from '../runtime/privacy/index.ts';
import { median } from './stats.ts';

const { values } = parseArgs({ options: { samples: { type: 'string', default: '15' }, runs: { type: 'string', default: '3' } } });
const root = join(import.meta.dirname, '..');
const MAX_FILE = 2 * 1024 * 1024;

function walk(dir: string, keep: (p: string) => boolean, out: string[] = [], budget = { bytes: 12 * 1024 * 1024 }): string[] {
  let entries: string[];
  try {
    entries = readdirSync(dir).sort();
  } catch {
    return out;
  }
  for (const e of entries) {
    if (budget.bytes <= 0) break;
    const p = join(dir, e);
    const st = statSync(p, { throwIfNoEntry: false });
    if (!st) continue;
    if (st.isDirectory()) walk(p, keep, out, budget);
    else if (st.isFile() && st.size <= MAX_FILE && keep(p)) {
      out.push(p);
      budget.bytes -= st.size;
    }
  }
  return out;
}

function read(p: string): string {
  const raw = readFileSync(p);
  return (p.endsWith('.gz') ? gunzipSync(raw) : raw).toString('utf8');
}

const nm = join(root, 'node_modules');
const code = [
  ...walk(join(nm, 'typescript', 'lib'), (p) => p.endsWith('.d.ts')),
  ...walk(join(nm, 'ajv', 'lib'), (p) => p.endsWith('.ts')),
  ...walk(join(nm, 'commander'), (p) => /\.(js|ts)$/.test(p)),
  ...walk(join(nm, 'semver'), (p) => p.endsWith('.js')),
  ...walk(join(nm, '@modelcontextprotocol', 'sdk', 'dist', 'esm'), (p) => p.endsWith('.js')),
  ...walk(join(nm, 'zod', 'src'), (p) => p.endsWith('.ts'), [], { bytes: 4 * 1024 * 1024 }),
  ...walk(join(nm, 'esbuild', 'lib'), (p) => /\.(js|ts)$/.test(p)),
  ...walk(join(root, 'runtime'), (p) => p.endsWith('.ts') && !p.includes('/privacy/')),
];
const text = [
  ...walk(join(root, 'spec'), (p) => p.endsWith('.md')),
  join(root, 'README.md'),
  ...walk('/usr/share/doc', (p) => /(README|NEWS|changelog|copyright|\.txt|\.md)/i.test(p) && !/\.(html|png|svg)/.test(p), [], { bytes: 10 * 1024 * 1024 }),
];

const corpora: { name: string; files: { path: string; text: string }[] }[] = [
  { name: 'code', files: code.map((p) => ({ path: p, text: read(p) })) },
  { name: 'text', files: text.map((p) => ({ path: p, text: read(p) })) },
];

const policy = { classes: new Set(PII_CLASSES) };
const samples = Number(values.samples);

for (const c of corpora) {
  const mb = c.files.reduce((a, f) => a + Buffer.byteLength(f.text), 0) / (1024 * 1024);
  const counts: RedactionCounts = {};
  const hitLines: Partial<Record<PiiClass, string[]>> = {};
  for (const f of c.files) {
    const r = redactText(f.text, policy);
    for (const k of Object.keys(r.counts) as PiiClass[]) counts[k] = (counts[k] ?? 0) + r.counts[k]!;
    if (Object.keys(r.counts).length === 0) continue;
    // Samples: the lines that hold hits, with their redacted form, to judge by eye.
    for (const line of f.text.split('\n')) {
      const lr = redactText(line, policy);
      for (const k of Object.keys(lr.counts) as PiiClass[]) {
        (hitLines[k] ??= []).push(`${relative(root, f.path).slice(-50)}: ${line.trim().slice(0, 150)}`);
      }
    }
  }
  console.log(`\n== ${c.name}: ${c.files.length} files, ${mb.toFixed(1)} MB`);
  for (const cls of PII_CLASSES) {
    const n = counts[cls] ?? 0;
    console.log(`${cls.padEnd(13)} hits ${String(n).padStart(6)}   per MB ${(n / mb).toFixed(2)}`);
  }
  for (const cls of PII_CLASSES) {
    const lines = hitLines[cls] ?? [];
    if (lines.length === 0) continue;
    const step = Math.max(1, Math.floor(lines.length / samples));
    console.log(`-- sample of ${cls} (${Math.min(samples, lines.length)} of ${lines.length} lines)`);
    for (let i = 0; i < lines.length && i / step < samples; i += step) console.log('   ' + lines[i]);
  }
}

// Throughput over all files of both corpora.
const all = corpora.flatMap((c) => c.files.map((f) => f.text));
const totalMb = all.reduce((a, t) => a + Buffer.byteLength(t), 0) / (1024 * 1024);
const time = (fn: () => void) => {
  const t = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - t) / 1e6;
};
const email = /[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}/g;
let sink = 0;
const engine: number[] = [];
const regex: number[] = [];
const stringify: number[] = [];
for (let i = 0; i < Number(values.runs); i++) {
  engine.push(time(() => all.forEach((t) => (sink += redactText(t, policy).text.length))));
  regex.push(time(() => all.forEach((t) => (sink += t.match(email)?.length ?? 0))));
  stringify.push(time(() => all.forEach((t) => (sink += JSON.stringify(t).length))));
}
const rate = (msv: number) => (totalMb / (msv / 1000)).toFixed(1);
console.log(`\n== throughput over ${totalMb.toFixed(1)} MB (median of ${values.runs} runs)`);
console.log(`engine, all classes   ${rate(median(engine))} MB/s`);
console.log(`one e-mail regex pass ${rate(median(regex))} MB/s   engine/regex time ratio ${(median(engine) / median(regex)).toFixed(1)}x`);
console.log(`JSON.stringify        ${rate(median(stringify))} MB/s   engine/stringify time ratio ${(median(engine) / median(stringify)).toFixed(1)}x`);
if (sink < 0) console.log(sink);
