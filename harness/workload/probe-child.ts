/**
 * Loads the user's handler module once, before a sweep starts, in a throwaway process with the
 * mocks on: the sweep process itself never runs user code, and code the module runs when loaded
 * (timers, requests, connections) cannot reach the network nor keep the sweep alive.
 */
import { startMocks } from '../mock/all-clients.ts';
import type { Scenario } from '../scenario/schema.ts';
import { importHandler, type HandlerLoad } from './load-handler.ts';

export interface ProbeRequest {
  scenario: Scenario;
  modulePath: string;
  exportName: string;
}

export type ProbeReply = Exclude<HandlerLoad, { ok: true }> | { ok: true };

// The sweep is gone (even killed with SIGKILL): a module that keeps the event loop busy as it
// loads must not keep this process running unowned.
process.on('disconnect', () => process.exit(1));

process.once('message', (request: ProbeRequest) => {
  const mocks = startMocks({ scenario: request.scenario, timeScale: 1 });
  // A module may read its configuration when it loads; the cells set the concurrency itself.
  process.env.MAX_WORKERS = '1';
  void importHandler(request.modulePath, request.exportName).then((load) => {
    const reply: ProbeReply = load.ok ? { ok: true } : load;
    process.send!(reply, undefined, {}, () => {
      mocks.stop();
      process.exit(0);
    });
  });
});
