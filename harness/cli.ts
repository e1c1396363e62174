import { CommanderError } from 'commander';
import { InputError } from './errors.ts';

/**
 * Runs a command's main function and turns its outcome into an exit code: the returned number
 * (0 when nothing is returned); bad input (InputError, or a commander parse error) is one line on
 * stderr and exit 2, without a stack trace; anything else is a bug: message and stack, exit 1.
 *
 * Commander prints its own parse errors unless told not to; commands using runCli configure
 * `.exitOverride().configureOutput({ outputError: () => {} })` so the message appears once.
 */
export async function runCli(main: () => Promise<number | void> | number | void): Promise<void> {
  try {
    const code = await main();
    process.exitCode = code ?? 0;
  } catch (error) {
    if (error instanceof InputError) {
      process.stderr.write(`${error.message}\n`);
      process.exitCode = 2;
    } else if (error instanceof CommanderError) {
      // --help and --version end the parse with exit code 0: not an error.
      if (error.exitCode === 0) {
        process.exitCode = 0;
        return;
      }
      const oneLine = error.message.replace(/^error: /, '').replace(/\s*\n\s*/g, ' ');
      process.stderr.write(`${oneLine}. Fix: run with --help for the usage\n`);
      process.exitCode = 2;
    } else {
      process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
      process.exitCode = 1;
    }
  }
}
