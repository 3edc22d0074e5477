/**
 * Environment variables the user granted (wasi:cli/environment). The tool
 * sees only granted variables: an ungranted one is simply absent.
 */
import { getEnvironment } from 'wasi:cli/environment@0.2.12';

/** The value of a granted variable, or undefined. */
export function get(name: string): string | undefined {
  for (const [k, v] of getEnvironment()) if (k === name) return v;
  return undefined;
}

/** Every granted variable. */
export function all(): Record<string, string> {
  return Object.fromEntries(getEnvironment());
}
