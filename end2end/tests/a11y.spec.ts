// Accessibility as axe-core checks it (WCAG 2.x A and AA rules and best practices, as Lighthouse's
// accessibility audit runs them): every page, in the light and the dark scheme, at a phone's 375 px and
// a desktop's 1440 px, with no violation. The report page is checked with every lazy section loaded,
// and once more with the collaborative editor open. At 375 px the navigation and the account sit behind
// the header's menu, which must open, close and sign out; at every width the header is one line inside
// the screen, and the progress form's bar stays in view under it.
import AxeBuilder from '@axe-core/playwright';
import type { Page } from '@playwright/test';
import { expect, hydrated, latestReportId, test, type User } from './fixtures';

const SCHEMES = ['light', 'dark'] as const;
const WIDTHS = [375, 1440] as const;

/** Axe's findings on the page as it is now, one line per rule and element. */
async function violations(page: Page): Promise<string[]> {
  const result = await new AxeBuilder({ page }).analyze();
  return result.violations.flatMap((v) =>
    v.nodes.map((n) => `${v.id} (${v.impact}): ${n.target.join(' ')}: ${n.failureSummary?.split('\n').slice(1).join(' ').trim()}`),
  );
}

/** Opens a page in each scheme and width and collects what axe finds, labelled by where. */
async function checkEverywhere(page: Page, path: string, ready: (page: Page) => Promise<void> = async () => {}) {
  const found: string[] = [];
  for (const scheme of SCHEMES) {
    for (const width of WIDTHS) {
      await page.emulateMedia({ colorScheme: scheme });
      await page.setViewportSize({ width, height: 900 });
      await page.goto(path);
      await hydrated(page);
      await ready(page);
      found.push(...(await violations(page)).map((v) => `${scheme} ${width} px: ${v}`));
    }
  }
  return found;
}

/** Brings every lazily loaded section of a report into view and waits for its content. */
async function loadEverySection(page: Page) {
  const waiting = await page.locator('section.report-section[data-state]').evaluateAll((sections) =>
    sections.map((s) => s.id),
  );
  for (const id of waiting) {
    await page.locator(`#${id}`).scrollIntoViewIfNeeded();
    await expect(page.locator(`#${id}`)).toHaveAttribute('data-state', 'done');
  }
  await page.evaluate(() => window.scrollTo(0, 0));
}

const PAGES: { name: string; path: string | (() => Promise<string>); user: User | null; ready?: (page: Page) => Promise<void> }[] = [
  { name: 'the portfolio', path: '/', user: 'admin' },
  { name: 'a project', path: '/projects/ERP', user: 'admin' },
  { name: 'the progress grid', path: '/projects/ERP/progress', user: 'admin' },
  { name: 'a report with every section', path: '/reports/1', user: 'admin', ready: loadEverySection },
  { name: 'the admin page', path: '/admin', user: 'admin' },
  { name: 'the performance dashboard', path: '/admin/performance', user: 'admin' },
  { name: 'the new-project page', path: '/admin/projects/new', user: 'admin' },
  { name: 'the templates page', path: '/admin/templates', user: 'admin' },
  { name: 'the not-found page', path: '/no/such/page', user: 'admin' },
  { name: 'the sign-in page', path: '/login', user: null },
];

for (const { name, path, user, ready } of PAGES) {
  test.describe(() => {
    test.use({ user });
    test(`axe finds nothing on ${name}, light and dark, at 375 and 1440 px`, async ({ page, consoleErrors, allowedConsole }) => {
      // Four loads and analyses; the progress grid's hundreds of cells take axe a while.
      test.setTimeout(180_000);
      // The not-found page answers 404, which the browser logs.
      allowedConsole.push(/status of 404/);
      const at = typeof path === 'string' ? path : await path();
      expect(await checkEverywhere(page, at, ready)).toEqual([]);
      expect(consoleErrors).toEqual([]);
    });
  });
}

