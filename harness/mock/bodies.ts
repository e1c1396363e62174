/**
 * Deterministic response bodies of an exact size with real structure, so the workload's parser
 * does the work it would do on a real page. Built once per size and cached: generating them is
 * the mock's cost, not the job's, and must not sit on the request path.
 */
export type BodyKind = 'html' | 'json' | 'none';

const LOREM = 'Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut labore.';

function htmlItem(k: number): string {
  return `<article class="item" id="item-${k}"><h2><a href="/page/${k}?ref=list">Item ${k}</a></h2><p>${LOREM}</p></article>\n`;
}

function jsonItem(k: number): string {
  return `{"id":${k},"title":"Item ${k}","url":"/page/${k}","summary":"${LOREM}"}`;
}

export class BodyFactory {
  private readonly cache = new Map<string, string>();
  private htmlFiller = '';
  private readonly jsonItems: string[] = [];

  body(kind: BodyKind, bytes: number, index: number): string {
    const key = `${kind}:${bytes}:${index}`;
    let body = this.cache.get(key);
    if (body === undefined) {
      body = this.build(kind, bytes, index);
      this.cache.set(key, body);
    }
    return body;
  }

  /** A body built afresh, not cached: for callers that keep their own (byte) cache. */
  build(kind: BodyKind, bytes: number, index: number): string {
    return kind === 'json' ? this.json(bytes, index) : kind === 'html' ? this.html(bytes, index) : 'x'.repeat(bytes);
  }

  /** Drops cached bodies between invocations that will not be needed again. */
  clear(): void {
    this.cache.clear();
  }

  private html(bytes: number, index: number): string {
    const head = `<!doctype html><html><head><meta charset="utf-8"><title>Page ${index}</title></head><body><main>\n`;
    const tail = '</main></body></html>\n';
    const room = bytes - head.length - tail.length;
    if (room <= 0) return (head + tail).slice(0, Math.max(bytes, 0));
    while (this.htmlFiller.length < room) this.htmlFiller += htmlItem(this.htmlFiller.length);
    // Cut at an item boundary and pad with a comment, so the markup stays well formed.
    const itemEnd = '</article>\n';
    let cut = this.htmlFiller.lastIndexOf(itemEnd, room - itemEnd.length);
    cut = cut < 0 ? 0 : cut + itemEnd.length;
    const padding = room - cut;
    const pad = padding >= 7 ? `<!--${'-'.repeat(padding - 7)}-->` : ' '.repeat(padding);
    return head + this.htmlFiller.slice(0, cut) + pad + tail;
  }

  private json(bytes: number, index: number): string {
    const open = `{"page":${index},"title":"Page ${index}","items":[`;
    const close = '],"pad":""}';
    const items: string[] = [];
    let length = open.length + close.length;
    for (let k = 0; ; k++) {
      while (this.jsonItems.length <= k) this.jsonItems.push(jsonItem(this.jsonItems.length));
      const next = this.jsonItems[k]!.length + (k > 0 ? 1 : 0);
      if (length + next > bytes) break;
      items.push(this.jsonItems[k]!);
      length += next;
    }
    const padding = Math.max(0, bytes - length);
    return `${open}${items.join(',')}],"pad":"${' '.repeat(padding)}"}`;
  }
}
