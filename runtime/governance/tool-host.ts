import { randomUUID } from 'node:crypto';
import { homedir } from 'node:os';
import { MppError, isMppError } from '../errors.ts';
import type { Manifest, ToolDefinition } from '../format/manifest.ts';
import { homePaths } from '../home.ts';
import { sha256Hex } from '../hash.ts';
import { prepareEventValidators, type AuditAgent, type AuditEvent } from '../audit/events.ts';
import { AttestationLedger, type AttestationBinding } from '../attest/attestation.ts';
import { loadOrCreateHostKey } from '../attest/host-key.ts';
import { resolveCaller, unverifiedCaller, type CallerClaim } from '../identity/credential.ts';
import { agentAllowed } from '../policy/agents.ts';
import { declaredCapabilities, grantFromCapabilities } from '../policy/capabilities.ts';
import { needsConfirmation } from '../policy/confirmation.ts';
import { userGrant, type GrantRequest, type UserGrant } from '../policy/grant.ts';
import { loadHostPolicy, mergePolicy, type HostPolicy } from '../policy/host-policy.ts';
import { effectiveLimits } from '../policy/limits.ts';
import { loadOrgPolicy, type OrgPolicy } from '../policy/org-policy.ts';
import { orgHostPolicy, orgLimits, refuseCapability, refusePackage, refuseSource, refuseUnverifiedAgent, restrictGrant } from '../policy/org-rules.ts';
import { checkForwardBacklog } from '../audit/forward/forwarder.ts';
import type { Limits } from '../sandbox/grant.ts';
import { effectiveClasses, type RedactionCounts as PiiCounts } from '../privacy/index.ts';
import { checkInput, checkInputSize, findTool, invokeTool, prepareToolComponent, warmTool, type Invocation } from '../run/invoke.ts';
import type { SandboxPool } from '../run/sandbox-pool.ts';
import type { Caller, ConfirmService, HostServices, LogRecord } from '../sandbox/host-services.ts';
import { HostServiceError } from '../sandbox/host-services.ts';
import { AgentRegistry } from '../state/agents.ts';
import { GrantStore, GLOBAL_SCOPE, workspaceScope, type GrantRecord } from '../state/grants.ts';
import { openKvStore } from '../state/kv.ts';
import { loadInstalled } from '../store/packages.ts';
import type { VerifiedPackage } from '../trust/gatekeeper.ts';
import { TrustStore } from '../trust/store.ts';
import { askHuman, type ConfirmationRequest, type Confirmer } from './confirm.ts';
import { consentRequest, undecided, unreviewed, type ConsentPrompter } from './consent.ts';
import { recordDecision } from './decisions.ts';
import { toolTexts, type ToolTexts } from './tool-texts.ts';

/**
 * The governed call path every face shares (CLI, `mpp mcp`, the editor):
 * package (verified on every load) -> caller identity -> agent restrictions
 * -> the user's grant (consent) -> confirmation and attestation for
 * sensitive tools -> the sandbox -> redaction -> audit. Policy decisions come
 * from runtime/policy; the sandbox enforces what is decided here.
 */
export interface ToolHostOptions {
  readonly home: string;
  /** Absent: nobody can be asked, so a package without a decision does not run. */
  readonly consent?: ConsentPrompter;
  /** Absent: sensitive operations are refused, never approved. */
  readonly confirmer?: Confirmer;
  /** Stricter-only overrides of policy.json (editor settings). */
  readonly policy?: Partial<HostPolicy>;
  /** Appends one audit event durably; a failure refuses the operation (fail closed). */
  readonly audit: (event: AuditEvent) => void;
  /**
   * Appends a call's outcome record with a group commit (AuditLog.appendGrouped):
   * durable soon after the result is returned, in order after every earlier
   * record. Absent: `audit`.
   */
  readonly auditGrouped?: (event: AuditEvent) => void;
  readonly log?: (pkg: string, record: LogRecord) => void;
  /** Where granted environment variables are read from (default: this process's). */
  readonly env?: NodeJS.ProcessEnv;
  /** Host folder `${home}` stands for (default: the user's home). */
  readonly userHome?: string;
  /** Where consent decisions made through `consent` are recorded as coming from. */
  readonly consentSource?: 'prompt' | 'editor';
  /** Sandboxes kept between calls by a long-running host (`mpp mcp`, the editor), which disposes the pool; each call still gets a fresh instance. */
  readonly sandboxes?: SandboxPool;
}

