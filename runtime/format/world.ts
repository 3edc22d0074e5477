import { MppError } from '../errors.ts';
import { readComponentInterface, type ComponentExtern, type ComponentInterface } from './component.ts';
import { TOOL_WORLD } from './tool-world.ts';

/** Reads tool.wasm's imports and exports and checks them against the tool world. */
export function checkToolComponent(bytes: Uint8Array): ComponentInterface {
  const component = readComponentInterface(bytes);
  checkToolWorld(component);
  return component;
}

/**
 * Checks a component's imports and exports against the tool world
 * (spec/wit/mpp.wit, world `tool`): every import is an interface the world
 * lists, the one export is mpp:tool/handler. Names match by interface and a
 * semver-compatible version (same major, same minor while the major is 0), so
 * a component pinned to WASI 0.2.10 and one pinned to 0.2.12 both pass; an
 * unversioned name, a pre-release or another major never does.
 */
export function checkToolWorld(component: ComponentInterface): void {
  for (const imp of component.imports) {
    if (imp.kind !== 'instance' || !matches(imp.name, TOOL_WORLD.imports)) {
      throw new MppError('MPP_E_IMPORT_NOT_ALLOWED', `tool.wasm imports ${describe(imp)}, which the mpp:tool world does not offer.`, {
        hint: `A tool may import only the interfaces of the tool world (spec/wit/mpp.wit): mpp:tool/* and the WASI 0.2 interfaces listed there. ${suggestion(imp, TOOL_WORLD.imports)}`,
        detail: { import: imp.name, kind: imp.kind },
      });
    }
  }
  for (const exp of component.exports) {
    if (exp.kind !== 'instance' || !matches(exp.name, TOOL_WORLD.exports)) {
      throw new MppError('MPP_E_EXPORT_NOT_ALLOWED', `tool.wasm exports ${describe(exp)}, which the mpp:tool world does not declare.`, {
        hint: `A tool exports exactly ${TOOL_WORLD.exports.join(', ')} and nothing else. ${suggestion(exp, TOOL_WORLD.exports)}`,
        detail: { export: exp.name, kind: exp.kind },
      });
    }
  }
  const missing = TOOL_WORLD.exports.filter((want) => !component.exports.some((e) => matches(e.name, [want])));
  if (missing.length > 0) {
    throw new MppError('MPP_E_HANDLER_MISSING', `tool.wasm does not export ${missing.join(', ')}.`, {
      hint: 'Build the component for the tool world of spec/wit/mpp.wit, which exports the handler every call goes to.',
      detail: { missing },
    });
  }
}

interface InterfaceName {
  readonly base: string;
  /** Versions that may stand for each other: "0.2" for 0.2.x, "1" for 1.x.y. */
  readonly track: string;
}

/** `ns:pkg/iface@x.y.z`, release versions only. */
function parseName(name: string): InterfaceName | undefined {
  const m = /^([a-z][a-z0-9-]*:[a-z][a-z0-9-]*\/[a-z][a-z0-9-]*)@(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)$/.exec(name);
  if (!m) return undefined;
  return { base: m[1]!, track: m[2] === '0' ? `0.${m[3]}` : m[2]! };
}

function matches(name: string, allowed: readonly string[]): boolean {
  const got = parseName(name);
  return got !== undefined && allowed.some((a) => {
    const want = parseName(a)!;
    return want.base === got.base && want.track === got.track;
  });
}

function describe(e: ComponentExtern): string {
  return e.kind === 'instance' ? `"${e.name}"` : `"${e.name}" (a ${e.kind}, not an interface)`;
}

/** Points at the accepted version when only the version is wrong. */
function suggestion(e: ComponentExtern, allowed: readonly string[]): string {
  const base = e.name.split('@')[0];
  const same = allowed.find((a) => a.split('@')[0] === base);
  if (!same) return '';
  const track = parseName(same)!.track;
  return `This host accepts ${base}@${track}.x (the world pins ${same}).`;
}
