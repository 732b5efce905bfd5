// The TypeScript automation scripts in clients/examples, compiled to dist/examples and run as a
// user would run them, against the real server.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';

import { type Client, createDomain, listDomains, listQueue } from '../src/index.js';
import { Server, adminEmail, adminPassword, closedPort, sendMail, waitFor } from './server.js';

const examples = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../examples');
let server: Server;
let token: string;
let admin: Client;
let scratch: string;

before(async () => {
  server = await Server.start();
  token = await server.login(adminEmail, adminPassword);
  admin = server.client(token);
  scratch = mkdtempSync(path.join(tmpdir(), 'mxspool-examples-'));
});

after(async () => {
  await server?.stop();
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

function runExample(script: string, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [path.join(examples, script), ...args],
      { env: { ...process.env, MXSPOOL_URL: server.baseUrl, MXSPOOL_TOKEN: token }, timeout: 120_000 },
      (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

async function findDomain(name: string) {
  const { data } = await listDomains({ client: admin, query: { name } });
  return data?.items[0];
}

test('bulk add adds every row, skips known domains and reports refusals', async () => {
  const tag = randomBytes(4).toString('hex');
  const known = await createDomain({ client: admin, body: { name: `known-${tag}.example`, target_host: '127.0.0.1' } });
  assert.ok(known.data);
  const port = await closedPort();
  const sheet = path.join(scratch, `domains-${tag}.csv`);
  writeFileSync(
    sheet,
    'name,target_host,target_port\n' +
      `one-${tag}.example,127.0.0.1,${port}\n` +
      `Two-${tag}.Example.,127.0.0.2,\n` +
      `known-${tag}.example,127.0.0.1,\n` +
      `-bad-${tag}.example,127.0.0.1,\n`,
  );
  const done = await runExample('bulk_add_domains.mjs', sheet);

  assert.equal(done.code, 1, done.stderr);
  const lines = done.stdout.trim().split('\n');
  assert.ok(lines[0].startsWith(`added one-${tag}.example (id `), done.stdout);
  assert.ok(lines[1].startsWith(`added two-${tag}.example (id `), done.stdout);
  assert.equal(lines[2], `exists known-${tag}.example`);
  assert.match(done.stderr, new RegExp(`refused -bad-${tag}\\.example: .*name:`));

  const one = await findDomain(`one-${tag}.example`);
  assert.deepEqual([one?.target_host, one?.target_port], ['127.0.0.1', port]);
  const two = await findDomain(`two-${tag}.example`);
  assert.deepEqual([two?.target_host, two?.target_port], ['127.0.0.2', 25]);
});

test("export queue writes the domain's recipients as CSV and JSON", async () => {
  const name = `export-${randomBytes(4).toString('hex')}.example`;
  const { data: domain } = await createDomain({
    client: admin,
    body: { name, target_host: '127.0.0.1', target_port: await closedPort() },
  });
  assert.ok(domain);
  const recipients = [0, 1, 2].map((n) => `user${n}@${name}`);
  await sendMail(server.smtpHost, server.smtpPort, 'exports@sender.test', recipients, 'to export');
  await waitFor(async () => {
    const { data } = await listQueue({ client: admin, query: { domain_id: domain.id, state: 'deferred' } });
    return data?.items.length === 3;
  }, 'three deferred recipients');

  const asCsv = await runExample('export_queue.mjs', name, 'csv');
  assert.equal(asCsv.code, 0, asCsv.stderr);
  const [header, ...rows] = asCsv.stdout.trim().split('\n');
  const columns = header.split(',');
  const records = rows.map((r) => Object.fromEntries(r.split(',').map((v, i) => [columns[i], v])));
  assert.deepEqual(records.map((r) => r.recipient).sort(), recipients);
  assert.deepEqual(
    [...new Set(records.map((r) => `${r.sender} ${r.state} ${r.subject}`))],
    ['exports@sender.test deferred to export'],
  );

  const asJson = await runExample('export_queue.mjs', name, 'json', 'deferred');
  assert.equal(asJson.code, 0, asJson.stderr);
  const items = JSON.parse(asJson.stdout) as Array<{ recipient: string; message_id: number; attempts: number }>;
  assert.deepEqual(items.map((i) => i.recipient).sort(), recipients);
  assert.ok(items.every((i) => Number.isInteger(i.message_id) && i.attempts >= 1));

  const held = await runExample('export_queue.mjs', name, 'json', 'held');
  assert.equal(held.code, 0, held.stderr);
  assert.deepEqual(JSON.parse(held.stdout), []);

  const unknown = await runExample('export_queue.mjs', `missing-${name}`);
  assert.equal(unknown.code, 1);
  assert.match(unknown.stderr, /no relay domain/);
});

test('flush when back waits for a greeting, then flushes', async () => {
  const port = await closedPort();
  const name = `back-${randomBytes(4).toString('hex')}.example`;
  const { data: domain } = await createDomain({ client: admin, body: { name, target_host: '127.0.0.1', target_port: port } });
  assert.ok(domain);

  const down = await runExample('flush_when_back.mjs', name, '0.1', '0.5');
  assert.equal(down.code, 2, down.stderr);
  assert.match(down.stderr, new RegExp(`127\\.0\\.0\\.1:${port} is still down`));

  // Now it greets like an SMTP server (and hangs up on anything else).
  const primary = net.createServer((socket) => socket.end('220 primary.test ESMTP\r\n'));
  await new Promise<void>((resolve) => primary.listen(port, '127.0.0.1', resolve));
  try {
    const back = await runExample('flush_when_back.mjs', name, '0.1', '30');
    assert.equal(back.code, 0, back.stderr);
    assert.ok(back.stdout.startsWith(`${name}: 127.0.0.1:${port} is back; `), back.stdout);
    assert.match(back.stdout, /waiting recipients are due now/);
  } finally {
    await new Promise((resolve) => primary.close(resolve));
  }
});

test('whitelist report prints addresses, verdicts and snippets', async () => {
  const name = `allow-${randomBytes(4).toString('hex')}.example`;
  const port = await closedPort();
  const { data: domain } = await createDomain({ client: admin, body: { name, target_host: '127.0.0.1', target_port: port } });
  assert.ok(domain);

  const report = await runExample('whitelist_report.mjs', name);
  assert.equal(report.code, 0, report.stderr);
  const lines = report.stdout.split('\n');
  assert.equal(lines[0], `Whitelist report for ${name} (primary 127.0.0.1:${port})`);
  assert.equal(lines[1], 'Backup MX: mx.test');
  assert.ok(lines.some((l) => l.trim().startsWith('127.0.0.1/32')), report.stdout);
  assert.ok(lines.some((l) => /^ {2}127\.0\.0\.1 +unknown /.test(l)), report.stdout);
  assert.ok(lines.includes('== Postfix =='), report.stdout);

  const postfix = await runExample('whitelist_report.mjs', name, 'postfix');
  assert.equal(postfix.code, 0, postfix.stderr);
  assert.match(postfix.stdout, /127\.0\.0\.1/);
  assert.doesNotMatch(postfix.stdout, /== Postfix ==/);

  const unknown = await runExample('whitelist_report.mjs', name, 'sendmail');
  assert.equal(unknown.code, 1);
  assert.match(unknown.stderr, /there are: .*postfix/);
});
