import { namespaceSupport, type NamespaceSupport } from '../../harness/isolate/fence.ts';

/**
 * Whether the tests that fence cells in network namespaces run here. They need Linux, root and
 * unshare/nsenter/ip; elsewhere they skip, except where FANOUT_REQUIRE_NAMESPACE=1 (CI, which runs
 * as root) turns the missing support into a failure.
 */
export const namespaces: NamespaceSupport = namespaceSupport();
export const requireNamespace = process.env.FANOUT_REQUIRE_NAMESPACE === '1';
export const runFenced = namespaces.available || requireNamespace;

/** Fails when namespaces were required and are missing; the tests call it first. */
export function assertNamespaces(): void {
  if (!namespaces.available) throw new Error(`FANOUT_REQUIRE_NAMESPACE=1 but cells cannot be fenced here: ${namespaces.reason}`);
}

export function skipNote(what: string): void {
  if (!runFenced && !namespaces.available) {
    console.log(`skipping ${what}: ${namespaces.reason} (run as root on Linux; CI sets FANOUT_REQUIRE_NAMESPACE=1)`);
  }
}
