import { chmodSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { InputError } from '../errors.ts';

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
 * Replaces the file through a temporary name in the same directory, keeping its permissions, so a
 * crash leaves either the old file or the new one, never half of it.
 */
export function writeFileAtomic(file: string, text: string): void {
  const temporary = `${file}.tmp-${process.pid}`;
  writeFileSync(temporary, text);
  chmodSync(temporary, statSync(file).mode & 0o7777);
  renameSync(temporary, file);
}
