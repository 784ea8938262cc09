// The report reader: sections load by priority (high with the HTML, medium near the viewport, low when
// visible, none twice), a failing section shows its error and recovers on Retry, and the sections are
// usable (tile meanings, Monte Carlo rerun, a sortable, paginated task table) at phone and desktop widths.
import { test, expect, hydrated } from './fixtures';
import type { Page, Route } from '@playwright/test';
import { ReportPage } from './pages';

/** Keys of the sections whose server function the page called, in order. */
function sectionCalls(page: Page): string[] {
  const calls: string[] = [];
  page.on('request', (request) => {
    if (new URL(request.url()).pathname === '/api/get_report_section') {
      calls.push(new URLSearchParams(request.postData() ?? '').get('key') ?? '?');
    }
  });
  return calls;
}

/** Distance in pixels from the bottom of the viewport to the top of an element (negative: visible). */
async function belowFold(page: import('@playwright/test').Page, id: string): Promise<number> {
  return page.locator(`#${id}`).evaluate((el) => el.getBoundingClientRect().top - window.innerHeight);
}

/** Scrolls so that the element's top is `gap` pixels below the bottom of the viewport. */
async function scrollToBelow(page: import('@playwright/test').Page, id: string, gap: number) {
  await page.locator(`#${id}`).evaluate((el, gap) => {
    const top = el.getBoundingClientRect().top + window.scrollY;
    window.scrollTo(0, top - window.innerHeight - gap);
  }, gap);
}

test.use({ viewport: { width: 1280, height: 720 } });

test('sections load by priority, each once', async ({ page, consoleErrors }) => {
  const calls = sectionCalls(page);
  const report = new ReportPage(page);
  await report.open(1);
  // High sections came with the HTML: nothing was fetched, their content is there.
  await expect(page.locator('#executive-summary')).toHaveAttribute('data-state', 'done');
  await expect(page.locator('#key-metrics .kpi')).toHaveCount(7);
  await page.waitForTimeout(300);
  expect(calls).toEqual([]);
  await expect(page.locator('#ai-insights')).toHaveAttribute('data-state', 'waiting');
  await expect(page.locator('#ai-insights')).toHaveAttribute('aria-busy', 'false');

  // A medium section loads once it is within 200 px, before it is visible.
  await scrollToBelow(page, 'ai-insights', 120);
  await expect.poll(() => calls).toContain('ai-insights');
  expect(await belowFold(page, 'ai-insights')).toBeGreaterThan(0);
  await expect(page.locator('#ai-insights .insight').first()).toBeAttached();
  expect(calls).not.toContain('monte-carlo');

  // A low section waits until it is actually in view (the medium one above it, in range, loads).
  await scrollToBelow(page, 'milestones', 120);
  await expect.poll(() => calls).toContain('charts');
  await expect(page.locator('#charts')).toHaveAttribute('data-state', 'done');
  await page.waitForTimeout(300);
  expect(await belowFold(page, 'milestones')).toBeGreaterThan(0);
  expect(calls).not.toContain('milestones');
  await page.locator('#milestones').scrollIntoViewIfNeeded();
  await expect.poll(() => calls).toContain('milestones');
  await expect(page.locator('#milestones tbody tr').first()).toBeVisible();

  // Down to the end and back: every section loaded, none twice.
  await page.locator('#appendix').scrollIntoViewIfNeeded();
  await expect(page.locator('#appendix')).toHaveAttribute('data-state', 'done');
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.waitForTimeout(300);
  expect([...calls].sort()).toEqual(['ai-insights', 'appendix', 'charts', 'milestones', 'monte-carlo', 'risks']);
  expect(consoleErrors).toEqual([]);
});

test('high-priority content is in the server-rendered HTML', async ({ page }) => {
  const html = await (await page.request.get('/reports/1')).text();
  expect(html).toContain('class="kpi__value"');
  expect(html).toMatch(/is \d+ % complete against \d+ % planned/);
  expect(html).not.toContain('class="insight__action"');
  expect(html).not.toContain('class="heatmap"');
});

test('the contents link jumps to a section and loads it', async ({ page, consoleErrors }) => {
  const calls = sectionCalls(page);
  const report = new ReportPage(page);
  await report.open(1);
  await report.contents.getByRole('link', { name: 'Risks' }).click();
  await expect(page.locator('#risks .heatmap')).toBeVisible();
  await expect(report.contents.locator('li[data-state="loaded"]', { hasText: 'Risks' })).toHaveCount(1);
  expect(calls).toContain('risks');
  expect(calls).not.toContain('ai-insights');
  expect(consoleErrors).toEqual([]);
});

test('a contents jump stays on its section while the sections above it load and grow', async ({ page, consoleErrors }) => {
  const report = new ReportPage(page);
  await report.open(1);
  const link = report.contents.getByRole('link', { name: 'Performance charts', exact: true });
  const target = page.locator(`${await link.getAttribute('href')} h2`);
  await link.click();
  // The Monte Carlo section just above loads in the same moment and grows far past its skeleton.
  await expect(report.contents.locator('li[data-state="loaded"]', { hasText: 'Monte Carlo' })).toHaveCount(1);
  await expect(report.contents.locator('li[data-state="loaded"]', { hasText: 'Performance charts' })).toHaveCount(1);
  await expect(target).toBeInViewport();
  expect(consoleErrors).toEqual([]);
});

