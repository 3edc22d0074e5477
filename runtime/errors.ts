/**
 * Every refusal MPP makes carries one of these stable codes. The table is the
 * single place where error texts live; spec/errors.md documents the same codes
 * (a test keeps the two in step).
 */
export const ERROR_CODES = {
  MPP_E_USAGE: 'The command line is incomplete or contradictory.',
  MPP_E_IO: 'A file could not be read or written.',
  MPP_E_INTERNAL: 'MPP failed unexpectedly.',

  MPP_E_CORRUPT_ARCHIVE: 'The package is not a well-formed ZIP archive (truncated, bad checksum, unreadable structure).',
  MPP_E_UNSAFE_ARCHIVE: 'The archive uses a feature MPP refuses because it enables attacks (unsafe names, links, encryption, hidden data, headers that disagree).',
  MPP_E_ARCHIVE_TOO_LARGE: 'The archive exceeds a size, count or compression-ratio limit.',
  MPP_E_MISSING_ENTRY: 'A required entry is missing from the package.',
  MPP_E_EXTRA_ENTRY: 'The package holds an entry the format does not allow.',
  MPP_E_UNSUPPORTED_FORMAT: 'The package declares a format version this host does not support.',
  MPP_E_INVALID_COMPONENT: 'tool.wasm is not a well-formed WebAssembly component (a core module, another layer, or malformed sections).',
  MPP_E_IMPORT_NOT_ALLOWED: 'tool.wasm imports something the mpp:tool world does not offer.',
  MPP_E_EXPORT_NOT_ALLOWED: 'tool.wasm exports something other than the mpp:tool handler.',
  MPP_E_HANDLER_MISSING: 'tool.wasm does not export the mpp:tool handler.',
  MPP_E_INVALID_MANIFEST: 'manifest.json is not valid JSON or does not match the manifest schema.',

  MPP_E_UNSIGNED: 'The package carries no author signature.',
  MPP_E_BAD_SIGNATURE: 'A signature envelope is malformed or its signature does not verify.',
  MPP_E_DIGEST_MISMATCH: 'A signature was made over different content than this package holds.',
  MPP_E_UNTRUSTED_KEY: 'The package is signed, but by no key this host trusts.',
  MPP_E_DEVELOPMENT_PACKAGE: 'The package is a development build, which is never signed with `mpp sign` or published.',
  MPP_E_DEVELOPMENT_UNTRUSTED: 'A development package is signed by no key trusted for development builds of that package.',
  MPP_E_DEVELOPMENT_DECLINED: 'A development install stopped because its signing key was not created or not trusted.',
  MPP_E_CLI_NOT_FOUND: 'The editor needs the mpp command line for this, and found none.',
  MPP_E_CLI_FAILED: 'The mpp command line the editor ran failed.',
  MPP_E_REVOKED_KEY: 'The package is signed by a key that has been revoked.',

  MPP_E_KEY_INVALID: 'A key file is not a valid Ed25519 key in the expected PEM format.',
  MPP_E_KEY_EXISTS: 'A key file already exists and would be overwritten.',
  MPP_E_TRUST_UNKNOWN: 'The trust store has no such key.',
  MPP_E_TRUST_NEEDS_CONFIRMATION: 'Trusting a new key needs a human decision, and none could be asked for.',
  MPP_E_TRUST_STORE_CORRUPT: 'The trust store file is unreadable or does not match its schema.',

  MPP_E_PROJECT_INVALID: 'The tool project is missing a file or its manifest source is invalid.',
  MPP_E_BUILD_FAILED: 'Bundling or componentizing the tool failed.',

  MPP_E_GRANT_NOT_DECLARED: 'A capability was requested that the package manifest does not declare.',
  MPP_E_TOOL_UNKNOWN: 'The package has no tool of that name.',
  MPP_E_GRANT_INVALID: 'A capability grant is malformed: a path, host, port, method, variable or limit is not acceptable.',
  MPP_E_TOOL_INVALID: 'The tool is not a WebAssembly component this host can run.',
  MPP_E_TOOL_UNSUPPORTED_IMPORT: 'The tool imports an interface this host does not provide.',
  MPP_E_TOOL_TIMEOUT: 'The tool call ran past its time limit and was stopped.',
  MPP_E_CANCELLED: 'The caller cancelled the call; its worker was stopped.',
  MPP_E_TOOL_MEMORY: 'The tool needed more memory than its limit allows and was stopped.',
  MPP_E_TOOL_CRASHED: 'The tool trapped, exited or broke the component contract; its instance was discarded.',
  MPP_E_TOOL_UNSETTLED: "The tool's call returned a promise that never settled; its instance was discarded.",
  MPP_E_TOOL_ERROR: 'The tool returned an error for this call.',
  MPP_E_INPUT_TOO_LARGE: 'The tool input is larger than the input size limit.',
  MPP_E_INPUT_INVALID: 'The tool input is not valid JSON text or does not match the tool input schema.',
  MPP_E_OUTPUT_TOO_LARGE: 'The tool output is larger than the output size limit.',
  MPP_E_OUTPUT_INVALID: 'The tool returned output that is not valid JSON text or does not match its output schema.',
  MPP_E_REDACTION_FAILED: 'Data that must be redacted could not be inspected, so it was not passed on.',
  MPP_E_KV_CORRUPT: 'A package key-value store is damaged, not an SQLite database, or written by a newer MPP.',
  MPP_E_NOT_INSTALLED: 'No installed package has that name.',
  MPP_E_VERSION_CONFLICT: 'That version of the package is already installed with different content.',
  MPP_E_STORE_CORRUPT: 'The local store is damaged: an installed package file is missing or is not what was installed, or a row of mpp.db (install index, grants, agents, attestations) is unreadable.',
  MPP_E_CONFIRMATION_DENIED: 'A sensitive operation needed a human confirmation, which was denied, timed out or could not be asked.',

  MPP_E_AUDIT_TAMPERED: 'The audit log does not verify: a record was edited, deleted, inserted or reordered, or the log was truncated.',
  MPP_E_AUDIT_UNAVAILABLE: 'The audit log could not be written, so the action was refused or reported as unrecorded.',
  MPP_E_AUDIT_EVENT_INVALID: 'An audit event does not match the audit event schema (a bug in the code that recorded it).',
  MPP_E_CONSENT_REQUIRED: 'The package has no permission decision for this workspace, and none could be asked for.',
  MPP_E_CONSENT_DENIED: 'The user denied this package: it does not run.',
  MPP_E_DISMISSED: 'A question to the user was dismissed (end of input or Ctrl-C) before it was answered; nothing was decided.',
  MPP_E_AGENT_NOT_ALLOWED: 'The package does not allow the calling agent to call this tool.',
  MPP_E_AGENT_CREDENTIAL_INVALID: 'An agent credential is malformed, forged, expired, or not signed by the key registered for its agent.',
  MPP_E_AGENT_UNKNOWN: 'No registered agent has that id.',
  MPP_E_AGENT_EXISTS: 'An agent with that id is already registered with another key.',
  MPP_E_ATTESTATION_INVALID: 'An attestation is malformed or its signature does not verify with the host key.',
  MPP_E_ATTESTATION_MISMATCH: 'An attestation was issued for another package, tool, operation, argument set or agent.',
  MPP_E_ATTESTATION_EXPIRED: 'An attestation was used after its expiry.',
  MPP_E_ATTESTATION_REPLAYED: 'An attestation was presented a second time, or was never issued by this host.',
  MPP_E_POLICY_INVALID: 'The host policy file is unreadable or does not match its schema.',
  MPP_E_ORG_POLICY_INVALID: 'The organisation policy is unreadable, does not match its schema, or is not signed by its pinned key.',
  MPP_E_POLICY_PUBLISHER_BLOCKED: 'The organisation policy does not allow packages of this publisher key.',
  MPP_E_POLICY_SOURCE_BLOCKED: 'The organisation policy does not allow installing from this source (file, OCI, or this registry).',
  MPP_E_POLICY_PACKAGE_BLOCKED: 'The organisation policy blocks this package or version.',
  MPP_E_POLICY_CAPABILITY_BLOCKED: 'The organisation policy forbids granting this capability.',
  MPP_E_POLICY_AGENT_UNVERIFIED: 'The organisation policy requires a verified agent for tools of this sensitivity.',
  MPP_E_AUDIT_FORWARD_BACKLOG: 'Audit forwarding is required and too many records wait to reach the collector.',
  MPP_E_AUDIT_FORWARD_FAILED: 'Audit records could not be sent to the collector (unreachable, TLS refused, or it closed early); they stay queued in the local log.',
  MPP_E_REGISTRY_UNREACHABLE: 'A registry could not be reached, or answered with an HTTP error.',
  MPP_E_REGISTRY_PROTOCOL: 'A registry answered something that is not what the registry API (or the OCI distribution API) defines.',
  MPP_E_REGISTRY_BAD_SIGNATURE: 'A registry document (its index, a key rotation) is not signed by the key it must be signed by.',
  MPP_E_REGISTRY_NEEDS_KEY: 'A registry\'s key must be pinned, and no human could be asked to confirm it.',
  MPP_E_REGISTRY_EXPIRED: 'The registry\'s signed index has expired (a freeze attack or a stalled registry).',
  MPP_E_REGISTRY_ROLLBACK: 'The registry\'s index is older than one this host has already seen (a rollback attack).',
  MPP_E_REGISTRY_MISMATCH: 'What the registry served is not what its signed index says (mix-and-match, wrong or arbitrary package).',
  MPP_E_REGISTRY_TOO_LARGE: 'A request or response exceeds a size limit (endless data).',
  MPP_E_REGISTRY_TIMEOUT: 'A transfer took longer than its time limit (slow retrieval), and was stopped.',
  MPP_E_REGISTRY_NOT_FOUND: 'No configured registry has a package of that name, or no version that satisfies the range.',
  MPP_E_REGISTRY_DOWNGRADE: 'The version a registry offers is lower than the one installed.',
  MPP_E_REGISTRY_UNAUTHORIZED: 'The registry refused the request: no token, an unknown token, or failed OCI authentication.',
  MPP_E_REGISTRY_PUBLISHER_MISMATCH: 'The package is signed by another key than the one its name is bound to.',
  MPP_E_REGISTRY_VERSION_EXISTS: 'That version of the package is already published: versions are immutable.',
  MPP_E_REGISTRY_UNKNOWN: 'No registry is configured, or none under that name.',
  MPP_E_REGISTRY_CONFIG_CORRUPT: 'The registries file or the registry state in the MPP home is unreadable or does not match its schema.',
  MPP_E_REGISTRY_STORE_CORRUPT: 'The registry server\'s database (registry.db in its folder) is damaged or is not an SQLite database.',
  MPP_E_UPDATE_INCOMPLETE: 'An update of every installed package left some packages at their installed version: a registry refused, could not be reached, or served something refused.',
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

/**
 * What the user can do, for every code: the hint a refusal carries when its
 * thrower has nothing more specific to say. Same text as the last column of
 * spec/errors.md (a test keeps the two equal).
 */
export const DEFAULT_HINTS: Readonly<Record<ErrorCode, string>> = Object.freeze({
  MPP_E_USAGE: "Run the command with `--help` and fix the arguments. Exit code 2.",
  MPP_E_IO: "Check the path and its permissions; the message names the file and the system error.",
  MPP_E_INTERNAL: "This is a bug in MPP: report it with the command you ran. Exit code 70.",
  MPP_E_CORRUPT_ARCHIVE: "The file is damaged or is not an MPP package: download or build it again.",
  MPP_E_UNSAFE_ARCHIVE: "Do not install the file. `mpp build` never produces these; it may have been crafted to attack ZIP readers. If you made it with another tool, rebuild it with `mpp build`.",
  MPP_E_ARCHIVE_TOO_LARGE: "Treat it as a possible decompression bomb. If it is your own tool, make `tool.wasm` smaller (for example the QuickJS engine) or drop large files.",
  MPP_E_MISSING_ENTRY: "The file is incomplete or was not made by `mpp build`: rebuild it.",
  MPP_E_EXTRA_ENTRY: "Rebuild the package with `mpp build`; other files cannot be shipped in a package.",
  MPP_E_UNSUPPORTED_FORMAT: "Update MPP, or ask the publisher for a version-1 package.",
  MPP_E_INVALID_COMPONENT: "Build the tool with `mpp build`, which turns the code into a component.",
  MPP_E_IMPORT_NOT_ALLOWED: "Build the component for the tool world (spec/wit/mpp.wit): it may import only mpp:tool/* and the WASI 0.2 interfaces listed there.",
  MPP_E_EXPORT_NOT_ALLOWED: "Build the component for the tool world (spec/wit/mpp.wit): it exports mpp:tool/handler@0.1.x and nothing else.",
  MPP_E_HANDLER_MISSING: "Build the component for the tool world (spec/wit/mpp.wit), which exports mpp:tool/handler.",
  MPP_E_INVALID_MANIFEST: "Fix `mpp.manifest.json` in the tool project (manifest.md) and rebuild. As a user: the package is broken, tell the publisher.",
  MPP_E_UNSIGNED: "Publishers: `mpp sign <file.mpp> --key <key.pem>`. Users: ask the publisher for a signed package.",
  MPP_E_BAD_SIGNATURE: "The package was altered or signed incorrectly: do not use it, get an intact copy from the publisher.",
  MPP_E_DIGEST_MISMATCH: "The package was modified after signing, or a signature was copied from another package: do not use it.",
  MPP_E_DEVELOPMENT_UNTRUSTED: "Development packages are installed by their author with `mpp dev` (or MPP: Build, Install and Run), which trusts the author's key for that package only. Otherwise install a released, signed version.",
  MPP_E_DEVELOPMENT_DECLINED: "Development builds are signed with your own key and trusted for that one package: create the key with `mpp keygen`, then answer yes (or pass --yes to `mpp dev`).",
  MPP_E_CLI_NOT_FOUND: "Install the MPP command line so that `mpp` is on PATH, or set `mpp.cliPath` to its path.",
  MPP_E_CLI_FAILED: "Read the message: it is the command line's own error. Run the same `mpp` command in a terminal to see its full output.",
  MPP_E_DEVELOPMENT_PACKAGE: "Build a release with `mpp build` (without --dev), sign it with `mpp sign` and publish that.",
  MPP_E_UNTRUSTED_KEY: "Check the fingerprint with the publisher through another channel, then `mpp trust add --from <file.mpp> --name <publisher>` or answer yes to `mpp verify`.",
  MPP_E_REVOKED_KEY: "Do not use the package; ask the publisher for one signed with their current key. If the revocation was a mistake, `mpp trust remove <keyid>` first.",
  MPP_E_KEY_INVALID: "Create keys with `mpp keygen` or `openssl genpkey -algorithm ed25519`; give public keys as SPKI PEM (`openssl pkey -pubout`).",
  MPP_E_KEY_EXISTS: "Choose another `--out`, or pass `--force` if you really want to replace it (the old key is lost).",
  MPP_E_TRUST_UNKNOWN: "List the known keys with `mpp trust list` and use a full 64-digit key id.",
  MPP_E_TRUST_NEEDS_CONFIRMATION: "Run the command in a terminal and answer yes, or pass `--yes` after checking the fingerprint with the publisher.",
  MPP_E_TRUST_STORE_CORRUPT: "Restore it from a backup, or move it away and re-add the keys you trust with `mpp trust add` (and re-apply revocations).",
  MPP_E_PROJECT_INVALID: "Follow the message: add the missing file, fix `mpp.manifest.json`, or choose an empty folder.",
  MPP_E_BUILD_FAILED: "Read the bundler or componentizer output in the message; tools cannot use Node built-ins, only the `mpp:tool` host interfaces.",
  MPP_E_GRANT_NOT_DECLARED: "Check `mpp inspect` for what the package asks for and grant only that (or narrower).",
  MPP_E_TOOL_UNKNOWN: "List its tools with `mpp inspect`.",
  MPP_E_GRANT_INVALID: "Fix the grant; for a manifest that cannot be granted as declared (manifest.md §9), tell the publisher.",
  MPP_E_TOOL_INVALID: "Rebuild the tool with a supported `mpp build`; as a user, tell the publisher.",
  MPP_E_TOOL_UNSUPPORTED_IMPORT: "Update MPP if the tool needs a newer host; otherwise the tool must not import it.",
  MPP_E_TOOL_TIMEOUT: "Retry with smaller input; publishers can raise `limits.timeoutMs` within the host's ceiling.",
  MPP_E_CANCELLED: 'Nothing to do: call again if the result is still wanted (the next call starts a fresh worker).',
  MPP_E_TOOL_MEMORY: "Publishers: raise `limits.memoryMb` or use less memory. Users: use smaller inputs.",
  MPP_E_TOOL_CRASHED: "Retry; if it persists, report it to the publisher with the input.",
  MPP_E_TOOL_UNSETTLED: "The tool awaited something that can never happen (a promise nothing resolves): report it to the publisher with the input.",
  MPP_E_TOOL_ERROR: "Read the tool's message; it is about the input or the data, not about MPP.",
  MPP_E_INPUT_TOO_LARGE: "Send less data, or split the request.",
  MPP_E_INPUT_INVALID: "Fix the input; agents should follow the tool's `inputSchema`.",
  MPP_E_OUTPUT_TOO_LARGE: "Ask for less (a narrower query); publishers can raise `limits.maxOutputBytes`.",
  MPP_E_OUTPUT_INVALID: "A bug in the tool: report it to the publisher.",
  MPP_E_REDACTION_FAILED: "Tools must send request bodies as uncompressed UTF-8 text, JSON or forms of at most 16 MiB while redaction applies; as a user, report it to the publisher.",
  MPP_E_KV_CORRUPT: "Update MPP if it is newer data; otherwise move the file named in `detail.path` aside or run `mpp uninstall --purge` (the package's stored data is lost).",
  MPP_E_NOT_INSTALLED: "See what is installed with `mpp list`; install with `mpp install <file.mpp>`.",
  MPP_E_VERSION_CONFLICT: "Publishers: bump the version. To replace it anyway, `mpp uninstall` it first (its data is kept).",
  MPP_E_STORE_CORRUPT: "If you did not change the file yourself, something else on this machine did. Reinstall the package from a file you trust with `mpp install <file.mpp>`.",
  MPP_E_CONFIRMATION_DENIED: 'Approve it when the host asks; a host without a way to ask a human (no terminal, an MCP client without elicitation) cannot run sensitive operations.',
  MPP_E_AUDIT_TAMPERED: "Something other than MPP changed the audit log at the record named in `detail.seq`: treat the records from there on as untrustworthy, keep a copy of the files for investigation, and compare with a head you anchored elsewhere (`mpp audit head`).",
  MPP_E_AUDIT_UNAVAILABLE: "Check that the MPP home is writable and the disk is not full, and that no other process holds the audit log locked; then run the command again. `mpp audit verify` checks the log.",
  MPP_E_AUDIT_EVENT_INVALID: "This is a bug in MPP or in the component that recorded the event: report it with the command you ran.",
  MPP_E_CONSENT_REQUIRED: 'Decide at a terminal (`mpp run` asks), or grant ahead of time: `mpp grant <package> --all` or `mpp grant <package> <capability-id>...`; see `mpp permissions <package>`.',
  MPP_E_CONSENT_DENIED: 'To let it run, change the decision: `mpp grant <package> --all` (or name capabilities), in the workspace or globally.',
  MPP_E_DISMISSED: 'Run the command again and answer the question, or decide ahead of time (`mpp grant`, `mpp trust add`).',
  MPP_E_AGENT_NOT_ALLOWED: "Call it from an agent the package allows (`mpp inspect` lists them), presenting that agent's registered credential.",
  MPP_E_AGENT_CREDENTIAL_INVALID: 'Make a fresh credential with `mpp agent credential --key <agent-key.pem> --agent <id>`, with the key registered by `mpp agent add`.',
  MPP_E_AGENT_UNKNOWN: 'List registered agents with `mpp agent list`.',
  MPP_E_AGENT_EXISTS: 'Remove it first with `mpp agent remove <id>` if the key really changed.',
  MPP_E_ATTESTATION_INVALID: 'Do not trust the action it claims was approved; ask the user to confirm again.',
  MPP_E_ATTESTATION_MISMATCH: 'Confirm the call that is actually being made; an approval never carries over to changed arguments.',
  MPP_E_ATTESTATION_EXPIRED: 'Confirm the operation again; approvals are short-lived.',
  MPP_E_ATTESTATION_REPLAYED: 'Confirm the operation again; each approval covers exactly one call.',
  MPP_E_POLICY_INVALID: 'Fix or remove `policy.json` in the MPP home (spec/governance.md lists its fields); MPP refuses to fall back to defaults.',
  MPP_E_ORG_POLICY_INVALID: 'Ask your administrator to fix the policy (`mpp policy show` names the file); MPP refuses to fall back to no policy.',
  MPP_E_POLICY_PUBLISHER_BLOCKED: 'Use a package from an allowed publisher (`mpp policy show`), or ask your administrator.',
  MPP_E_POLICY_SOURCE_BLOCKED: 'Install from a source the policy allows (`mpp policy show`), or ask your administrator.',
  MPP_E_POLICY_PACKAGE_BLOCKED: 'Use another package or version (`mpp policy check <package>` explains), or ask your administrator.',
  MPP_E_POLICY_CAPABILITY_BLOCKED: 'Grant the other capabilities; this one can never be granted on this machine.',
  MPP_E_POLICY_AGENT_UNVERIFIED: 'Call as a registered agent with a credential (`mpp agent add`, `mpp agent credential`).',
  MPP_E_AUDIT_FORWARD_BACKLOG: 'Check that the audit collector is reachable (`mpp audit forward` says why not); calls resume when it caught up.',
  MPP_E_AUDIT_FORWARD_FAILED: 'Check that the collector runs and that its certificate matches caFile/serverName; the records are sent again later.',
  MPP_E_REGISTRY_UNREACHABLE: "Check the registry URL (`mpp registry list`) and that it is running; installed packages keep working offline.",
  MPP_E_REGISTRY_PROTOCOL: "The server is not an MPP registry, or a broken or hostile one: check the URL and do not install from it.",
  MPP_E_REGISTRY_BAD_SIGNATURE: "If the registry changed its key on purpose, check the new key with its operator, then `mpp registry remove` and `mpp registry add --key`. Otherwise do not use it: someone may be impersonating it.",
  MPP_E_REGISTRY_NEEDS_KEY: "Get the registry's public key (or key id) from its operator and pass it with `--key`, or run the command in a terminal and confirm the fingerprint.",
  MPP_E_REGISTRY_EXPIRED: "Try again later or tell the registry's operator; installed packages keep working. Do not work around it by changing the clock.",
  MPP_E_REGISTRY_ROLLBACK: "Do not trust this registry's answer; tell its operator. If the registry was rebuilt from scratch on purpose, `mpp registry remove` and add it again.",
  MPP_E_REGISTRY_MISMATCH: "Do not install it; the registry or the network delivered another file. Tell the registry's operator.",
  MPP_E_REGISTRY_TOO_LARGE: "Nothing was installed or published. Publishers: make the package smaller, or ask the operator to raise `--max-package-bytes`.",
  MPP_E_REGISTRY_TIMEOUT: "Try again; on a slow network raise `--timeout`. Installed packages keep working.",
  MPP_E_REGISTRY_NOT_FOUND: "Check the name with `mpp search`, and the range; yanked versions are never chosen.",
  MPP_E_REGISTRY_DOWNGRADE: "Keep the installed version; if you really want the lower one, pass `--allow-downgrade`.",
  MPP_E_REGISTRY_UNAUTHORIZED: "Create a token on the registry host with `mpp registry token create` and pass it with `--token` (or `MPP_REGISTRY_TOKEN`); for OCI set `MPP_OCI_USERNAME` and `MPP_OCI_PASSWORD`.",
  MPP_E_REGISTRY_PUBLISHER_MISMATCH: "Publishers: sign with the key the name is bound to, or publish a rotation statement (`mpp registry rotate`). Users: do not install it; it may be an impostor.",
  MPP_E_REGISTRY_VERSION_EXISTS: "Bump the version and publish again; yank the old one if it is broken.",
  MPP_E_REGISTRY_UNKNOWN: "Add one with `mpp registry add <name> <url> --key <pub.pem>`; see `mpp registry list`.",
  MPP_E_REGISTRY_CONFIG_CORRUPT: "Restore it from a backup, or move it away and add the registries again (their keys must be checked again).",
  MPP_E_REGISTRY_STORE_CORRUPT: "Stop the server, restore registry.db (named in `detail.path`) from a backup, or move it aside and publish the packages again (the blobs folder is intact); clients then see a new index and must re-add the registry.",
  MPP_E_UPDATE_INCOMPLETE: "Read each package's code in `detail.kept`: a security refusal (rollback, mismatch, publisher mismatch, bad signature) means do not trust that registry's answer and tell its operator; an unreachable registry means try again later.",
});

export interface MppErrorOptions {
  /** What the user can do about it, when more specific than the code's default hint. */
  hint?: string;
  cause?: unknown;
  /** Machine-readable context (entry name, key id...). Never secrets. */
  detail?: Record<string, unknown>;
}

export class MppError extends Error {
  readonly code: ErrorCode;
  readonly hint: string;
  readonly detail: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, options: MppErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'MppError';
    this.code = code;
    this.hint = options.hint ?? DEFAULT_HINTS[code];
    this.detail = options.detail;
  }

  toJSON(): Record<string, unknown> {
    return {
      code: this.code,
      message: this.message,
      hint: this.hint,
      ...(this.detail ? { detail: this.detail } : {}),
    };
  }
}

export function isMppError(e: unknown): e is MppError {
  return e instanceof MppError;
}
