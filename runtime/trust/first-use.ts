/**
 * Trust on first use, one flow for every face (the CLI's prompt, the
 * editor's dialog; each only supplies the question): a package signed by an
 * unknown key is refused unless a person says yes to that key. A key said
 * yes to, or handed over by a signed rotation, is only held (PendingTrust)
 * until what it belongs to passed every check; then `commit` trusts it
 * through the trust store's one writing function, which records it.
 */
import type { AuditLog } from '../audit/log.ts';
import type { VerifyEvent } from '../audit/events.ts';
import { recordRefusal } from '../audit/trail.ts';
import { MppError, isMppError } from '../errors.ts';
import { examinePackage, verifyPackage, type ExaminedPackage, type VerifiedPackage } from './gatekeeper.ts';
import { fingerprint, type PublicKey } from './keys.ts';
import { changeTrust, type KeyState, type TrustVia, type TrustView } from './store.ts';

interface HeldKey {
  readonly key: PublicKey;
  readonly name: string;
  readonly via: Exclude<TrustVia, 'command'>;
  readonly from?: string;
}

/** A trust view with keys held for one operation: trusted by it, written to the store only by `commit`. */
export class PendingTrust implements TrustView {
  readonly #base: TrustView;
  readonly #held: HeldKey[] = [];

  constructor(base: TrustView) {
    this.#base = base;
  }

  state(keyid: string): KeyState {
    const state = this.#base.state(keyid);
    return state === 'unknown' && this.#held.some((h) => h.key.keyid === keyid) ? 'trusted' : state;
  }

  name(keyid: string): string | undefined {
    return this.#base.name(keyid) ?? this.#held.find((h) => h.key.keyid === keyid)?.name;
  }

  hold(held: HeldKey): void {
    if (this.#base.state(held.key.keyid) === 'unknown' && !this.#held.some((h) => h.key.keyid === held.key.keyid)) this.#held.push(held);
  }

  /** Trusts the held keys (each recorded as a `trust` event); call once the operation passed every check. */
  async commit(home: string, audit: AuditLog): Promise<void> {
    for (const h of this.#held.splice(0)) await changeTrust(home, audit, { action: 'add', key: h.key, name: h.name, via: h.via, ...(h.from ? { from: h.from } : {}) });
  }
}

/** What a face shows before asking: the package, its author key, and the publisher name the package claims. */
export interface TrustQuestion {
  readonly pkg: ExaminedPackage;
  readonly key: PublicKey;
  readonly claimedName: string;
}

/** Asks a person; true only on an explicit yes. */
export type AskToTrust = (question: TrustQuestion) => Promise<boolean>;

export interface FirstUseOptions {
  /** Absent when no person can be asked (no terminal, --json, a fixed key): the refusal stands. */
  readonly ask?: AskToTrust;
  /** The command to run again after a no. */
  readonly retry?: string;
  readonly audit: AuditLog;
  /** What a refusal's audit record names. */
  readonly source: Pick<VerifyEvent, 'file' | 'package'>;
  readonly warn?: (message: string) => void;
}

/**
 * The gatekeeper over `trust`, asking about an unknown author key: a yes
 * holds the key in `trust` (nothing is written). A refusal is recorded as a
 * failed `verify`; passing is for the caller to record.
 */
export async function verifyTrustingOnFirstUse(bytes: Uint8Array, trust: PendingTrust, opts: FirstUseOptions): Promise<VerifiedPackage> {
  try {
    try {
      return verifyPackage(bytes, trust);
    } catch (e) {
      if (!(isMppError(e) && e.code === 'MPP_E_UNTRUSTED_KEY' && opts.ask)) throw e;
      const pkg = examinePackage(bytes);
      const author = pkg.signatures.find((s) => s.role === 'author');
      if (!author) throw e;
      const claimedName = pkg.manifest.publisher.name;
      if (!(await opts.ask({ pkg, key: author.key, claimedName }))) {
        throw new MppError('MPP_E_UNTRUSTED_KEY', `You did not trust key ${fingerprint(author.key.keyid)}; the package is refused.`, {
          hint: `${opts.retry ? `Run \`${opts.retry}\` again` : 'Try again'} and answer yes if you trust the publisher.`,
          detail: { keyid: author.key.keyid },
        });
      }
      trust.hold({ key: author.key, name: claimedName, via: 'first-use' });
      return verifyPackage(bytes, trust);
    }
  } catch (e) {
    recordRefusal(opts.audit, e, opts.source, opts.warn);
    throw e;
  }
}
