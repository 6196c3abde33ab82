/**
 * The dashboard's stylesheet, inlined into the page by `dashboard-page.ts`. Each state has its
 * colour (`--c` on the card, by `data-state`) and its name written out, so colour is never the only
 * cue.
 */
export const DASHBOARD_STYLE = `
*{box-sizing:border-box}
body{margin:0;font:14px/1.4 system-ui,sans-serif;background:#f6f8fa;color:#1f2328}
header{display:flex;align-items:baseline;gap:1em;padding:12px 20px;background:#fff;border-bottom:1px solid #d0d7de}
h1{font-size:18px;margin:0}
#connection{font-size:12px;color:#59636e}
#connection[data-connection=live]::before{content:"\\25cf ";color:#1a7f37}
#connection[data-connection=reconnecting]::before{content:"\\25cf ";color:#bf8700}
#cards{display:grid;align-items:start;grid-template-columns:repeat(auto-fill,minmax(290px,1fr));gap:14px;padding:16px 20px}
#empty{margin:0;padding:16px 20px 0;color:#59636e}
article{--c:#6e7781;background:#fff;border:1px solid #d0d7de;border-left:6px solid var(--c);border-radius:6px;padding:10px 14px}
article[data-state=CLOSED]{--c:#1a7f37}
article[data-state=OPEN]{--c:#d1242f}
article[data-state=HALF_OPEN]{--c:#bf8700}
article[data-state=FORCED_OPEN]{--c:#82071e}
article[data-state=DISABLED]{--c:#6e7781}
h2{display:flex;justify-content:space-between;gap:8px;font-size:15px;margin:0 0 6px;overflow-wrap:anywhere}
.state{flex:none;background:var(--c);color:#fff;border-radius:10px;padding:0 8px;font-size:12px;line-height:20px}
dl{display:grid;grid-template-columns:auto 1fr;gap:2px 10px;margin:0 0 6px}
dt{color:#59636e}
dd{margin:0;font-variant-numeric:tabular-nums}
svg{display:block;width:100%;height:36px;background:#f6f8fa;border-radius:3px;margin:2px 0 8px}
polyline{fill:none;stroke:var(--c);stroke-width:1.5;vector-effect:non-scaling-stroke}
button{font:inherit;font-size:12px;padding:3px 9px;border:1px solid #d0d7de;border-radius:5px;background:#f6f8fa;cursor:pointer}
button:hover{background:#eaeef2}
button:disabled{opacity:.5;cursor:default}
.message{min-height:1.4em;margin:4px 0 0;font-size:12px;color:#59636e}
.message[data-error]{color:#d1242f}
.visually-hidden{position:absolute;width:1px;height:1px;overflow:hidden;clip-path:inset(50%)}
`;
