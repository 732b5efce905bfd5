// The TypeScript SDK against a real mxspool: every call goes over HTTP to the server in server.ts.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, test } from 'node:test';

import {
  type Client,
  type DomainView,
  type Problem,
  type QueueItem,
  createAccount,
  createApiKey,
  createDomain,
  dnsInstructions,
  flushDomain,
  getDomain,
  holdMessage,
  isProblem,
  listApiKeys,
  listDomains,
  listQueue,
  me,
  releaseMessage,
} from '../src/index.js';
import { Server, adminEmail, adminPassword, closedPort, sendMail, waitFor } from './server.js';

let server: Server;
let admin: Client;

before(async () => {
  server = await Server.start();
  admin = server.client(await server.login(adminEmail, adminPassword));
});

after(async () => {
  await server?.stop();
});

const unique = (prefix: string) => `${prefix}-${randomBytes(4).toString('hex')}.example`;

async function addDomain(client: Client, name = unique('relay')): Promise<DomainView> {
  const { data, error } = await createDomain({
    client,
    body: { name, target_host: '127.0.0.1', target_port: await closedPort() },
  });
  assert.ok(data, JSON.stringify(error));
  return data;
}

async function newCustomer(plan: { max_domains?: number; may_create_domain_admins?: boolean }) {
  const email = `${randomBytes(4).toString('hex')}@customer.test`;
  const password = `customer password ${randomBytes(4).toString('hex')}`;
  const { data: account, error } = await createAccount({
    client: admin,
    body: { email, password, role: 'customer', ...plan },
  });
  assert.ok(account, JSON.stringify(error));
  return { account, client: server.client(await server.login(email, password)) };
}

async function queueItems(client: Client, query: NonNullable<Parameters<typeof listQueue>[0]>['query']) {
  const { data, error } = await listQueue({ client, query: { limit: 500, ...query } });
  assert.ok(data, JSON.stringify(error));
  return data.items;
}

function assertProblem(error: unknown, status: number, kind: string): Problem {
  assert.ok(isProblem(error), `expected a problem, got ${JSON.stringify(error)}`);
  assert.equal(error.status, status);
  assert.equal(error.type, `urn:mxspool:problem:${kind}`);
  assert.ok(error.detail.length > 0);
  return error;
}

test('login gives a token that identifies the operator', async () => {
  const { data } = await me({ client: admin });
  assert.equal(data?.email, adminEmail);
  assert.equal(data?.role, 'admin');
});

test('an API key works as a bearer token like a login', async () => {
  const { data: created, error } = await createApiKey({
    client: admin,
    body: { name: 'automation', scopes: ['read', 'write'] },
  });
  assert.ok(created, JSON.stringify(error));
  assert.match(created.secret, /^mxs_/);
  assert.ok(created.secret.startsWith(created.key.prefix));

  const keyed = server.client(created.secret);
  assert.equal((await me({ client: keyed })).data?.email, adminEmail);
  const domain = await addDomain(keyed);
  const { data: fetched } = await getDomain({ client: keyed, path: { id: domain.id } });
  assert.equal(fetched?.name, domain.name);

  const { data: keys } = await listApiKeys({ client: admin });
  assert.ok(keys?.items.some((k) => k.id === created.key.id));
});

test('a customer is held to its plan', async () => {
  const { account, client } = await newCustomer({ max_domains: 2, may_create_domain_admins: false });
  assert.equal(account.role, 'customer');
  assert.equal(account.max_domains, 2);
  assert.equal(account.may_create_domain_admins, false);

  const first = await addDomain(client);
  const second = await addDomain(client);
  assert.equal(first.owner_id, account.id);
  assert.equal(second.owner_id, account.id);

  const third = await createDomain({
    client,
    body: { name: unique('over-plan'), target_host: '127.0.0.1', target_port: await closedPort() },
  });
  assert.equal(third.response.status, 403);
  assertProblem(third.error, 403, 'forbidden');

  const domainAdmin = await createAccount({
    client,
    body: { email: `${randomBytes(4).toString('hex')}@admins.test`, password: 'a long password 1', role: 'domain_admin' },
  });
  assertProblem(domainAdmin.error, 403, 'forbidden');
});

test('a relay domain comes with its DNS instructions', async () => {
  const domain = await addDomain(admin);
  const { data: dns, error } = await dnsInstructions({ client: admin, path: { id: domain.id } });
  assert.ok(dns, JSON.stringify(error));
  assert.equal(dns.domain, domain.name);
  const mx = dns.records.filter((r) => r.type === 'MX');
  assert.equal(mx.length, 1);
  assert.deepEqual([mx[0].host, mx[0].priority, mx[0].value, mx[0].ttl], ['@', 90, 'mx.test', 1800]);
  assert.match(dns.zone_file_line, /mx\.test/);
});

