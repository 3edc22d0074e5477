import { MppError } from '../errors.ts';
import { SECTION_IDS, readComponent } from '../format/component.ts';

/**
 * Removes a top-level function export the tool world does not declare.
 * componentize-qjs exports `init(shim, script, entry-path, disable-gc)`, the
 * entry its build-time snapshot runs; a host never calls it, and the world
 * says a tool exports the handler and nothing else, so the build takes it out.
 *
 * Only done where it provably changes nothing else: the export is alone in
 * its export section, and every later section is an alias or export section
 * without function exports, so no later item refers to a function index that
 * the removal would shift. Any other layout fails the build rather than
 * guessing (a new engine release changed how it lays out its component).
 */
export function dropFuncExport(bytes: Uint8Array, name: string): Uint8Array {
  const { sections } = readComponent(bytes);
  const preamble = bytes.subarray(0, 8);
  const exportsOf = (s: { start: number; end: number }) => readComponent(concat([preamble, bytes.subarray(s.start, s.end)])).iface.exports;
  const at = sections.findIndex((s) => s.id === SECTION_IDS.export && exportsOf(s).some((e) => e.name === name));
  if (at < 0) return bytes;
  const target = sections[at]!;
  const own = exportsOf(target);
  const later = sections.slice(at + 1);
  const safe =
    own.length === 1 &&
    own[0]!.kind === 'func' &&
    later.every((s) => s.id === SECTION_IDS.alias || (s.id === SECTION_IDS.export && exportsOf(s).every((e) => e.kind !== 'func')));
  if (!safe) {
    throw new MppError('MPP_E_BUILD_FAILED', `The engine's component exports "${name}" in a layout the build cannot take it out of.`, {
      hint: 'This engine version is not supported yet: build with the other engine (--engine), or report the engine version.',
      detail: { stage: 'componentize', export: name },
    });
  }
  return concat([bytes.subarray(0, target.start), bytes.subarray(target.end)]);
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
