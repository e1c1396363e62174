import { Parser } from 'htmlparser2';

/** What the job keeps from a page: the row it writes to the database. */
export interface ParsedPage {
  title: string;
  links: number;
}

/** Extracts the title and counts the links with a real streaming HTML parser. */
export function parseHtml(html: string): ParsedPage {
  let title = '';
  let inTitle = false;
  let links = 0;
  const parser = new Parser(
    {
      onopentag(name, attributes) {
        if (name === 'title') inTitle = true;
        else if (name === 'a' && attributes.href) links++;
      },
      ontext(text) {
        if (inTitle) title += text;
      },
      onclosetag(name) {
        if (name === 'title') inTitle = false;
      },
    },
    { decodeEntities: true },
  );
  parser.write(html);
  parser.end();
  return { title: title.trim(), links };
}

export function parseJson(text: string): ParsedPage {
  const data = JSON.parse(text) as { title?: unknown; items?: unknown };
  return {
    title: typeof data.title === 'string' ? data.title : '',
    links: Array.isArray(data.items) ? data.items.length : 0,
  };
}

export function parseBody(kind: 'html' | 'json' | 'none', text: string): ParsedPage {
  if (kind === 'html') return parseHtml(text);
  if (kind === 'json') return parseJson(text);
  return { title: '', links: 0 };
}
