/**
 * Where each of the scenario's hosts lives inside a cell's network namespace: an address of its
 * own on loopback (127.1.0.1, 127.1.0.2, ...), so each host has its own servers, connections and
 * keep-alive rules, as separate machines would; and the hosts file that makes its name resolve
 * there as DNS would in production.
 */

/** 127.1.0.0/16 less its first address: more hosts than any scenario defines. */
const FIRST = (127 << 24) | (1 << 16);
const MAX_HOSTS = 65_534;

export function loopbackAddresses(hosts: readonly string[]): Map<string, string> {
  if (hosts.length > MAX_HOSTS) throw new Error(`at most ${MAX_HOSTS} hosts can be served, the scenario has ${hosts.length}`);
  return new Map(
    hosts.map((host, index) => {
      const address = FIRST + index + 1;
      return [host, [address >>> 24, (address >>> 16) & 255, (address >>> 8) & 255, address & 255].join('.')];
    }),
  );
}

/** A hosts file: localhost as usual, and each scenario host at its address. */
export function hostsFileText(addresses: ReadonlyMap<string, string>): string {
  const lines = ['127.0.0.1 localhost', '::1 localhost ip6-localhost ip6-loopback'];
  for (const [host, address] of addresses) lines.push(`${address} ${host}`);
  return `${lines.join('\n')}\n`;
}