/** Hands the first request for the AI insights section to `handle` (which fails it, or holds it);
 * every other request goes through. Returns how many requests were handed over so far. */
async function routeInsightsOnce(page: Page, handle: (route: Route) => Promise<void>): Promise<() => number> {
  let handled = 0;
  await page.route('**/api/get_report_section', async (route) => {
    const key = new URLSearchParams(route.request().postData() ?? '').get('key');
    if (key === 'ai-insights' && handled === 0) {
      handled += 1;
      await handle(route);
    } else {
      await route.continue();
    }
  });
  return () => handled;
}

test('only a loading section\'s placeholder shimmers', async ({ page, consoleErrors }) => {
  // The insights' request is held until the test lets it through.
  let release = () => {};
  const released = new Promise<void>((resolve) => (release = resolve));
  await routeInsightsOnce(page, async (route) => {
    await released;
    await route.continue();
  });
  /** The sections whose placeholders are animating. */
  const moving = () =>
    page.evaluate(() => [
      ...new Set(
        document
          .getAnimations()
          .map((a) => ((a.effect as KeyframeEffect | null)?.target as Element | null)?.closest('section')?.id ?? '?'),
      ),
    ]);
  const report = new ReportPage(page);
  await report.open(1);
  // The sections below wait to be scrolled near, their placeholders still: an endless shimmer would
  // repaint every frame for as long as the report stays open.
  await expect(page.locator('#ai-insights')).toHaveAttribute('data-state', 'waiting');
  await expect(page.locator('#ai-insights .skeleton__line').first()).toBeAttached();
  expect(await moving()).toEqual([]);
  // In range, its request out: its placeholder, and only its, shimmers until the content is in.
  await scrollToBelow(page, 'ai-insights', 120);
  await expect(page.locator('#ai-insights')).toHaveAttribute('data-state', 'loading');
  await expect.poll(moving).toEqual(['ai-insights']);
  release();
  await expect(page.locator('#ai-insights .insight').first()).toBeAttached();
  await expect(page.locator('#ai-insights')).toHaveAttribute('data-state', 'done');
  await expect.poll(moving).toEqual([]);
  expect(consoleErrors).toEqual([]);
});

test.describe('a failing section', () => {
  test.use({ allowedConsole: [/status of 503/] });

  test('shows its error and Retry while the others render, and Retry recovers', async ({ page, consoleErrors }) => {
    await routeInsightsOnce(page, (route) =>
      route.fulfill({
        status: 503,
        contentType: 'application/json',
        body: JSON.stringify({ Unavailable: 'The report database is unavailable right now; try again in a moment.' }),
      }),
    );
    const report = new ReportPage(page);
    await report.open(1);
    const insights = page.locator('#ai-insights');
    await insights.scrollIntoViewIfNeeded();
    await expect(insights.getByRole('alert')).toContainText('The report database is unavailable right now');
    await page.locator('#monte-carlo').scrollIntoViewIfNeeded();
    await expect(page.locator('#monte-carlo .plot').first()).toBeVisible();
    await expect(page.locator('#key-metrics .kpi')).toHaveCount(7);
    await insights.getByRole('button', { name: 'Retry' }).click();
    await expect(insights.locator('.insight').first()).toBeVisible();
    await expect(insights.getByRole('alert')).toHaveCount(0);
    expect(consoleErrors).toEqual([]);
  });
});

test.describe('a section whose request never reaches the server', () => {
  test.use({ allowedConsole: [/ERR_INTERNET_DISCONNECTED/] });

  test('says the server could not be reached, and Retry recovers', async ({ page, consoleErrors }) => {
    const failures = await routeInsightsOnce(page, (route) => route.abort('internetdisconnected'));
    const report = new ReportPage(page);
    await report.open(1);
    const insights = page.locator('#ai-insights');
    await insights.scrollIntoViewIfNeeded();
    await expect(insights.getByRole('alert')).toHaveText(
      /The server could not be reached\. Check your connection and try again\./,
    );
    await insights.getByRole('button', { name: 'Retry' }).click();
    await expect(insights.locator('.insight').first()).toBeVisible();
    await expect(insights.getByRole('alert')).toHaveCount(0);
    expect(failures()).toBe(1);
    expect(consoleErrors).toEqual([]);
  });
});

test('key metric tiles explain themselves on focus', async ({ page, consoleErrors }) => {
  const report = new ReportPage(page);
  await report.open(1);
  const cpi = page.locator('#key-metrics .kpi').first();
  await expect(cpi.getByRole('tooltip')).toBeHidden();
  await cpi.focus();
  await expect(cpi.getByRole('tooltip')).toBeVisible();
  await expect(cpi.getByRole('tooltip')).toContainText('Cost performance');
  expect(consoleErrors).toEqual([]);
});