export interface ToolCall {
  /** An installed package name, or a package that just passed the gatekeeper (a file). */
  readonly target: { readonly installed: string } | { readonly verified: VerifiedPackage };
  readonly tool: string;
  /** The input JSON text as the agent sent it. */
  readonly input: string;
  readonly caller: CallerClaim;
  /** The folder `${workspace}` stands for. */
  readonly workspace: string;
  /** A one-off grant given on the command line: used for this call only, never stored. */
  readonly oneOffGrant?: Omit<GrantRequest, 'workspace' | 'home' | 'mppHome'>;
  /** Lowers the time limit of the call. */
  readonly timeoutMs?: number;
  /** Lowers the memory limit of the call (editor settings). */
  readonly memoryBytes?: number;
  /** Aborted by the caller (MCP `notifications/cancelled`): the call ends with MPP_E_CANCELLED (or the signal's reason, an MppError), audited, its worker stopped. */
  readonly signal?: AbortSignal;
}

export interface ToolCallResult {
  readonly output: unknown;
  readonly caller: Caller;
  readonly durationMs: number;
  readonly redactions: PiiCounts;
  /** Things the user should know that did not stop the call (e.g. an update asks for more). */
  readonly notices: readonly string[];
}

/** The attestation schema's bound on `operation`. */
const MAX_OPERATION_CHARS = 200;

const agentOf = (c: Caller): AuditAgent => ({ id: c.agentId, verified: c.verified });

/** What the stages of one call have decided so far. */
interface CallContext {
  readonly call: ToolCall;
  /** The organisation policy, read for this call (a change applies at the next call). */
  readonly org: OrgPolicy | undefined;
  readonly policy: HostPolicy;
  readonly pkg: VerifiedPackage;
  readonly tool: ToolDefinition;
  readonly caller: Caller;
  /** Things the user should know that did not stop the call. */
  readonly notices: string[];
}

/** The privacy classes in force for a call and the granted values that may only go to granted hosts. */
interface Privacy {
  readonly classes: ReturnType<typeof effectiveClasses>;
  readonly allow: string[];
}

type InvokeEvent = Extract<AuditEvent, { type: 'invoke' }>;
/** The fields a call's `started` record and its outcome record share. */
type InvokeBase = Pick<InvokeEvent, 'package' | 'version' | 'digest' | 'tool' | 'agent' | 'inputSha256'>;

/**
 * Values the user granted (an API token in an environment variable) may go to the granted hosts;
 * anywhere else (output, logs, confirmations, errors) they are redacted: they were handed to the tool, not to the agent.
 */
function privacyOf(m: Manifest, policy: HostPolicy, granted: UserGrant): Privacy {
  return { classes: effectiveClasses(m, policy.privacyMinimum), allow: Object.values(granted.grant.env ?? {}) };
}

/** The sandbox's grant: what the user granted, under the limits and privacy rules in force (one shape: the sandbox pool keys kept sandboxes by it). */
function sandboxGrant(granted: UserGrant, limits: Limits, privacy: Privacy): Invocation['grant'] {
  return { ...granted.grant, limits, privacy: { classes: [...privacy.classes], allow: [...privacy.allow] } };
}

