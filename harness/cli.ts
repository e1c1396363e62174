import { CommanderError } from 'commander';
import { EXIT, InputError } from './errors.ts';

/**
 * Runs a command's main function and turns its outcome into an exit code:
 * - the number main returns (or 0);
 * - InputError: its one-line message on stderr, exit 2, no stack trace;
 * - a commander error (unknown option, missing argument): exit 2. Commander has already written
 *   its message to stderr, so call `.exitOverride()` on the program and let the error reach here;
 *   `--help` and `--version` end with exit 0;
 * - anything else is a bug: message and stack on stderr, exit 1.
 */
export async function runCli(main: () => Promise<number | void> | number | void): Promise<void> {
  try {
    process.exitCode = (await main()) ?? EXIT.ok;
  } catch (error) {
    if (error instanceof InputError) {
      process.stderr.write(`${error.message}\n`);
      process.exitCode = EXIT.badInput;
    } else if (error instanceof CommanderError) {
      process.exitCode = error.exitCode === 0 ? EXIT.ok : EXIT.badInput;
    } else {
      process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
      process.exitCode = EXIT.failed;
    }
  }
}
