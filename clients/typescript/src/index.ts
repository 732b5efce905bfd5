// The mxspool TypeScript SDK: the generated functions and types (src/generated, rewritten by
// clients/generate), plus `connect`, which makes a client for one server and one credential.
import { type Client, createClient, createConfig } from './generated/client/index.js';
import type { Problem } from './generated/types.gen.js';

export * from './generated/index.js';
export type { Client } from './generated/client/index.js';

/**
 * A client for the mxspool at `baseUrl` (e.g. `http://127.0.0.1:8080`), authenticated with a
 * token: an access token from `login` or an API key (`mxs_…`); both travel as
 * `Authorization: Bearer …`. Pass it to every SDK function as `{ client }`.
 */
export function connect(baseUrl: string, token?: string): Client {
  return createClient(createConfig({ baseUrl: baseUrl.replace(/\/+$/, ''), auth: token }));
}

/** Whether an SDK call's `error` is an RFC 9457 problem details body from mxspool. */
export function isProblem(error: unknown): error is Problem {
  return (
    typeof error === 'object' &&
    error !== null &&
    typeof (error as Problem).type === 'string' &&
    typeof (error as Problem).status === 'number'
  );
}
