import { createHash } from 'node:crypto';
import { DASHBOARD_SCRIPT } from './dashboard-script.js';
import { DASHBOARD_STYLE } from './dashboard-style.js';

/** What {@link renderDashboard} needs to know about where it is served. */
export interface DashboardPageOptions {
  /**
   * The prefix of the ops routes as the browser must request them, e.g. `/actuator` (with the
   * application's global prefix, if any, in front). A trailing `/` is dropped. A relative value
   * (`.`) resolves against the page's own URL.
   */
  readonly basePath: string;
}

function sha256(text: string): string {
  return `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;
}

/**
 * The page's own Content-Security-Policy, also written into it as a `<meta>`: its inline script
 * and style by hash, requests to its own origin only, nothing else (no other script, style, frame,
 * font or image than an inline `data:` icon). An application may send the same value as a header.
 */
export const DASHBOARD_CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  `script-src ${sha256(DASHBOARD_SCRIPT)}`,
  `style-src ${sha256(DASHBOARD_STYLE)}`,
  "connect-src 'self'",
  'img-src data:',
  "base-uri 'none'",
  "form-action 'none'",
].join('; ');

const HTML_ESCAPES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => HTML_ESCAPES[char]!);
}

/**
 * The live dashboard: one self-contained HTML page (inline style and script, nothing fetched from
 * anywhere but the ops routes under `basePath`). A card per breaker with its state, failure rate,
 * calls per second over the last two minutes, refusals and last transition, live over the event
 * stream, and buttons to force open, close and disable it through the (guarded) ops endpoints.
 *
 * @throws TypeError when `basePath` is not a string.
 */
export function renderDashboard(options: DashboardPageOptions): string {
  const basePath: unknown = options?.basePath;
  if (typeof basePath !== 'string') {
    throw new TypeError(
      `renderDashboard: options.basePath must be a string (the ops routes' prefix, e.g. "/actuator"), received ${typeof basePath}`,
    );
  }
  const base = basePath.replace(/\/+$/, '');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="${DASHBOARD_CONTENT_SECURITY_POLICY}">
<meta name="referrer" content="no-referrer">
<title>Circuit breakers</title>
<link rel="icon" href="data:,">
<style>${DASHBOARD_STYLE}</style>
</head>
<body data-base-path="${escapeHtml(base)}">
<header><h1>Circuit breakers</h1><span id="connection" data-connection="connecting" role="status">connecting</span></header>
<main aria-label="Circuit breakers"><p id="empty">Loading&hellip;</p><div id="cards"></div></main>
<template id="card"><article data-state="UNKNOWN"><h2><span data-field="name"></span><span class="state" data-field="state">?</span></h2>
<dl><dt>Failure rate</dt><dd data-field="failure-rate">&mdash;</dd><dt>Calls</dt><dd data-field="calls-per-second">&mdash;</dd><dt>Refused, 2 min</dt><dd data-field="refused">&mdash;</dd><dt>Last change</dt><dd data-field="last-transition">&mdash;</dd></dl>
<svg viewBox="0 0 119 36" preserveAspectRatio="none" role="img" data-field="sparkline"><polyline points=""/></svg>
<div role="group"><button type="button" data-action="FORCE_OPEN">Force open</button> <button type="button" data-action="CLOSE">Close</button> <button type="button" data-action="DISABLE">Disable</button></div>
<p class="message" role="status" data-field="message"></p></article></template>
<div id="announcer" class="visually-hidden" aria-live="polite"></div>
<script>${DASHBOARD_SCRIPT}</script>
</body>
</html>
`;
}
