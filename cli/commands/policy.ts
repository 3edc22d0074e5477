import { readFileSync, writeFileSync } from 'node:fs';
import { MppError } from '../../runtime/errors.ts';
import { mppHome } from '../../runtime/home.ts';
import { explainOrgPolicy } from '../../runtime/policy/org-check.ts';
import { describeOrgPolicy } from '../../runtime/policy/org-describe.ts';
import { loadOrgPolicy, ORG_POLICY_PAYLOAD_TYPE, systemPolicyDir } from '../../runtime/policy/org-policy.ts';
import { loadInstalled } from '../../runtime/store/packages.ts';
import { sign } from '../../runtime/trust/ed25519.ts';
import { pae } from '../../runtime/trust/envelope.ts';
import { examinePackage } from '../../runtime/trust/gatekeeper.ts';
import { parsePrivateKeyPem } from '../../runtime/trust/keys.ts';
import { TrustStore } from '../../runtime/trust/store.ts';
import type { RegisterCommand } from '../context.ts';
import { readUserFile } from '../files.ts';
import { formatTable } from '../output.ts';

export const registerPolicy: RegisterCommand = (program, run) => {
  const policy = program.command('policy').description("The organisation policy: what your administrator allows on this machine (spec/org-policy.md).");

  policy
    .command('show')
    .description('Show the organisation policy in force and where it comes from.')
    .option('--json', 'print the result as JSON')
    .action((opts: { json?: boolean }) =>
      run(async ({ out }) => {
        const p = loadOrgPolicy();
        if (!p) {
          out.result(`No organisation policy is in force (${systemPolicyDir()} has none).`, { policy: null, folder: systemPolicyDir() });
          return;
        }
        const lines = describeOrgPolicy(p);
        const text = [
          `Organisation policy${p.name ? ` of ${p.name}` : ''} from ${p.files.join(', ')}${p.signed ? ' (signed, key pinned)' : ''}:`,
          ...(lines.length === 0 ? ['  no restrictions'] : lines.map((l) => `  - ${l}`)),
          'Your policy.json and editor settings can only make these stricter.',
        ].join('\n');
        out.result(text, { policy: p, restrictions: lines });
      }, opts),
    );

  policy
    .command('check')
    .description('Explain whether a package may be installed and run, and which of its capabilities can never be granted.')
    .argument('<package>', 'an installed package name (scope/name) or a .mpp file')
    .option('--json', 'print the result as JSON')
    .action((target: string, opts: { json?: boolean }) =>
      run(async ({ out }) => {
        const home = mppHome();
        const org = loadOrgPolicy();
        const isFile = target.endsWith('.mpp');
        let report;
        if (isFile) {
          const pkg = examinePackage(readUserFile(target, 'package'));
          const author = pkg.signatures.find((s) => s.role === 'author');
          if (!author) throw new MppError('MPP_E_UNSIGNED', `${target} has no author signature, so no publisher can be checked against the policy.`);
          report = explainOrgPolicy(org, pkg.manifest, author.key.keyid, { kind: 'file' });
        } else {
          const { pkg } = loadInstalled(home, target, TrustStore.load(home));
          report = explainOrgPolicy(org, pkg.manifest, pkg.publisher.keyid);
        }
        const rows = report.capabilities.map((c) => [c.id, c.blockedBy ? `blocked (${c.blockedBy})` : 'may be granted', c.text]);
        const text = [
          org ? '' : 'No organisation policy is in force: everything below is up to you.',
          report.allowed ? `${report.package} ${report.version} is allowed by the organisation policy${isFile ? ' (installed from this file)' : ''}.` : `${report.package} ${report.version} is refused: ${report.refusal!.message} [${report.refusal!.code}]`,
          report.capabilities.length === 0 ? 'It asks for no capabilities.' : formatTable([['CAPABILITY', 'POLICY', 'MEANING'], ...rows]),
        ].filter(Boolean).join('\n');
        if (!report.allowed) throw new MppError(report.refusal!.code as MppError['code'], text, { detail: { report } });
        out.result(text, { report });
      }, opts),
    );

  policy
    .command('sign')
    .description("Sign an organisation policy with the organisation's key (for administrators): writes org-policy.sig beside it.")
    .argument('<file>', 'the org-policy.json to sign')
    .requiredOption('--key <pem>', 'the organisation private key (PKCS#8 PEM, from `mpp keygen`)')
    .option('--out <file>', 'where to write the signature (default: org-policy.sig beside the file)')
    .option('--json', 'print the result as JSON')
    .action((file: string, opts: { key: string; out?: string; json?: boolean }) =>
      run(async ({ out }) => {
        const key = parsePrivateKeyPem(readUserFile(opts.key, 'key').toString('utf8'), opts.key);
        const bytes = readFileSync(file);
        const sig = Buffer.from(sign(pae(ORG_POLICY_PAYLOAD_TYPE, bytes), key.seed)).toString('base64');
        const target = opts.out ?? file.replace(/[^/\\]*$/, 'org-policy.sig');
        writeFileSync(target, `${sig}\n`);
        out.result(`Signed ${file} with key ${key.publicKey.keyid.slice(0, 16)}…: ${target}. Pin the public key as org-key.pub.pem in the same folder.`, { signature: target, keyid: key.publicKey.keyid });
      }, opts),
    );
};
