import { chmodSync, lstatSync, readlinkSync, realpathSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

/**
 * Replaces a file's content through a temporary name beside it, so a crash leaves either the old
 * file or the new one, never half of it. A symbolic link is followed: the file it points to gets
 * the new content and the link stays a link (renaming over the link itself would turn it into a
 * plain file and leave its target untouched). An existing file keeps its permissions. Whatever
 * fails, the temporary file is removed and the error thrown as it came.
 */
export function writeFileAtomic(file: string, text: string): void {
  const target = resolveLinks(file);
  const mode = existingMode(target);
  const temporary = `${target}.tmp-${process.pid}`;
  try {
    writeFileSync(temporary, text, mode === undefined ? {} : { mode });
    if (mode !== undefined) chmodSync(temporary, mode);
    renameSync(temporary, target);
  } catch (error) {
    rmSync(temporary, { force: true });
    throw error;
  }
}

/** The real path of `file`; a file not there yet stays as named, and a dangling link leads to where it points. */
function resolveLinks(file: string, depth = 0): string {
  try {
    return realpathSync(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT' || depth > 40) throw error;
    const link = lstatIfAny(file);
    return link?.isSymbolicLink() ? resolveLinks(resolve(dirname(file), readlinkSync(file)), depth + 1) : file;
  }
}

function lstatIfAny(file: string): ReturnType<typeof lstatSync> | undefined {
  try {
    return lstatSync(file);
  } catch {
    return undefined;
  }
}

function existingMode(file: string): number | undefined {
  try {
    return statSync(file).mode & 0o7777;
  } catch {
    return undefined;
  }
}

/** Whether `file` is a directory (following links); false when there is nothing there. */
export function isDirectory(file: string): boolean {
  try {
    return statSync(file).isDirectory();
  } catch {
    return false;
  }
}
