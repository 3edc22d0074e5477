/**
 * WASI filesystem error codes, and the mapping from host errno names.
 *
 * Thrown as `FsError`: an Error with an own `payload` property. The jco
 * bindings turn a thrown value that has `payload` into the `err` case of the
 * import's result; any other Error traps the instance. So a refusal is always
 * an ordinary error the tool can handle, never a trap.
 */
export type FsErrorCode =
  | 'access' | 'would-block' | 'already' | 'bad-descriptor' | 'busy' | 'deadlock' | 'quota' | 'exist'
  | 'file-too-large' | 'illegal-byte-sequence' | 'in-progress' | 'interrupted' | 'invalid' | 'io'
  | 'is-directory' | 'loop' | 'too-many-links' | 'message-size' | 'name-too-long' | 'no-device'
  | 'no-entry' | 'no-lock' | 'insufficient-memory' | 'insufficient-space' | 'not-directory'
  | 'not-empty' | 'not-recoverable' | 'unsupported' | 'no-tty' | 'no-such-device' | 'overflow'
  | 'not-permitted' | 'pipe' | 'read-only' | 'invalid-seek' | 'text-file-busy' | 'cross-device';

/** Why the host refused, for mpp:tool/refusal (see refusals.ts): a stable code and a sentence. */
export interface FsReason {
  readonly code: string;
  readonly message: string;
}

/**
 * Where every FsError is reported as it is made: the worker's refusal log.
 * Errors without a reason are reported too, so a stale reason is never read
 * as the explanation of a later error.
 */
let reasonSink: ((wasiCode: FsErrorCode, reason: FsReason | undefined) => void) | undefined;
export function reportFsErrorsTo(sink: typeof reasonSink): void {
  reasonSink = sink;
}

export class FsError extends Error {
  readonly payload: FsErrorCode;
  constructor(code: FsErrorCode, reason?: FsReason) {
    super(code);
    this.name = 'FsError';
    this.payload = code;
    reasonSink?.(code, reason);
  }
}

export const OUTSIDE_GRANT = (what: string): FsReason => ({ code: 'outside-grant', message: `${what} leads outside the granted folder` });
export const READ_ONLY: FsReason = { code: 'read-only', message: 'this folder is granted read-only' };
export const NO_LINKS: FsReason = { code: 'links-refused', message: 'tools cannot create symbolic or hard links' };

const ERRNO: Record<string, FsErrorCode> = {
  EACCES: 'access',
  EAGAIN: 'would-block',
  EWOULDBLOCK: 'would-block',
  EALREADY: 'already',
  EBADF: 'bad-descriptor',
  EBUSY: 'busy',
  EDEADLK: 'deadlock',
  EDQUOT: 'quota',
  EEXIST: 'exist',
  EFBIG: 'file-too-large',
  EILSEQ: 'illegal-byte-sequence',
  EINPROGRESS: 'in-progress',
  EINTR: 'interrupted',
  EINVAL: 'invalid',
  EIO: 'io',
  EISDIR: 'is-directory',
  ELOOP: 'loop',
  EMLINK: 'too-many-links',
  EMSGSIZE: 'message-size',
  ENAMETOOLONG: 'name-too-long',
  ENODEV: 'no-device',
  ENOENT: 'no-entry',
  ENOLCK: 'no-lock',
  ENOMEM: 'insufficient-memory',
  ENOSPC: 'insufficient-space',
  ENOTDIR: 'not-directory',
  ENOTEMPTY: 'not-empty',
  ENOTRECOVERABLE: 'not-recoverable',
  ENOTSUP: 'unsupported',
  EOPNOTSUPP: 'unsupported',
  ENOTTY: 'no-tty',
  ENXIO: 'no-such-device',
  EOVERFLOW: 'overflow',
  EPERM: 'not-permitted',
  EPIPE: 'pipe',
  EROFS: 'read-only',
  ESPIPE: 'invalid-seek',
  ETXTBSY: 'text-file-busy',
  EXDEV: 'cross-device',
  EMFILE: 'quota',
  ENFILE: 'quota',
};

/** Maps a thrown host error to an FsError; unknown failures become `io`. */
export function toFsError(e: unknown): FsError {
  if (e instanceof FsError) return e;
  const code = (e as NodeJS.ErrnoException | null)?.code;
  return new FsError((code && ERRNO[code]) || 'io');
}