/** What the stored decisions say for `m` in `scope` before anyone is asked: a record whose every permission was revoked is no decision. */
function storedDecision(store: GrantStore, m: Manifest, publisher: string, scope: ReturnType<typeof workspaceScope>): { readonly record: GrantRecord | undefined; readonly revoked: boolean } {
  const stored = store.effective(m.name, publisher, scope);
  const revoked = stored !== undefined && undecided(m, stored);
  return { record: revoked ? undefined : stored, revoked };
}

/** The limits a call of `manifest` runs under: the package's, lowered by the call's (editor settings, flags) and the organisation's ceilings. */
function limitsInForce(manifest: Manifest, call: Pick<ToolCall, 'timeoutMs' | 'memoryBytes'>, org: OrgPolicy | undefined): Limits {
  const ceiling = orgLimits(org);
  const lower = (a: number | undefined, b: number | undefined) => (a === undefined ? b : b === undefined ? a : Math.min(a, b));
  const timeoutMs = lower(call.timeoutMs, ceiling.timeoutMs);
  const memoryBytes = lower(call.memoryBytes, ceiling.memoryBytes);
  return effectiveLimits(manifest, { ...(timeoutMs ? { timeoutMs } : {}), ...(memoryBytes ? { memoryBytes } : {}) });
}

export class ToolHost {
  readonly #opts: ToolHostOptions;

  constructor(opts: ToolHostOptions) {
    this.#opts = opts;
  }

