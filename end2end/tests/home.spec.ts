import { test, expect, signIn } from './fixtures';
import { PortfolioPage } from './pages';

test('the home page lists every demo project with its reports', async ({ page, consoleErrors }) => {
  const portfolio = new PortfolioPage(page);
  await portfolio.open();
  await expect(portfolio.projects).toHaveCount(4);
  for (const name of ['Harbor Bridge Rehabilitation', 'Customer Portal Replatform', 'North Plant ERP Rollout', 'Clinical Data Warehouse']) {
    await expect(portfolio.project(name)).toBeVisible();
  }
  await expect(portfolio.reportLinks()).toHaveCount(24);
  await expect(portfolio.project('North Plant ERP Rollout').getByText('Declared: On track')).toBeVisible();
  expect(consoleErrors).toEqual([]);
});

test('the home page is complete without JavaScript', async ({ browser, baseURL }) => {
  const context = await browser.newContext({ javaScriptEnabled: false });
  await signIn(context.request, 'eddie', baseURL ?? '');
  const page = await context.newPage();
  await page.goto('/');
  await expect(page.getByRole('heading', { name: 'Harbor Bridge Rehabilitation' })).toBeVisible();
  await expect(page.locator('a[href^="/reports/"]')).toHaveCount(24);
  await context.close();
});
