import { PACKAGE_NAME_RE } from '../format/manifest.ts';
import { sha256Hex } from '../hash.ts';
import manifestSchema from '../../spec/manifest.schema.json' with { type: 'json' };

/**
 * MCP tool names for MPP tools (spec/mcp.md §1). Clients accept
 * [A-Za-z0-9_-], at most 64 characters, so `scope/name` + tool is mapped:
 *
 *   plain:  <scope>_<name>__<tool>          e.g. acme_files__read
 *           when the package name has no `_` or `.` and the result fits in 64;
 *   hashed: <readable prefix, no `_`>_<16 hex of sha256("scope/name/tool")>
 *           otherwise.
 *
 * Scopes never contain `_` and plain names contain none, so a plain name
 * splits back at its first `_` and the following `__`: two tools never share
 * one. Every plain name contains `__`, no hashed one does, so the two forms
 * cannot meet; hashed names meet only on a 64-bit hash collision, and then
 * offeredTools (server.ts) offers the first and drops the other. A name depends only on its own
 * package and tool, never on what else is installed.
 */
export const MCP_TOOL_NAME_MAX = 64;
const HASH_HEX = 16;

export function mcpToolName(pkg: string, tool: string): string {
  const slash = pkg.indexOf('/');
  const scope = pkg.slice(0, slash);
  const name = pkg.slice(slash + 1);
  const plain = `${scope}_${name}__${tool}`;
  if (!/[_.]/.test(name) && plain.length <= MCP_TOOL_NAME_MAX) return plain;
  const readable = `${scope}-${name}-${tool}`.replace(/[^a-z0-9-]/g, '-').slice(0, MCP_TOOL_NAME_MAX - HASH_HEX - 1);
  return `${readable}_${sha256Hex(`${pkg}/${tool}`).slice(0, HASH_HEX)}`;
}

/** A tool name as the manifest schema allows it. */
export const TOOL_NAME_RE = new RegExp(manifestSchema.$defs.tool.properties.name.pattern);

/** `scope/name/tool` -> package and tool; undefined when it is not that form (package names hold exactly one slash). */
export function parseToolId(id: string): { packageName: string; tool: string } | undefined {
  const cut = id.lastIndexOf('/');
  const packageName = id.slice(0, cut);
  const tool = id.slice(cut + 1);
  return cut >= 0 && PACKAGE_NAME_RE.test(packageName) && TOOL_NAME_RE.test(tool) ? { packageName, tool } : undefined;
}
