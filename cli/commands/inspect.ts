import { isMppError } from '../../runtime/errors.ts';
import { mppHome } from '../../runtime/home.ts';
import { describePermissions, describeSensitivity, formatBytes } from '../../runtime/format/describe.ts';
import { examinePackage } from '../../runtime/trust/gatekeeper.ts';
import { fingerprint } from '../../runtime/trust/keys.ts';
import { decideTrust } from '../../runtime/trust/policy.ts';
import { TrustStore } from '../../runtime/trust/store.ts';
import type { RegisterCommand } from '../context.ts';
import { readUserFile } from '../files.ts';

export const registerInspect: RegisterCommand = (program, run) => {
  program
    .command('inspect')
    .description('Show what a package holds and asks for: manifest, tools, permissions in plain words, files, digests, signatures and the trust verdict.')
    .argument('<file>', 'the .mpp package')
    .option('--json', 'print the result as JSON')
    .action((file: string, opts: { json?: boolean }) =>
      run(async ({ out }) => {
        const pkg = examinePackage(readUserFile(file, 'package'));
        const store = TrustStore.load(mppHome());
        const m = pkg.manifest;
        const permissions = describePermissions(m);
        const signatures = pkg.signatures.map((s) => ({ role: s.role, keyid: s.key.keyid, fingerprint: fingerprint(s.key.keyid), state: store.state(s.key.keyid), trustedAs: store.name(s.key.keyid) }));
        let verdict: { verified: boolean; code?: string; message?: string };
        try {
          decideTrust(pkg.signatures, store, pkg.development ? { packageName: m.name } : undefined);
          verdict = { verified: true };
        } catch (e) {
          if (!isMppError(e)) throw e;
          verdict = { verified: false, code: e.code, message: e.message };
        }
        const files = pkg.entries.content.map((e) => ({ name: e.name, size: e.data.length, stored: e.method === 0, sha256: pkg.digest.entries.find((d) => d.name === e.name)!.sha256 }));
        const lines = [
          `${m.name} ${m.version}${pkg.development ? ' (development build: runs only where its author installed it; never published)' : ''}`,
          `  ${m.description}`,
          `Publisher: ${m.publisher.name}${m.publisher.url ? ` <${m.publisher.url}>` : ''}`,
          `Digest:    sha256:${pkg.digest.sha256}`,
          '',
          'Tools:',
          ...m.tools.map((t) => `  ${t.name} (${t.sensitivity}: ${describeSensitivity(t)})\n    ${t.description}`),
          '',
          'Permissions:',
          ...(permissions.length === 0 ? ['  none: it cannot reach files, the network, environment variables or storage'] : permissions.map((p) => `  - ${p.text}${p.reason ? ` (why: ${p.reason})` : ''}`)),
          ...(m.privacy?.redact?.length ? ['', `Privacy: redacts ${m.privacy.redact.join(', ')} from everything it sends out`] : []),
          ...(m.limits ? ['', `Limits: ${[m.limits.timeoutMs && `${m.limits.timeoutMs} ms per call`, m.limits.memoryMb && `${m.limits.memoryMb} MiB memory`].filter(Boolean).join(', ')}`] : []),
          ...(m.agents ? ['', `Agents allowed: ${m.agents.join(', ')}`] : []),
          '',
          'Files:',
          ...files.map((f) => `  ${f.name.padEnd(14)} ${formatBytes(f.size).padStart(10)}  sha256:${f.sha256}`),
          '',
          'Signatures:',
          ...(signatures.length === 0 ? ['  none'] : signatures.map((s) => `  ${s.role.padEnd(8)} ${s.fingerprint}  ${s.state === 'trusted' ? `trusted as "${s.trustedAs ?? ''}"` : s.state === 'revoked' ? 'REVOKED' : 'not trusted on this host'}`)),
          '',
          verdict.verified ? 'Verdict: verified' : `Verdict: refused, ${verdict.code}: ${verdict.message}`,
        ];
        out.result(lines.join('\n'), { manifest: m, digest: pkg.digest.sha256, permissions, files, signatures, verdict });
      }, opts),
    );
};
