// Print the whitelist report of a domain: the relay's egress addresses and paste-ready
// allow-list snippets for the primary mail server's filters.
//
//   MXSPOOL_URL=http://127.0.0.1:8080 MXSPOOL_TOKEN=mxs_... \
//     node clients/typescript/dist/examples/whitelist_report.mjs example.com
import { connect, listDomains } from '../typescript/src/index.js';

const [name] = process.argv.slice(2);
if (!name) {
  console.error('usage: whitelist_report.mjs DOMAIN');
  process.exit(2);
}
const client = connect(process.env.MXSPOOL_URL!, process.env.MXSPOOL_TOKEN);

const { data: found } = await listDomains({ client, query: { name } });
const domain = found?.items[0];
if (!domain) {
  console.error(`no relay domain ${name}`);
  process.exit(1);
}
// GET /api/v1/domains/{id}/whitelist?format=text: the whole report as text to paste from.
const { data, error, response } = await client.get<Record<200, string>, unknown, false>({
  url: '/api/v1/domains/{id}/whitelist',
  path: { id: domain.id },
  query: { format: 'text' },
  parseAs: 'text',
  security: [{ scheme: 'bearer', type: 'http' }],
});
if (response.status !== 200 || typeof data !== 'string') {
  console.error(`no whitelist report (${response.status}): ${JSON.stringify(error)}`);
  process.exit(1);
}
console.log(data);
