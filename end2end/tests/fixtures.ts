// The `test` of every spec:
// - `user` (an option, `eddie` the editor by default) signs the page's browser context in before the
//   test, through the login server function; `test.use({ user: null })` starts signed out;
// - `consoleErrors` fails the test on a browser console error or warning, or an uncaught exception,
//   so hydration mismatches and panics in the WASM never pass silently; a test that provokes an error
//   on purpose (a refused sign-in) lists it in `allowedConsole`.
import { test as base, expect, request as playwrightRequest, type APIRequestContext, type Page } from '@playwright/test';

export type User = 'admin' | 'vera' | 'eddie';

/** Passwords the e2e server is started with (see playwright.config.ts). */
export const PASSWORDS: Record<User, string> = {
  admin: 'e2e admin password',
  vera: 'e2e demo password',
  eddie: 'e2e demo password',
};

type Fixtures = { consoleErrors: string[]; allowedConsole: RegExp[]; user: User | null };

export const test = base.extend<Fixtures>({
  user: ['eddie', { option: true }],
  allowedConsole: async ({}, use) => {
    await use([]);
  },
  page: async ({ page, user, baseURL }, use) => {
    if (user) await signIn(page.request, user, baseURL ?? '');
    await use(page);
  },
  consoleErrors: async ({ page, allowedConsole }, use) => {
    const errors: string[] = [];
    page.on('console', (msg) => {
      if (msg.type() !== 'error' && msg.type() !== 'warning') return;
      const text = `${msg.type()}: ${msg.text()}`;
      if (!allowedConsole.some((pattern) => pattern.test(text))) errors.push(text);
    });
    page.on('pageerror', (err) => errors.push(`pageerror: ${err.message}`));
    await use(errors);
    expect(errors, 'browser console errors and warnings').toEqual([]);
  },
});

export { expect };

/** Signs a request context (and the browser context it belongs to) in, as a script would. */
export async function signIn(request: APIRequestContext, user: User, baseURL: string) {
  const response = await request.post('/api/login', {
    form: { username: user, password: PASSWORDS[user] },
    headers: { Origin: baseURL },
  });
  expect(response.status(), await response.text()).toBe(200);
}

/** Waits until the WASM has hydrated the page (the app marks `<html data-hydrated="true">`). */
export async function hydrated(page: Page) {
  await expect(page.locator('html')).toHaveAttribute('data-hydrated', 'true');
}

/** The id of a project's latest report (a draft in the demo portfolio), looked up as the editor (a
 * member of every project). */
export async function latestReportId(baseURL: string, code: string): Promise<number> {
  const api = await playwrightRequest.newContext({ baseURL });
  await signIn(api, 'eddie', baseURL);
  const response = await api.post('/api/list_portfolio', { headers: { Origin: baseURL } });
  const portfolio = await response.json();
  await api.dispose();
  return portfolio.projects.find((p: { code: string }) => p.code === code).reports[0].id;
}
