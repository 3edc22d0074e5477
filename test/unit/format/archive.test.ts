import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { isMppError } from '../../../runtime/errors.ts';
import { DEFAULT_LIMITS } from '../../../runtime/format/layout.ts';
import { readArchive } from '../../../runtime/format/read.ts';
import { writeArchive } from '../../../runtime/format/write.ts';
import { fakeComponent } from '../../helpers/packages.ts';

const code = (expected: string) => (e: unknown) => isMppError(e) && e.code === expected;

describe('writeArchive', () => {
  const entries = () => new Map<string, Uint8Array>([['tool.wasm', fakeComponent(5000)], ['manifest.json', Buffer.from('{"a":1}\n'.repeat(50))], ['README.md', Buffer.from('# hi\n')]]);

  it('gives the same bytes for the same entries, whatever their order', () => {
    const a = writeArchive(entries());
    const b = writeArchive(new Map([...entries()].reverse()));
    assert.ok(Buffer.from(a).equals(Buffer.from(b)));
  });

  it('stores tool.wasm and deflates the rest, sorted by name', () => {
    const archive = readArchive(writeArchive(entries()));
    assert.deepEqual([...archive.keys()], ['README.md', 'manifest.json', 'tool.wasm']);
    assert.equal(archive.get('tool.wasm')!.method, 0);
    assert.equal(archive.get('manifest.json')!.method, 8);
    assert.ok(archive.get('manifest.json')!.compressedSize < 400);
  });

  it('round-trips content, and stored entries are views into the input (no copy)', () => {
    const bytes = writeArchive(entries());
    const archive = readArchive(bytes);
    for (const [name, data] of entries()) assert.ok(Buffer.from(archive.get(name)!.data).equals(Buffer.from(data)), name);
    assert.equal(archive.get('tool.wasm')!.data.buffer, bytes.buffer);
  });

  it('gives the same bytes in every time zone', () => {
    const script = `import { writeArchive } from ${JSON.stringify(fileURLToPath(new URL('../../../runtime/format/write.ts', import.meta.url)))};
      process.stdout.write(Buffer.from(writeArchive(new Map([['manifest.json', Buffer.from('{}')], ['tool.wasm', Buffer.from('x')]]))).toString('hex'));`;
    const inZone = (tz: string) => execFileSync(process.execPath, ['--input-type=module', '-e', script], { env: { ...process.env, TZ: tz } }).toString();
    const utc = inZone('UTC');
    for (const tz of ['America/Los_Angeles', 'Europe/Berlin', 'Asia/Tokyo', 'Australia/Sydney', 'Pacific/Kiritimati']) assert.equal(inZone(tz), utc, tz);
  });

  it('refuses to write an unsafe name', () => {
    assert.throws(() => writeArchive(new Map([['../x', new Uint8Array(1)]])), code('MPP_E_UNSAFE_ARCHIVE'));
  });
});

describe('readArchive limits', () => {
  const bytes = writeArchive(new Map([['manifest.json', Buffer.from('{}')], ['tool.wasm', fakeComponent(5000)]]));

  it('refuses an archive larger than the limit before parsing it', () => {
    assert.throws(() => readArchive(bytes, { ...DEFAULT_LIMITS, maxArchiveBytes: bytes.length - 1 }), code('MPP_E_ARCHIVE_TOO_LARGE'));
  });
  it('refuses more entries than the limit', () => {
    assert.throws(() => readArchive(bytes, { ...DEFAULT_LIMITS, maxEntries: 1 }), code('MPP_E_ARCHIVE_TOO_LARGE'));
  });
  it('refuses an entry over its own size limit', () => {
    assert.throws(() => readArchive(bytes, { ...DEFAULT_LIMITS, maxEntryBytes: { ...DEFAULT_LIMITS.maxEntryBytes, 'tool.wasm': 4999 } }), code('MPP_E_ARCHIVE_TOO_LARGE'));
  });
  it('refuses entries whose sizes add up past the total limit', () => {
    assert.throws(() => readArchive(bytes, { ...DEFAULT_LIMITS, maxTotalUncompressedBytes: 5001 }), code('MPP_E_ARCHIVE_TOO_LARGE'));
  });
  it('accepts the same archive within the limits', () => {
    assert.equal(readArchive(bytes).size, 2);
  });
});
