import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { MppError } from '../errors.ts';
import type { PiiClass, Sensitivity } from '../format/manifest.ts';
import { parseStrictJson } from '../format/strict-json.ts';
import { compileSchema, describeSchemaError } from '../schema.ts';
import { verify } from '../trust/ed25519.ts';
import { pae } from '../trust/envelope.ts';
import { parsePublicKeyPem } from '../trust/keys.ts';
import { SENSITIVITY_RANK } from './confirmation.ts';
import orgPolicySchema from '../../spec/org-policy.schema.json' with { type: 'json' };

/**
 * The organisation policy (spec/org-policy.md): rules an administrator sets
 * in a folder only an administrator can write, which no user setting can
 * loosen. Loaded on every decision (install, grant, call), like grants, so a
 * change applies at the next call. A guardrail for MPP's own hosts, not a
 * boundary against a user who runs another build.
 */
export interface OrgPolicyRules {
  readonly mppOrgPolicy: 1;
  readonly name?: string;
  readonly publishers?: { readonly allow?: readonly string[] };
  readonly sources?: { readonly registries?: readonly string[]; readonly files?: boolean; readonly oci?: boolean };
  readonly packages?: { readonly block?: readonly BlockedPackage[] };
  readonly capabilities?: {
    readonly network?: { readonly allow?: readonly string[]; readonly deny?: readonly string[] };
    readonly filesystem?: { readonly outsideWorkspace?: boolean; readonly write?: boolean };
    readonly environment?: { readonly deny?: readonly string[] };
    readonly kv?: boolean;
  };
  readonly limits?: { readonly timeoutMs?: number; readonly memoryMb?: number };
  readonly confirmAtOrAbove?: Sensitivity;
  readonly verifiedAgentAtOrAbove?: Sensitivity;
  readonly privacyMinimum?: readonly PiiClass[];
  readonly auditForwarding?: AuditForwardingRule;
}

export interface BlockedPackage {
  readonly name: string;
  readonly versions?: string;
  readonly reason?: string;
}

export interface AuditForwardingRule {
  readonly required: boolean;
  readonly target: string;
  readonly caFile?: string;
  readonly serverName?: string;
  readonly maxBacklog?: number;
  readonly whenBacklogFull?: 'stop-calls' | 'continue';
}

/** The rules in force and the files they came from (shown by `mpp policy show` and the editor). */
export interface OrgPolicy extends OrgPolicyRules {
  readonly files: readonly string[];
  readonly signed: boolean;
}

export const ORG_POLICY_FILE = 'org-policy.json';
/** Present in the policy folder: the policy must carry a valid `org-policy.sig` by this key. */
export const ORG_KEY_FILE = 'org-key.pub.pem';
export const ORG_SIGNATURE_FILE = 'org-policy.sig';
export const ORG_POLICY_PAYLOAD_TYPE = 'application/vnd.mpp.org-policy.v1+json';
/** Adds a policy folder whose rules can only add restrictions (tests, the demo, a stricter team). */
export const ORG_POLICY_ADD_ENV = 'MPP_ORG_POLICY_ADD';

const validate = compileSchema<OrgPolicyRules>(orgPolicySchema);

/** The administrator's folder per OS: never MPP_HOME, never an editor setting. */
export function systemPolicyDir(platform: NodeJS.Platform = process.platform, env: NodeJS.ProcessEnv = process.env): string {
  if (platform === 'darwin') return '/Library/Application Support/MPP';
  if (platform === 'win32') return join(env.ProgramData ?? 'C:\\ProgramData', 'MPP');
  return '/etc/mpp';
}

/** The policy in force: the system folder's combined with an added one; undefined when neither has a policy. */
export function loadOrgPolicy(env: NodeJS.ProcessEnv = process.env, systemDir = systemPolicyDir(process.platform, env)): OrgPolicy | undefined {
  const dirs = [systemDir, ...(env[ORG_POLICY_ADD_ENV] ? [env[ORG_POLICY_ADD_ENV]] : [])];
  let policy: OrgPolicy | undefined;
  for (const dir of dirs) {
    const one = readPolicyDir(dir);
    if (one) policy = policy ? combine(policy, one) : one;
  }
  return policy;
}

function invalid(file: string, why: string, cause?: unknown): MppError {
  return new MppError('MPP_E_ORG_POLICY_INVALID', `The organisation policy ${file} is refused: ${why}. Nothing runs until it is fixed.`, { cause, detail: { file } });
}

function readPolicyDir(dir: string): OrgPolicy | undefined {
  const file = join(dir, ORG_POLICY_FILE);
  const keyFile = join(dir, ORG_KEY_FILE);
  const sigFile = join(dir, ORG_SIGNATURE_FILE);
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw invalid(file, `it cannot be read (${(e as Error).message})`, e);
    // A pinned key without a policy means someone removed the policy: fail closed.
    if (existsSync(keyFile)) throw invalid(file, `${ORG_KEY_FILE} is pinned beside it but the policy is missing`);
    return undefined;
  }
  const signed = checkSignature(file, bytes, keyFile, sigFile);
  let value: unknown;
  try {
    value = parseStrictJson(bytes);
  } catch (e) {
    throw invalid(file, `it is not strict JSON (${(e as Error).message})`, e);
  }
  if (!validate(value)) throw invalid(file, `it does not match org-policy.schema.json: ${describeSchemaError(validate.errors)}`);
  return Object.freeze({ ...value, files: [file], signed });
}

