/** The review page's stylesheet: GitHub-like type, the matrix, the stepper's grid, and what a lit step looks like. */
export const PAGE_STYLE = `
:root { --fg: #1f2328; --muted: #59636e; --line: #d1d9e0; --bg-soft: #f6f8fa; --bad: #cf222e; --bad-soft: #ffebe9; --good: #1a7f37; --lit: #bf8700; --lit-soft: #fff8c5; --mono: ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono", monospace; }
* { box-sizing: border-box; }
body { margin: 0; color: var(--fg); font: 14px/1.5 -apple-system, "Segoe UI", "Noto Sans", Helvetica, Arial, sans-serif; }
header, main > section { padding: 0 24px; }
header { border-bottom: 1px solid var(--line); padding-bottom: 8px; }
h1 { font-size: 24px; margin: 16px 0 4px; } h2 { font-size: 19px; margin: 24px 0 8px; border-bottom: 1px solid var(--line); } h3 { font-size: 15px; margin: 8px 0; }
code, kbd, .mono { font-family: var(--mono); font-size: 12px; }
kbd { border: 1px solid var(--line); border-bottom-width: 2px; border-radius: 4px; padding: 0 4px; background: var(--bg-soft); }
a { color: #0969da; }
ol.variants { columns: 2; column-gap: 32px; padding-left: 28px; margin: 8px 0; }
table { border-collapse: collapse; }
.matrix th, .matrix td { border: 1px solid var(--line); padding: 2px 8px; }
.matrix thead th { background: var(--bg-soft); }
.matrix tbody th { text-align: left; font-weight: 500; font-family: var(--mono); font-size: 12px; }
.matrix td { text-align: center; min-width: 40px; white-space: nowrap; }
.matrix td.violated { background: var(--bad-soft); font-weight: 600; }
.matrix td.violated a { color: var(--bad); text-decoration: none; display: block; }
.matrix td.holds { color: var(--good); }
.matrix td.selected { outline: 3px solid var(--lit); outline-offset: -2px; }
.warn { color: var(--lit); }
#trace { background: var(--bg-soft); border-bottom: 1px solid var(--line); padding-bottom: 16px; }
.stepper h3 code { font-size: 14px; }
.controls { display: flex; gap: 6px; align-items: center; margin: 8px 0; flex-wrap: wrap; }
.controls button { font: inherit; padding: 2px 10px; border: 1px solid var(--line); border-radius: 6px; background: white; cursor: pointer; }
.controls button:disabled { opacity: .4; cursor: default; }
.controls .where { font-variant-numeric: tabular-nums; min-width: 92px; text-align: center; }
.grid { display: grid; grid-template-columns: minmax(420px, 1fr) minmax(320px, 1fr); gap: 16px; align-items: start; }
.pane .grid { grid-template-columns: 1fr; }
table.steps { width: 100%; background: white; font-family: var(--mono); font-size: 12px; }
table.steps th, table.steps td { border-bottom: 1px solid var(--line); padding: 3px 8px; text-align: left; vertical-align: top; }
table.steps th { background: var(--bg-soft); }
table.steps td.n { color: var(--muted); text-align: right; width: 2em; }
table.steps tr.future td { color: #9aa4ae; }
table.steps tr.current td { background: var(--lit-soft); color: var(--fg); }
table.steps tr.current td.n { box-shadow: inset 3px 0 var(--lit); }
table.steps .mark { color: var(--bad); font-weight: 600; }
.message { border-left: 3px solid var(--bad); background: var(--bad-soft); padding: 6px 10px; margin: 8px 0; font-family: var(--mono); font-size: 12px; white-space: pre-wrap; }
.changes { background: white; border: 1px solid var(--line); border-radius: 6px; padding: 6px 10px; margin-top: 8px; }
.changes ul { margin: 4px 0; padding-left: 18px; font-family: var(--mono); font-size: 12px; }
.diagrams { position: relative; display: flex; flex-direction: column; gap: 10px; max-height: 80vh; overflow: auto; }
figure.diagram { margin: 0; background: white; border: 1px solid var(--line); border-radius: 6px; padding: 6px; opacity: .5; }
figure.diagram.active { opacity: 1; border-color: var(--lit); box-shadow: 0 0 0 2px var(--lit-soft); }
figure.diagram figcaption { font-size: 12px; color: var(--muted); margin-bottom: 4px; }
figure.diagram svg { max-width: 100%; height: auto; }
svg.machine .state rect { fill: #f6f8fa; stroke: #8c959f; }
svg.machine .state text { font: 12px var(--mono); fill: var(--fg); }
svg.machine .edge path { fill: none; stroke: #8c959f; }
svg.machine .edge path.head, svg.machine .initial path.head, svg.machine .initial circle { fill: #57606a; stroke: none; }
svg.machine .initial path:not(.head) { fill: none; stroke: #57606a; }
svg.machine .label { font: 11px var(--mono); fill: var(--muted); }
svg.machine .state.visited rect { fill: var(--lit-soft); stroke: var(--lit); }
svg.machine .state.current rect { fill: var(--lit-soft); stroke: var(--lit); stroke-width: 3; }
svg.machine .edge.fired path:not(.head) { stroke: var(--lit); stroke-width: 2.5; }
svg.machine .edge.fired path.head { fill: var(--lit); }
svg.machine tspan.fired { fill: #7d4e00; font-weight: 700; }
#compare .pickers { display: flex; gap: 12px; flex-wrap: wrap; margin-bottom: 8px; }
#compare select { font: inherit; }
#compare .panes { display: grid; grid-template-columns: 1fr 1fr; gap: 16px; }
.pane { border: 1px solid var(--line); border-radius: 6px; padding: 8px 12px; min-width: 0; }
.pane .verdict { font-weight: 600; }
.pane .verdict.violated { color: var(--bad); } .pane .verdict.holds { color: var(--good); }
`;
