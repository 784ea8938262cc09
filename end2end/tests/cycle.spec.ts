// The monthly cycle in the browser, as the three roles live it: an admin creates a project with its
// plan typed in and makes the editor and the viewer its members; the editor records
// the month's progress in the grid (typing, a refused cell, undo, a block pasted from a spreadsheet),
// starts the month's report, writes its summary, publishes it and corrects it by a new revision; the
// viewer reads both revisions, linked, and finds no editing controls anywhere. It runs on the scale-out pair (its own database, so
// the other specs' demo portfolio stays as seeded): the admin on instance A, the editor and the
// viewer on instance B, so every page on B must see what A just wrote. Then the admin allows the editor
// to create projects, and the editor creates one on B and finds it theirs to work on.
import { request as playwrightRequest, type APIRequestContext, type Page } from '@playwright/test';
import { test, expect, hydrated, signIn, type User } from './fixtures';
import { INSTANCE_A, INSTANCE_B, instanceURL } from './instances';

/** A task list as a scheduling tool's CSV export would give it. */
const PLAN = [
  'wbs,name,owner,optimistic_days,most_likely_days,pessimistic_days,planned_start,planned_finish,budgeted_cost,actual_cost,percent_complete,actual_start,actual_finish,predecessors',
  '1.1,Site survey,Kim,4,5,8,2026-09-01,2026-09-07,12000,0,0,,,',
  '1.2,Foundations,Lee,15,20,30,2026-09-08,2026-10-05,80000,0,0,,,1.1',
  '2.1,Steel frame,Ana,20,25,40,2026-10-06,2026-11-09,150000,0,0,,,1.2',
].join('\n');

async function api(baseURL: string, user: User): Promise<APIRequestContext> {
  const context = await playwrightRequest.newContext({ baseURL });
  await signIn(context, user, baseURL);
  return context;
}

/** Adds the project to an account's projects, as the admin page does. */
async function addMember(admin: APIRequestContext, baseURL: string, username: string, code: string) {
  const headers = { Origin: baseURL };
  const overview = await (await admin.post('/api/admin_overview', { headers })).json();
  const account = overview.accounts.find((a: { username: string }) => a.username === username);
  const project = overview.projects.find((p: { code: string }) => p.code === code);
  const change = {
    id: account.id,
    display_name: account.display_name,
    role: account.role,
    active: true,
    projects: [...account.projects, project.id],
    may_create_projects: account.may_create_projects,
  };
  const reply = await admin.post('/api/update_account', { headers, data: { change } });
  expect(reply.status(), await reply.text()).toBe(200);
}

/** Pastes text into an element as a spreadsheet's copy would (a `paste` event with the text). */
async function paste(page: Page, selector: string, text: string) {
  await page.locator(selector).evaluate((el, data) => {
    const transfer = new DataTransfer();
    transfer.setData('text/plain', data);
    el.dispatchEvent(new ClipboardEvent('paste', { clipboardData: transfer, bubbles: true, cancelable: true }));
  }, text);
}

