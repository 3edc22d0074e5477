import { resolve } from 'node:path';
import { mppHome } from '../../runtime/home.ts';
import { PACKAGE_NAME_RE } from '../../runtime/format/manifest.ts';
import { installFromRegistry, type RegistryInstallOptions, type RegistryInstallResult } from '../../runtime/registry/client/install.ts';
import { installFromOci } from '../../runtime/registry/oci/install.ts';
import { isOciRef, parseOciRef } from '../../runtime/registry/oci/client.ts';
import { installPackage, type InstallResult } from '../../runtime/store/packages.ts';
import { fingerprint } from '../../runtime/trust/keys.ts';
import type { AuditLog } from '../../runtime/audit/log.ts';
import { recordInstall, withAuditLog } from '../../runtime/audit/trail.ts';
import type { CliContext, RegisterCommand } from '../context.ts';
import { isFile, readUserFile } from '../files.ts';
import { usage } from '../output.ts';
import { progressBar, transferTiming } from '../transfer.ts';
import { PendingTrust, verifyTrustingOnFirstUse } from '../../runtime/trust/first-use.ts';
import { TrustStore } from '../../runtime/trust/store.ts';
import { firstUse } from '../trust-prompt.ts';

export const registerInstall: RegisterCommand = (program, run) => {
  program
    .command('install')
    .description('Verify a package and install it into the local store (a new version replaces the installed one): from a file, by name from the configured registries, or from an OCI registry. Asks before trusting a new key.')
    .argument('<package>', 'a .mpp file, scope/name[@range], or oci://host/repository[:tag|@sha256:digest]')
    .option('--allow-downgrade', 'allow installing a lower version than the installed one')
    .option('--timeout <ms>', 'time limit for each transfer (and for silence within one)')
    .option('--json', 'print the result as JSON')
    .action((spec: string, opts: { allowDowngrade?: boolean; timeout?: string; json?: boolean }) =>
      run(async (ctx) => {
        const home = mppHome();
        await withAuditLog(home, async (audit) => {
          if (isFile(spec)) {
            const bytes = readUserFile(spec, 'package');
            const file = resolve(spec);
            // Verified once, asking about an unknown key up front, before any work; the key is trusted only once the install passed every check.
            const trust = new PendingTrust(TrustStore.load(home));
            const verified = await verifyTrustingOnFirstUse(bytes, trust, firstUse(ctx, 'mpp install', audit, { file }));
            const r = await installPackage(home, bytes, { verified, onProgress: (m) => ctx.out.progress(m), beforeCommit: () => trust.commit(home, audit) });
            recordInstall(audit, r, file);
            report(ctx, r);
            return;
          }
          const options = registryOptions(ctx, home, spec, opts, audit);
          if (isOciRef(spec)) {
            const result = await installFromOci(home, parseOciRef(spec), options);
            recordInstall(audit, result, spec);
            warnRotation(ctx, result);
            report(ctx, result, { registry: result.registry, manifestDigest: result.manifestDigest, ...(result.trustedByRotation ? { trustedByRotation: result.trustedByRotation } : {}) });
            return;
          }
          const at = spec.indexOf('@');
          const name = at < 0 ? spec : spec.slice(0, at);
          if (!PACKAGE_NAME_RE.test(name)) throw usage(`"${spec}" is neither a package file, nor scope/name[@range], nor an oci:// reference.`);
          const r = await installFromRegistry(home, name, { ...options, ...(at < 0 ? {} : { range: spec.slice(at + 1) }) });
          recordInstall(audit, r, r.registry);
          reportRegistry(ctx, r);
        });
      }, opts),
    );
};

/** What every install from a registry (by name, OCI, update) shares: the gatekeeper with trust on first use, progress, limits. */
export function registryOptions(ctx: CliContext, home: string, spec: string, opts: { allowDowngrade?: boolean; timeout?: string }, audit: AuditLog): RegistryInstallOptions {
  const onTransfer = progressBar(ctx.out, spec);
  return {
    allowDowngrade: Boolean(opts.allowDowngrade),
    transfer: transferTiming(opts.timeout),
    onProgress: (m) => ctx.out.progress(m),
    ...(onTransfer ? { onTransfer } : {}),
    audit,
    verify: (bytes, trust) => verifyTrustingOnFirstUse(bytes, trust, firstUse(ctx, `mpp install ${spec}`, audit, {})),
  };
}

export function reportRegistry(ctx: CliContext, r: RegistryInstallResult): void {
  if (r.offline) ctx.out.warn(`no registry for ${r.name} could be reached; installed the copy downloaded earlier, as the last signed index seen names it.`);
  warnRotation(ctx, r);
  report(ctx, r, { registry: r.registry, fromCache: r.fromCache, offline: r.offline, ...(r.trustedByRotation ? { trustedByRotation: r.trustedByRotation } : {}) });
}

function warnRotation(ctx: CliContext, r: RegistryInstallResult): void {
  if (r.trustedByRotation) ctx.out.warn(`the publisher moved to key ${fingerprint(r.trustedByRotation)}; trusted it because your trusted key signed the hand-over.`);
}

function report(ctx: CliContext, r: InstallResult, extra: Record<string, unknown> = {}): void {
  ctx.out.result(describe(r), {
    change: r.change,
    name: r.name,
    version: r.version,
    ...(r.previousVersion ? { previousVersion: r.previousVersion } : {}),
    digest: r.digest,
    fileSha256: r.fileSha256,
    publisher: r.publisher,
    installedAt: r.installedAt,
    ...extra,
  });
}

function describe(r: InstallResult): string {
  const id = `${r.name}@${r.version}`;
  const who = `${r.publisher.name ?? 'unnamed key'} (${fingerprint(r.publisher.keyid)})`;
  const what = {
    installed: `Installed ${id}`,
    unchanged: `${id} is already installed; nothing changed`,
    upgraded: `Upgraded ${r.name} from ${r.previousVersion} to ${r.version}`,
    downgraded: `Downgraded ${r.name} from ${r.previousVersion} to ${r.version}`,
    replaced: `Reinstalled ${id} (same content, other signatures)`,
  }[r.change];
  return `${what}, signed by ${who}.\nDigest: sha256:${r.digest}`;
}
