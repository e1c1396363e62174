import { Command, CommanderError } from 'commander';
import { EXIT, InputError } from './errors.ts';

/**
 * Runs a command's main function with the exit-code contract of docs/contracts.md: bad input is
 * one line on stderr and exit 2, never a stack trace; anything else unexpected is a bug and shows
 * its stack.
 */
export async function runCli(main: () => Promise<number | void> | number | void): Promise<void> {
  try {
    const code = await main();
    process.exitCode = code ?? EXIT.ok;
  } catch (error) {
    if (error instanceof InputError) {
      process.stderr.write(`error: ${error.message}\n`);
      process.exitCode = EXIT.badInput;
    } else if (error instanceof CommanderError) {
      // --help and --version end the parse with exit code 0: not an error.
      if (error.exitCode === 0) {
        process.exitCode = EXIT.ok;
        return;
      }
      const oneLine = error.message.replace(/^error: /, '').replace(/\s*\n\s*/g, ' ');
      process.stderr.write(`error: ${oneLine}. Fix: run with --help for the usage\n`);
      process.exitCode = EXIT.badInput;
    } else {
      process.stderr.write(`fanout-tuner: unexpected failure (a bug; please report it):\n${error instanceof Error ? error.stack : String(error)}\n`);
      process.exitCode = EXIT.failed;
    }
  }
}

/**
 * A command whose parse errors reach runCli instead of ending the process, printed there as one
 * line like every other bad input.
 */
export function newCommand(name: string): Command {
  return new Command(name).exitOverride().configureOutput({ outputError: () => {} });
}

/** Parses "1,2,4" into at most `maxCount` whole numbers within bounds, naming the flag when it cannot. */
export function parseIntegerList(flag: string, value: string, min: number, max: number, maxCount = Infinity): number[] {
  const parts = value.split(',').map((part) => part.trim());
  if (parts.length > maxCount) {
    throw new InputError({ field: flag, problem: `lists ${parts.length} values, more than ${maxCount}`, fix: `give at most ${maxCount} values` });
  }
  const numbers = parts.map(Number);
  const bad = parts.find((part, i) => part === '' || !Number.isInteger(numbers[i]) || numbers[i]! < min || numbers[i]! > max);
  if (bad !== undefined) {
    throw new InputError({
      field: flag,
      problem: `"${bad}" is not a whole number from ${min} to ${max}`,
      fix: `give a comma-separated list such as ${flag} ${min},${Math.min(max, min * 2)},${Math.min(max, min * 4)}`,
    });
  }
  return numbers;
}

export function parseNumber(flag: string, value: string, min: number, max: number, integer = false): number {
  const number = Number(value);
  if (value.trim() === '' || !Number.isFinite(number) || number < min || number > max || (integer && !Number.isInteger(number))) {
    throw new InputError({
      field: flag,
      problem: `"${value}" is not ${integer ? 'a whole number' : 'a number'} from ${min} to ${max}`,
      fix: `pass for example ${flag} ${min === 0 ? 1 : min}`,
    });
  }
  return number;
}
