/**
 * Everything a results file says (a description, a URL, a warning, an error message) is text
 * from outside: these functions make it inert in HTML, in a <script> element and in Markdown.
 */

const HTML_ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Safe in element content and in quoted attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => HTML_ENTITIES[c]!);
}

/**
 * JSON that can sit inside <script>: `</script>` or `<!--` in the data cannot end the element,
 * and U+2028/U+2029 cannot end a line in older parsers. JSON.parse reads the escapes back.
 */
export function jsonForScript(value: unknown): string {
  return JSON.stringify(value).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/**
 * A library's source made safe to inline in <script>: source maps are dropped (a viewer would
 * try to fetch them), a `</script` inside a string literal cannot close the element early, and
 * line breaks are LF and NULs U+FFFD, as the HTML parser makes them: the page's policy allows a script by the
 * hash of its text as the browser reads it, so the text written must be that text.
 */
export function scriptSource(source: string): string {
  return source
    .replace(/\r\n?/g, '\n')
    .replace(/\0/g, '\ufffd')
    .replace(/^\/\/# sourceMappingURL=.*$/gm, '')
    .replace(/<\/(script)/gi, '<\\/$1');
}

/** U+200D ZERO WIDTH JOINER: invisible, and not a character a GitHub @mention can start with. */
const MENTION_BREAK = '\u200d';

/**
 * Text that renders literally in GitHub Markdown, also inside a table cell: one line, Markdown
 * punctuation and pipes backslash-escaped, HTML special characters as entities. Every `@` is
 * followed by a zero-width joiner: GitHub finds mentions in the rendered text, where a backslash
 * escape is gone, so `\@team` would still notify the team; `@<ZWJ>team` reads the same and
 * notifies nobody. The one escaper of every Markdown writer (report summary, branch comparison).
 */
export function escapeMarkdown(text: string): string {
  return text
    .replace(/\r\n|\r|\n/g, ' ')
    .replace(/[\\`*_{}[\]|~#!$]/g, '\\$&')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/@/g, `@${MENTION_BREAK}`);
}

/** Markup that is already safe; only `html` and `trustedHtml` make one. */
export class SafeHtml {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

/** Marks markup built by this module (library code, escaped JSON) as safe to insert unchanged. */
export function trustedHtml(markup: string): SafeHtml {
  return new SafeHtml(markup);
}

type HtmlValue = SafeHtml | string | number | boolean | null | undefined | readonly HtmlValue[];

function renderValue(value: HtmlValue): string {
  if (value instanceof SafeHtml) return value.value;
  if (Array.isArray(value)) return value.map(renderValue).join('');
  if (value === null || value === undefined || value === false) return '';
  return escapeHtml(String(value));
}

/**
 * A template tag that escapes every interpolated string, so forgetting to escape one is not
 * possible: only nested `html` fragments and `trustedHtml` pass through as markup.
 */
export function html(strings: TemplateStringsArray, ...values: HtmlValue[]): SafeHtml {
  let out = strings[0] ?? '';
  values.forEach((value, i) => {
    out += renderValue(value) + (strings[i + 1] ?? '');
  });
  return new SafeHtml(out);
}