test.describe('the monthly cycle', () => {
  // One after the other: both change the editor's account (its projects, its right to create them),
  // and the admin page saves an account whole.
  test.describe.configure({ mode: 'serial' });
  test.use({ user: 'admin', baseURL: instanceURL(INSTANCE_A) });

  test('create a project, record progress, start, write, publish and correct the report, read both as a viewer', async ({ page, browser, baseURL, consoleErrors }) => {
    test.setTimeout(90_000);
    const onA = baseURL ?? '';
    const base = instanceURL(INSTANCE_B);
    const code = `CY${Date.now() % 1_000_000}`;

    // The admin creates the project with its plan typed in (the editor's test below chooses a file).
    await page.goto('/');
    await hydrated(page);
    await page.getByRole('link', { name: 'New project' }).click();
    await expect(page.getByRole('heading', { name: 'New project' })).toBeVisible();
    await hydrated(page);
    await page.getByLabel('Type the task list (CSV)').check();
    await page.getByLabel('Code').fill(code);
    await page.getByLabel('Name').fill('Depot extension');
    await page.getByLabel('Manager').fill('Pat Lee');
    await page.getByLabel('Start').fill('2026-09-01');
    await page.getByLabel('Target finish').fill('2027-03-31');
    // Its calendar: Saturdays worked, Christmas off, reports as of the 20th.
    await page.getByLabel('Sat', { exact: true }).check();
    await page.getByLabel(/^Holidays/).fill('2026-12-25');
    await page.getByLabel(/^Reporting day/).selectOption('20');
    await page.locator('textarea.plan-text').fill(PLAN);
    await page.getByRole('button', { name: 'Create the project' }).click();
    await expect(page).toHaveURL(new RegExp(`/projects/${code}$`));
    await expect(page.getByRole('heading', { level: 1 })).toHaveText('Depot extension');
    await expect(page.getByText('3 tasks;')).toBeVisible();
    await expect(page.getByText('Mon–Sat · 1 holiday · status on day 20 of each month')).toBeVisible();

    const admin = await api(onA, 'admin');
    await addMember(admin, onA, 'eddie', code);
    await addMember(admin, onA, 'vera', code);
    await admin.dispose();

    // The editor records the month's progress in the grid.
    const editorContext = await browser.newContext({ baseURL: base });
    await signIn(editorContext.request, 'eddie', base);
    const editor = await editorContext.newPage();
    const editorErrors: string[] = [];
    editor.on('console', (msg) => {
      if (msg.type() === 'error' || msg.type() === 'warning') editorErrors.push(`${msg.type()}: ${msg.text()}`);
    });
    editor.on('pageerror', (err) => editorErrors.push(`pageerror: ${err.message}`));
    const editorSockets: string[] = [];
    editor.on('websocket', (ws) => editorSockets.push(ws.url()));
    await editor.goto(`/projects/${code}`);
    await hydrated(editor);
    await editor.getByRole('link', { name: 'Record progress' }).click();
    await expect(editor.getByRole('heading', { name: /Record progress/ })).toBeVisible();
    await hydrated(editor);
    const save = editor.getByRole('button', { name: /^Save/ });
    await expect(save).toBeDisabled();

    // A refused cell says why, in the import's words, and keeps the save back; Undo takes it back.
    const survey = editor.getByLabel('task 1.1 % complete');
    await survey.fill('120');
    await survey.press('Tab');
    await expect(editor.getByTestId('grid-problems')).toContainText('task 1.1, % complete: must be between 0 and 100, not 120');
    await expect(survey).toHaveAttribute('aria-invalid', 'true');
    await expect(save).toBeDisabled();
    await editor.getByRole('button', { name: 'Undo' }).click();
    await expect(survey).toHaveValue('0');
    await expect(editor.getByTestId('grid-problems')).toHaveCount(0);

    // Typed, then a block pasted from a spreadsheet: two rows of % complete, start, finish, cost.
    await survey.fill('100');
    await editor.getByLabel('task 1.1 Actual start').fill('2026-09-01');
    await editor.getByLabel('task 1.1 Actual finish').fill('2026-09-08');
    await editor.getByLabel('task 1.1 Actual cost').fill('11500');
    await paste(editor, '#cell-task-1-0', '60\t2026-09-09\t\t52000\r\n10\t2026-11-02\t\t9000\r\n');
    await expect(editor.getByLabel('task 1.2 % complete')).toHaveValue('60');
    await expect(editor.getByLabel('task 2.1 Actual cost')).toHaveValue('9000');
    // The owner's estimate of the days left on a started task; a finished task takes none.
    await editor.getByLabel('task 1.2 Remaining (days)').fill('30');
    await editor.getByLabel('task 1.1 Remaining (days)').fill('4');
    await editor.getByLabel('task 1.1 Remaining (days)').press('Tab');
    await expect(editor.getByTestId('grid-problems')).toContainText('task 1.1, Remaining (days): must be empty or 0 for a finished task');
    await editor.getByLabel('task 1.1 Remaining (days)').fill('');
    await expect(editor.getByTestId('grid-problems')).toHaveCount(0);
    await expect(save).toHaveText('Save 3 changed rows');
    // A risk found this month joins the plan with the same save; a bad one says why.
    const addRisk = editor.getByRole('group', { name: 'Add a risk' });
    await addRisk.getByLabel('Risk', { exact: true }).fill('Crane failure');
    await addRisk.getByLabel('Probability (0–1)').fill('1.4');
    await addRisk.getByLabel('Affects (WBS codes)').fill('1.2');
    await addRisk.getByRole('button', { name: 'Add the risk' }).click();
    await expect(addRisk.getByRole('alert')).toContainText('New risk Crane failure, Probability (0–1): must be between 0 and 1, not 1.4');
    await addRisk.getByLabel('Probability (0–1)').fill('0.2');
    await addRisk.getByLabel('Cost impact').fill('40000');
    await addRisk.getByLabel('Delay (days)').fill('5');
    await addRisk.getByRole('button', { name: 'Add the risk' }).click();
    await expect(addRisk.getByText('New: Crane failure')).toBeVisible();
    await expect(save).toHaveText('Save 4 changed rows');
    await save.click();
    await expect(editor.getByRole('status').filter({ hasText: /Saved as version 2 of the plan/ })).toBeVisible();
    await expect(editor.getByText('Version 2', { exact: false }).first()).toBeVisible();
    await expect(editor.getByLabel('risk Crane failure Probability (0–1)')).toHaveValue('0.2');
    // The grid has reloaded with the saved plan, and what the save said is still there.
    await expect(editor.getByRole('status').filter({ hasText: /Saved as version 2 of the plan/ })).toBeVisible();
    // Taken out again with its Remove box (a risk is usually closed; this one was a mistake).
    await editor.getByLabel('Remove risk Crane failure').check();
    await expect(save).toHaveText('Save 1 changed row');
    // What the last save said goes once something more is changed: it no longer describes the grid.
    await expect(editor.getByRole('status').filter({ hasText: /Saved as version 2 of the plan/ })).toHaveCount(0);
    await save.click();
    await expect(editor.getByRole('status').filter({ hasText: /Saved as version 3 of the plan/ })).toBeVisible();
    await expect(editor.getByLabel('risk Crane failure Probability (0–1)')).toHaveCount(0);

    // The editor starts the month's report from the project page.
    await editor.getByRole('link', { name: code }).click();
    await expect(editor.getByRole('heading', { name: 'This month' })).toBeVisible();
    await hydrated(editor);
    await expect(editor.getByText(/^Status date: 20 [A-Z][a-z]{2} \d{4}, the month's reporting day\.$/)).toBeVisible();
    await editor.getByRole('button', { name: "Start the month's report" }).click();
    await expect(editor).toHaveURL(/\/reports\/\d+$/);
    await expect(editor.getByRole('heading', { level: 1 })).toHaveText('Depot extension: monthly report');
    await expect(editor.locator('.chip--draft')).toBeVisible();

    // The admin reads the draft on the other instance while the editor works on it.
    await page.goto(new URL(editor.url()).pathname);
    await hydrated(page);
    await expect(page.getByTestId('collab-state')).toHaveAttribute('data-link', 'live');
    await expect(page.locator('.chip--draft')).toBeVisible();

    // Writes the summary together-live, then publishes.
    await expect(editor.getByTestId('collab-state')).toHaveAttribute('data-link', 'live');
    await editor.getByTestId('edit-toggle').click();
    const summary = editor.getByTestId('edit-executive-summary');
    await summary.click();
    await editor.keyboard.type('Foundations are 60 % done; the frame started on 2 November.');
    await expect(editor.getByTestId('collab-state')).not.toContainText('saving');
    await editor.getByRole('button', { name: 'Publish…' }).click();
    const confirm = editor.getByRole('group', { name: 'Confirm publishing' });
    const socketsBefore = editorSockets.length;
    await confirm.getByRole('button', { name: /^Publish/ }).click();
    await expect(editor.getByText(/Published by Eddie Editor/)).toBeVisible();
    const reportUrl = new URL(editor.url()).pathname;
    // The editor's page reloaded the report over the same live connection, the editor closed.
    await expect(editor.getByTestId('collab-state')).toHaveAttribute('data-link', 'live');
    await expect(editor.getByTestId('editor')).toHaveCount(0);
    expect(editorSockets).toHaveLength(socketsBefore);
    // The admin's page, on the other instance, shows it published without being reloaded by hand.
    await expect(page.getByText(/Published by Eddie Editor/)).toBeVisible();
    await expect(page.locator('.chip--final')).toBeVisible();
    await expect(page.getByTestId('collab-notice')).toHaveText('Eddie Editor published this report: it is read-only now.');

    // A published report is corrected by a new revision, never edited in place: the correction
    // starts as a draft holding what was published and, once published, replaces it.
    await editor.getByRole('button', { name: 'Correct…' }).click();
    await editor.getByRole('group', { name: 'Confirm correcting' }).getByRole('button', { name: 'Start the correction' }).click();
    await expect(editor).not.toHaveURL(new RegExp(`${reportUrl}$`));
    await expect(editor.getByText('Revision 2')).toBeVisible();
    await expect(editor.getByTestId('corrects')).toContainText('This draft corrects the month');
    await expect(editor.locator('#executive-summary')).toContainText('the frame started on 2 November');
    await expect(editor.getByTestId('collab-state')).toHaveAttribute('data-link', 'live');
    await editor.getByTestId('edit-toggle').click();
    await editor.getByTestId('edit-executive-summary').click();
    await editor.keyboard.press('Control+End');
    await editor.keyboard.type(' Corrected: the walls follow in January.');
    await expect(editor.getByTestId('collab-state')).not.toContainText('saving');
    await editor.getByRole('button', { name: 'Publish…' }).click();
    await editor.getByRole('group', { name: 'Confirm publishing' }).getByRole('button', { name: /^Publish/ }).click();
    await expect(editor.getByText(/Published by Eddie Editor/)).toBeVisible();
    const correctionUrl = new URL(editor.url()).pathname;
    await editorContext.close();
    expect(editorErrors).toEqual([]);

    // The viewer reads it, with the summary written above, and finds nothing to edit.
    const viewerContext = await browser.newContext({ baseURL: base });
    await signIn(viewerContext.request, 'vera', base);
    const viewer = await viewerContext.newPage();
    await viewer.goto(reportUrl);
    await hydrated(viewer);
    await expect(viewer.getByText(/Published by Eddie Editor/)).toBeVisible();
    await expect(viewer.locator('#executive-summary')).toContainText('the frame started on 2 November');
    await expect(viewer.getByRole('button', { name: /Publish/ })).toHaveCount(0);
    await expect(viewer.getByTestId('edit-toggle')).toHaveCount(0);
    await expect(viewer.getByRole('button', { name: 'Correct…' })).toHaveCount(0);
    // The first publication stays as it was, and leads to its correction.
    await expect(viewer.getByTestId('superseded')).toContainText('A correction replaced this report');
    await expect(viewer.locator('#executive-summary')).not.toContainText('Corrected:');
    await viewer.getByRole('link', { name: 'Read the correction' }).click();
    await expect(viewer).toHaveURL(new RegExp(`${correctionUrl}$`));
    await expect(viewer.locator('#executive-summary')).toContainText('Corrected: the walls follow in January.');
    await expect(viewer.getByTestId('corrects')).toContainText('This revision corrects');
    // The project lists the month once: its correction.
    await viewer.getByRole('link', { name: new RegExp(`${code} · `) }).click();
    await expect(viewer.getByText('Corrected: revision 2')).toBeVisible();
    await viewer.goto(`/projects/${code}`);
    await hydrated(viewer);
    await expect(viewer.getByRole('link', { name: 'Record progress' })).toHaveCount(0);
    await expect(viewer.getByRole('button', { name: "Start the month's report" })).toHaveCount(0);
    const grid = await viewer.goto(`/projects/${code}/progress`);
    expect(grid?.status()).toBe(403);
    await viewerContext.close();
    expect(consoleErrors).toEqual([]);
  });

  test('an admin allows the editor to create projects; the editor creates one and works on it', async ({ page, browser, consoleErrors }) => {
    test.setTimeout(60_000);
    // The admin, on instance A, ticks the editor's right on the admin page.
    await page.goto('/admin');
    await hydrated(page);
    const eddie = page.locator('li.account[data-username="eddie"]');
    await eddie.locator('summary').click();
    await eddie.getByLabel(/^May create projects/).check();
    await eddie.getByRole('button', { name: 'Save changes' }).click();
    // Saved: the list is read again and the account's line says so.
    await expect(page.locator('li.account[data-username="eddie"] summary')).toContainText('creates projects');

    // The editor, on instance B, finds the button, chooses the plan's file and lands on the project,
    // a member.
    const base = instanceURL(INSTANCE_B);
    const context = await browser.newContext({ baseURL: base });
    await signIn(context.request, 'eddie', base);
    const editor = await context.newPage();
    await editor.goto('/');
    await hydrated(editor);
    await editor.getByRole('link', { name: 'New project' }).click();
    await expect(editor.getByRole('heading', { name: 'New project' })).toBeVisible();
    await hydrated(editor);
    const code = `ED${Date.now() % 1_000_000}`;
    await editor.getByLabel('A file (JSON export or CSV task list)').check();
    await editor.getByLabel('Code').fill(code);
    await editor.getByLabel('Name').fill('Editor depot');
    await editor.getByLabel('Manager').fill('Eddie Editor');
    await editor.getByLabel('Start').fill('2026-09-01');
    await editor.getByLabel('Target finish').fill('2027-03-31');
    await editor.getByLabel('Plan file').setInputFiles({ name: 'editor-depot.csv', mimeType: 'text/csv', buffer: Buffer.from(PLAN) });
    await expect(editor.getByText('editor-depot.csv:')).toBeVisible();
    await editor.getByRole('button', { name: 'Create the project' }).click();
    await expect(editor).toHaveURL(new RegExp(`/projects/${code}$`));
    await expect(editor.getByRole('heading', { level: 1 })).toHaveText('Editor depot');
    await expect(editor.getByText('3 tasks;')).toBeVisible();
    await expect(editor.getByRole('link', { name: 'Record progress' })).toBeVisible();
    await context.close();
    expect(consoleErrors).toEqual([]);
  });
});
