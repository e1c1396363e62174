import { CommanderError } from 'commander';
import { EXIT, InputError } from './errors.ts';

/**
 * Runs an entry script's main: bad input becomes one line on stderr and exit code 2, a bug
 * keeps its stack trace and exits 1. Scripts call `program.exitOverride()` so that commander
 * throws instead of exiting; it has already printed its own message (or the help) by then.
 */
export async function runCli(main: () => Promise<number | void> | number | void): Promise<void> {
  try {
    const code = await main();
    process.exitCode = code ?? EXIT.ok;
  } catch (error) {
    if (error instanceof InputError) {
      process.stderr.write(`${error.message}\n`);
      process.exitCode = EXIT.badInput;
    } else if (error instanceof CommanderError) {
      // --help and --version end through here with exit code 0.
      process.exitCode = error.exitCode === 0 ? EXIT.ok : EXIT.badInput;
    } else {
      process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
      process.exitCode = EXIT.failed;
    }
  }
}
