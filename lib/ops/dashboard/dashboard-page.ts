/** Options of {@link renderDashboard}. */
export interface DashboardPageOptions {
  /** The URL path of the ops routes, as `/actuator` (no trailing slash). */
  readonly basePath: string;
}

const escape = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/**
 * The dashboard page. A placeholder until the dashboard itself lands (branch `dashboard`
 * replaces this file): a valid page with its title and the cards container.
 */
export function renderDashboard({ basePath }: DashboardPageOptions): string {
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Circuit breakers</title></head>
<body data-base-path="${escape(basePath)}"><h1>Circuit breakers</h1><div id="cards"></div></body>
</html>
`;
}
