/**
 * The author loop, once for every shell (`mpp dev`, the editor):
 *   development build -> the author's key (created only with consent)
 *   -> signed as a development package -> key trusted for this package only
 *   (with consent, audited) -> gatekeeper -> installed (audited).
 * Running a tool afterwards is the ordinary governed call (ToolHost): grants,
 * consent and confirmations apply as for any package.
 */
import { basename, join } from 'node:path';
import { MppError } from '../errors.ts';
import type { AuditLog } from '../audit/log.ts';
import { recordInstall } from '../audit/trail.ts';
import { buildPackage, type BuildResult } from '../build/build.ts';
import type { Engine } from '../build/componentize.ts';
import { writeFileAtomic } from '../store/atomic.ts';
import { installPackage, type InstallResult } from '../store/packages.ts';
import { examinePackage, verifyPackage } from '../trust/gatekeeper.ts';
import { fingerprint } from '../trust/keys.ts';
import { signDevelopmentPackage } from '../trust/sign.ts';
import { changeTrust, TrustStore } from '../trust/store.ts';
import { authorKey, defaultAuthorKeyPath } from './author-key.ts';

export interface DevelopmentTrustRequest {
  readonly packageName: string;
  readonly keyid: string;
  readonly fingerprint: string;
  /** The publisher name in the project's manifest, recorded with the key. */
  readonly publisherName: string;
}

/** Questions only a human answers; `false` stops the install with MPP_E_DEVELOPMENT_DECLINED. */
export interface DevelopmentConsent {
  /** There is no key at `path`: create one there? */
  createKey(path: string): Promise<boolean>;
  /** Trust the author's key for development builds of this one package? */
  trustKey(req: DevelopmentTrustRequest): Promise<boolean>;
}

export interface DevelopmentArchiveOptions {
  readonly consent: DevelopmentConsent;
  readonly audit: AuditLog;
  /** Where the signed development package is written (and named in the audit record). */
  readonly file: string;
  /** The author's private key; default: the home's default key (`mpp keygen`). */
  readonly keyPath?: string;
  readonly onProgress?: (message: string) => void;
}

export interface DevelopmentInstallOptions extends Omit<DevelopmentArchiveOptions, 'file'> {
  readonly projectDir: string;
  readonly engine?: Engine;
}

export interface DevelopmentInstalled {
  readonly installed: InstallResult;
  /** The signed development package (never publishable). */
  readonly file: string;
  /** True when this install trusted the key for the package (it asked). */
  readonly trustedNow: boolean;
}

export interface DevelopmentInstall extends DevelopmentInstalled {
  readonly build: BuildResult;
}

/** Builds the project as a development package into its dist/, then installs it (installDevelopmentArchive). */
export async function installDevelopmentBuild(home: string, opts: DevelopmentInstallOptions): Promise<DevelopmentInstall> {
  const build = await buildPackage({ projectDir: opts.projectDir, development: true, ...(opts.onProgress ? { onProgress: opts.onProgress } : {}), ...(opts.engine ? { engine: opts.engine } : {}) });
  const { name, version } = build.manifest;
  const file = join(opts.projectDir, 'dist', `${basename(name)}-${version}-dev.mpp`);
  return Object.freeze({ build, ...(await installDevelopmentArchive(home, build.archive, { ...opts, file })) });
}

/**
 * An unsigned development package (`mpp build --dev`, as the editor has the
 * CLI build it) -> signed with the author's key -> that key trusted for this
 * package only, with consent -> gatekeeper -> installed.
 */
export async function installDevelopmentArchive(home: string, archive: Uint8Array, opts: DevelopmentArchiveOptions): Promise<DevelopmentInstalled> {
  const progress = opts.onProgress ?? (() => {});
  const pkg = examinePackage(archive);
  if (!pkg.development) {
    throw new MppError('MPP_E_USAGE', `${pkg.manifest.name}@${pkg.manifest.version} is not a development build.`, {
      hint: 'Build it with `mpp build --dev` (or run `mpp dev`); release packages are installed with `mpp install`.',
    });
  }
  const key = await authorKey(opts.keyPath ?? defaultAuthorKeyPath(home), (path) => opts.consent.createKey(path));
  const signed = signDevelopmentPackage(archive, key);
  const { name, publisher } = pkg.manifest;
  writeFileAtomic(opts.file, signed);

  let trust = TrustStore.load(home);
  const keyid = key.publicKey.keyid;
  const trustedNow = !trust.trustsForDevelopment(keyid, name);
  if (trustedNow) {
    if (!(await opts.consent.trustKey({ packageName: name, keyid, fingerprint: fingerprint(keyid), publisherName: publisher.name }))) {
      throw new MppError('MPP_E_DEVELOPMENT_DECLINED', `You did not trust your key ${fingerprint(keyid)} for development builds of ${name}; nothing was installed.`, {
        detail: { package: name, keyid },
      });
    }
    trust = await changeTrust(home, opts.audit, { action: 'add-development', key: key.publicKey, name: publisher.name, package: name });
  }

  progress('installing…');
  const verified = verifyPackage(signed, trust);
  const installed = await installPackage(home, signed, { verified, onProgress: progress });
  recordInstall(opts.audit, installed, opts.file);
  return Object.freeze({ installed, file: opts.file, trustedNow });
}
