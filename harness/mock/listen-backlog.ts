/**
 * How many connections a loopback server lets wait to be accepted. Node's default (511) is below
 * the job's concurrency at the top of a sweep (1000 workers open up to 1000 connections at once):
 * connections past it are dropped at the SYN and retried by the client's TCP after its
 * retransmission timeout, which adds hundreds of milliseconds to an invocation at random.
 * Production servers sit behind load balancers that take such bursts, so the replay does too.
 * The kernel caps it at net.core.somaxconn (4096 here).
 */
export const LISTEN_BACKLOG = 4096;
