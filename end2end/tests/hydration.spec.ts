import { test, expect } from './fixtures';
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
