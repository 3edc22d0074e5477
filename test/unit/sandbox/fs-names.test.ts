/**
 * The portable strategy's name and root mapping under each platform's rules
 * (node:path's win32/posix flavours): what Windows or macOS would take as
 * something other than one entry of the walked directory is refused.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isAbsoluteTarget, joinHost, mapHostRoot, nameProblem, splitTarget, type NameRules } from '../../../runtime/sandbox/worker/fs-names.ts';

/** One test per [name, expected refusal or null, why] under `rules`. */
function nameTable(rules: NameRules, cases: [string, string | null, string][]): void {
  for (const [name, want, why] of cases) {
    it(`${JSON.stringify(name)}: ${want ?? 'taken literally'} (${why})`, () => {
      assert.equal(nameProblem(name, rules), want);
    });
  }
}

describe('Windows names', () => {
  nameTable('win32', [
    ['CON', 'not-permitted', 'console device'],
    ['con', 'not-permitted', 'device names are case-insensitive'],
    ['NUL.txt', 'not-permitted', 'a device name with an extension is still the device'],
    ['nul .txt', 'not-permitted', 'spaces before the extension too'],
    ['Com1.log', 'not-permitted', 'serial port'],
    ['LPT9', 'not-permitted', 'printer port'],
    ['COM\u00b9', 'not-permitted', 'superscript digit forms'],
    ['CONIN$', 'not-permitted', 'console input'],
    ['AUX', 'not-permitted', 'aux device'],
    ['file.txt:secret', 'not-permitted', 'alternate data stream'],
    ['file.txt::$DATA', 'not-permitted', 'the default stream spelt out'],
    ['C:', 'not-permitted', 'a drive'],
    ['a\\..\\..\\x', 'not-permitted', 'a backslash is a separator on Windows'],
    ['secret.txt.', 'not-permitted', 'trailing dot is dropped by Windows'],
    ['dir ', 'not-permitted', 'trailing space is dropped by Windows'],
    ['.. ', 'not-permitted', 'a parent in disguise'],
    ['...', 'not-permitted', 'dots only'],
    ['a<b', 'invalid', 'forbidden character'],
    ['a|b', 'invalid', 'forbidden character'],
    ['what?', 'invalid', 'wildcard'],
    ['a*', 'invalid', 'wildcard'],
    ['quote"', 'invalid', 'forbidden character'],
    ['\u0001ctl', 'invalid', 'control character'],
    ['', 'invalid', 'empty'],
    ['PROGRA~1', null, '8.3 short name: an entry of the same directory'],
    ['Secret.TXT', null, 'case differs: the volume picks the entry'],
    ['console.txt', null, 'not a device name'],
    ['com10', null, 'only COM0-9 are devices'],
    ['CONx', null, 'not a device name'],
    ['.hidden', null, 'leading dot is fine'],
    ['naïve', null, 'Unicode is fine'],
  ]);
});

describe('macOS names', () => {
  nameTable('darwin', [
    ['..namedfork', 'not-permitted', 'resource fork'],
    ['..NamedFork', 'not-permitted', 'case-insensitive volume'],
    ['..named\u200cfork', 'not-permitted', 'HFS+ ignores zero-width characters'],
    ['.\u200c.', 'not-permitted', 'a parent spelt with an ignorable'],
    ['\ufeff.', 'not-permitted', 'the current directory spelt with an ignorable'],
    ['caf\u00e9', null, 'NFC: the volume maps it to the stored form'],
    ['cafe\u0301', null, 'NFD: the same entry'],
    ['rsrc', null, 'only ..namedfork reaches a fork'],
    ['CON', null, 'not a device on macOS'],
    ['a:b', null, 'a colon is an ordinary character through the POSIX layer'],
  ]);
});

describe('POSIX names', () => {
  it('takes every name without / or NUL literally', () => {
    for (const name of ['CON', 'a:b', 'x\\y', 'trailing.', '..namedfork']) assert.equal(nameProblem(name, 'posix'), null, name);
    assert.equal(nameProblem('a\0b', 'posix'), 'invalid');
    assert.equal(nameProblem('a/b', 'posix'), 'invalid');
  });
});

describe('grant roots', () => {
  const win: [string, string | null][] = [
    ['C:\\Users\\ana\\project', 'C:\\Users\\ana\\project'],
    ['c:/Users/ana/project', 'c:\\Users\\ana\\project'],
    ['\\\\?\\C:\\Users\\ana\\project', 'C:\\Users\\ana\\project'],
    ['\\\\?\\UNC\\server\\share\\dir', '\\\\server\\share\\dir'],
    ['\\\\server\\share\\dir', '\\\\server\\share\\dir'],
    ['\\\\.\\PhysicalDrive0', null],
    ['\\\\.\\pipe\\name', null],
    ['\\\\?\\GLOBALROOT\\Device\\HarddiskVolume1', null],
    ['\\\\?\\Volume{0b1c2d3e-0000-0000-0000-000000000000}\\dir', null],
    ['\\??\\C:\\dir', null],
    ['C:relative', null],
    ['\\rooted-on-current-drive', null],
    ['relative\\dir', null],
    ['C:\\a\\..\\b', null],
    ['C:\\a\\CON', null],
    ['C:\\a\\b.txt:stream', null],
  ];
  for (const [input, want] of win) {
    it(`Windows ${JSON.stringify(input)} -> ${want === null ? 'refused' : JSON.stringify(want)}`, () => {
      assert.equal(mapHostRoot(input, 'win32'), want);
    });
  }
  it('POSIX: absolute paths only', () => {
    assert.equal(mapHostRoot('/private/tmp/x', 'darwin'), '/private/tmp/x');
    assert.equal(mapHostRoot('/home/ana//p/', 'posix'), '/home/ana/p/');
    assert.equal(mapHostRoot('home/ana', 'posix'), null);
    assert.equal(mapHostRoot('/a\0b', 'posix'), null);
  });
  it('joins beneath the root with the platform separator', () => {
    assert.equal(joinHost('C:\\Users\\ana', ['src', 'a.ts'], 'win32'), 'C:\\Users\\ana\\src\\a.ts');
    assert.equal(joinHost('\\\\server\\share\\d', ['x'], 'win32'), '\\\\server\\share\\d\\x');
    assert.equal(joinHost('/Users/ana', ['src', 'a.ts'], 'darwin'), '/Users/ana/src/a.ts');
    assert.equal(joinHost('/Users/ana', [], 'darwin'), '/Users/ana');
  });
});

describe('symbolic link targets', () => {
  it('Windows: drive, rooted, UNC and junction targets are absolute; both separators split', () => {
    for (const t of ['C:\\x', 'C:x', '\\x', '\\\\server\\share', '\\??\\C:\\target', '/x']) assert.equal(isAbsoluteTarget(t, 'win32'), true, t);
    for (const t of ['..\\x', 'sub\\a', 'sub/a']) assert.equal(isAbsoluteTarget(t, 'win32'), false, t);
    assert.deepEqual(splitTarget('..\\secret.txt', 'win32'), ['..', 'secret.txt']);
    assert.deepEqual(splitTarget('a/.\\b', 'win32'), ['a', 'b']);
  });
  it('POSIX: a backslash is part of a name', () => {
    assert.equal(isAbsoluteTarget('/etc', 'posix'), true);
    assert.equal(isAbsoluteTarget('..\\x', 'posix'), false);
    assert.deepEqual(splitTarget('..\\x', 'posix'), ['..\\x']);
  });
});
