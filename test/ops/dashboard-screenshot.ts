/**
 * `npm run docs:screenshot`: writes docs/dashboard.png, the README's picture of the dashboard
 * (1280x800), from the fixture application under traffic: `payments` CLOSED with a few failures,
 * `inventory` tripped OPEN halfway through and still called (refusals), `search` forced open with
 * the page's own button. Takes SCREENSHOT_SECONDS (default 45) of traffic first, so the sparklines
 * have points. Not run by CI.
 */
import { fileURLToPath } from 'node:url';
import { launchChromium } from './fixture/chromium.js';
import { call, startDashboardApp } from './fixture/dashboard-app.js';

const seconds = Number(process.env.SCREENSHOT_SECONDS ?? 45);
const output = fileURLToPath(new URL('../../../docs/dashboard.png', import.meta.url));
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const running = await startDashboardApp();
const browser = await launchChromium();
try {
  const { dependencies, registry } = running;
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  await page.goto(running.page);
  await page.waitForSelector('#connection[data-connection="live"]', { timeout: 10_000 });

  const started = Date.now();
  for (let tick = 0; Date.now() - started < seconds * 1000; tick++) {
    const elapsed = (Date.now() - started) / (seconds * 1000);
    // A wave of traffic on payments with one failure in eight calls (never three in a row).
    const wave = Math.round(6 + 5 * Math.sin(tick / 12));
    for (let i = 0; i < wave; i++) {
      if ((tick * 13 + i) % 8 === 0) dependencies.down.add('payments');
      await call(dependencies, 'payments', 1);
      dependencies.down.delete('payments');
    }
    if (elapsed > 0.5) dependencies.down.add('inventory');
    await call(dependencies, 'inventory', 3 + (tick % 4));
    await call(dependencies, 'search', 2);
    if (elapsed > 0.25 && registry.get('search').state === 'CLOSED') {
      await page.getByRole('button', { name: 'Force open search' }).click();
    }
    await sleep(100);
  }
  await page.waitForSelector('[data-breaker="search"][data-state="FORCED_OPEN"]');
  await page.waitForSelector('[data-breaker="inventory"][data-state="OPEN"]');
  await page.screenshot({ path: output });
  console.log(`wrote ${output}`);
} finally {
  await browser.close();
  await running.app.close();
}
