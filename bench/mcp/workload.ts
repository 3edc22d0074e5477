/** The one workload both sides of bench/mcp.ts serve: the example's `greet`, with nothing granted. */
export const GRANT = { fs: [], net: [], env: {}, limits: { timeoutMs: 5000, memoryBytes: 64 * 1024 * 1024 } };
export const INPUT = { name: 'Ada' };
export const EXPECTED = JSON.stringify({ greeting: 'Hello, Ada!' });
