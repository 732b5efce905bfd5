// Add relay domains listed in a CSV file.
//
//   MXSPOOL_URL=http://127.0.0.1:8080 MXSPOOL_TOKEN=mxs_... \
//     node clients/typescript/dist/examples/bulk_add_domains.mjs domains.csv
//
// The CSV has a header row with `name` and `target_host`, and optionally `target_port` and
// `owner_id` (plain comma-separated values: domain names and hosts contain no commas or quotes).
// A domain that is already registered is reported and skipped; any other refusal is printed with
// the server's reason and makes the exit code 1.
import { readFileSync } from 'node:fs';

import { connect, createDomain, isProblem } from '../typescript/src/index.js';

const [file] = process.argv.slice(2);
if (!file) {
  console.error('usage: bulk_add_domains.mjs FILE.csv');
  process.exit(2);
}
const client = connect(process.env.MXSPOOL_URL!, process.env.MXSPOOL_TOKEN);

const [header, ...lines] = readFileSync(file, 'utf8').split(/\r?\n/).filter((l) => l.trim() !== '');
const columns = header.split(',').map((c) => c.trim());
let failed = 0;
for (const line of lines) {
  const values = line.split(',').map((v) => v.trim());
  const row = Object.fromEntries(columns.map((c, i) => [c, values[i] ?? '']));
  const { data, error } = await createDomain({
    client,
    body: {
      name: row.name,
      target_host: row.target_host,
      target_port: row.target_port ? Number(row.target_port) : undefined,
      owner_id: row.owner_id ? Number(row.owner_id) : undefined,
    },
  });
  if (data) {
    console.log(`added ${data.name} (id ${data.id})`);
  } else if (isProblem(error) && error.status === 409) {
    console.log(`exists ${row.name}`);
  } else {
    failed += 1;
    const fields = isProblem(error) ? (error.errors ?? []).map((e) => `${e.field}: ${e.message}`).join('; ') : '';
    const detail = isProblem(error) ? error.detail : JSON.stringify(error);
    console.error(`refused ${row.name}: ${detail}${fields ? ` (${fields})` : ''}`);
  }
}
process.exitCode = failed ? 1 : 0;
