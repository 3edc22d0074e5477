import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * A real syslog collector for the forwarding tests: Debian's rsyslogd with
 * its TCP input over TLS (the ossl driver), writing each message's
 * structured data and text to a file, one line a message. The certificate
 * is made here with the openssl command line. scripts/dev.sh installs
 * rsyslog and rsyslog-openssl for the tests.
 */
export interface SyslogReceiver {
  readonly port: number;
  readonly caFile: string;
  /** Starts rsyslogd (again); resolves once it accepts connections. */
  start(): Promise<void>;
  /** SIGKILL: no goodbye to anyone. */
  kill(): Promise<void>;
  /** The lines it wrote so far. */
  lines(): string[];
}

export const RSYSLOGD = '/usr/sbin/rsyslogd';

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

async function accepting(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const c = connect({ host: '127.0.0.1', port });
    c.once('connect', () => (c.destroy(), resolve(true)));
    c.once('error', () => resolve(false));
  });
}

export async function syslogReceiver(dir: string): Promise<SyslogReceiver> {
  mkdirSync(join(dir, 'work'), { recursive: true });
  const port = await freePort();
  const caFile = join(dir, 'cert.pem');
  const keyFile = join(dir, 'key.pem');
  const out = join(dir, 'received.log');
  const pidFile = join(dir, 'rsyslogd.pid');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', keyFile, '-out', caFile, '-days', '2', '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost'], { stdio: 'ignore' });
  const conf = join(dir, 'rsyslog.conf');
  writeFileSync(
    conf,
    [
      `global(workDirectory="${join(dir, 'work')}" DefaultNetstreamDriver="ossl" DefaultNetstreamDriverCAFile="${caFile}" DefaultNetstreamDriverCertFile="${caFile}" DefaultNetstreamDriverKeyFile="${keyFile}")`,
      'module(load="imtcp" StreamDriver.Name="ossl" StreamDriver.Mode="1" StreamDriver.AuthMode="anon")',
      `input(type="imtcp" address="127.0.0.1" port="${port}" ruleset="mpp")`,
      'template(name="mppline" type="string" string="%structured-data% %msg%\\n")',
      `ruleset(name="mpp") { action(type="omfile" file="${out}" template="mppline") }`,
      '',
    ].join('\n'),
  );
  let child: ChildProcess | undefined;
  return {
    port,
    caFile,
    async start() {
      rmSync(pidFile, { force: true });
      child = spawn(RSYSLOGD, ['-n', '-f', conf, '-i', pidFile], { stdio: 'ignore' });
      for (;;) {
        if (child.exitCode !== null) throw new Error(`rsyslogd exited with ${child.exitCode}`);
        if (await accepting(port)) return;
        await sleep(50);
      }
    },
    async kill() {
      if (!child || child.exitCode !== null) return;
      const done = new Promise((r) => child!.once('exit', r));
      child.kill('SIGKILL');
      await done;
    },
    lines() {
      return existsSync(out) ? readFileSync(out, 'utf8').split('\n').filter(Boolean) : [];
    },
  };
}
