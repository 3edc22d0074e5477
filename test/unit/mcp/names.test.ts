import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MCP_TOOL_NAME_MAX, mcpToolName, parseToolId } from '../../../runtime/mcp/names.ts';

const MCP_NAME = /^[A-Za-z0-9_-]{1,64}$/;

describe('mcpToolName', () => {
  it('is scope_name__tool for ordinary names', () => {
    assert.equal(mcpToolName('acme/files', 'read'), 'acme_files__read');
    assert.equal(mcpToolName('acme-co/web-fetch', 'get_page'), 'acme-co_web-fetch__get_page');
  });

  it('hashes names with `_` or `.` in the package name, or too long to fit, into valid names without `__`', () => {
    for (const [pkg, tool] of [
      ['acme/my_tools', 'read'],
      ['acme/tools.v2', 'read'],
      ['a'.repeat(39) + '/' + 'b'.repeat(100), 'c'.repeat(64)],
      ['acme/files', 't'.repeat(60)],
    ] as const) {
      const name = mcpToolName(pkg, tool);
      assert.match(name, MCP_NAME, `${pkg} ${tool}`);
      assert.ok(name.length <= MCP_TOOL_NAME_MAX);
      assert.ok(!name.includes('__'), name);
      assert.match(name, /_[0-9a-f]{16}$/, name);
    }
  });

  it('gives different tools different names where a naive join would not', () => {
    // Each pair would meet under `${scope}_${name}__${tool}` with `/` and `.` replaced.
    const pairs = [
      [['acme/a__b', 'c'], ['acme/a', 'b__c']],
      [['acme/a_', 'b'], ['acme/a', '_b']],
      [['acme/a.b', 'c'], ['acme/a-b', 'c']],
    ] as const;
    for (const [[p1, t1], [p2, t2]] of pairs) assert.notEqual(mcpToolName(p1, t1), mcpToolName(p2, t2), `${p1}/${t1} vs ${p2}/${t2}`);
  });

  it('depends only on the package and tool', () => {
    assert.equal(mcpToolName('acme/my_tools', 'read'), mcpToolName('acme/my_tools', 'read'));
    assert.notEqual(mcpToolName('acme/my_tools', 'read'), mcpToolName('acme/my_tools', 'write'));
  });
});

describe('parseToolId', () => {
  it('splits scope/name/tool at the last slash', () => {
    assert.deepEqual(parseToolId('acme/files/read'), { packageName: 'acme/files', tool: 'read' });
    assert.deepEqual(parseToolId('acme-co/tools.v2/get_page'), { packageName: 'acme-co/tools.v2', tool: 'get_page' });
  });

  it('refuses what is not a package name and a tool name', () => {
    for (const id of ['read', 'acme/read', 'acme/files/', '/files/read', 'Acme/files/read', 'acme/files/Read', 'a/b/c/d', 'acme/files/read tool']) {
      assert.equal(parseToolId(id), undefined, id);
    }
  });
});
