/**
 * The dashboard in a real browser (Debian's Chromium through playwright-core) against a real
 * application with the ops module: the cards follow the breakers, and the buttons change them.
 * Waits are on conditions, each with a generous deadline that only guards against a hang.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import type { Browser, Page } from 'playwright-core';
import { launchChromium } from './fixture/chromium.js';
import { call, type DashboardApp, startDashboardApp, THRESHOLD } from './fixture/dashboard-app.js';

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

    dependencies.down.add('payments');
    await call(dependencies, 'payments', THRESHOLD);
    expect(registry.get('payments').state).toBe('OPEN');

    await page.waitForSelector(card('payments', 'OPEN'), DEADLINE);
    expect(await page.textContent(`${card('payments')} [data-field="state"]`)).toBe('OPEN');
    expect(await page.textContent(`${card('payments')} [data-field="last-transition"]`)).toMatch(
      /^CLOSED → OPEN/,
    );
    // The other cards did not move.
    expect(await page.getAttribute(card('inventory'), 'data-state')).toBe('CLOSED');

    await page.getByRole('button', { name: 'Close payments' }).click();
    await page.waitForSelector(card('payments', 'CLOSED'), DEADLINE);
    expect(registry.get('payments').state).toBe('CLOSED');

    expect(errors).toEqual([]);
    const origins = new Set(requests.map((url) => new URL(url).origin));
    expect([...origins]).toEqual([running.origin]);
  });
});

describe('the dashboard', () => {
  it('draws calls per second and refusals from the summaries; "Force open" and "Disable" act', async () => {
    running = await startDashboardApp({ streamSummaryInterval: 100 });
    const app = running;
    const { page, errors } = await open(app);

    // Calls on inventory: its sparkline gets points and its rate is not zero.
    await trafficUntil(
      app,
      'inventory',
      page.waitForFunction(
        (selector) => {
          const line = document.querySelector(`${selector} polyline`);
          const rate = document.querySelector(`${selector} [data-field="calls-per-second"]`);
          const points = (line?.getAttribute('points') ?? '').split(' ').filter(Boolean);
          return points.length >= 3 && /^[1-9]/.test(rate?.textContent ?? '');
        },
        card('inventory'),
        DEADLINE,
      ),
    );
    expect(await page.textContent(`${card('payments')} [data-field="refused"]`)).toBe('0');

    // Forced open through the page, then called: the refusals are counted on its card.
    await page.getByRole('button', { name: 'Force open search' }).click();
    await page.waitForSelector(card('search', 'FORCED_OPEN'), DEADLINE);
    expect(app.registry.get('search').state).toBe('FORCED_OPEN');
    await trafficUntil(
      app,
      'search',
      page.waitForFunction(
        (selector) => Number(document.querySelector(selector)?.textContent) > 0,
        `${card('search')} [data-field="refused"]`,
        DEADLINE,
      ),
    );

    await page.getByRole('button', { name: 'Disable payments' }).click();
    await page.waitForSelector(card('payments', 'DISABLED'), DEADLINE);
    expect(app.registry.get('payments').state).toBe('DISABLED');
    expect(errors).toEqual([]);
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

  it('fails, naming how to install it, when Chromium is missing', async () => {
    await expect(launchChromium('/nonexistent/chromium')).rejects.toThrow(
      /needs Chromium at \/nonexistent\/chromium, which is missing\. Install it with `sudo apt-get install -y --no-install-recommends chromium`/,
    );
  });
});
