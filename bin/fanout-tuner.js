#!/usr/bin/env node
// The `fanout-tuner <command>` entry: runs the command's script with the TypeScript loader.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const COMMANDS = ['sweep', 'report', 'recommend', 'compare', 'merge', 'import-har', 'bench'];
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
const result = spawnSync(process.execPath, ['--import', import.meta.resolve('tsx'), script, ...args], { stdio: 'inherit' });
process.exit(result.status ?? 1);
