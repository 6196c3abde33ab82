/**
 * The dashboard in a real browser (Debian's Chromium through playwright-core) against a real
 * application with the ops module: the cards follow the breakers, and the buttons change them.
 * Waits are on conditions, each with a generous deadline that only guards against a hang.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import type { Browser, Page } from 'playwright-core';
import { launchChromium } from './fixture/chromium.js';
import { ManualClock } from '../../lib/index.js';
import {
  call,
  type DashboardApp,
  OPEN_MS,
  startDashboardApp,
  THRESHOLD,
} from './fixture/dashboard-app.js';

/** Makes calls to `name` every few milliseconds until `done` resolves or rejects. */
async function trafficUntil<T>(
  app: DashboardApp,
  name: 'payments' | 'inventory' | 'search',
  done: Promise<T>,
): Promise<T> {
  let finished = false;
  const result = done.finally(() => {
    finished = true;
  });
  while (!finished) {
    await call(app.dependencies, name, 5);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return result;
}

/** Hang guard for every wait in the browser (not a duration being asserted). */
const DEADLINE = { timeout: 10_000 };

let browser: Browser;
let running: DashboardApp | undefined;
let page: Page | undefined;

beforeAll(async () => {
  browser = await launchChromium();
});

afterEach(async () => {
  await page?.close();
  page = undefined;
  await running?.app.close();
  running = undefined;
});

afterAll(async () => {
  await browser?.close();
});

/** Opens the dashboard of `app` and waits until its event stream is live. */
async function open(
  app: DashboardApp,
): Promise<{ page: Page; requests: string[]; errors: string[] }> {
  page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  const requests: string[] = [];
  const errors: string[] = [];
  page.on('request', (request) => requests.push(request.url()));
  page.on('pageerror', (error) => errors.push(`page error: ${error.message}`));
  page.on('console', (message) => {
    // A blocked inline script or style (CSP) or a failed request is reported as a console error.
    if (message.type() === 'error') errors.push(`console: ${message.text()}`);
  });
  await page.goto(app.page);
  await page.waitForSelector('#connection[data-connection="live"]', DEADLINE);
  return { page, requests, errors };
}

/** `promise`, or a rejection naming `what` after the hang guard's deadline. */
async function within<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`Timed out waiting until ${what}`)),
      DEADLINE.timeout,
    );
  });
  try {
    return await Promise.race([promise, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/** Resolves once `check` holds, checked every few milliseconds, within the hang guard's deadline. */
async function eventually(page: Page, what: string, check: () => Promise<boolean>): Promise<void> {
  const giveUp = Date.now() + DEADLINE.timeout;
  while (!(await check())) {
    if (Date.now() > giveUp) throw new Error(`Timed out waiting until ${what}`);
    await page.waitForTimeout(25);
  }
}

/** The colour of a card's state (its left border). */
async function colour(page: Page, name: string): Promise<string> {
  return page.$eval(
    card(name),
    (element) => element.ownerDocument.defaultView!.getComputedStyle(element).borderLeftColor,
  );
}

const card = (name: string, state?: string): string =>
  `[data-breaker="${name}"]${state === undefined ? '' : `[data-state="${state}"]`}`;

describe.each(['express', 'fastify'] as const)('the dashboard on %s', (platform) => {
  it('turns a card OPEN when its breaker trips, and "Close" closes the breaker', async () => {
    // Summaries an hour apart: after the one sent on connect, only transition events move a card.
    running = await startDashboardApp({ platform, streamSummaryInterval: 3_600_000 });
    const { registry, dependencies } = running;
    const { page, requests, errors } = await open(running);
    await page.waitForSelector(card('payments', 'CLOSED'), DEADLINE);
    expect(await page.textContent(`${card('payments')} [data-field="state"]`)).toBe('CLOSED');
    expect(await colour(page, 'payments')).toBe('rgb(26, 127, 55)'); // green

    dependencies.down.add('payments');
    await call(dependencies, 'payments', THRESHOLD);
    expect(registry.get('payments').state).toBe('OPEN');

    await page.waitForSelector(card('payments', 'OPEN'), DEADLINE);
    expect(await page.textContent(`${card('payments')} [data-field="state"]`)).toBe('OPEN');
    expect(await colour(page, 'payments')).toBe('rgb(209, 36, 47)'); // red
    expect(await page.textContent(`${card('payments')} [data-field="last-transition"]`)).toMatch(
      /^CLOSED → OPEN/,
    );
    // The other cards did not move.
    expect(await page.getAttribute(card('inventory'), 'data-state')).toBe('CLOSED');

    await page.getByRole('button', { name: 'Close payments' }).click();
    await page.waitForSelector(card('payments', 'CLOSED'), DEADLINE);
    expect(registry.get('payments').state).toBe('CLOSED');
    const lastChange = `${card('payments')} [data-field="last-transition"]`;
    await eventually(page, 'the card shows who closed it', async () =>
      /^OPEN → CLOSED \(reset by dashboard-test\)/.test((await page.textContent(lastChange)) ?? ''),
    );

    // Forcing open a breaker already forced open is no transition: its last change stays.
    // (The server sends a request's event before its answer, and events in order: once search's
    // card moved, the page has handled inventory's.)
    const inventoryChange = `${card('inventory')} [data-field="last-transition"]`;
    await page.getByRole('button', { name: 'Force open inventory' }).click();
    await page.waitForSelector(card('inventory', 'FORCED_OPEN'), DEADLINE);
    await eventually(page, 'the card shows who forced it open', async () =>
      /^CLOSED → FORCED_OPEN \(isolate by dashboard-test\)/.test(
        (await page.textContent(inventoryChange)) ?? '',
      ),
    );
    const before = await page.textContent(inventoryChange);
    const answered = page.waitForResponse(
      (response) => response.request().method() === 'POST' && response.url().endsWith('/inventory'),
      DEADLINE,
    );
    await page.getByRole('button', { name: 'Force open inventory' }).click();
    await answered;
    await page.getByRole('button', { name: 'Disable search' }).click();
    await page.waitForSelector(card('search', 'DISABLED'), DEADLINE);
    expect(await page.textContent(inventoryChange)).toBe(before);
    expect(await page.getAttribute(card('inventory'), 'data-state')).toBe('FORCED_OPEN');

    expect(errors).toEqual([]);
    const origins = new Set(requests.map((url) => new URL(url).origin));
    expect([...origins]).toEqual([running.origin]);
  });
});

describe('the dashboard', () => {
  it('draws calls per second, refusals and new breakers from the summaries; "Force open" and "Disable" act', async () => {
    running = await startDashboardApp({ streamSummaryInterval: 100 });
    const app = running;
    const { page, errors } = await open(app);

    // Calls on inventory: its sparkline gets points and its rate is not zero.
    await trafficUntil(
      app,
      'inventory',
      eventually(page, 'the inventory card draws calls', async () => {
        const points = await page.getAttribute(`${card('inventory')} polyline`, 'points');
        const rate = await page.textContent(`${card('inventory')} [data-field="calls-per-second"]`);
        return (points ?? '').split(' ').filter(Boolean).length >= 3 && /^[1-9]/.test(rate ?? '');
      }),
    );
    expect(await page.textContent(`${card('payments')} [data-field="refused"]`)).toBe('0');

    // Forced open through the page, then called: the refusals are counted on its card.
    await page.getByRole('button', { name: 'Force open search' }).click();
    await page.waitForSelector(card('search', 'FORCED_OPEN'), DEADLINE);
    expect(app.registry.get('search').state).toBe('FORCED_OPEN');
    expect(await colour(page, 'search')).toBe('rgb(130, 7, 30)'); // dark red
    await trafficUntil(
      app,
      'search',
      eventually(page, 'the search card counts refusals', async () => {
        return Number(await page.textContent(`${card('search')} [data-field="refused"]`)) > 0;
      }),
    );

    // The summaries that counted them carry the last transition too, but not who asked for it:
    // the card still says, from the transition event.
    expect(await page.textContent(`${card('search')} [data-field="last-transition"]`)).toMatch(
      /^CLOSED → FORCED_OPEN \(isolate by dashboard-test\), /,
    );

    // A breaker the registry creates later gets its card from the next summary, in name order.
    app.registry.getOrCreate('billing');
    await page.waitForSelector(card('billing', 'CLOSED'), DEADLINE);
    const names = await page.$$eval('[data-breaker]', (cards) =>
      cards.map((element) => element.getAttribute('data-breaker')),
    );
    expect(names).toEqual(['billing', 'inventory', 'payments', 'search']);

    await page.getByRole('button', { name: 'Disable payments' }).click();
    await page.waitForSelector(card('payments', 'DISABLED'), DEADLINE);
    expect(app.registry.get('payments').state).toBe('DISABLED');
    expect(await colour(page, 'payments')).toBe('rgb(110, 119, 129)'); // grey
    expect(errors).toEqual([]);
  });

  it('shows HALF_OPEN, amber, once the open period is over', async () => {
    const clock = new ManualClock(1_000_000);
    running = await startDashboardApp({ clock, streamSummaryInterval: 100 });
    const { page } = await open(running);
    running.dependencies.down.add('payments');
    await call(running.dependencies, 'payments', THRESHOLD);
    await page.waitForSelector(card('payments', 'OPEN'), DEADLINE);

    clock.advance(OPEN_MS);
    // The next summary reads the state, which finds the open period over.
    await page.waitForSelector(card('payments', 'HALF_OPEN'), DEADLINE);
    expect(await colour(page, 'payments')).toBe('rgb(191, 135, 0)'); // amber
    expect(running.registry.get('payments').state).toBe('HALF_OPEN');
  });

  it("goes through the application's guards: a refused change is shown and changes nothing", async () => {
    running = await startDashboardApp({ readOnly: true });
    const { page } = await open(running);
    await page.waitForSelector(card('payments', 'CLOSED'), DEADLINE);

    await page.getByRole('button', { name: 'Force open payments' }).click();
    const message = page.locator(`${card('payments')} [data-field="message"][data-error]`);
    await message.waitFor(DEADLINE);
    expect(await message.textContent()).toMatch(/^FORCE_OPEN failed: .*forbidden/i);
    expect(running.registry.get('payments').state).toBe('CLOSED');
    expect(await page.getAttribute(card('payments'), 'data-state')).toBe('CLOSED');
  });

  it('reconnects when the stream drops, also after an error answer, and shows the new state', async () => {
    const first = await startDashboardApp();
    running = first;
    const { page } = await open(first);
    await page.waitForSelector(card('payments', 'CLOSED'), DEADLINE);
    const { port } = first.app.getHttpServer().address() as AddressInfo;

    // The application goes away; for a while its port answers 503 (a proxy with no upstream):
    // the browser gives up on its own, and the page must retry.
    await first.app.close();
    running = undefined;
    let sawStream!: () => void;
    const streamRefused = new Promise<void>((resolve) => (sawStream = resolve));
    const proxy = createServer((request, response) => {
      if (request.url?.includes('streamcircuitbreakerevents')) sawStream();
      response
        .writeHead(503, { 'content-type': 'text/plain', connection: 'close' })
        .end('no upstream');
    });
    await new Promise<void>((resolve) => proxy.listen(port, '127.0.0.1', resolve));
    try {
      await page.waitForSelector('#connection[data-connection="reconnecting"]', DEADLINE);
      await within(streamRefused, 'the page asked the 503 proxy for the stream');
      // Retrying, the page reloads the list too, and says why it has none.
      const empty = page.locator('#empty', { hasText: 'Could not load the circuit breakers: 503' });
      await empty.waitFor(DEADLINE);
    } finally {
      proxy.closeAllConnections();
      await new Promise((resolve) => proxy.close(resolve));
    }

    running = await startDashboardApp({ port });
    running.registry.get('payments').isolate();
    await page.waitForSelector(card('payments', 'FORCED_OPEN'), { timeout: 30_000 });
    await page.waitForSelector('#connection[data-connection="live"]', DEADLINE);
    await page.locator('#empty').waitFor({ state: 'hidden', ...DEADLINE });
  });

  it('fails, naming how to install it, when Chromium is missing', async () => {
    await expect(launchChromium('/nonexistent/chromium')).rejects.toThrow(
      /needs Chromium at \/nonexistent\/chromium, which is missing\. Install it with `sudo apt-get install -y --no-install-recommends chromium`/,
    );
  });
});