test('the Monte Carlo analysis reruns with another iteration count', async ({ page, consoleErrors }) => {
  const report = new ReportPage(page);
  await report.open(1);
  const section = page.locator('#monte-carlo');
  await section.scrollIntoViewIfNeeded();
  await section.locator('select').selectOption('5000');
  await section.getByRole('button', { name: 'Run again' }).click();
  await expect(section.getByRole('status')).toContainText(/5,000 iterations (simulated|served from the cache) in \d+ ms/);
  await expect(section).toContainText('5,000 iterations from');
  expect(consoleErrors).toEqual([]);
});

test('the task table sorts and pages', async ({ page, consoleErrors }) => {
  const report = new ReportPage(page);
  await report.open(1);
  const appendix = page.locator('#appendix');
  await appendix.scrollIntoViewIfNeeded();
  const budget = appendix.getByRole('columnheader', { name: /Budget/ });
  await budget.getByRole('button').click();
  await expect(budget).toHaveAttribute('aria-sort', 'descending');
  const amounts = await appendix.locator('tbody tr td:nth-child(6)').allTextContents();
  const values = amounts.map((a) => parseFloat(a.replace(/[^\d.]/g, '')) * (a.includes('M') ? 1000 : 1));
  expect(values).toEqual([...values].sort((a, b) => b - a));
  await expect(appendix.getByText(/Page 1 of \d+/)).toBeVisible();
  await appendix.getByRole('button', { name: 'Next →' }).click();
  await expect(appendix.getByText(/Page 2 of \d+/)).toBeVisible();
  expect(consoleErrors).toEqual([]);
});

for (const width of [375, 1440]) {
  test(`the whole report fits a ${width} px wide screen`, async ({ page, consoleErrors }) => {
    await page.setViewportSize({ width, height: 900 });
    const report = new ReportPage(page);
    await report.open(1);
    for (const id of ['ai-insights', 'monte-carlo', 'charts', 'milestones', 'risks', 'appendix']) {
      await page.locator(`#${id}`).scrollIntoViewIfNeeded();
      await expect(page.locator(`#${id}`)).toHaveAttribute('data-state', 'done');
    }
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    // Nor does anything stick out of its section's card (wide tables scroll inside their own box).
    const sticking = await page.evaluate(() =>
      [...document.querySelectorAll<HTMLElement>('section.report-section')]
        .filter((s) => s.scrollWidth > s.clientWidth + 1)
        .map((s) => `${s.id}: ${s.scrollWidth} > ${s.clientWidth}`),
    );
    expect(sticking).toEqual([]);
    await page.screenshot({ path: `test-results/report-${width}.png`, fullPage: true });
    expect(consoleErrors).toEqual([]);
  });
}

// Each lazily loaded section waits behind a placeholder of its shape; when its content arrives it takes
// about the same room, so the page below does not jump. Measured at phone and desktop widths, on a
// report with one insight and one with eight.
for (const [width, id] of [[375, 1], [1440, 1], [1440, 12]] as const) {
  test(`placeholders take their content's height (${width} px, report ${id})`, async ({ page, consoleErrors }) => {
    await page.setViewportSize({ width, height: 900 });
    const report = new ReportPage(page);
    await report.open(id);
    const heights = () =>
      page.evaluate(() =>
        Object.fromEntries(
          [...document.querySelectorAll<HTMLElement>('section.report-section')].map((s) => [
            s.id,
            { state: s.dataset.state, height: s.querySelector<HTMLElement>('.report-section__body')!.offsetHeight },
          ]),
        ),
      );
    const before = await heights();
    const waiting = Object.keys(before).filter((k) => before[k].state === 'waiting');
    expect(waiting.length).toBeGreaterThanOrEqual(5);
    for (const key of waiting) {
      await page.locator(`#${key}`).scrollIntoViewIfNeeded();
      await expect(page.locator(`#${key}`)).toHaveAttribute('data-state', 'done');
    }
    await page.waitForTimeout(300);
    const after = await heights();
    const off = waiting
      .map((k) => ({ k, placeholder: before[k].height, content: after[k].height }))
      .filter(({ placeholder, content }) => Math.abs(content - placeholder) > 0.15 * content)
      .map(({ k, placeholder, content }) => `${k}: placeholder ${placeholder} px, content ${content} px`);
    expect(off).toEqual([]);
    expect(consoleErrors).toEqual([]);
  });
}

test.describe('as an admin', () => {
  test.use({ user: 'admin' });

  test('section load times reach the performance dashboard', async ({ page, consoleErrors }) => {
    const report = new ReportPage(page);
    await report.open(1);
    const recorded = page.waitForResponse((r) => new URL(r.url()).pathname === '/api/record_section_load');
    await page.locator('#ai-insights').scrollIntoViewIfNeeded();
    expect((await recorded).status()).toBe(200);
    await page.goto('/admin/performance');
    await hydrated(page);
    const panel = page.getByRole('region', { name: 'Report sections in the browser' });
    await expect(panel.getByRole('row', { name: /section_load_time.*ai_insights/ })).toBeVisible();
    expect(consoleErrors).toEqual([]);
  });
});
