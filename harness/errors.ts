/**
 * Bad input is a normal outcome of a CLI, not a crash: it carries what the user needs to fix it
 * (the file, the field, the fix) and the entry scripts turn it into one line on stderr and exit 2.
 */
export class InputError extends Error {
  readonly file: string | undefined;
  readonly field: string | undefined;
  readonly fix: string | undefined;

  constructor(parts: { file?: string; field?: string; problem: string; fix?: string }) {
    const where = [parts.file, parts.field].filter(Boolean).join(': ');
    const message = `${where ? `${where}: ` : ''}${parts.problem}${parts.fix ? `. Fix: ${parts.fix}` : ''}`;
    super(message);
    this.name = 'InputError';
    this.file = parts.file;
    this.field = parts.field;
    this.fix = parts.fix;
  }
}

/** Exit codes shared by every command (docs/contracts.md, Exit codes). */
export const EXIT = { ok: 0, failed: 1, badInput: 2 } as const;
