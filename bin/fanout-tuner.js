#!/usr/bin/env node
// The `fanout-tuner <command>` entry: loads the TypeScript loader into this process and runs the
// command's script here. No second process: a signal sent to this pid (`timeout`, a CI runner
// cancelling the job, `kill`) reaches the command itself, whose handlers end its cells, and the
// exit status (or the signal it ends by) is the command's own.
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

const COMMANDS = ['sweep', 'report', 'recommend', 'compare', 'merge', 'import-har', 'import-power-tuning', 'record', 'bench'];
const [command, ...args] = process.argv.slice(2);

if (!command || command === '--help' || command === '-h') {
  console.log(`Usage: fanout-tuner <command> [options]\n\nCommands: ${COMMANDS.join(', ')}\nRun fanout-tuner <command> --help for the options of one.`);
  process.exit(command ? 0 : 2);
}
const script = fileURLToPath(new URL(`../scripts/${command}.ts`, import.meta.url));
if (!COMMANDS.includes(command) || !existsSync(script)) {
  console.error(`error: unknown command "${command}". Fix: use one of ${COMMANDS.join(', ')}`);
  process.exit(2);
}
// What `node --import tsx` does, done here: TypeScript modules load from now on.
await import('tsx');
// The script reads its arguments as if it had been started itself: `node scripts/<command>.ts ...`.
process.argv = [process.argv[0], script, ...args];
await import(pathToFileURL(script).href);
