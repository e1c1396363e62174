import { LAMBDA_FILE_DESCRIPTORS } from '../model/lambda.ts';
import { resolveExecutable } from '../runtime/function-process.ts';

/** A command and its arguments, as spawned. */
export interface Command {
  command: string;
  args: string[];
}

let prlimit: string | null | undefined;

function prlimitPath(): string | null {
  if (prlimit === undefined) {
    try {
      prlimit = process.platform === 'linux' ? resolveExecutable('prlimit') : null;
    } catch {
      prlimit = null;
    }
  }
  return prlimit;
}

/** Whether a cell's process can be held to Lambda's quota of file descriptors here (util-linux's prlimit, on Linux). */
export function fileDescriptorQuotaApplies(): boolean {
  return prlimitPath() !== null;
}

/**
 * `command` held to Lambda's quota of open file descriptors (soft and hard limit alike, as a
 * function cannot raise it): util-linux's `prlimit` sets the limit on itself and then execs the
 * command, so the pid stays the command's. Where there is no prlimit the command is unchanged.
 */
export function underFileDescriptorQuota(command: Command, limit: number = LAMBDA_FILE_DESCRIPTORS): Command {
  const path = prlimitPath();
  return path ? { command: path, args: [`--nofile=${limit}:${limit}`, '--', command.command, ...command.args] } : command;
}
