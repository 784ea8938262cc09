// Accounts and roles in the browser: each role sees what it may do and nothing more; signing in and
// out works, with and without JavaScript.
import { request as playwrightRequest } from '@playwright/test';
import { test, expect, hydrated, latestReportId, signIn, PASSWORDS } from './fixtures';
import { PortfolioPage } from './pages';

test.describe('signed out', () => {
  test.use({ user: null });

  test('a protected page sends you to sign in and brings you back', async ({ page, consoleErrors, allowedConsole }) => {
    allowedConsole.push(/status of 401/);
    await page.goto('/');
    await expect(page).toHaveURL(/\/login\?next=\/$/);
    await hydrated(page);
    await expect(page.getByRole('heading', { name: 'Sign in' })).toBeVisible();
    await page.getByLabel('User name').fill('vera');
    await page.getByLabel('Password').fill('not the password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect(page.getByTestId('login-error')).toHaveText('The user name or password is incorrect.');
    await page.getByLabel('Password').fill(PASSWORDS.vera);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect(page).toHaveURL(/\/$/);
    await hydrated(page);
    await expect(page.getByTestId('user-name')).toHaveText('Vera Viewer');
    expect(consoleErrors).toEqual([]);
  });

  test('an unknown account gets the same message as a wrong password', async ({ page, consoleErrors, allowedConsole }) => {
    allowedConsole.push(/status of 401/);
    await page.goto('/login');
    await hydrated(page);
    await page.getByLabel('User name').fill('nobody-here');
    await page.getByLabel('Password').fill('whatever password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect(page.getByTestId('login-error')).toHaveText('The user name or password is incorrect.');
    expect(consoleErrors).toEqual([]);
  });

  test('signing in works without JavaScript', async ({ browser }) => {
    const context = await browser.newContext({ javaScriptEnabled: false });
    const page = await context.newPage();
    await page.goto('/reports/1');
    await expect(page).toHaveURL(/\/login\?next=\/reports\/1$/);
    await page.getByLabel('User name').fill('eddie');
    await page.getByLabel('Password').fill(PASSWORDS.eddie);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect(page).toHaveURL(/\/reports\/1$/);
    await expect(page.getByRole('heading', { level: 1 })).toContainText('monthly report');
    await context.close();
  });
});

test.describe('viewer', () => {
  test.use({ user: 'vera' });

  test('sees only the projects she is a member of, and no editing or admin controls', async ({ page, consoleErrors }) => {
    const portfolio = new PortfolioPage(page);
    await portfolio.open();
    await expect(page.getByTestId('user-name')).toHaveText('Vera Viewer');
    await expect(page.getByTestId('user-role')).toHaveText('viewer');
    await expect(portfolio.projects).toHaveCount(2);
    await expect(portfolio.project('Harbor Bridge Rehabilitation')).toBeVisible();
    await expect(portfolio.project('Clinical Data Warehouse')).toBeVisible();
    await expect(page.getByRole('link', { name: 'Admin' })).toHaveCount(0);
    await portfolio.project('Harbor Bridge Rehabilitation').getByRole('link', { name: /Latest report/ }).click();
    await expect(page.locator('.chip--draft')).toBeVisible();
    await expect(page.getByRole('button', { name: /Regenerate/ })).toHaveCount(0);
    await expect(page.getByRole('button', { name: /Publish/ })).toHaveCount(0);
    expect(consoleErrors).toEqual([]);
  });

  // Another project's report is answered word for word like a report that does not exist: the
  // answer does not tell a non-member which reports there are.
  test('is refused the admin page and other projects\' reports', async ({ page, baseURL }) => {
    const admin = await page.goto('/admin');
    expect(admin?.status()).toBe(403);
    await expect(page.getByRole('alert')).toContainText('This needs the admin role');
    const erp = await latestReportId(baseURL ?? '', 'ERP');
    const report = await page.goto(`/reports/${erp}`);
    expect(report?.status()).toBe(404);
    await expect(page.getByRole('alert')).toContainText(`There is no report with id ${erp}.`);
  });

  test('signing out ends the session', async ({ page, consoleErrors }) => {
    await page.goto('/');
    await hydrated(page);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await expect(page).toHaveURL(/\/login$/);
    await page.goto('/');
    await expect(page).toHaveURL(/\/login\?next=\/$/);
    expect(consoleErrors).toEqual([]);
  });
});

test.describe('editor', () => {
  test.use({ user: 'eddie' });

  test('sees every project and can regenerate a draft report', async ({ page, consoleErrors }) => {
    const portfolio = new PortfolioPage(page);
    await portfolio.open();
    await expect(page.getByTestId('user-role')).toHaveText('editor');
    await expect(portfolio.projects).toHaveCount(4);
    await expect(page.getByRole('link', { name: 'Admin' })).toHaveCount(0);
    await portfolio.project('Customer Portal Replatform').getByRole('link', { name: /Latest report/ }).click();
    const regenerate = page.getByRole('button', { name: 'Regenerate from current data' });
    await expect(regenerate).toBeVisible();
    await regenerate.click();
    await expect(page.getByRole('status').filter({ hasText: /Regenerated in \d+ ms\./ })).toBeVisible();
    // Publishing asks first; cancelling changes nothing (server/tests/integration/publish.rs publishes).
    await page.getByRole('button', { name: 'Publish…' }).click();
    const confirm = page.getByRole('group', { name: 'Confirm publishing' });
    await expect(confirm).toContainText('Nobody can edit it afterwards');
    await confirm.getByRole('button', { name: 'Cancel' }).click();
    await expect(confirm).toHaveCount(0);
    await expect(page.locator('.chip--draft')).toBeVisible();
    expect(consoleErrors).toEqual([]);
  });

  test('a publishing confirmation opened while a regeneration reloads the report stays open', async ({ page, consoleErrors }) => {
    const portfolio = new PortfolioPage(page);
    await portfolio.open();
    await portfolio.project('Customer Portal Replatform').getByRole('link', { name: /Latest report/ }).click();
    const regenerate = page.getByRole('button', { name: 'Regenerate from current data' });
    await expect(regenerate).toBeVisible();
    await hydrated(page);
    // The reload of the report that follows a regeneration is held until the confirmation is open,
    // and its title marked, so the rebuilt header can be told from the old one.
    let release = () => {};
    const held = new Promise<void>((resolve) => { release = resolve; });
    await page.route('**/api/get_report_outline*', async (route) => {
      await held;
      const response = await route.fetch();
      const outline = await response.json();
      await route.fulfill({ response, json: { ...outline, title: `${outline.title} (reloaded)` } });
    });
    await regenerate.click();
    await expect(page.getByRole('status').filter({ hasText: /Regenerated in \d+ ms\./ })).toBeVisible();
    await page.getByRole('button', { name: 'Publish…' }).click();
    const confirm = page.getByRole('group', { name: 'Confirm publishing' });
    await expect(confirm).toBeVisible();
    release();
    await expect(page.getByRole('heading', { level: 1 })).toContainText('(reloaded)');
    await expect(confirm).toBeVisible();
    await confirm.getByRole('button', { name: 'Cancel' }).click();
    await expect(confirm).toHaveCount(0);
    await expect(page.getByRole('button', { name: 'Publish…' })).toBeVisible();
    expect(consoleErrors).toEqual([]);
  });
});

test.describe('admin', () => {
  test.use({ user: 'admin' });

  test('creates an account and an API token, and deactivates the account', async ({ page, browser, baseURL, consoleErrors }) => {
    await page.goto('/');
    await hydrated(page);
    await page.getByRole('link', { name: 'Admin' }).click();
    await expect(page.getByRole('heading', { name: 'Administration' })).toBeVisible();
    const accounts = page.getByRole('list', { name: 'Accounts' });
    for (const name of ['admin', 'vera', 'eddie']) {
      await expect(accounts.locator(`[data-username="${name}"]`)).toBeVisible();
    }

    const username = `nina${Date.now() % 100000}`;
    await page.getByText('Add an account').click();
    const form = page.getByRole('form', { name: 'Add an account' });
    await form.getByLabel('User name').fill(username);
    await form.getByLabel('Display name').fill('Nina North');
    await form.getByLabel(/HBR/).check();
    await form.getByRole('button', { name: 'Create account' }).click();
    const secret = page.getByTestId('secret-value');
    await expect(secret).toBeVisible();
    const password = (await secret.textContent()) ?? '';
    expect(password).toHaveLength(20);
    await page.getByRole('button', { name: 'Done' }).click();
    await expect(accounts.locator(`[data-username="${username}"]`)).toContainText('HBR');

    // The new account signs in and sees its one project.
    const nina = await browser.newContext();
    const ninaPage = await nina.newPage();
    await ninaPage.goto('/login');
    await hydrated(ninaPage);
    await ninaPage.getByLabel('User name').fill(username);
    await ninaPage.getByLabel('Password').fill(password);
    await ninaPage.getByRole('button', { name: 'Sign in' }).click();
    await expect(ninaPage.getByTestId('user-name')).toHaveText('Nina North');
    await expect(new PortfolioPage(ninaPage).projects).toHaveCount(1);

    // An API token works with Bearer on the REST API.
    await page.getByText('Create an API token').click();
    const tokenForm = page.getByRole('form', { name: 'Create an API token' });
    await tokenForm.getByLabel('Name').fill(`e2e ${username}`);
    await tokenForm.getByLabel(/CDW/).check();
    await tokenForm.getByRole('button', { name: 'Create token' }).click();
    const token = (await page.getByTestId('secret-value').textContent()) ?? '';
    expect(token).toMatch(/^pmr_/);
    const api = await playwrightRequest.newContext({ baseURL });
    const ok = await api.get('/api/projects/CDW/export', { headers: { Authorization: `Bearer ${token}` } });
    expect(ok.status()).toBe(200);
    // A project outside the token's reach is answered like one that does not exist.
    const refused = await api.get('/api/projects/HBR/export', { headers: { Authorization: `Bearer ${token}` } });
    expect(refused.status()).toBe(404);
    await api.dispose();

    // Deactivating the account signs it out at once.
    const item = accounts.locator(`[data-username="${username}"]`);
    await item.locator('summary').click();
    await item.getByLabel(/^Active/).uncheck();
    await item.getByRole('button', { name: 'Save changes' }).click();
    await expect(item.getByText('Deactivated', { exact: true })).toBeVisible();
    await ninaPage.goto('/');
    await expect(ninaPage).toHaveURL(/\/login/);
    await nina.close();
    expect(consoleErrors).toEqual([]);
  });
});
