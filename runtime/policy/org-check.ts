import { isMppError, MppError } from '../errors.ts';
import { describePermissions } from '../format/describe.ts';
import type { Manifest } from '../format/manifest.ts';
import type { OrgPolicy } from './org-policy.ts';
import { blockingRule, refuseInstall, refusePackage, type InstallSource } from './org-rules.ts';

export interface OrgPolicyReport {
  readonly package: string;
  readonly version: string;
  /** Whether the package may be installed (from `source`) and run. */
  readonly allowed: boolean;
  /** Why not: the refusal as it would be made, with its code and rule. */
  readonly refusal?: { readonly code: string; readonly message: string; readonly rule: string };
  readonly capabilities: readonly { readonly id: string; readonly text: string; readonly blockedBy?: string }[];
}

/** `mpp policy check`: what the organisation policy says of one package, without changing anything. */
export function explainOrgPolicy(policy: OrgPolicy | undefined, m: Manifest, publisherKeyid: string, source?: InstallSource): OrgPolicyReport {
  let refusal: OrgPolicyReport['refusal'];
  try {
    const identity = { name: m.name, version: m.version, publisherKeyid };
    if (source) refuseInstall(policy, identity, source);
    else refusePackage(policy, identity);
  } catch (e) {
    if (!isMppError(e)) throw e;
    refusal = { code: e.code, message: e.message, rule: String((e as MppError).detail?.rule ?? '') };
  }
  const capabilities = describePermissions(m).map((c) => {
    const blockedBy = blockingRule(policy, c.id);
    return { id: c.id, text: c.text, ...(blockedBy ? { blockedBy } : {}) };
  });
  return Object.freeze({ package: m.name, version: m.version, allowed: refusal === undefined, ...(refusal ? { refusal } : {}), capabilities });
}