  /** The host policy in force now (policy.json and the organisation policy are read on every call, like grants); each layer only tightens. */
  #policy(org: OrgPolicy | undefined): HostPolicy {
    const base = mergePolicy(loadHostPolicy(this.#opts.home), orgHostPolicy(org));
    return this.#opts.policy ? mergePolicy(base, this.#opts.policy) : base;
  }

  /**
   * The governed call, as its stages: package -> caller -> agent check ->
   * organisation policy -> grant -> input -> confirmation -> record start ->
   * run -> redaction -> record outcome. Each stage either hands the next what it decided or
   * refuses with a coded error (recorded as a `deny` where the call was made
   * by someone we can name).
   */
  async call(call: ToolCall): Promise<ToolCallResult> {
    const started = performance.now();
    const org = loadOrgPolicy();
    const policy = this.#policy(org);
    const pkg = this.#package(call);
    const caller = this.#caller(call, pkg.manifest);
    const tool = findTool(pkg, call.tool);
    const c: CallContext = { call, org, policy, pkg, tool, caller, notices: [] };
    this.#agentCheck(c);
    this.#orgCheck(c);
    const granted = this.#orgGrant(c, await this.#grant(c));
    const limits = this.#input(c);
    await this.#confirmCall(c);
    const record = this.#recordStart(c);
    const privacy = this.#privacy(c, granted);
    const texts = this.#texts(privacy);
    const output = await this.#run(c, granted, privacy, limits, record, started, texts);
    const redacted = texts.json(output);
    const durationMs = Math.round(performance.now() - started);
    this.#recordOutcome(record, { durationMs, outcome: 'ok', outputSha256: sha256Hex(JSON.stringify(redacted.value)), redactions: redacted.counts });
    return Object.freeze({ output: redacted.value, caller, durationMs, redactions: redacted.counts, notices: c.notices });
  }

  /**
   * Makes ready, while the host is idle, what the first call of an installed
   * package in `workspace` would otherwise wait for: its bytes read and
   * verified (kept by the pool), its core modules compiled under the limits
   * a call would have, and, where the stored decisions already give the grant
   * a call would run with (nobody would be asked) and a pool keeps sandboxes,
   * its sandbox started under exactly that grant ('started'; else, or
   * with the pool full, 'compiled'). Making that first instance may call
   * nothing of the host (SandboxOptions.ahead): no tool code acts with its
   * grant before it is called. Not for development packages, nor for what
   * the organisation's policy refuses. A later decision is another grant, hence another sandbox: a
   * call never runs in one started for a grant it does not have. Refuses as a
   * call would (an unknown package, a key no longer trusted); nothing is
   * asked, granted, run or recorded.
   */
  async prepare(installed: string, opts: { readonly workspace: string } & Pick<ToolCall, 'timeoutMs' | 'memoryBytes'>): Promise<'started' | 'compiled'> {
    // What every call records: its validators compiled, 16 ms on the first call otherwise.
    prepareEventValidators(['invoke', 'deny']);
    const org = loadOrgPolicy();
    const pkg = this.#package({ target: { installed } });
    // What the organisation refuses is not made ready either.
    refusePackage(org, { name: pkg.manifest.name, version: pkg.manifest.version, publisherKeyid: pkg.publisher.keyid });
    const limits = limitsInForce(pkg.manifest, opts, org);
    const cacheDir = homePaths(this.#opts.home).componentCache;
    const pool = this.#opts.sandboxes;
    // A development package's source runs whenever an instance is made: not before someone calls it.
    const decided = pool && !pkg.entries.development ? this.#decidedGrant(pkg, opts.workspace) : undefined;
    if (!pool || !decided) {
      await prepareToolComponent(pkg, limits, cacheDir);
      return 'compiled';
    }
    const granted = restrictGrant(org, decided).grant;
    const started = await warmTool({ pkg, grant: sandboxGrant(granted, limits, privacyOf(pkg.manifest, this.#policy(org), granted)), kv: granted.kv !== undefined, cacheDir, pool });
    if (started) return 'started';
    // No room in the pool (it never stops a kept sandbox for one that may not be used): compiled only.
    await prepareToolComponent(pkg, limits, cacheDir);
    return 'compiled';
  }

  /** Package: an installed one verified on every load (a long-running host keeps the verified bytes in memory: sandbox.md §5), or one that just passed the gatekeeper. */
  #package(call: Pick<ToolCall, 'target'>): VerifiedPackage {
    if (!('installed' in call.target)) return call.target.verified;
    const trust = TrustStore.load(this.#opts.home);
    const loaded = this.#opts.sandboxes ? this.#opts.sandboxes.packages.load(this.#opts.home, call.target.installed, trust) : loadInstalled(this.#opts.home, call.target.installed, trust);
    return loaded.pkg;
  }

  #deny(c: CallContext, code: MppError['code'], reason: string): void {
    this.#opts.audit({ type: 'deny', package: c.pkg.manifest.name, tool: c.tool.name, agent: agentOf(c.caller), code, reason });
  }

  /** Agent check: the manifest may restrict which agents call a tool. */
  #agentCheck(c: CallContext): void {
    const m = c.pkg.manifest;
    if (agentAllowed(m, c.tool, c.caller.agentId)) return;
    this.#deny(c, 'MPP_E_AGENT_NOT_ALLOWED', 'agent not allowed by the manifest');
    throw new MppError('MPP_E_AGENT_NOT_ALLOWED', `${m.name} does not allow ${c.caller.verified ? `the agent ${c.caller.agentId}` : 'unverified callers'} to call ${c.tool.name}.`, {
      detail: { agent: c.caller.agentId, allowed: c.tool.agents ?? m.agents ?? ['*'] },
    });
  }

  /** Organisation policy: the package, its source and the caller, by the rules in force now (org-policy.md §3). */
  #orgCheck(c: CallContext): void {
    const m = c.pkg.manifest;
    try {
      // A file run without installing it comes from a file source like an install from it.
      if (!('installed' in c.call.target)) refuseSource(c.org, m.name, { kind: 'file' });
      refusePackage(c.org, { name: m.name, version: m.version, publisherKeyid: c.pkg.publisher.keyid });
      refuseUnverifiedAgent(c.org, c.tool, c.caller);
      const backlog = checkForwardBacklog(this.#opts.home, c.org?.auditForwarding);
      if (backlog) c.notices.push(backlog);
    } catch (e) {
      if (isMppError(e)) this.#deny(c, e.code, String(e.detail?.rule ?? e.message).slice(0, 500));
      throw e;
    }
  }

  /**
   * The grant without what the organisation forbids, whenever it was decided:
   * named on the command line, a refusal; stored or `--allow-all`, left out
   * with a notice.
   */
  #orgGrant(c: CallContext, granted: UserGrant): UserGrant {
    const restricted = restrictGrant(c.org, granted);
    if (restricted.removed.length === 0) return granted;
    if (c.call.oneOffGrant && !c.call.oneOffGrant.all) {
      try {
        refuseCapability(c.org, c.pkg.manifest.name, restricted.removed[0]!.capability);
      } catch (e) {
        if (isMppError(e)) this.#deny(c, e.code, String(e.detail?.rule ?? ''));
        throw e;
      }
    }
    const rules = [...new Set(restricted.removed.map((r) => r.rule))].join(', ');
    c.notices.push(`${c.pkg.manifest.name} runs without ${restricted.removed.map((r) => r.capability).join(', ')}: blocked by your organisation's policy (${rules}).`);
    return restricted.grant;
  }

  /** Input: the limits in force (the organisation's ceilings among them), then size and schema, before any human is asked (never confirm a call that cannot run). */
  #input(c: CallContext): Limits {
    const limits = limitsInForce(c.pkg.manifest, c.call, c.org);
    try {
      checkInputSize(c.call.input, limits);
      checkInput(c.tool, c.call.input);
    } catch (e) {
      if (isMppError(e)) this.#deny(c, e.code, 'input refused before the call');
      throw e;
    }
    return limits;
  }

  #binding(c: CallContext, operation: string, args: string): AttestationBinding {
    const m = c.pkg.manifest;
    return { package: { name: m.name, version: m.version, digest: c.pkg.digest.sha256 }, tool: c.tool.name, operation, argumentsSha256: sha256Hex(args), agent: agentOf(c.caller) };
  }

  /** Confirmation: a human approves each call of a tool at or above the policy's sensitivity. */
  async #confirmCall(c: CallContext): Promise<void> {
    if (!needsConfirmation(c.tool.sensitivity, c.policy.confirmAtOrAbove)) return;
    await this.#confirm(c.policy, c.pkg, c.tool, c.caller, 'call', c.tool.name, c.call.input, this.#binding(c, c.tool.name, c.call.input));
  }

