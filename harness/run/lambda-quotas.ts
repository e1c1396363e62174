import { LAMBDA_FILE_DESCRIPTORS } from '../model/lambda.ts';
import { linuxTool, type BootstrapCommand } from '../runtime/function-process.ts';

/** Whether a cell's process can be held to Lambda's quota of file descriptors here (util-linux's prlimit, on Linux). */
export function fileDescriptorQuotaApplies(): boolean {
  return linuxTool('prlimit') !== null;
}

/**
 * `command` held to Lambda's quota of open file descriptors (soft and hard limit alike, as a
 * function cannot raise it): util-linux's `prlimit` sets the limit on itself and then execs the
 * command, so the pid stays the command's. Where there is no prlimit the command is unchanged.
 */
export function underFileDescriptorQuota(command: BootstrapCommand, limit: number = LAMBDA_FILE_DESCRIPTORS): BootstrapCommand {
  const path = linuxTool('prlimit');
  return path ? { command: path, args: [`--nofile=${limit}:${limit}`, '--', command.command, ...command.args] } : command;
}
