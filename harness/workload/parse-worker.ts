/**
 * A piscina worker: parses one response body off the event loop (work.threads > 0). It runs the
 * same parse as the main thread, so the rows are the same either way.
 */
import { parseBody, type ParsedPage } from './parse.ts';

export interface ParseTask {
  kind: 'html' | 'json' | 'none';
  text: string;
}

export default function parse(task: ParseTask): ParsedPage {
  return parseBody(task.kind, task.text);
}
