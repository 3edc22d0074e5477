import { randomUUID } from 'node:crypto';
import { homedir } from 'node:os';
import { MppError, isMppError } from '../errors.ts';
import type { Manifest, ToolDefinition } from '../format/manifest.ts';
import { homePaths } from '../home.ts';
import { sha256Hex } from '../hash.ts';
import type { AuditAgent, AuditEvent } from '../audit/events.ts';
import { AttestationLedger, type AttestationBinding } from '../attest/attestation.ts';
import { loadOrCreateHostKey } from '../attest/host-key.ts';
import { resolveCaller, type CallerClaim } from '../identity/credential.ts';
import { agentAllowed } from '../policy/agents.ts';
import { declaredCapabilities, grantFromCapabilities } from '../policy/capabilities.ts';
import { needsConfirmation } from '../policy/confirmation.ts';
import { userGrant, type GrantRequest, type UserGrant } from '../policy/grant.ts';
import { loadHostPolicy, mergePolicy, type HostPolicy } from '../policy/host-policy.ts';
import { effectiveLimits } from '../policy/limits.ts';
import { loadOrgPolicy, type OrgPolicy } from '../policy/org-policy.ts';
import { checkForwardBacklog } from '../audit/forward/forwarder.ts';
import { orgHostPolicy, orgLimits, refuseCapability, refusePackage, refuseSource, refuseUnverifiedAgent, restrictGrant } from '../policy/org-rules.ts';
import { effectiveClasses, redactJson, type RedactionCounts as PiiCounts } from '../privacy/index.ts';
import { checkInput, checkInputSize, findTool, invokeTool } from '../run/invoke.ts';
import type { SandboxPool } from '../run/sandbox-pool.ts';
import type { Caller, ConfirmService, HostServices, LogRecord } from '../sandbox/host-services.ts';
import { HostServiceError } from '../sandbox/host-services.ts';
import { AgentRegistry } from '../state/agents.ts';
import { GrantStore, GLOBAL_SCOPE, workspaceScope } from '../state/grants.ts';
import { openKvStore } from '../state/kv.ts';
import { loadInstalled } from '../store/packages.ts';
import type { VerifiedPackage } from '../trust/gatekeeper.ts';
import { TrustStore } from '../trust/store.ts';
import { askHuman, type ConfirmationRequest, type Confirmer } from './confirm.ts';
import { consentRequest, unreviewed, type ConsentPrompter } from './consent.ts';
import { recordDecision } from './decisions.ts';

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
  /** Appends one audit event; a failure refuses the operation (fail closed). */
  readonly audit: (event: AuditEvent) => void;
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

  async call(call: ToolCall): Promise<ToolCallResult> {
    const started = performance.now();
    const home = this.#opts.home;
    const org = loadOrgPolicy();
    const policy = this.#policy(org);
    const pkg = 'installed' in call.target ? loadInstalled(home, call.target.installed, TrustStore.load(home)).pkg : call.target.verified;
    const m = pkg.manifest;
    const caller = this.#caller(call, m);
    const tool = findTool(pkg, call.tool);
    const deny = (code: MppError['code'], reason: string): void => {
      this.#opts.audit({ type: 'deny', package: m.name, tool: tool.name, agent: agentOf(caller), code, reason });
    };
    const notices: string[] = [];
    // The organisation's rules, read now: a policy change applies at the next call.
    try {
      // A file run without installing it comes from a file source like an install from it.
      if ('verified' in call.target) refuseSource(org, m.name, { kind: 'file' });
      refusePackage(org, { name: m.name, version: m.version, publisherKeyid: pkg.publisher.keyid });
      refuseUnverifiedAgent(org, tool, caller);
      const backlog = checkForwardBacklog(home, org?.auditForwarding);
      if (backlog) notices.push(backlog);
    } catch (e) {
      if (isMppError(e)) deny(e.code, String(e.detail?.rule ?? e.message).slice(0, 500));
      throw e;
    }
    if (!agentAllowed(m, tool, caller.agentId)) {
      deny('MPP_E_AGENT_NOT_ALLOWED', 'agent not allowed by the manifest');
      throw new MppError('MPP_E_AGENT_NOT_ALLOWED', `${m.name} does not allow ${caller.verified ? `the agent ${caller.agentId}` : 'unverified callers'} to call ${tool.name}.`, {
        detail: { agent: caller.agentId, allowed: tool.agents ?? m.agents ?? ['*'] },
      });
    }
    const restricted = restrictGrant(org, await this.#grant(call, pkg, caller, tool, notices));
    const { grant, kv } = restricted.grant;
    // Asked for by name on the command line: a refusal, not a quiet omission.
    if (restricted.removed.length > 0 && call.oneOffGrant && !call.oneOffGrant.all) {
      try {
        refuseCapability(org, m.name, restricted.removed[0]!.capability);
      } catch (e) {
        if (isMppError(e)) deny(e.code, String(e.detail?.rule ?? ''));
        throw e;
      }
    }
    if (restricted.removed.length > 0) {
      notices.push(`${m.name} runs without ${restricted.removed.map((r) => r.capability).join(', ')}: blocked by your organisation's policy (${[...new Set(restricted.removed.map((r) => r.rule))].join(', ')}).`);
    }
    const ceiling = orgLimits(org);
    const lower = (a: number | undefined, b: number | undefined) => (a === undefined ? b : b === undefined ? a : Math.min(a, b));
    const timeoutMs = lower(call.timeoutMs, ceiling.timeoutMs);
    const memoryBytes = lower(call.memoryBytes, ceiling.memoryBytes);
    const limits = effectiveLimits(m, { ...(timeoutMs ? { timeoutMs } : {}), ...(memoryBytes ? { memoryBytes } : {}) });

    // Before any human is asked: never confirm a call that cannot run.
    try {
      checkInputSize(call.input, limits);
      checkInput(tool, call.input);
    } catch (e) {
      if (isMppError(e)) deny(e.code, 'input refused before the call');
      throw e;
    }
    const binding = (operation: string, args: string): AttestationBinding => ({
      package: { name: m.name, version: m.version, digest: pkg.digest.sha256 },
      tool: tool.name,
      operation,
      argumentsSha256: sha256Hex(args),
      agent: agentOf(caller),
    });

    if (needsConfirmation(tool.sensitivity, policy.confirmAtOrAbove)) {
      await this.#confirm(policy, pkg, tool, caller, 'call', tool.name, call.input, binding(tool.name, call.input));
    }

    const base = { package: m.name, version: m.version, digest: pkg.digest.sha256, tool: tool.name, agent: agentOf(caller), inputSha256: sha256Hex(call.input) };
    // Recorded before the tool runs: a call that cannot be audited does not happen (its effects would be unrecorded).
    this.#opts.audit({ type: 'invoke', ...base, durationMs: 0, outcome: 'started', redactions: {} });

    const classes = effectiveClasses(m, policy.privacyMinimum);
    // Values the user granted (an API token in an environment variable) may leave as the user allowed.
    const privacy = { classes, allow: Object.values(grant.env ?? {}) };
    const store = kv ? openKvStore(home, m.name, kv) : undefined;
    let confirmations = 0;
    const confirm: ConfirmService = {
      request: async (operation, details) => {
        // The tool's own words go to the human, the audit log and the attestation: bounded, printable, single-line.
        if (typeof operation !== 'string' || operation.length === 0 || operation.length > MAX_OPERATION_CHARS || /[\u0000-\u001f\u007f-\u009f]/.test(operation)) {
          deny('MPP_E_CONFIRMATION_DENIED', `a confirmation asked with an operation text that is empty, longer than ${MAX_OPERATION_CHARS} characters or holds control characters`);
          return 'denied';
        }
        confirmations++;
        if (confirmations > policy.maxConfirmationsPerCall) {
          // One record for the cut-off: a record per request would let a tool
          // flood the log, on time that the paused call clock does not count.
          if (confirmations === policy.maxConfirmationsPerCall + 1) deny('MPP_E_CONFIRMATION_DENIED', `more than ${policy.maxConfirmationsPerCall} confirmations asked in one call; the rest are denied without a record`);
          return 'denied';
        }
        try {
          await this.#confirm(policy, pkg, tool, caller, 'mid-call', operation, details, binding(operation, details));
          return 'approved';
        } catch (e) {
          if (isMppError(e) && e.code === 'MPP_E_CONFIRMATION_DENIED') return e.detail?.answer === 'timed-out' ? 'timed-out' : 'denied';
          throw new HostServiceError('internal', 'the confirmation could not be recorded');
        }
      },
    };
    const services: HostServices = {
      log: (r) => this.#opts.log?.(m.name, r),
      onRedaction: (direction, counts) => this.#opts.audit({ type: 'redaction', package: m.name, tool: tool.name, direction, counts }),
      identity: { caller: async () => caller },
      confirm,
      ...(store ? { kv: store } : {}),
    };
    let output: unknown;
    try {
      output = await invokeTool({ pkg, tool, input: call.input, grant: { ...grant, limits, privacy: { classes: [...classes], allow: [...privacy.allow] } }, services, cacheDir: homePaths(home).componentCache, ...(this.#opts.sandboxes ? { pool: this.#opts.sandboxes } : {}) });
    } catch (e) {
      const code = isMppError(e) ? e.code : 'MPP_E_INTERNAL';
      this.#opts.audit({ type: 'invoke', ...base, durationMs: Math.round(performance.now() - started), outcome: 'error', code, redactions: {} });
      throw e;
    } finally {
      store?.close();
    }
    const redacted = redactJson(output, privacy);
    const durationMs = Math.round(performance.now() - started);
    this.#opts.audit({
      type: 'invoke',
      ...base,
      durationMs,
      outcome: 'ok',
      outputSha256: sha256Hex(JSON.stringify(redacted.value)),
      redactions: redacted.counts,
    });
    return Object.freeze({ output: redacted.value, caller, durationMs, redactions: redacted.counts, notices });
  }

  #caller(call: ToolCall, m: Manifest): Caller {
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

  /** The grant for this call: one given on the command line, or the user's recorded decision (asking for one if needed). */
  async #grant(call: ToolCall, pkg: VerifiedPackage, caller: Caller, tool: ToolDefinition, notices: string[]): Promise<UserGrant> {
    const m = pkg.manifest;
    const ctx = { workspace: call.workspace, home: this.#opts.userHome ?? homedir(), mppHome: this.#opts.home, env: this.#opts.env ?? process.env };
    if (call.oneOffGrant) {
      return userGrant(m, { ...call.oneOffGrant, workspace: ctx.workspace, home: ctx.home, mppHome: ctx.mppHome }, ctx.env);
    }
    const scope = workspaceScope(call.workspace);
    const publisher = pkg.publisher;
    const store = GrantStore.open(this.#opts.home);
    try {
      let record = store.effective(m.name, publisher.keyid, scope);
      const deny = (code: 'MPP_E_CONSENT_REQUIRED' | 'MPP_E_CONSENT_DENIED', reason: string): void =>
        this.#opts.audit({ type: 'deny', package: m.name, tool: tool.name, agent: agentOf(caller), code, reason });
      // A package that asks for nothing can only compute on its input: it runs
      // without a decision (the user may still deny it with `mpp grant --deny`).
      if (!record && declaredCapabilities(m).length === 0) return grantFromCapabilities(m, [], ctx);
      const widened = record ? unreviewed(m, record) : [];
      if ((!record || widened.length > 0) && this.#opts.consent) {
        const answer = await this.#opts.consent.ask(consentRequest(m, publisher, scope.path, record));
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
        deny('MPP_E_CONSENT_REQUIRED', 'no permission decision');
        throw new MppError('MPP_E_CONSENT_REQUIRED', `${m.name} has not been granted anything yet, and there is no one to ask here.`, {
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
      store.close();
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
