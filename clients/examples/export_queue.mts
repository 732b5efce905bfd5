// Export a domain's queue (every recipient still in it, page by page) as CSV or JSON.
//
//   MXSPOOL_URL=http://127.0.0.1:8080 MXSPOOL_TOKEN=mxs_... \
//     node clients/typescript/dist/examples/export_queue.mjs example.com [csv|json] [state]
import { type DeliveryState, type QueueItem, connect, listDomains, listQueue } from '../typescript/src/index.js';

const [name, format = 'csv', state] = process.argv.slice(2);
if (!name || !['csv', 'json'].includes(format)) {
  console.error('usage: export_queue.mjs DOMAIN [csv|json] [STATE]');
  process.exit(2);
}
const client = connect(process.env.MXSPOOL_URL!, process.env.MXSPOOL_TOKEN);

const { data: found } = await listDomains({ client, query: { name } });
const domain = found?.items[0];
if (!domain) {
  console.error(`no relay domain ${name}`);
  process.exit(1);
}

const columns = ['id', 'message_id', 'recipient', 'sender', 'state', 'attempts', 'size', 'received_at',
  'next_attempt_at', 'expires_at', 'last_code', 'last_reply', 'subject'] as const;
const rows: Array<Pick<QueueItem, (typeof columns)[number]>> = [];
let cursor: string | undefined;
do {
  const { data: page, error } = await listQueue({
    client,
    query: { domain_id: domain.id, state: state as DeliveryState | undefined, limit: 500, cursor },
  });
  if (!page) {
    console.error(`listing the queue failed: ${JSON.stringify(error)}`);
    process.exit(1);
  }
  for (const item of page.items) rows.push(Object.fromEntries(columns.map((c) => [c, item[c] ?? null])) as never);
  cursor = page.next_cursor ?? undefined;
} while (cursor);

if (format === 'json') {
  console.log(JSON.stringify(rows, null, 2));
} else {
  const cell = (v: unknown) => {
    const s = v === null || v === undefined ? '' : String(v);
    return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  console.log(columns.join(','));
  for (const row of rows) console.log(columns.map((c) => cell(row[c])).join(','));
}
