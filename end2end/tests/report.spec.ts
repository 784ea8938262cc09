import { test, expect } from './fixtures';
import { PortfolioPage, ReportPage } from './pages';

const SECTIONS = [
  'Executive summary',
  'Key metrics',
  'AI insights',
  'Monte Carlo risk analysis',
  'Performance charts',
  'Milestones',
  'Risks',
  'Appendix: task table',
];

test('a report page shows its section titles in template order', async ({ page, consoleErrors }) => {
  const portfolio = new PortfolioPage(page);
  await portfolio.open();
  await portfolio.project('Harbor Bridge Rehabilitation').getByRole('link', { name: /Latest report/ }).click();
  const report = new ReportPage(page);
  await expect(report.heading).toHaveText('Harbor Bridge Rehabilitation: monthly report');
  await expect(report.sections).toHaveText(SECTIONS);
  await expect(report.contents.getByRole('link')).toHaveText(SECTIONS);
  expect(consoleErrors).toEqual([]);
});

test('the period switcher moves between months', async ({ page, consoleErrors }) => {
  const report = new ReportPage(page);
  await report.open(2);
  const month = page.locator('.period');
  const before = await month.textContent();
  await page.getByRole('link', { name: 'Previous month' }).click();
  await expect(month).not.toHaveText(before ?? '');
  await page.getByRole('link', { name: 'Next month' }).click();
  await expect(month).toHaveText(before ?? '');
  expect(consoleErrors).toEqual([]);
});

test('an unknown report says so', async ({ page }) => {
  const response = await page.goto('/reports/987654');
  expect(response?.status()).toBe(404);
  await expect(page.getByRole('alert')).toContainText('There is no report with id 987654.');
  await expect(page.getByRole('link', { name: 'Back to the portfolio' })).toBeVisible();
});

test('a generated report summarises the month and calls out a green status over red figures', async ({ page, consoleErrors }) => {
  const portfolio = new PortfolioPage(page);
  await portfolio.open();
  await portfolio.project('North Plant ERP Rollout').getByRole('link', { name: /Latest report/ }).click();
  const summary = page.locator('#executive-summary');
  await expect(summary).toContainText(/is \d+ % complete against \d+ % planned/);
  await expect(summary).toContainText('The Monte Carlo analysis');
  await expect(summary).toContainText('The declared overall status is green, but the figures say red');
  await expect(summary.getByRole('note')).toContainText('Status mismatch: Declared on track while the figures say off track');
  expect(consoleErrors).toEqual([]);
});

test('a report says what changed since the month before it', async ({ page, consoleErrors }) => {
  const portfolio = new PortfolioPage(page);
  await portfolio.open();
  await portfolio.project('North Plant ERP Rollout').getByRole('link', { name: /Latest report/ }).click();
  const changes = page.getByTestId('changes');
  await expect(changes.getByRole('heading')).toHaveText(/^Since \w+ \d{4}$/);
  await expect(changes.getByRole('row', { name: /^CPI/ })).toBeVisible();
  await changes.getByRole('heading').getByRole('link').click();
  await expect(page.getByRole('link', { name: 'Next month →' })).toBeVisible();
  expect(consoleErrors).toEqual([]);
});