test('mail for a down primary waits in the queue and can be held, released and flushed', async () => {
  const domain = await addDomain(admin);
  const other = await addDomain(admin);
  const sender = 'alerts@sender.test';
  const queued = await sendMail(server.smtpHost, server.smtpPort, sender, [`alice@${domain.name}`, `bob@${domain.name}`], 'first');
  assert.match(queued, /^250 /);
  await sendMail(server.smtpHost, server.smtpPort, 'someone@else.test', [`carol@${other.name}`], 'other domain');

  // The target port is closed: the first attempt fails and the recipients are deferred.
  const deferred = await waitFor(async () => {
    const items = await queueItems(admin, { domain_id: domain.id, state: 'deferred' });
    return items.length === 2 && items;
  }, 'two deferred recipients');
  assert.deepEqual(deferred.map((i: QueueItem) => i.recipient).sort(), [`alice@${domain.name}`, `bob@${domain.name}`]);
  for (const item of deferred) {
    assert.equal(item.domain_id, domain.id);
    assert.equal(item.sender, sender);
    assert.equal(item.subject, 'first');
  }
  assert.deepEqual((await queueItems(admin, { domain_id: other.id })).map((i) => i.recipient), [`carol@${other.name}`]);
  assert.deepEqual(
    (await queueItems(admin, { domain_id: domain.id, recipient: `bob@${domain.name}` })).map((i) => i.recipient),
    [`bob@${domain.name}`],
  );
  assert.deepEqual(await queueItems(admin, { domain_id: domain.id, sender: 'nobody@sender.test' }), []);

  const messageId = deferred[0].message_id;
  const { data: held } = await holdMessage({ client: admin, path: { id: messageId } });
  assert.equal(held?.affected, 2);
  assert.deepEqual([...new Set((await queueItems(admin, { domain_id: domain.id })).map((i) => i.state))], ['held']);
  assert.equal((await queueItems(admin, { domain_id: domain.id, state: 'held' })).length, 2);

  const { data: released } = await releaseMessage({ client: admin, path: { id: messageId } });
  assert.equal(released?.affected, 2);
  assert.deepEqual(await queueItems(admin, { domain_id: domain.id, state: 'held' }), []);

  const { data: flushed, error } = await flushDomain({ client: admin, path: { id: domain.id } });
  assert.ok(flushed, JSON.stringify(error));
  assert.equal(flushed.matched, 2);
  assert.equal(flushed.target_host, '127.0.0.1');
  assert.equal(flushed.target_port, domain.target_port);
});

test('errors arrive as typed problem details', async () => {
  const wrong = await me({ client: server.client(`mxs_${'x'.repeat(40)}`) });
  assert.equal(wrong.response.status, 401);
  assertProblem(wrong.error, 401, 'unauthorized');

  const anonymous = await me({ client: server.client() });
  assertProblem(anonymous.error, 401, 'unauthorized');

  const { data: readOnly } = await createApiKey({ client: admin, body: { name: 'reader', scopes: ['read'] } });
  assert.ok(readOnly);
  const forbidden = await createDomain({
    client: server.client(readOnly.secret),
    body: { name: unique('ro'), target_host: '127.0.0.1' },
  });
  assertProblem(forbidden.error, 403, 'forbidden');

  const missing = await getDomain({ client: admin, path: { id: 2_000_000_000 } });
  assert.equal(missing.response.status, 404);
  assertProblem(missing.error, 404, 'not-found');

  const taken = await addDomain(admin);
  const conflict = await createDomain({ client: admin, body: { name: taken.name, target_host: '127.0.0.1' } });
  assertProblem(conflict.error, 409, 'conflict');

  const invalid = await createDomain({ client: admin, body: { name: '-bad-.example', target_host: '127.0.0.1' } });
  const problem = assertProblem(invalid.error, 422, 'validation');
  assert.deepEqual(problem.errors?.map((e) => e.field), ['name']);
});

test('cursors page through 120 domains', async () => {
  const { account, client } = await newCustomer({ max_domains: 200 });
  const created = new Set<number>();
  for (let n = 0; n < 120; n++) {
    created.add((await addDomain(client, `page-${String(n).padStart(3, '0')}-${randomBytes(3).toString('hex')}.example`)).id);
  }

  const seen: number[] = [];
  let cursor: string | undefined;
  let pages = 0;
  do {
    const { data: page, error } = await listDomains({ client, query: { limit: 50, cursor } });
    assert.ok(page, JSON.stringify(error));
    pages += 1;
    for (const d of page.items) {
      assert.equal(d.owner_id, account.id);
      seen.push(d.id);
    }
    cursor = page.next_cursor ?? undefined;
    assert.ok(pages < 10, 'the cursor never ran out');
  } while (cursor);
  assert.equal(pages, 3);
  assert.equal(new Set(seen).size, 120);
  assert.deepEqual([...seen].sort((a, b) => a - b), [...created].sort((a, b) => a - b));

  const { data: owned } = await listDomains({ client: admin, query: { owner_id: account.id, limit: 500 } });
  assert.deepEqual(new Set(owned?.items.map((d) => d.id)), created);
});
