// A `test` whose every page fails the test on a browser console error or an uncaught exception, so
// hydration mismatches and panics in the WASM never pass silently.
import { test as base, expect, type Page } from '@playwright/test';

type Fixtures = { consoleErrors: string[] };

export const test = base.extend<Fixtures>({
  consoleErrors: async ({ page }, use) => {
    const errors: string[] = [];
    page.on('console', (msg) => {
      if (msg.type() === 'error' || msg.type() === 'warning') errors.push(`${msg.type()}: ${msg.text()}`);
    });
    page.on('pageerror', (err) => errors.push(`pageerror: ${err.message}`));
    await use(errors);
    expect(errors, 'browser console errors and warnings').toEqual([]);
  },
});

export { expect };

/** Waits until the WASM has hydrated the page (the app marks `<html data-hydrated="true">`). */
export async function hydrated(page: Page) {
  await expect(page.locator('html')).toHaveAttribute('data-hydrated', 'true');
}
