import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';

/**
 * A chart as a static SVG, drawn in Node without a browser or canvas: for Markdown summaries,
 * PR comments and the HTML page's no-JavaScript fallback. No I/O; the result depends only on
 * the spec. Vega escapes every text and attribute it writes.
 */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
