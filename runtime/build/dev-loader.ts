import { DEVELOPMENT_LOAD_TOOL } from '../format/development.ts';

/**
 * The JavaScript of the generic engine component of a development build: it
 * imports the world interfaces the tool uses (so its component imports the
 * same as the tool's release build would) and, on the load call, evaluates
 * the tool's CommonJS bundle with `require` resolving to those imports. Any
 * later load is refused: an instance runs one source, from its start.
 * The text depends on the import list only, so its component is cached by it.
 */
export function developmentLoaderSource(imports: readonly string[]): string {
  const sorted = [...new Set(imports)].sort();
  const lines = sorted.map((name, i) => `import * as m${i} from ${JSON.stringify(name)};`);
  const table = sorted.map((name, i) => `${JSON.stringify(name)}: m${i}`).join(', ');
  return `${lines.join('\n')}
const MODULES = { ${table} };
let tool;
function requireImport(name) {
  if (Object.prototype.hasOwnProperty.call(MODULES, name)) return MODULES[name];
  throw new Error('this development build has no import ' + name + ': build again');
}
function describe(e) {
  return e instanceof Error ? e.name + ': ' + e.message : String(e);
}
export const handler = {
  call(name, input) {
    if (name === ${JSON.stringify(DEVELOPMENT_LOAD_TOOL)}) {
      if (tool !== undefined) throw { code: 'development-load-refused', message: 'this instance already runs its source' };
      const module = { exports: {} };
      try {
        new Function('require', 'module', 'exports', input)(requireImport, module, module.exports);
      } catch (e) {
        tool = null;
        throw { code: 'development-load-failed', message: 'the tool source failed while starting: ' + describe(e) };
      }
      const h = module.exports.handler;
      if (!h || typeof h.call !== 'function') {
        tool = null;
        throw { code: 'development-load-failed', message: 'the tool source does not export handler with a call(tool, input) method' };
      }
      tool = h;
      return 'null';
    }
    if (!tool) throw { code: 'development-not-loaded', message: 'the development source was not loaded' };
    return tool.call(name, input);
  },
};
`;
}