test('axe finds nothing on a draft with the collaborative editor open, light and dark', async ({ page, baseURL, consoleErrors }) => {
  test.setTimeout(90_000);
  const id = await latestReportId(baseURL ?? '', 'ERP');
  const found: string[] = [];
  for (const scheme of SCHEMES) {
    for (const width of WIDTHS) {
      await page.emulateMedia({ colorScheme: scheme });
      await page.setViewportSize({ width, height: 900 });
      await page.goto(`/reports/${id}`);
      await hydrated(page);
      await page.getByTestId('edit-toggle').click();
      await expect(page.getByTestId('edit-executive-summary')).toBeVisible();
      found.push(...(await violations(page)).map((v) => `${scheme} ${width} px: ${v}`));
    }
  }
  expect(found).toEqual([]);
  expect(consoleErrors).toEqual([]);
});

test.describe('the header', () => {
  test.use({ user: 'admin' });

  test('at 375 px holds the navigation and the account in a menu that opens, closes and signs out', async ({ page, consoleErrors }) => {
    await page.setViewportSize({ width: 375, height: 800 });
    await page.goto('/');
    await hydrated(page);
    const menu = page.getByRole('button', { name: 'Menu' });
    const signOut = page.getByRole('button', { name: 'Sign out' });
    const admin = page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Admin' });
    await expect(menu).toHaveAttribute('aria-expanded', 'false');
    await expect(signOut).toBeHidden();
    await expect(admin).toBeHidden();
    expect(await page.evaluate(() => document.documentElement.scrollWidth), 'nothing pushes the page sideways').toBeLessThanOrEqual(375);

    // Open: the links, who is signed in and Sign out, inside the screen.
    await menu.click();
    await expect(menu).toHaveAttribute('aria-expanded', 'true');
    await expect(page.getByTestId('user-name')).toHaveText('Administrator');
    for (const target of [signOut, admin]) {
      await expect(target).toBeVisible();
      const box = await target.boundingBox();
      expect(box && box.x >= 0 && box.x + box.width <= 375, 'inside the screen').toBe(true);
    }
    // Escape closes it and gives the focus back to the button.
    await page.keyboard.press('Escape');
    await expect(signOut).toBeHidden();
    await expect(menu).toBeFocused();
    // A link taken closes it on the next page.
    await menu.click();
    await admin.click();
    await expect(page).toHaveURL(/\/admin$/);
    await expect(page.getByRole('heading', { level: 1 })).toBeVisible();
    await expect(menu).toHaveAttribute('aria-expanded', 'false');
    // And Sign out works from it.
    await menu.click();
    await signOut.click();
    await expect(page).toHaveURL(/\/login$/);
    await page.goto('/');
    await expect(page).toHaveURL(/\/login\?next=\/$/);
    expect(consoleErrors).toEqual([]);
  });

  test('is one line inside the screen at every width, the account in reach', async ({ page, consoleErrors }) => {
    // Nine loads of the 60-row grid.
    test.setTimeout(120_000);
    // A tablet's 768 px once pushed "Sign out" off the right edge: the bar wrapped its tagline onto
    // three lines and still overflowed, since only phones got the menu.
    for (const width of [375, 600, 768, 860, 861, 1024, 1100, 1280, 1440]) {
      await page.setViewportSize({ width, height: 800 });
      await page.goto('/projects/ERP/progress');
      await hydrated(page);
      const header = await page.locator('.site-header').boundingBox();
      expect(header && header.height < 70, `${width} px: one line (${header?.height} px)`).toBe(true);
      expect(await page.evaluate(() => document.documentElement.scrollWidth), `${width} px: nothing pushes the page sideways`).toBeLessThanOrEqual(width);
      const menu = page.getByRole('button', { name: 'Menu' });
      if (await menu.isVisible()) {
        await menu.click();
      }
      const signOut = page.getByRole('button', { name: 'Sign out' });
      await expect(signOut).toBeVisible();
      const box = await signOut.boundingBox();
      expect(box && box.x >= 0 && box.x + box.width <= width, `${width} px: Sign out inside the screen`).toBe(true);
      // The progress form's bar stays under the header while its long grid scrolls: Save in view at
      // the last task.
      if (await menu.isVisible()) {
        await page.keyboard.press('Escape');
        await expect(menu).toHaveAttribute('aria-expanded', 'false');
      }
      await page.locator('.progress-grid').first().locator('tbody tr').last().scrollIntoViewIfNeeded();
      const save = await page.getByRole('button', { name: /^Save/ }).boundingBox();
      const top = (await page.locator('.site-header').boundingBox())?.height ?? 0;
      expect(save && save.y >= top - 1 && save.y + save.height <= 800, `${width} px: Save in view below the header (${save?.y})`).toBe(true);
    }
    expect(consoleErrors).toEqual([]);
  });

  test('a cell reached with the arrow keys is not left under the progress form\'s bar', async ({ page, consoleErrors }) => {
    await page.setViewportSize({ width: 1440, height: 800 });
    await page.goto('/projects/ERP/progress');
    await hydrated(page);
    const bar = page.locator('.progress-form__bar');
    await page.locator('#cell-task-10-0').focus();
    // Row 10 just below the bar: row 9, which ArrowUp moves to, is under it (inside the window, so
    // the browser itself would not scroll).
    await page.evaluate(() => {
      const cell = document.getElementById('cell-task-10-0')!;
      const under = document.querySelector('.progress-form__bar')!;
      window.scrollBy(0, cell.getBoundingClientRect().top - under.getBoundingClientRect().bottom - 2);
    });
    const previous = page.locator('#cell-task-9-0');
    const barBox = await bar.boundingBox();
    expect(((await previous.boundingBox())?.y ?? 0) < (barBox?.y ?? 0) + (barBox?.height ?? 0), 'row 9 starts under the bar').toBe(true);
    await page.keyboard.press('ArrowUp');
    await expect(previous).toBeFocused();
    const after = await bar.boundingBox();
    const cell = await previous.boundingBox();
    expect(cell && after && cell.y >= after.y + after.height, `row 9 below the bar (${cell?.y} vs ${after ? after.y + after.height : '?'})`).toBe(true);
    expect(consoleErrors).toEqual([]);
  });

  test('shows the bar itself at 1440 px (no menu button)', async ({ page, consoleErrors }) => {
    await page.setViewportSize({ width: 1440, height: 800 });
    await page.goto('/');
    await hydrated(page);
    await expect(page.getByRole('button', { name: 'Menu' })).toBeHidden();
    await expect(page.getByRole('button', { name: 'Sign out' })).toBeVisible();
    const nav = page.getByRole('navigation', { name: 'Main' });
    await expect(nav.getByRole('link', { name: 'Performance' })).toBeVisible();
    // Each page marks one link as where the reader is.
    for (const [path, here] of [['/admin/performance', 'Performance'], ['/admin', 'Admin'], ['/admin/templates', 'Admin'], ['/', 'Portfolio']]) {
      await page.goto(path);
      await hydrated(page);
      await expect(nav.locator('[aria-current="page"]'), path).toHaveText([here]);
    }
    // Taken in the browser (client-side navigation), the mark follows.
    await nav.getByRole('link', { name: 'Performance' }).click();
    await expect(page).toHaveURL(/\/admin\/performance$/);
    await expect(nav.locator('[aria-current="page"]')).toHaveText(['Performance']);
    await nav.getByRole('link', { name: 'Admin' }).click();
    await expect(page).toHaveURL(/\/admin$/);
    await expect(nav.locator('[aria-current="page"]')).toHaveText(['Admin']);
    expect(consoleErrors).toEqual([]);
  });
});
