/**
 * What the tool form can ask for, derived from a tool's input schema (JSON
 * Schema 2020-12): strings, numbers, integers, booleans, enums, arrays of
 * those, nested objects, with required fields and defaults. Any part the form
 * cannot express faithfully (oneOf, $ref, type unions, tuples...) becomes a
 * raw JSON field for just that part. Checks here are a courtesy before
 * sending; the extension validates the whole input against the schema again.
 */

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type Schema = Record<string, unknown>;

interface Common {
  readonly label: string;
  readonly description?: string;
  readonly required: boolean;
  readonly default?: Json;
}

export type Field =
  | (Common & { readonly kind: 'string'; readonly minLength?: number; readonly maxLength?: number; readonly pattern?: string })
  | (Common & { readonly kind: 'number' | 'integer'; readonly minimum?: number; readonly maximum?: number; readonly exclusiveMinimum?: number; readonly exclusiveMaximum?: number })
  | (Common & { readonly kind: 'boolean' })
  | (Common & { readonly kind: 'enum'; readonly options: readonly Json[] })
  | (Common & { readonly kind: 'object'; readonly fields: readonly (Field & { readonly name: string })[] })
  | (Common & { readonly kind: 'array'; readonly item: Field; readonly minItems?: number; readonly maxItems?: number })
  | (Common & { readonly kind: 'json'; readonly reason: string });

/** Keywords that change what a value may be in ways the form does not show: such a part is edited as JSON. */
const UNSUPPORTED = ['oneOf', 'anyOf', 'allOf', 'not', '$ref', '$dynamicRef', 'if', 'prefixItems', 'patternProperties', 'dependentSchemas', 'dependentRequired', 'contains', 'propertyNames', 'unevaluatedProperties', 'unevaluatedItems', 'multipleOf', 'minProperties', 'maxProperties', 'format', 'uniqueItems'];

const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/** The form for a tool's whole input: an object (a schema that is not one is edited as JSON). */
export function formFor(schema: unknown): Field {
  return fieldFor(schema, 'Input', true);
}

export function fieldFor(schema: unknown, label: string, required: boolean, depth = 0): Field {
  if (schema === true || (schema !== null && typeof schema === 'object' && Object.keys(schema).length === 0)) return { kind: 'json', label, required, reason: 'any JSON value' };
  if (schema === null || typeof schema !== 'object' || Array.isArray(schema)) return { kind: 'json', label, required, reason: 'not a schema the form understands' };
  const s = schema as Schema;
  const common: Common = {
    label: str(s.title) ?? label,
    ...(str(s.description) !== undefined ? { description: str(s.description)! } : {}),
    required,
    ...(s.default !== undefined ? { default: s.default as Json } : {}),
  };
  const json = (reason: string): Field => ({ ...common, kind: 'json', reason });
  const used = UNSUPPORTED.find((k) => k in s);
  if (used) return json(`uses ${used}`);
  if (depth > 8) return json('nested too deeply for the form');
  if (Array.isArray(s.enum)) return s.enum.length > 0 ? { ...common, kind: 'enum', options: s.enum as Json[] } : json('allows no value');
  if ('const' in s) return { ...common, kind: 'enum', options: [s.const as Json] };
  switch (s.type) {
    case 'string':
      return { ...common, kind: 'string', ...opt('minLength', num(s.minLength)), ...opt('maxLength', num(s.maxLength)), ...opt('pattern', str(s.pattern)) };
    case 'number':
    case 'integer':
      return {
        ...common,
        kind: s.type,
        ...opt('minimum', num(s.minimum)),
        ...opt('maximum', num(s.maximum)),
        ...opt('exclusiveMinimum', num(s.exclusiveMinimum)),
        ...opt('exclusiveMaximum', num(s.exclusiveMaximum)),
      };
    case 'boolean':
      return { ...common, kind: 'boolean' };
    case 'array': {
      if (s.items === undefined) return json('an array of any values');
      const item = fieldFor(s.items, 'item', true, depth + 1);
      return { ...common, kind: 'array', item, ...opt('minItems', num(s.minItems)), ...opt('maxItems', num(s.maxItems)) };
    }
    case 'object': {
      const props = s.properties && typeof s.properties === 'object' ? (s.properties as Record<string, unknown>) : {};
      const req = new Set(Array.isArray(s.required) ? (s.required as unknown[]).filter((r): r is string => typeof r === 'string') : []);
      // A required member the form has no field for could never be entered.
      if ([...req].some((r) => !(r in props))) return json('requires members it does not describe');
      if (Object.keys(props).length === 0) return json('an object with no declared members');
      const fields = Object.entries(props).map(([name, sub]) => ({ ...fieldFor(sub, name, req.has(name), depth + 1), name }));
      return { ...common, kind: 'object', fields };
    }
    default:
      return json(Array.isArray(s.type) ? 'allows several types' : 'has no single type');
  }
}

function opt<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}

/** What is wrong with `value` for `field` (its own constraints, not its members'), as short sentences. */
export function problems(field: Field, value: Json): string[] {
  const out: string[] = [];
  const say = (what: string) => out.push(`${field.label}: ${what}`);
  switch (field.kind) {
    case 'string':
      if (typeof value !== 'string') return [`${field.label}: must be text`];
      if (field.minLength !== undefined && [...value].length < field.minLength) say(`at least ${field.minLength} characters`);
      if (field.maxLength !== undefined && [...value].length > field.maxLength) say(`at most ${field.maxLength} characters`);
      if (field.pattern !== undefined && !safeTest(field.pattern, value)) say(`must match ${field.pattern}`);
      break;
    case 'number':
    case 'integer':
      if (typeof value !== 'number' || !Number.isFinite(value)) return [`${field.label}: must be a number`];
      if (field.kind === 'integer' && !Number.isInteger(value)) say('must be a whole number');
      if (field.minimum !== undefined && value < field.minimum) say(`at least ${field.minimum}`);
      if (field.maximum !== undefined && value > field.maximum) say(`at most ${field.maximum}`);
      if (field.exclusiveMinimum !== undefined && value <= field.exclusiveMinimum) say(`more than ${field.exclusiveMinimum}`);
      if (field.exclusiveMaximum !== undefined && value >= field.exclusiveMaximum) say(`less than ${field.exclusiveMaximum}`);
      break;
    case 'array':
      if (!Array.isArray(value)) return [`${field.label}: must be a list`];
      if (field.minItems !== undefined && value.length < field.minItems) say(`at least ${field.minItems} items`);
      if (field.maxItems !== undefined && value.length > field.maxItems) say(`at most ${field.maxItems} items`);
      break;
    case 'enum':
      if (!field.options.some((o) => JSON.stringify(o) === JSON.stringify(value))) say(`must be one of ${field.options.map((o) => JSON.stringify(o)).join(', ')}`);
      break;
    default:
      break;
  }
  return out;
}

/** A pattern the page cannot compile is left to the extension's schema check. */
function safeTest(pattern: string, value: string): boolean {
  try {
    return new RegExp(pattern, 'u').test(value);
  } catch {
    return true;
  }
}

/** A number field's text: empty is "not given"; anything else must be a number. */
export function parseNumber(text: string): number | undefined | typeof NaN {
  const t = text.trim();
  if (t === '') return undefined;
  return /^-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(t) ? Number(t) : NaN;
}
