import { Ajv2020, type ValidateFunction, type ErrorObject } from 'ajv/dist/2020.js';

/**
 * One strict ajv instance for MPP's own schemas (spec/*.schema.json): unknown
 * keywords in a schema are bugs, and `additionalProperties: false` in the
 * schemas makes unknown fields in documents errors.
 */
const ajv = new Ajv2020({ strict: true, allErrors: false, allowUnionTypes: false });

/**
 * A validator for one of MPP's schemas, compiled on its first use: modules
 * declare their validators at load time, and a command that never validates
 * (`mpp --version`, `mpp list`) should not pay ajv's compilation.
 */
export type Validator<T> = ((data: unknown) => data is T) & {
  errors?: ErrorObject[] | null;
  /** Compiles it now: a long-running host does so while idle, not on a request's path. */
  prepare(): void;
};

export function compileSchema<T>(schema: object, ref?: string): Validator<T> {
  let compiled: ValidateFunction<T> | undefined;
  const validate = ((data: unknown) => {
    compiled ??= compileNow<T>(schema, ref);
    const ok = compiled(data);
    validate.errors = compiled.errors;
    return ok;
  }) as Validator<T>;
  validate.prepare = () => void (compiled ??= compileNow<T>(schema, ref));
  return validate;
}

function compileNow<T>(schema: object, ref: string | undefined): ValidateFunction<T> {
  if (!ref) return ajv.compile<T>(schema);
  const id = (schema as { $id: string }).$id;
  if (!ajv.getSchema(id)) ajv.addSchema(schema);
  return ajv.getSchema(`${id}${ref}`) as ValidateFunction<T>;
}

/** One readable line for the first schema error: where, and what was expected. */
export function describeSchemaError(errors: ErrorObject[] | null | undefined): string {
  const e = errors?.[0];
  if (!e) return 'it does not match the schema';
  const where = e.instancePath === '' ? 'the document' : e.instancePath;
  if (e.keyword === 'additionalProperties') return `${where} has an unknown field "${(e.params as { additionalProperty: string }).additionalProperty}"`;
  if (e.keyword === 'enum') return `${where} must be one of ${JSON.stringify((e.params as { allowedValues: unknown[] }).allowedValues)}`;
  return `${where} ${e.message ?? 'is invalid'}`;
}

/**
 * A separate, lenient instance for tool authors' input/output schemas: any
 * valid 2020-12 schema that compiles on its own. No loadSchema, so a remote
 * `$ref` is never fetched (it fails to compile); addUsedSchema off, so a
 * schema's `$id` is not registered and the same package can be verified again
 * (or two packages can share an `$id`). `format` is an annotation, not asserted
 * (manifest.md §4), and patterns are ECMA-262 with the `u` flag (ajv's default).
 */
const toolSchemas = new Ajv2020({ strict: false, allErrors: true, validateFormats: false, addUsedSchema: false });

/** Why a tool schema cannot be used (not a valid 2020-12 schema, or it does not compile), or undefined. */
export function checkToolSchema(schema: object): string | undefined {
  if (toolSchemas.validateSchema(schema) !== true) return toolSchemas.errorsText(toolSchemas.errors);
  try {
    toolSchemaValidator(schema);
  } catch (e) {
    return `it does not compile: ${e instanceof Error ? e.message : String(e)}`;
  }
  return undefined;
}

const compiledToolSchemas = new WeakMap<object, ValidateFunction>();

/** A validator for a tool's input or output schema, compiled once per (frozen) schema object. */
export function toolSchemaValidator(schema: object): ValidateFunction {
  let validate = compiledToolSchemas.get(schema);
  if (!validate) {
    validate = toolSchemas.compile(schema);
    compiledToolSchemas.set(schema, validate);
  }
  return validate;
}

/** Ajv errors as short lines for a user or an agent: where, and what was expected. */
export function describeToolSchemaErrors(errors: ErrorObject[] | null | undefined, dataVar: 'input' | 'output'): string {
  return toolSchemas.errorsText(errors, { dataVar, separator: '; ' });
}
