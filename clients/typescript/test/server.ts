// A real mxspool for the SDK tests: its own PostgreSQL database, loopback ports, a known
// operator. The binary is target/debug/mxspool (or $MXSPOOL_BIN); PostgreSQL is reached as
// $MXSPOOL_TEST_PG (default postgres://postgres@127.0.0.1:5432).
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { type Client, connect, login } from '../src/index.js';

// dist/typescript/test/server.js → the repository root is five levels up.
export const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../../..');
export const adminEmail = 'operator@mxspool.test';
export const adminPassword = `operator password ${randomBytes(8).toString('hex')}`;

export function pgUrl(database: string): string {
  const base = process.env.MXSPOOL_TEST_PG ?? 'postgres://postgres@127.0.0.1:5432';
  return `${base.replace(/\/+$/, '')}/${database}`;
}

function psql(sql: string): void {
  execFileSync('psql', [pgUrl('postgres'), '-v', 'ON_ERROR_STOP=1', '-qtAc', sql], { stdio: 'pipe' });
}

/** A loopback port nothing listens on: the target of domains whose mail must stay queued. */
export async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export class Server {
  private constructor(
    private readonly child: ChildProcess,
    readonly baseUrl: string,
    readonly smtpHost: string,
    readonly smtpPort: number,
    readonly database: string,
  ) {}

  static async start(): Promise<Server> {
    const targetDir = process.env.CARGO_TARGET_DIR ?? path.join(repo, 'target');
    const binary = process.env.MXSPOOL_BIN ?? path.join(targetDir, 'debug', 'mxspool');
    if (!existsSync(binary)) {
      throw new Error(`${binary} is missing: run \`cargo build --locked\` first (clients/run-tests does)`);
    }
    const database = `mxspool_sdk_ts_${randomBytes(6).toString('hex')}`;
    psql(`CREATE DATABASE "${database}"`);
    const child = spawn(binary, ['serve'], {
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        DATABASE_URL: pgUrl(database),
        MXSPOOL_HTTP_ADDR: '127.0.0.1:0',
        MXSPOOL_SMTP_ADDR: '127.0.0.1:0',
        MXSPOOL_HOSTNAME: 'mx.test',
        MXSPOOL_ADMIN_EMAIL: adminEmail,
        MXSPOOL_ADMIN_PASSWORD: adminPassword,
        MXSPOOL_ALLOW_PRIVATE_TARGETS: 'true',
        MXSPOOL_BOUNCES: 'log',
        // Name lookups go to a loopback port where nothing answers, never to the outside, and
        // the whitelist report names the address the relay really sends from here.
        MXSPOOL_DNS_SERVERS: `127.0.0.1:${await closedPort()}`,
        MXSPOOL_EGRESS_IPS: '127.0.0.1',
        RUST_LOG: 'error',
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let output = '';
    try {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`mxspool serve did not start:\n${output}`)), 60_000);
        child.stdout!.setEncoding('utf8');
        child.stdout!.on('data', (chunk: string) => {
          output += chunk;
          if (/^OpenAPI:/m.test(output)) {
            clearTimeout(timer);
            resolve();
          }
        });
        child.once('exit', (code) => {
          clearTimeout(timer);
          reject(new Error(`mxspool serve exited with ${code}:\n${output}`));
        });
      });
      const after = (prefix: string) => output.split('\n').find((l) => l.startsWith(prefix))!.split(/\s+/)[1];
      const baseUrl = after('API:').replace(/\/api\/v1$/, '');
      const [smtpHost, smtpPort] = after('SMTP:').split(':');
      const deadline = Date.now() + 30_000;
      while ((await fetch(`${baseUrl}/readyz`).catch(() => null))?.status !== 200) {
        if (Date.now() > deadline) throw new Error('mxspool never became ready');
        await new Promise((r) => setTimeout(r, 200));
      }
      return new Server(child, baseUrl, smtpHost, Number(smtpPort), database);
    } catch (e) {
      child.kill('SIGKILL');
      psql(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`);
      throw e;
    }
  }

  /** Stops the server (SIGTERM, then SIGKILL) and drops its database. */
  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      const exited = new Promise((resolve) => this.child.once('exit', resolve));
      this.child.kill('SIGTERM');
      const timer = setTimeout(() => this.child.kill('SIGKILL'), 20_000);
      await exited;
      clearTimeout(timer);
    }
    psql(`DROP DATABASE IF EXISTS "${this.database}" WITH (FORCE)`);
  }

  client(token?: string): Client {
    return connect(this.baseUrl, token);
  }

  async login(email: string, password: string): Promise<string> {
    const { data, error } = await login({ client: this.client(), body: { email, password } });
    if (!data) throw new Error(`login as ${email} failed: ${JSON.stringify(error)}`);
    return data.access_token;
  }
}

/**
 * Sends one message over SMTP with Node's net module, checking every reply code; resolves with
 * the final reply to DATA (`250 2.0.0 Ok: queued as …`). The relay reloads its domain table
 * within a second of an API change; until then a new domain's recipients are refused (550)
 * like any stranger's, so a refused RCPT is retried for a few seconds.
 */
export async function sendMail(host: string, port: number, from: string, to: string[], subject: string): Promise<string> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      return await sendOnce(host, port, from, to, subject);
    } catch (e) {
      const refused = e instanceof Error && /^RCPT TO:.*got 550 /.test(e.message);
      if (!refused || Date.now() > deadline) throw e;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

async function sendOnce(host: string, port: number, from: string, to: string[], subject: string): Promise<string> {
  const socket = net.createConnection({ host, port });
  socket.setEncoding('utf8');
  let buffer = '';
  const waiting: Array<(line: string) => void> = [];
  const replies: string[] = [];
  socket.on('data', (chunk: string) => {
    buffer += chunk;
    let end: number;
    while ((end = buffer.indexOf('\r\n')) >= 0) {
      const line = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      // A multi-line reply ends with the line whose code is followed by a space.
      if (/^\d{3} /.test(line) || /^\d{3}$/.test(line)) {
        const next = waiting.shift();
        if (next) next(line);
        else replies.push(line);
      }
    }
  });
  const failed = new Promise<never>((_, reject) => {
    socket.once('error', reject);
    socket.once('close', () => reject(new Error('the SMTP server closed the connection')));
  });
  failed.catch(() => {});
  const reply = () =>
    Promise.race([
      failed,
      new Promise<string>((resolve) => {
        const ready = replies.shift();
        if (ready !== undefined) resolve(ready);
        else waiting.push(resolve);
      }),
    ]);
  const expect = async (command: string | null, code: string) => {
    if (command !== null) socket.write(`${command}\r\n`);
    const line = await reply();
    if (!line.startsWith(code)) throw new Error(`${command ?? 'greeting'}: expected ${code}, got ${line}`);
    return line;
  };
  try {
    await expect(null, '220');
    await expect('EHLO sender.test', '250');
    await expect(`MAIL FROM:<${from}>`, '250');
    for (const rcpt of to) await expect(`RCPT TO:<${rcpt}>`, '250');
    await expect('DATA', '354');
    const body = [
      `From: <${from}>`,
      `To: ${to.map((t) => `<${t}>`).join(', ')}`,
      `Subject: ${subject}`,
      `Message-ID: <${randomBytes(8).toString('hex')}@sender.test>`,
      '',
      'Relayed while the primary is down.',
      '.',
    ].join('\r\n');
    const queued = await expect(`${body}`, '250');
    await expect('QUIT', '221');
    return queued;
  } finally {
    socket.destroy();
  }
}

export async function waitFor<T>(check: () => Promise<T | undefined | false>, what: string, ms = 30_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const result = await check();
    if (result) return result;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
