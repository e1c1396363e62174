import { readFileSync } from 'node:fs';
import { InputError } from '../errors.ts';
import { writeFileAtomic } from '../write-file.ts';

/** Reads a deployment file to edit; a missing or unreadable file is bad input, named. */
export function readDeploymentFile(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new InputError({
      file,
      field: '--apply',
      problem: code === 'ENOENT' ? 'no such file' : `cannot read the file (${code ?? String(error)})`,
      fix: code === 'ENOENT' ? 'pass an existing template, serverless.yml or .tfvars file' : 'check the file permissions',
    });
  }
}

/**
 * Writes the edited deployment file in place (through a symbolic link to the file it points to,
 * keeping its permissions); a file that cannot be written is bad input, named, and left as it was.
 */
export function writeDeploymentFile(file: string, text: string): void {
  try {
    writeFileAtomic(file, text);
  } catch (error) {
    throw new InputError({
      file,
      field: '--apply',
      problem: `cannot write the file (${(error as NodeJS.ErrnoException).code ?? String(error)}); it is unchanged`,
      fix: 'check the permissions of the file and its folder',
    });
  }
}
