// Report templates (issue 23): an admin reaches them from the admin page, makes one in the browser
// (sections added, moved, retitled, reprioritised; refused while it has a problem), and an editor can
// start a report from it. The template's name sorts after the demo's standard template, so the
// project page's default choice, which other specs use, stays the standard one.
import { test, expect, hydrated } from './fixtures';

test.describe('as an admin', () => {
  test.use({ user: 'admin' });

  test('an admin makes a template in the browser and editors can start reports from it', async ({ page, consoleErrors }) => {
    await page.goto('/admin');
    await hydrated(page);
    await page.getByRole('link', { name: 'Report templates' }).click();
    await expect(page).toHaveURL(/\/admin\/templates$/);
    await expect(page.getByRole('heading', { level: 1, name: 'Report templates' })).toBeVisible();
    await expect(page.getByTestId('template').first()).toContainText('Standard monthly report');

    await page.getByTestId('new-template').click();
    const form = page.getByTestId('template-form');
    await expect(form.getByTestId('template-section')).toHaveCount(2);
    // Nameless: refused, with the reason, and nothing is sent.
    await form.getByRole('button', { name: 'Save the template' }).click();
    await expect(form.getByRole('alert')).toContainText('The template needs a name.');
    const name = `Zeta board pack ${Date.now()}`;
    await form.getByLabel('Name').fill(name);
    await form.getByTestId('add-section').selectOption('risks');
    await expect(form.getByTestId('template-section')).toHaveCount(3);
    await form.getByRole('button', { name: 'Move Risks up' }).click();
    await form.getByRole('textbox', { name: 'Title of Risks' }).fill('Top risks');
    await form.getByRole('combobox', { name: 'Loading priority of Risks' }).selectOption('high');
    await form.getByRole('button', { name: 'Remove Key metrics (earned value)' }).click();
    await expect(form.getByTestId('template-section')).toHaveCount(2);
    // A blank title is a problem named with its place.
    await form.getByRole('textbox', { name: 'Title of Executive summary' }).fill(' ');
    await expect(form.getByRole('alert')).toContainText('Section 1 needs a title.');
    await form.getByRole('textbox', { name: 'Title of Executive summary' }).fill('The month');
    await expect(form.getByRole('alert')).toHaveCount(0);
    await form.getByRole('button', { name: 'Save the template' }).click();

    await expect(page.getByTestId('template-saved')).toHaveText(`Saved ${name}.`);
    const card = page.getByTestId('template').filter({ hasText: name });
    await expect(card.locator('.template-sections li')).toHaveText([/^The month/, /^Top risks.*high/i]);
    await expect(card).toContainText('No report made from it yet');

    // Changing it: the form opens with what is stored.
    await card.getByRole('button', { name: `Change ${name}` }).click();
    await expect(page.getByTestId('template-form').getByLabel('Name')).toHaveValue(name);
    await page.getByTestId('template-form').getByRole('button', { name: 'Cancel' }).click();

    // The project page offers it for a new report.
    await page.goto('/projects/HBR');
    await hydrated(page);
    await expect(page.getByRole('combobox', { name: 'Template' }).locator('option', { hasText: name })).toHaveCount(1);
    expect(consoleErrors).toEqual([]);
  });

  test('the templates page and the header fit a phone', async ({ page, consoleErrors }) => {
    await page.setViewportSize({ width: 375, height: 800 });
    await page.goto('/admin/templates');
    await hydrated(page);
    // The list hydrates when its resource is read, after the page: its buttons work from then on.
    await expect(page.getByRole('list', { name: 'Templates' })).toHaveAttribute('data-live', 'true');
    await page.getByRole('button', { name: /^Change / }).first().click();
    await expect(page.getByTestId('template-form')).toBeVisible();
    const width = await page.evaluate(() => document.documentElement.scrollWidth);
    expect(width, 'nothing pushes the page sideways').toBeLessThanOrEqual(375);
    // The navigation is behind the header's menu at this width.
    await page.getByRole('button', { name: 'Menu' }).click();
    await expect(page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Performance' })).toBeVisible();
    expect(consoleErrors).toEqual([]);
  });
});

test('an editor cannot open the templates page', async ({ page, consoleErrors, allowedConsole }) => {
  allowedConsole.push(/status of 403/);
  const response = await page.goto('/admin/templates');
  expect(response?.status()).toBe(403);
  expect(consoleErrors).toEqual([]);
});
