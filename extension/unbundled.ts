/**
 * Stands in for packages the extension bundle leaves out (jco-transpile's
 * native minifier and its optimiser): MPP never asks jco for either.
 */
export function minify(): never {
  throw new Error('MPP does not ship a JavaScript minifier in the editor extension.');
}
export default {};