/** With a pinned key the signature is required and must verify; a signature without a pinned key is a misconfiguration. */
function checkSignature(file: string, bytes: Buffer, keyFile: string, sigFile: string): boolean {
  const hasKey = existsSync(keyFile);
  const hasSig = existsSync(sigFile);
  if (!hasKey && !hasSig) return false;
  if (!hasKey) throw invalid(file, `it has a signature (${ORG_SIGNATURE_FILE}) but no pinned key (${ORG_KEY_FILE}) to check it with`);
  if (!hasSig) throw invalid(file, `${ORG_KEY_FILE} is pinned, so the policy must be signed, and ${ORG_SIGNATURE_FILE} is missing`);
  let key;
  try {
    key = parsePublicKeyPem(readFileSync(keyFile, 'utf8'), keyFile);
  } catch (e) {
    throw invalid(file, `its pinned key ${keyFile} cannot be read as an Ed25519 public key`, e);
  }
  const sig = Buffer.from(readFileSync(sigFile, 'utf8').trim(), 'base64');
  if (sig.length !== 64 || !verify(sig, pae(ORG_POLICY_PAYLOAD_TYPE, bytes), key.raw)) throw invalid(file, `its signature does not verify with the pinned key (the policy was changed after signing, or signed by another key)`);
  return true;
}

const lower = (a: Sensitivity | undefined, b: Sensitivity | undefined): Sensitivity | undefined =>
  a === undefined ? b : b === undefined ? a : SENSITIVITY_RANK[b] < SENSITIVITY_RANK[a] ? b : a;
const min = (a: number | undefined, b: number | undefined): number | undefined => (a === undefined ? b : b === undefined ? a : Math.min(a, b));
/** Allow-lists narrow: both set is their intersection. */
const narrow = (a: readonly string[] | undefined, b: readonly string[] | undefined): readonly string[] | undefined =>
  a === undefined ? b : b === undefined ? a : a.filter((x) => b.includes(x));
const union = <T>(a: readonly T[] | undefined, b: readonly T[] | undefined): readonly T[] | undefined => (a === undefined ? b : b === undefined ? a : [...new Set([...a, ...b])]);
/** A permission flag: false anywhere is false. */
const both = (a: boolean | undefined, b: boolean | undefined): boolean | undefined => (a === false || b === false ? false : (a ?? b));

/** Two policies as one that is at least as strict as each (the added folder can only restrict). */
export function combine(a: OrgPolicy, b: OrgPolicy): OrgPolicy {
  const defined = <T extends object>(o: T): T => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
  const fwdA = a.auditForwarding;
  const fwdB = b.auditForwarding;
  return Object.freeze(
    defined({
      mppOrgPolicy: 1 as const,
      name: a.name ?? b.name,
      publishers: defined({ allow: narrow(a.publishers?.allow, b.publishers?.allow) }),
      sources: defined({ registries: narrow(a.sources?.registries, b.sources?.registries), files: both(a.sources?.files, b.sources?.files), oci: both(a.sources?.oci, b.sources?.oci) }),
      packages: defined({ block: union(a.packages?.block, b.packages?.block) }),
      capabilities: defined({
        network: defined({ allow: narrow(a.capabilities?.network?.allow, b.capabilities?.network?.allow), deny: union(a.capabilities?.network?.deny, b.capabilities?.network?.deny) }),
        filesystem: defined({
          outsideWorkspace: both(a.capabilities?.filesystem?.outsideWorkspace, b.capabilities?.filesystem?.outsideWorkspace),
          write: both(a.capabilities?.filesystem?.write, b.capabilities?.filesystem?.write),
        }),
        environment: defined({ deny: union(a.capabilities?.environment?.deny, b.capabilities?.environment?.deny) }),
        kv: both(a.capabilities?.kv, b.capabilities?.kv),
      }),
      limits: defined({ timeoutMs: min(a.limits?.timeoutMs, b.limits?.timeoutMs), memoryMb: min(a.limits?.memoryMb, b.limits?.memoryMb) }),
      confirmAtOrAbove: lower(a.confirmAtOrAbove, b.confirmAtOrAbove),
      verifiedAgentAtOrAbove: lower(a.verifiedAgentAtOrAbove, b.verifiedAgentAtOrAbove),
      privacyMinimum: union(a.privacyMinimum, b.privacyMinimum),
      // The first folder's collector wins (the system's); an added folder may require forwarding where none was set.
      auditForwarding:
        fwdA && fwdB
          ? defined({
              ...fwdA,
              required: fwdA.required || fwdB.required,
              maxBacklog: min(fwdA.maxBacklog, fwdB.maxBacklog),
              whenBacklogFull: fwdA.whenBacklogFull === 'continue' && fwdB.whenBacklogFull === 'continue' ? ('continue' as const) : ('stop-calls' as const),
            })
          : (fwdA ?? fwdB),
      files: [...a.files, ...b.files],
      signed: a.signed && b.signed,
    }),
  );
}
