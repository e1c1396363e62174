import type { NetTally } from '../mock/net-backend.ts';
import type { Scenario } from '../scenario/schema.ts';
import type { DatabaseProxyOptions } from './database-bridge.ts';

/** What the sweep tells a fence host to set up in its namespace. */
export interface FenceSetup {
  /** Bind-mounted over /etc/hosts and /etc/resolv.conf inside the namespace. */
  hostsFile: string;
  resolvFile: string;
  /** For the `net` backend: the scenario's servers and a control socket for the cell. */
  serve?: {
    scenario: Scenario;
    timeScale: number;
    addresses: Array<[string, string]>;
    leaves: Array<[string, { certFile: string; keyFile: string }]>;
    controlSocket: string;
  };
  /** A deployed function's Lambda Runtime API: relayed from address:port inside to the sweep's Unix socket. */
  runtimeApi?: { address: string; port: number; socketPath: string };
  /** A deployed function's database: where it connects inside, and the machine side's socket. */
  database?: DatabaseProxyOptions;
}

export type FenceHostMessage = { type: 'ready' } | { type: 'failed'; error: string };

/** What the fence host reports of one invocation: the servers' tally and the names looked up in vain. */
export interface FenceTally extends NetTally {
  lookups: string[];
  /** Round trips to the database proxy (a deployed function's own client), if there is one. */
  databaseRoundTrips?: number;
}
