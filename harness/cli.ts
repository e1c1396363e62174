import { CommanderError } from 'commander';
import { EXIT, InputError } from './errors.ts';

/**
 * Runs a CLI entry point and turns its outcome into an exit code: bad input (an InputError or a
 * commander parse error) is one line on stderr and exit 2, without a stack trace; anything else
 * is a bug and keeps its stack, exit 1. Scripts call `program.exitOverride()` so commander throws
 * instead of exiting, and silence its own error output so the message appears once.
 */
export async function runCli(main: () => Promise<number | void> | number | void): Promise<void> {
  try {
    const code = await main();
    process.exitCode = code ?? EXIT.ok;
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version end parsing through the same path, successfully.
      if (error.exitCode === 0) {
        process.exitCode = EXIT.ok;
        return;
      }
      process.stderr.write(`${error.message.replace(/^error: /, '')}. Fix: see --help\n`);
      process.exitCode = EXIT.badInput;
      return;
    }
    if (error instanceof InputError) {
      process.stderr.write(`${error.message}\n`);
      process.exitCode = EXIT.badInput;
      return;
    }
    const bug = error instanceof Error ? (error.stack ?? error.message) : String(error);
    process.stderr.write(`${bug}\n`);
    process.exitCode = EXIT.failed;
  }
}
