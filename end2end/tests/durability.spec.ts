// Edits typed fast in two browsers on two instances (A and B, sharing a database and a Redis) are all
// kept: both copies converge on every word, and once both pages are closed (each instance's session
// ends, and folds the document's log), pages opened again on either instance have every word. Each
// page types hundreds of keystrokes, one stored update each, so the log is folded several times
// while they type.
import type { Browser, Page } from '@playwright/test';
import { test, expect, hydrated, latestReportId, signIn, type User } from './fixtures';
import { INSTANCE_A, INSTANCE_B, instanceURL } from './instances';

const A = instanceURL(INSTANCE_A);
const B = instanceURL(INSTANCE_B);

/** A signed-in page on one instance, in its own browser context, with its console watched. */
async function pageOn(browser: Browser, baseURL: string, user: User, errors: string[]): Promise<Page> {
  const context = await browser.newContext({ baseURL });
  await signIn(context.request, user, baseURL);
  const page = await context.newPage();
  page.on('console', (msg) => {
    if (msg.type() === 'error' || msg.type() === 'warning') errors.push(`${baseURL} ${msg.type()}: ${msg.text()}`);
  });
  page.on('pageerror', (err) => errors.push(`${baseURL} pageerror: ${err.message}`));
  return page;
}

/** Opens the report's editor on the risks text. */
async function openEditor(page: Page, id: number) {
  await page.goto(`/reports/${id}`);
  await hydrated(page);
  await expect(page.getByTestId('collab-state')).toHaveAttribute('data-link', 'live');
  await page.getByTestId('edit-toggle').click();
  await expect(page.getByTestId('edit-risks')).toBeVisible();
}

/** `count` numbered words, e.g. ` A0. A1. …`. */
function words(tag: string, count: number): string[] {
  return Array.from({ length: count }, (_, i) => ` ${tag}${i}.`);
}

test('fast typing on two instances is all there after both sessions end', async ({ browser }) => {
  test.setTimeout(90_000);
  const id = await latestReportId(A, 'HBR');
  const errors: string[] = [];
  const onA = await pageOn(browser, A, 'eddie', errors);
  const onB = await pageOn(browser, B, 'admin', errors);
  await openEditor(onA, id);
  await openEditor(onB, id);
  // Both see each other across the instances: the relay is up.
  await expect(onA.getByTestId('presence').locator('[data-user=admin]')).toBeVisible();
  await expect(onB.getByTestId('presence').locator('[data-user=eddie]')).toBeVisible();

  const fromA = words('A', 45);
  const fromB = words('B', 45);
  const textA = onA.getByTestId('edit-risks');
  const textB = onB.getByTestId('edit-risks');
  // At once, as fast as the keyboard goes: eddie at the end, the admin at the start.
  await Promise.all([
    (async () => {
      await textA.click();
      await onA.keyboard.press('Control+End');
      await onA.keyboard.type(fromA.join(''));
    })(),
    (async () => {
      await textB.click();
      await onB.keyboard.press('Control+Home');
      await onB.keyboard.type(fromB.join(''));
    })(),
  ]);
  // Each word without its leading space: when both typists start in an empty narrative, the start
  // and the end are one place, and a typist's caret can move past the other's text arriving exactly
  // there, so a space typed before it may end up apart from the word after it. Nothing is lost
  // (what this test is about); `A1.` is never part of another word (`A11.`, `B1.`).
  const holdsAll = (text: string) => [...fromA, ...fromB].every((w) => text.includes(w.trim()));
  await expect.poll(async () => holdsAll(await textA.inputValue()), { timeout: 30_000 }).toBe(true);
  await expect.poll(async () => holdsAll(await textB.inputValue()), { timeout: 30_000 }).toBe(true);
  await expect.poll(async () => (await textA.inputValue()) === (await textB.inputValue())).toBe(true);
  const merged = await textA.inputValue();
  // Every edit acknowledged before the pages close.
  await expect(onA.getByTestId('collab-state')).not.toContainText('saving');
  await expect(onB.getByTestId('collab-state')).not.toContainText('saving');
  await onA.context().close();
  await onB.context().close();

  // Opened again, on each instance: all the text is there.
  for (const [base, user] of [[A, 'eddie'], [B, 'admin']] as const) {
    const again = await pageOn(browser, base, user, errors);
    await openEditor(again, id);
    await expect(again.getByTestId('edit-risks')).toHaveValue(merged);
    await again.context().close();
  }
  expect(errors).toEqual([]);
});
