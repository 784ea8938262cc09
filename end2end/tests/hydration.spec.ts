import { test, expect, hydrated } from './fixtures';
import { PortfolioPage, ReportPage } from './pages';

test('the project filter narrows the list as you type', async ({ page, consoleErrors }) => {
  const portfolio = new PortfolioPage(page);
  await portfolio.open();
  await portfolio.filter.fill('bridge');
  await expect(portfolio.projects).toHaveCount(1);
  await expect(portfolio.count).toHaveText(/1 of 4 projects/);
  await portfolio.filter.fill('zzz nothing');
  await expect(portfolio.projects).toHaveCount(0);
  await expect(page.getByText('No project matches')).toBeVisible();
  await portfolio.filter.fill('');
  await expect(portfolio.projects).toHaveCount(4);
  expect(consoleErrors).toEqual([]);
});

test('the priority filter shows one priority at a time', async ({ page, consoleErrors }) => {
  const report = new ReportPage(page);
  await report.open(1);
  await report.showOnly(/^high/).click();
  await expect(report.sections).toHaveText(['Executive summary', 'Key metrics']);
  await expect(report.showOnly(/^high/)).toHaveAttribute('aria-pressed', 'true');
  await report.showOnly(/^low/).click();
  await expect(report.sections).toHaveCount(3);
  await report.showOnly(/^All/).click();
  await expect(report.sections).toHaveCount(8);
  expect(consoleErrors).toEqual([]);
});

test('the browser code is fetched only after the first contentful paint is on the screen', async ({ page, consoleErrors }) => {
  await page.goto('/');
  await hydrated(page);
  const timings = await page.evaluate(() => ({
    paint: performance.getEntriesByName('first-contentful-paint')[0]?.startTime,
    code: performance.getEntriesByType('resource')
      .filter((e) => /\/pkg\/pmr[^/]*\.(wasm|js)$/.test(e.name))
      .map((e) => e.startTime),
  }));
  expect(timings.paint).toBeDefined();
  expect(timings.code).toHaveLength(2);
  for (const start of timings.code) expect(start).toBeGreaterThanOrEqual(timings.paint!);
  expect(consoleErrors).toEqual([]);
});

test('the page is marked hydrated only once the live bar has replaced its placeholder', async ({ page, consoleErrors }) => {
  // The bar is built in a task after the hydration's own; the mark waits for that task. Checked at
  // the moment the mark is set, by an observer installed before any of the page's scripts run.
  await page.addInitScript(() => {
    new MutationObserver((_, observer) => {
      if (document.documentElement?.dataset.hydrated === 'true') {
        (window as unknown as { barAtMark: object }).barAtMark = {
          placeholder: document.querySelector('.collab--pending') !== null,
          bar: document.querySelector('[data-testid="collab"]') !== null,
        };
        observer.disconnect();
      }
    }).observe(document, { subtree: true, attributes: true, attributeFilter: ['data-hydrated'] });
  });
  const report = new ReportPage(page);
  await report.open(1);
  expect(await page.evaluate(() => (window as unknown as { barAtMark?: object }).barAtMark)).toEqual({
    placeholder: false,
    bar: true,
  });
  expect(consoleErrors).toEqual([]);
});
