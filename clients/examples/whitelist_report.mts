// Print the whitelist report of a domain: the addresses mxspool sends from, how the domain's
// primary mail server treats them, and paste-ready allow-list snippets for its filters.
//
//   MXSPOOL_URL=http://127.0.0.1:8080 MXSPOOL_TOKEN=mxs_... \
//     node clients/typescript/dist/examples/whitelist_report.mjs example.com [snippet-id]
//
// With a snippet id only that filter's text is printed (postfix, exim, rspamd, spamassassin,
// microsoft365, nftables, iptables), ready to redirect into a file.
import { connect, domainWhitelistReport, listDomains } from '../typescript/src/index.js';

const [name, snippetId] = process.argv.slice(2);
if (!name) {
  console.error('usage: whitelist_report.mjs DOMAIN [SNIPPET_ID]');
  process.exit(2);
}
const client = connect(process.env.MXSPOOL_URL!, process.env.MXSPOOL_TOKEN);

const { data: found } = await listDomains({ client, query: { name } });
const domain = found?.items[0];
if (!domain) {
  console.error(`no relay domain ${name}`);
  process.exit(1);
}
const { data: report, error } = await domainWhitelistReport({ client, path: { id: domain.id } });
if (!report) {
  console.error(`no whitelist report: ${JSON.stringify(error)}`);
  process.exit(1);
}

if (snippetId) {
  const snippet = report.snippets.find((s) => s.id === snippetId);
  if (!snippet) {
    console.error(`no snippet '${snippetId}'; there are: ${report.snippets.map((s) => s.id).join(', ')}`);
    process.exit(1);
  }
  console.log(snippet.text);
} else {
  const d = report.domain;
  console.log(`Whitelist report for ${d.domain} (primary ${d.target_host}:${d.target_port})`);
  console.log(`Backup MX: ${report.backup_mx_hostname}`);
  console.log('\nAllow these addresses on the primary:');
  for (const egress of report.egress) {
    const ptr = egress.ptr ? `PTR ${egress.ptr}` : 'no PTR';
    console.log(`  ${egress.cidr.padEnd(24)} ${ptr}${egress.forward_confirmed ? ' (forward-confirmed)' : ''}`);
  }
  if (report.egress_problem) console.log(`  (${report.egress_problem})`);
  console.log(`\nHow the primary treats them (last ${report.recent_days} days):`);
  for (const address of d.addresses) {
    console.log(`  ${address.ip.padEnd(24)} ${address.verdict.padEnd(10)} ${address.reason}`);
  }
  for (const snippet of report.snippets) {
    console.log(`\n== ${snippet.label} ==\n${snippet.instructions}\n\n${snippet.text}`);
  }
}
