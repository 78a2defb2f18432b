/**
 * The `stratadb lsm --html` page: one self-contained HTML file (inline CSS, inline script, SVG drawn
 * by that script, the history embedded as JSON), so it opens from disk with no server and fetches
 * nothing. The embedded JSON is exactly what `--json` prints: a script can read it back out of
 * `<script type="application/json" id="lsm-data">`.
 * Contract: pure (data in, text out). Every text from the database (keys, file names) reaches the
 * page only inside that JSON, with `<` written as \u003c so no key can close the script element.
 * Not here: the drawing (lsm-page-script.ts), the data (lsm-history.ts).
 */
import type { LsmHistory } from './lsm-history.js';
import { LSM_PAGE_SCRIPT } from './lsm-page-script.js';

const CSS = `
body { font: 13px system-ui, sans-serif; margin: 12px 16px; color: #222; }
h1 { font-size: 17px; margin: 0 0 4px; }
#summary { color: #555; margin-bottom: 6px; }
#notes { color: #555; font-size: 12px; margin: 4px 0 10px; padding-left: 18px; max-width: 1000px; }
#notes .bad { color: #b00; }
#controls { display: flex; gap: 6px; align-items: center; margin: 6px 0; }
#controls input[type=range] { flex: 0 0 520px; }
#pos { color: #555; }
#reason { font-family: ui-monospace, monospace; margin: 4px 0; min-height: 1.3em; }
#gap { color: #a60; font-size: 12px; min-height: 1.2em; }
#main { display: flex; gap: 18px; align-items: flex-start; }
#tree { overflow-x: auto; border: 1px solid #ddd; }
#side table { border-collapse: collapse; margin-bottom: 10px; }
#side td, #side th { padding: 1px 8px; text-align: right; }
#side th { border-bottom: 1px solid #ccc; }
.lvl { font-weight: bold; font-size: 13px; }
.cnt { font-size: 10px; fill: #555; }
.sep { stroke: #e4e4e4; }
rect.file { stroke: #fff; stroke-width: 0.5; }
rect.added { stroke: #1a8f2e; stroke-width: 2; }
rect.moved { stroke: #1f5fd1; stroke-width: 2; }
rect.deleted { fill: none !important; stroke: #c62828; stroke-width: 1.5; stroke-dasharray: 3 2; }
.wa { fill: none; stroke: #6a3d9a; stroke-width: 1.5; }
.cur { stroke: #c62828; }
.legend span { display: inline-block; margin-right: 12px; }
.sw { display: inline-block; width: 14px; height: 9px; margin-right: 4px; vertical-align: middle; }
`;

/** JSON for a <script> element: `<` escaped (no `</script>` or `<!--` inside), still valid JSON. */
export function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

const escapeHtml = (s: string): string => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);

/** The whole page for `history`; `title` names the database (shown, escaped). */
export function renderLsmPage(history: LsmHistory, title: string): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>LSM: ${escapeHtml(title)}</title>
<style>${CSS}</style>
</head>
<body>
<h1>LSM tree of ${escapeHtml(title)}</h1>
<div id="summary"></div>
<ul id="notes"></ul>
<div id="controls">
  <button id="first" title="first step (Home)">|&lt;</button>
  <button id="prev" title="previous step (left arrow; shift: 10)">&lt;</button>
  <input id="slider" type="range" min="0" max="0" value="0" aria-label="step">
  <button id="next" title="next step (right arrow; shift: 10)">&gt;</button>
  <button id="last" title="last step (End)">&gt;|</button>
  <button id="play" title="play / pause (space)">play</button>
  <span id="pos"></span>
</div>
<div id="reason"></div>
<div id="gap"></div>
<div class="legend">
  <span><i class="sw" style="background:hsl(210,45%,35%)"></i>newer</span>
  <span><i class="sw" style="background:hsl(210,45%,80%)"></i>older (by sequence)</span>
  <span><i class="sw" style="border:2px solid #1a8f2e"></i>written by this step</span>
  <span><i class="sw" style="border:2px dashed #c62828"></i>deleted by this step (inputs)</span>
  <span><i class="sw" style="border:2px solid #1f5fd1"></i>moved</span>
  <span>x: key space by file boundary keys; bar height: file size</span>
</div>
<div id="main">
  <div id="tree"></div>
  <div id="side">
    <table id="levels"></table>
    <table>
      <tr><td>flushed</td><td id="flushed"></td></tr>
      <tr><td>written by compactions</td><td id="compacted"></td></tr>
      <tr><td>write amp so far</td><td id="wamp"></td></tr>
    </table>
    <div class="cnt">write amplification over the steps: (flushed + compacted) / flushed</div>
    <div id="spark"></div>
  </div>
</div>
<script type="application/json" id="lsm-data">${scriptJson(history)}</script>
<script>${LSM_PAGE_SCRIPT}</script>
</body>
</html>
`;
}
