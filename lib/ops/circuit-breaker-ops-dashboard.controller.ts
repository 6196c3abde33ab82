import { Get, Header, Req } from '@nestjs/common';
import { renderDashboard } from './dashboard/dashboard-page.js';

const PAGE = 'circuitbreakers-dashboard';

/** The URL path of the request without its query string. */
function pathOf(request: { originalUrl?: string; url?: string }): string {
  const url = request.originalUrl ?? request.url ?? '';
  const query = url.indexOf('?');
  return query === -1 ? url : url.slice(0, query);
}

/**
 * The dashboard page (`dashboard: true`). Its base path is taken from the request's URL, so that a
 * global prefix or a mount point is part of it. Made a controller per `forRoot()`, as the routes.
 * @internal
 */
export class CircuitBreakerOpsDashboardController {
  @Get(PAGE)
  @Header('content-type', 'text/html; charset=utf-8')
  @Header('cache-control', 'no-store')
  page(@Req() request: { originalUrl?: string; url?: string }): string {
    const path = pathOf(request);
    const basePath = path.endsWith(`/${PAGE}`) ? path.slice(0, -PAGE.length - 1) : '';
    return renderDashboard({ basePath });
  }
}
