import semver from 'semver';
import { MppError } from '../errors.ts';
import { checkToolSchema, compileSchema, describeSchemaError } from '../schema.ts';
import { parseStrictJson } from './strict-json.ts';
import manifestSchema from '../../spec/manifest.schema.json' with { type: 'json' };

/** The manifest, as spec/manifest.schema.json defines it (format version 1). */
export type Sensitivity = 'none' | 'read' | 'write' | 'destructive';
export type PiiClass = 'email' | 'phone' | 'payment-card' | 'iban' | 'national-id' | 'ip-address' | 'secret';
export type JsonSchema = { type: 'object' } & Record<string, unknown>;

export interface ToolDefinition {
  readonly name: string;
  readonly title?: string;
  readonly description: string;
  readonly sensitivity: Sensitivity;
  readonly inputSchema: JsonSchema;
  readonly outputSchema: JsonSchema;
  readonly agents?: readonly string[];
}

export interface FsPermission { readonly path: string; readonly access: 'read' | 'read-write'; readonly reason?: string }
export interface NetPermission {
  readonly scheme: 'https' | 'http';
  readonly host: string;
  readonly port?: number;
  readonly methods: readonly string[];
  readonly reason?: string;
}
export interface EnvPermission { readonly name: string; readonly reason?: string }
export interface KvPermission { readonly maxBytes: number; readonly maxKeys?: number; readonly reason?: string }

export interface Manifest {
  readonly mpp: 1;
  readonly name: string;
  readonly version: string;
  readonly description: string;
  readonly publisher: { readonly name: string; readonly url?: string; readonly email?: string };
  readonly license?: string;
  readonly homepage?: string;
  readonly tools: readonly ToolDefinition[];
  readonly permissions?: {
    readonly filesystem?: readonly FsPermission[];
    readonly network?: readonly NetPermission[];
    readonly environment?: readonly EnvPermission[];
    readonly kv?: KvPermission;
  };
  readonly privacy?: { readonly redact?: readonly PiiClass[] };
  readonly limits?: { readonly timeoutMs?: number; readonly memoryMb?: number; readonly maxInputBytes?: number; readonly maxOutputBytes?: number };
  readonly agents?: readonly string[];
}

export const FORMAT_VERSION = 1;

/** The package-name syntax of the schema: the only names that may ever reach a file path. */
export const PACKAGE_NAME_RE = new RegExp(manifestSchema.properties.name.pattern);

const validate = compileSchema<Manifest>(manifestSchema);

const invalid = (why: string, cause?: unknown): never => {
  throw new MppError('MPP_E_INVALID_MANIFEST', `manifest.json is invalid: ${why}.`, {
    hint: 'Fix mpp.manifest.json in the tool project (see spec/manifest.md) and rebuild.',
    cause,
  });
};

/**
 * Parses manifest bytes (attacker-controlled until the signature is checked,
 * so bounded and strict): UTF-8 JSON, format version, schema, then the rules a
 * schema cannot express. Returns a deeply frozen value.
 */
export function parseManifest(bytes: Uint8Array): Manifest {
  let doc: unknown;
  try {
    doc = parseStrictJson(bytes);
  } catch (e) {
    return invalid(`it is not strict UTF-8 JSON (${(e as Error).message})`, e);
  }
  if (doc !== null && typeof doc === 'object' && !Array.isArray(doc) && 'mpp' in doc && (doc as { mpp: unknown }).mpp !== FORMAT_VERSION) {
    throw new MppError('MPP_E_UNSUPPORTED_FORMAT', `The package declares format version ${JSON.stringify((doc as { mpp: unknown }).mpp)}; this host supports version ${FORMAT_VERSION}.`, {
      hint: 'Update MPP to a version that supports this package format, or ask the publisher for a version-1 package.',
    });
  }
  if (!validate(doc)) return invalid(describeSchemaError(validate.errors));
  checkSemantics(doc);
  return deepFreeze(doc);
}

function checkSemantics(m: Manifest): void {
  if (!semver.valid(m.version)) invalid(`version "${m.version}" is not a valid semantic version`);
  const names = new Set<string>();
  for (const tool of m.tools) {
    if (names.has(tool.name)) invalid(`tool "${tool.name}" is declared twice`);
    names.add(tool.name);
    for (const which of ['inputSchema', 'outputSchema'] as const) {
      const problem = checkToolSchema(tool[which]);
      if (problem) invalid(`tool "${tool.name}" ${which} is not a usable JSON Schema 2020-12 (${problem.slice(0, 300)})`);
    }
  }
  const paths = new Set<string>();
  for (const p of m.permissions?.filesystem ?? []) {
    if (paths.has(p.path)) invalid(`filesystem permission "${p.path}" is declared twice`);
    paths.add(p.path);
  }
  const vars = new Set<string>();
  for (const v of m.permissions?.environment ?? []) {
    if (vars.has(v.name)) invalid(`environment permission "${v.name}" is declared twice`);
    vars.add(v.name);
  }
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

/** The canonical bytes `mpp build` writes for a manifest. */
export function serializeManifest(manifest: Manifest): Uint8Array {
  return Buffer.from(JSON.stringify(manifest, null, 2) + '\n', 'utf8');
}