  /** Record: the call, durably, before the tool runs; a call that cannot be audited does not happen (its effects would be unrecorded). */
  #recordStart(c: CallContext): InvokeBase {
    const m = c.pkg.manifest;
    const base: InvokeBase = { package: m.name, version: m.version, digest: c.pkg.digest.sha256, tool: c.tool.name, agent: agentOf(c.caller), inputSha256: sha256Hex(c.call.input) };
    this.#opts.audit({ type: 'invoke', ...base, durationMs: 0, outcome: 'started', redactions: {} });
    return base;
  }

  /** Record: the outcome, group-committed when the host offers it (audit.md §2.1): its `started` record is already durable. */
  #recordOutcome(base: InvokeBase, outcome: Pick<InvokeEvent, 'durationMs' | 'outcome' | 'code' | 'outputSha256' | 'redactions'>): void {
    (this.#opts.auditGrouped ?? this.#opts.audit)({ type: 'invoke', ...base, ...outcome });
  }

  #privacy(c: CallContext, granted: UserGrant): Privacy {
    return privacyOf(c.pkg.manifest, c.policy, granted);
  }

  /** Redaction: everything the tool says passes the filters before it is shown, sent or recorded. */
  #texts(privacy: Privacy): ToolTexts {
    return toolTexts({ classes: privacy.classes, values: privacy.allow });
  }

  /** Run: the sandbox under the grant, with the host services of this call; its failure is recorded as the call's outcome. */
  async #run(c: CallContext, granted: UserGrant, privacy: Privacy, limits: Limits, base: InvokeBase, started: number, texts: ToolTexts): Promise<unknown> {
    const m = c.pkg.manifest;
    const store = granted.kv ? openKvStore(this.#opts.home, m.name, granted.kv) : undefined;
    const services: HostServices = {
      log: (r) => this.#opts.log?.(m.name, texts.log(r)),
      onRedaction: (direction, counts) => this.#opts.audit({ type: 'redaction', package: m.name, tool: c.tool.name, direction, counts }),
      identity: { caller: async () => c.caller },
      confirm: this.#midCallConfirm(c, texts),
      ...(store ? { kv: store } : {}),
    };
    try {
      return await invokeTool({
        pkg: c.pkg,
        tool: c.tool,
        input: c.call.input,
        grant: sandboxGrant(granted, limits, privacy),
        services,
        cacheDir: homePaths(this.#opts.home).componentCache,
        ...(this.#opts.sandboxes ? { pool: this.#opts.sandboxes } : {}),
        ...(c.call.signal ? { signal: c.call.signal } : {}),
      });
    } catch (e) {
      this.#recordOutcome(base, { durationMs: Math.round(performance.now() - started), outcome: 'error', code: isMppError(e) ? e.code : 'MPP_E_INTERNAL', redactions: {} });
      throw texts.error(e);
    } finally {
      store?.close();
    }
  }

  /** The tool's own confirmation requests during the call: bounded in number and text, each one asked and attested like a call. */
  #midCallConfirm(c: CallContext, texts: ToolTexts): ConfirmService {
    let confirmations = 0;
    const max = c.policy.maxConfirmationsPerCall;
    return {
      request: async (said, saidDetails) => {
        // The tool's own words go to the human, the audit log and the attestation: filtered, bounded, printable, single-line.
        const operation = typeof said === 'string' ? texts.text(said) : said;
        const details = texts.text(String(saidDetails));
        if (typeof operation !== 'string' || operation.length === 0 || operation.length > MAX_OPERATION_CHARS || /[\u0000-\u001f\u007f-\u009f]/.test(operation)) {
          this.#deny(c, 'MPP_E_CONFIRMATION_DENIED', `a confirmation asked with an operation text that is empty, longer than ${MAX_OPERATION_CHARS} characters or holds control characters`);
          return 'denied';
        }
        confirmations++;
        if (confirmations > max) {
          // One record for the cut-off: a record per request would let a tool
          // flood the log, on time that the paused call clock does not count.
          if (confirmations === max + 1) this.#deny(c, 'MPP_E_CONFIRMATION_DENIED', `more than ${max} confirmations asked in one call; the rest are denied without a record`);
          return 'denied';
        }
        try {
          await this.#confirm(c.policy, c.pkg, c.tool, c.caller, 'mid-call', operation, details, this.#binding(c, operation, details));
          return 'approved';
        } catch (e) {
          if (isMppError(e) && e.code === 'MPP_E_CONFIRMATION_DENIED') return e.detail?.answer === 'timed-out' ? 'timed-out' : 'denied';
          throw new HostServiceError('internal', 'the confirmation could not be recorded');
        }
      },
    };
  }

  #caller(call: ToolCall, m: Manifest): Caller {
    // The agent registry is read only to check a credential: a label alone names an unverified caller.
    if (call.caller.credential === undefined) return unverifiedCaller(call.caller.label);
    const agents = AgentRegistry.open(this.#opts.home);
    try {
      return resolveCaller(call.caller, agents);
    } catch (e) {
      if (isMppError(e)) {
        this.#opts.audit({ type: 'deny', package: m.name, tool: call.tool, agent: { id: 'unverified:invalid-credential', verified: false }, code: e.code, reason: e.message.slice(0, 500) });
      }
      throw e;
    } finally {
      agents.close();
    }
  }

  /** Where `${workspace}`, `~` and the MPP home point, for turning capabilities into a grant. */
  #grantContext(workspace: string) {
    return { workspace, home: this.#opts.userHome ?? homedir(), mppHome: this.#opts.home, env: this.#opts.env ?? process.env };
  }

  /** The grant store: a long-running host holds it open between calls; otherwise it is opened for this one (`release` closes it). */
  #grantStore(): { readonly store: GrantStore; release(): void } {
    const held = this.#opts.sandboxes?.grants;
    const store = held?.get(homePaths(this.#opts.home).db, () => GrantStore.open(this.#opts.home), true) ?? GrantStore.open(this.#opts.home);
    return { store, release: () => (held ? undefined : store.close()) };
  }

  /**
   * The grant a call of `pkg` in `workspace` would run with now without
   * asking anyone (the same reading of the stored decisions as #grant);
   * undefined when the call would ask first or be refused.
   */
  #decidedGrant(pkg: VerifiedPackage, workspace: string): UserGrant | undefined {
    const m = pkg.manifest;
    const ctx = this.#grantContext(workspace);
    const { store, release } = this.#grantStore();
    try {
      const { record } = storedDecision(store, m, pkg.publisher.keyid, workspaceScope(workspace));
      if (!record) return declaredCapabilities(m).length === 0 ? grantFromCapabilities(m, [], ctx) : undefined;
      if (record.decision !== 'granted' || (this.#opts.consent && unreviewed(m, record).length > 0)) return undefined;
      return grantFromCapabilities(m, record.capabilities, ctx);
    } finally {
      release();
    }
  }

  /** The grant for this call: one given on the command line, or the user's recorded decision (asking for one if needed). */
  async #grant(c: CallContext): Promise<UserGrant> {
    const { call, pkg, caller, tool, notices } = c;
    const m = pkg.manifest;
    const ctx = this.#grantContext(call.workspace);
    if (call.oneOffGrant) {
      return userGrant(m, { ...call.oneOffGrant, workspace: ctx.workspace, home: ctx.home, mppHome: ctx.mppHome }, ctx.env);
    }
    const scope = workspaceScope(call.workspace);
    const publisher = pkg.publisher;
    const { store, release } = this.#grantStore();
    try {
      const decided = storedDecision(store, m, publisher.keyid, scope);
      const revoked = decided.revoked;
      let record = decided.record;
      const deny = (code: 'MPP_E_CONSENT_REQUIRED' | 'MPP_E_CONSENT_DENIED', reason: string): void =>
        this.#opts.audit({ type: 'deny', package: m.name, tool: tool.name, agent: agentOf(caller), code, reason });
      // A package that asks for nothing can only compute on its input: it runs
      // without a decision (the user may still deny it with `mpp grant --deny`).
      if (!record && declaredCapabilities(m).length === 0) return grantFromCapabilities(m, [], ctx);
      const widened = record ? unreviewed(m, record) : [];
      let dismissed = false;
      if ((!record || widened.length > 0) && this.#opts.consent) {
        const answer = await this.#opts.consent.ask(consentRequest(m, publisher, scope.path, record));
        dismissed = !answer;
        if (answer) {
          record = recordDecision(store, this.#opts.audit, {
            manifest: m,
            publisher: publisher.keyid,
            scope: answer.scope === 'global' ? GLOBAL_SCOPE : scope,
            decision: answer.decision === 'grant' ? 'granted' : 'denied',
            capabilities: answer.capabilities,
            reviewed: record?.reviewed ?? [],
            source: this.#opts.consentSource ?? 'prompt',
          });
        }
      }
      if (!record) {
        deny('MPP_E_CONSENT_REQUIRED', dismissed ? 'the consent question was dismissed' : revoked ? 'every permission was revoked: no decision' : 'no permission decision');
        const why = dismissed ? 'and the question was dismissed (nothing was recorded)' : 'and there is no one to ask here';
        throw new MppError('MPP_E_CONSENT_REQUIRED', `${m.name} ${revoked ? 'had every permission revoked' : 'has not been granted anything yet'}, ${why}.`, {
          hint: `Review what it asks with \`mpp permissions ${m.name}\`, then \`mpp grant ${m.name} --all\` (or name capabilities; add --global for every workspace), or run it once at a terminal.`,
          detail: { package: m.name, workspace: scope.path },
        });
      }
      if (record.decision === 'denied') {
        deny('MPP_E_CONSENT_DENIED', 'the user denied this package');
        throw new MppError('MPP_E_CONSENT_DENIED', `You denied ${m.name}${record.scope.kind === 'global' ? '' : ' in this workspace'}, so it does not run.`, {
          hint: `To let it run: \`mpp grant ${m.name} --all\` (or name capabilities${record.scope.kind === 'global' ? ', with --global' : ''}).`,
        });
      }
      const stillNew = unreviewed(m, record);
      if (stillNew.length > 0) {
        notices.push(`${m.name} ${m.version} asks for more than you granted (${stillNew.join(', ')}); it runs without it until you decide: \`mpp permissions ${m.name}\`.`);
      }
      return grantFromCapabilities(m, record.capabilities, ctx);
    } finally {
      release();
    }
  }

  /** Asks the human; approval yields an attestation that is consumed at once by this very operation. */
  async #confirm(policy: HostPolicy, pkg: VerifiedPackage, tool: ToolDefinition, caller: Caller, kind: 'call' | 'mid-call', operation: string, args: string, binding: AttestationBinding): Promise<void> {
    const m = pkg.manifest;
    const requestId = randomUUID();
    const request: ConfirmationRequest = {
      requestId,
      package: m.name,
      version: m.version,
      tool: tool.name,
      operation,
      kind,
      sensitivity: tool.sensitivity,
      arguments: args,
      agent: caller,
      timeoutMs: policy.confirmTimeoutMs,
    };
    // Before anyone is asked: a host key that cannot be read or made would waste the human's approval.
    const hostKey = await loadOrCreateHostKey(this.#opts.home);
    this.#opts.audit({ type: 'confirm-asked', requestId, package: m.name, tool: tool.name, operation, agent: agentOf(caller), argumentsSha256: binding.argumentsSha256, sensitivity: tool.sensitivity });
    const answer = await askHuman(this.#opts.confirmer, request);
    this.#opts.audit({ type: 'confirm-answered', requestId, answer });
    if (answer !== 'approved') {
      this.#opts.audit({ type: 'deny', package: m.name, tool: tool.name, agent: agentOf(caller), code: 'MPP_E_CONFIRMATION_DENIED', reason: this.#opts.confirmer ? `confirmation ${answer}` : 'no confirmer available' });
      throw new MppError('MPP_E_CONFIRMATION_DENIED', `${tool.name} of ${m.name} needs your confirmation for ${kind === 'call' ? 'each call' : JSON.stringify(operation)}, and it was ${answer === 'timed-out' ? 'not given in time' : this.#opts.confirmer ? 'denied' : 'not possible to ask here'}.`, {
        detail: { answer, requestId },
      });
    }
    const ledger = AttestationLedger.open(this.#opts.home);
    try {
      const attestation = ledger.issue(hostKey, binding, policy.attestationTtlMs);
      this.#opts.audit({ type: 'attestation-issued', nonce: attestation.payload.nonce, envelope: JSON.parse(attestation.envelope) as Record<string, unknown> });
      try {
        ledger.consume(hostKey.publicKey, attestation.envelope, binding);
      } catch (e) {
        this.#opts.audit({ type: 'attestation-consumed', nonce: attestation.payload.nonce, outcome: 'refused', code: isMppError(e) ? e.code : 'MPP_E_INTERNAL' });
        throw e;
      }
      this.#opts.audit({ type: 'attestation-consumed', nonce: attestation.payload.nonce, outcome: 'consumed' });
    } finally {
      ledger.close();
    }
  }
}
