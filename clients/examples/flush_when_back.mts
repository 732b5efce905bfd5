// Wait until a domain's primary mail server answers SMTP again, then flush the domain's queue.
//
//   MXSPOOL_URL=http://127.0.0.1:8080 MXSPOOL_TOKEN=mxs_... \
//     node clients/typescript/dist/examples/flush_when_back.mjs example.com [interval-s] [timeout-s]
//
// mxspool probes a down primary by itself (backing off to once a minute); run this after
// maintenance to send the waiting mail the moment the primary greets with 220. Exit code 0 after
// a flush, 2 when the primary was still down at the timeout.
import net from 'node:net';

import { connect, flushDomain, listDomains } from '../typescript/src/index.js';

const [name, interval = '5', timeout = '3600'] = process.argv.slice(2);
if (!name) {
  console.error('usage: flush_when_back.mjs DOMAIN [INTERVAL_SECONDS] [TIMEOUT_SECONDS]');
  process.exit(2);
}
const client = connect(process.env.MXSPOOL_URL!, process.env.MXSPOOL_TOKEN);

/** Whether an SMTP server at host:port answers with a 220 greeting. */
function greets(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.createConnection({ host, port, timeout: 10_000 });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.once('data', (chunk) => done(chunk.toString('latin1').startsWith('220')));
    socket.once('timeout', () => done(false));
    socket.once('error', () => done(false));
    socket.once('close', () => done(false));
  });
}

const { data: found } = await listDomains({ client, query: { name } });
const domain = found?.items[0];
if (!domain) {
  console.error(`no relay domain ${name}`);
  process.exit(1);
}

const deadline = Date.now() + Number(timeout) * 1000;
while (!(await greets(domain.target_host, domain.target_port))) {
  if (Date.now() >= deadline) {
    console.error(`${domain.target_host}:${domain.target_port} is still down`);
    process.exit(2);
  }
  await new Promise((r) => setTimeout(r, Number(interval) * 1000));
}

const { data: result, error } = await flushDomain({ client, path: { id: domain.id } });
if (!result) {
  console.error(`flush failed: ${JSON.stringify(error)}`);
  process.exit(1);
}
console.log(
  `${domain.name}: ${domain.target_host}:${domain.target_port} is back; ` +
    `${result.affected} of ${result.matched} waiting recipients are due now`,
);
