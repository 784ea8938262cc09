// The project page (issue 23): reached from the portfolio and from a report, it shows the plan at a
// glance, the reports by month and the members; and it is complete without JavaScript.
import { test, expect, hydrated, signIn } from './fixtures';

test('a project is one click from the portfolio and from its reports', async ({ page, consoleErrors }) => {
  await page.goto('/');
  await hydrated(page);
  await page.getByRole('link', { name: 'Clinical Data Warehouse' }).click();
  await expect(page).toHaveURL(/\/projects\/CDW$/);
  await expect(page.getByRole('heading', { level: 1, name: 'Clinical Data Warehouse' })).toBeVisible();
  await expect(page.getByRole('heading', { name: 'Next milestones' })).toBeVisible();
  // The plan: a level row for each WBS level before its tasks, each with a progress meter.
  const plan = page.locator('table.wbs');
  await expect(plan.locator('tbody tr')).not.toHaveCount(0);
  await expect(plan.locator('tr.wbs__row--group').first()).toContainText('tasks');
  await expect(plan.locator('meter').first()).toHaveAttribute('aria-label', /% complete$/);
  // Members include the demo editor.
  await expect(page.getByRole('region', { name: 'Members' })).toContainText('@eddie');
  // Reports newest first; the latest opens and its header leads back here.
  const reports = page.getByRole('region', { name: 'Reports' }).getByRole('link');
  await expect(reports.first()).toBeVisible();
  await reports.first().click();
  await expect(page).toHaveURL(/\/reports\/\d+$/);
  await hydrated(page);
  await page.getByRole('navigation', { name: 'Breadcrumb' }).getByRole('link', { name: /CDW/ }).click();
  await expect(page).toHaveURL(/\/projects\/CDW$/);
  expect(consoleErrors).toEqual([]);
});

test('an unknown project is a clear 404', async ({ page, consoleErrors, allowedConsole }) => {
  allowedConsole.push(/status of 404/);
  const response = await page.goto('/projects/NOPE');
  expect(response?.status()).toBe(404);
  await expect(page.getByText('There is no project with code NOPE.')).toBeVisible();
  expect(consoleErrors).toEqual([]);
});

test('the project page is complete without JavaScript', async ({ browser, baseURL }) => {
  const context = await browser.newContext({ javaScriptEnabled: false });
  await signIn(context.request, 'eddie', baseURL ?? '');
  const page = await context.newPage();
  await page.goto('/projects/HBR');
  await expect(page.getByRole('heading', { level: 1, name: 'Harbor Bridge Rehabilitation' })).toBeVisible();
  await expect(page.locator('table.wbs meter').first()).toBeVisible();
  await context.close();
});
