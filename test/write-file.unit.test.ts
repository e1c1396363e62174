import { chmodSync, lstatSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeFileAtomic } from '../harness/write-file.ts';
import { scratchDir } from './helpers/scratch.ts';

const dir = scratchDir('write-file');

describe('writeFileAtomic', () => {
  it('writes a new file, and replaces an existing one keeping its mode', () => {
    const file = join(dir, 'plain.txt');
    writeFileAtomic(file, 'one');
    expect(readFileSync(file, 'utf8')).toBe('one');
    chmodSync(file, 0o600);
    writeFileAtomic(file, 'two');
    expect(readFileSync(file, 'utf8')).toBe('two');
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });

  it('follows a symbolic link, relative or dangling, and leaves the link a link', () => {
    mkdirSync(join(dir, 'real'));
    const target = join(dir, 'real', 'template.yaml');
    writeFileSync(target, 'old');
    chmodSync(target, 0o640);
    const link = join(dir, 'template.yaml');
    symlinkSync(join('real', 'template.yaml'), link);
    writeFileAtomic(link, 'new');
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(readFileSync(target, 'utf8')).toBe('new');
    expect(statSync(target).mode & 0o777).toBe(0o640);

    const dangling = join(dir, 'dangling.yaml');
    symlinkSync(join('real', 'not-yet.yaml'), dangling);
    writeFileAtomic(dangling, 'made');
    expect(lstatSync(dangling).isSymbolicLink()).toBe(true);
    expect(readFileSync(join(dir, 'real', 'not-yet.yaml'), 'utf8')).toBe('made');
  });

  it('removes its temporary file when the rename fails, and throws', () => {
    // A directory cannot be replaced by a file: the write succeeds, the rename fails.
    const folder = join(dir, 'a-folder');
    mkdirSync(folder);
    writeFileSync(join(folder, 'inside'), 'kept');
    expect(() => writeFileAtomic(folder, 'text')).toThrow(/EISDIR|ENOTEMPTY|EEXIST/);
    expect(readdirSync(dir).filter((name) => name.includes('.tmp-'))).toEqual([]);
    expect(readFileSync(join(folder, 'inside'), 'utf8')).toBe('kept');
  });
});
