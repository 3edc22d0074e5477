/**
 * The plain MCP stdio server of bench/mcp.ts: the example's `greet` logic
 * (input {name} -> {greeting: "Hello, <name>!"}) registered on the SDK's
 * McpServer with zod schemas, served over StdioServerTransport.
 *
 *   node bench/mcp/server.ts
 */
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { z } from 'zod';

const server = new McpServer({ name: 'bench-hello', version: '0.1.0' });

server.registerTool(
  'greet',
  {
    title: 'Greet',
    description: 'Returns a greeting for a name.',
    inputSchema: { name: z.string().min(1).max(100) },
    outputSchema: { greeting: z.string() },
  },
  async ({ name }) => {
    const greeting = { greeting: `Hello, ${name.trim()}!` };
    return { content: [{ type: 'text', text: JSON.stringify(greeting) }], structuredContent: greeting };
  },
);

await server.connect(new StdioServerTransport());
