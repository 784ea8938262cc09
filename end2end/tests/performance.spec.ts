// The admin's performance dashboard: figures from the traffic this test makes, an alert fired by
// lowering a threshold and resolved by raising it, and a viewer kept out.
import { test, expect, hydrated } from './fixtures';

test.describe('admin', () => {
  test.use({ user: 'admin' });

  test('the dashboard shows live figures and an alert that fires and resolves', async ({ page, consoleErrors }) => {
    // Real traffic: open a few reports.
    for (const id of [1, 2, 3, 7, 8]) {
      await page.goto(`/reports/${id}`);
    }
    await page.goto('/');
    await hydrated(page);
    await page.getByRole('link', { name: 'Performance' }).click();
    await expect(page.getByRole('heading', { name: 'Performance', level: 1 })).toBeVisible();
    await hydrated(page);

    const api = page.locator('.tile[data-metric="api_response_time"]');
    await expect(api.locator('.tile__value')).toHaveText(/\d+(\.\d+)? (ms|s)/);
    await expect(api).toHaveClass(/tile--ok/);
    await expect(page.locator('.tile[data-metric="database_query_time"] .tile__value')).toHaveText(/ms|s/);
    await expect(page.getByRole('img', { name: 'API response time, p95 and median per minute' }).locator('circle')).not.toHaveCount(0);
    await expect(page.getByRole('table', { name: 'Operations' })).toContainText('/reports/{id}');
    await expect(page.getByRole('table', { name: 'Cache by type' }).locator('[data-cache-type="report"]')).toBeVisible();
    const apiAlerts = page.getByTestId('active-alert').filter({ hasText: 'api_response_time' });
    await expect(apiAlerts).toHaveCount(0);

    // Lower the API threshold far below every response time: an alert fires.
    const row = page.locator('[data-threshold="api_response_time"]');
    await row.getByRole('spinbutton').fill('0.01');
    await row.getByRole('button', { name: 'Save' }).click();
    await expect(page.getByTestId('action-result')).toHaveText('Threshold saved.');
    await expect(apiAlerts.first()).toBeVisible({ timeout: 20_000 });
    await expect(api).toHaveClass(/tile--critical/);

    // Raise it again: the alert resolves and stays in the history with its duration.
    await row.getByRole('spinbutton').fill('60000');
    await row.getByRole('button', { name: 'Save' }).click();
    await expect(apiAlerts).toHaveCount(0, { timeout: 20_000 });
    await page.getByText(/Recent alerts \(\d+\)/).click();
    await expect(page.locator('[data-testid="recent-alert"][data-state="resolved"]').first()).toBeVisible();

    // An admin action with confirmation and a visible result.
    const template = page.locator('[data-cache-type="template"]');
    await template.getByRole('button', { name: 'Clear…' }).click();
    await template.getByRole('button', { name: 'Confirm clear' }).click();
    await expect(page.getByTestId('action-result')).toHaveText('Cache cleared.');
    // Every type at once, after a confirmation that can be called off.
    await page.getByRole('button', { name: 'Clear the whole cache…' }).click();
    const confirm = page.getByRole('group', { name: 'Confirm clearing the whole cache' });
    await confirm.getByRole('button', { name: 'Cancel' }).click();
    await expect(confirm).toHaveCount(0);
    await page.getByRole('button', { name: 'Clear the whole cache…' }).click();
    await confirm.getByRole('button', { name: 'Confirm clear all' }).click();
    await expect(page.getByTestId('action-result')).toHaveText('The whole cache cleared.');
    expect(consoleErrors).toEqual([]);
  });
});

test.describe('viewer', () => {
  test.use({ user: 'vera' });

  test('cannot reach the dashboard', async ({ page }) => {
    const response = await page.goto('/admin/performance');
    expect(response?.status()).toBe(403);
    await expect(page.getByRole('alert')).toContainText('This needs the admin role');
    await expect(page.getByRole('link', { name: 'Performance' })).toHaveCount(0);
  });
});
