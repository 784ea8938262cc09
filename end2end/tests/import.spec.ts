// Bring your schedule (issue 24): on the project page an editor chooses the file Microsoft Project
// saved, sees what it holds before anything changes, replaces the plan with it, regenerates the
// month's draft and finds the file's tasks in the report's task table. A P6 file of two projects
// offers the choice of one, and a new project is made from a file on the new-project page. On the
// scale-out pair's instance A (its own database), on projects made for the test, so the other specs'
// demo projects stay as seeded.
import { request as playwrightRequest } from '@playwright/test';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test, expect, hydrated, signIn } from './fixtures';
import { INSTANCE_A, instanceURL } from './instances';

const FIXTURES = path.join(__dirname, '..', '..', 'server', 'tests', 'fixtures', 'schedules');
const fixture = (name: string) => readFileSync(path.join(FIXTURES, name));

test.use({ user: 'admin', baseURL: instanceURL(INSTANCE_A) });

test('an MSPDI file replaces the plan after a preview, and the regenerated draft lists its tasks', async ({ page, baseURL, consoleErrors }) => {
  const base = baseURL ?? '';
  // A project from Project 2003's file, and its draft for this month from that plan.
  const api = await playwrightRequest.newContext({ baseURL: base });
  await signIn(api, 'admin', base);
  const created = await api.post('/api/projects/import?code=MSP&status_date=2026-11-02', {
    headers: { Origin: base, 'Content-Type': 'application/xml' },
    data: fixture('project-2003.xml'),
  });
  expect(created.status(), await created.text()).toBe(201);
  const templates = await (await api.get('/api/templates')).json();
  const month = new Date().toISOString().slice(0, 7);
  const started = await api.post('/api/projects/MSP/reports', {
    headers: { Origin: base },
    data: { period: month, template_id: templates[0].id },
  });
  expect(started.status(), await started.text()).toBe(201);
  const reportId = (await started.json()).report_id;

  await page.goto('/projects/MSP');
  await hydrated(page);
  const card = page.getByRole('region', { name: 'Bring your schedule' });
  await expect(card.getByRole('button', { name: 'Replace the plan' })).toBeDisabled();
  await card.getByLabel('Schedule file').setInputFiles(path.join(FIXTURES, 'project-2019.xml'));
  // The preview: counts, where the estimates come from, the warnings by place.
  const preview = card.getByRole('status');
  await expect(preview.getByRole('heading', { name: 'Microsoft Project XML: what will be imported' })).toBeVisible();
  await expect(preview).toContainText('9 tasks');
  await expect(preview.locator('dt:text-is("Tasks") + dd')).toHaveText('5');
  await expect(preview.locator('dt:text-is("Milestones") + dd')).toHaveText('2');
  await expect(preview).toContainText('1 task from the file\'s three-point fields, 4 by the rule (optimistic and pessimistic 80 % and 150 % of the planned duration)');
  await preview.getByText(/^8 warnings/).click();
  await expect(preview.getByRole('listitem').filter({ hasText: 'task UID 7, predecessor UID 6' })).toContainText('start-to-start');
  // Nothing has changed yet.
  await expect(page.locator('table.wbs')).not.toContainText('Fabricate boom');

  await card.getByRole('button', { name: 'Replace the plan' }).click();
  await expect(page).toHaveURL(/\/projects\/MSP\?imported=5,2$/);
  await expect(page.getByRole('status').filter({ hasText: 'The plan was replaced from the file: 5 tasks, 2 milestones.' })).toBeVisible();
  await expect(page.locator('table.wbs')).toContainText('Fabricate boom');
  // What the file told that PMR keeps as data: a constraint under its task, the estimates' source.
  await expect(page.locator('table.wbs tr', { hasText: 'Structural design & calculations' })).toContainText('Start no earlier than 2026-01-19');
  await expect(page.getByText("4 have optimistic and pessimistic durations derived by the import's rule from the planned duration")).toBeVisible();
  // Replacing a plan keeps the project's own name.
  await expect(page.getByRole('heading', { level: 1, name: 'Kaianlage Süd' })).toBeVisible();

  // The draft, regenerated from the plan now in force, lists the file's tasks.
  await page.goto(`/reports/${reportId}`);
  await hydrated(page);
  await page.getByRole('button', { name: 'Regenerate from current data' }).click();
  await expect(page.getByRole('status').filter({ hasText: /Regenerated in \d+ ms\./ })).toBeVisible();
  // The risk analysis says whose spread is assumed.
  const simulation = page.locator('#monte-carlo');
  await simulation.scrollIntoViewIfNeeded();
  await expect(simulation).toHaveAttribute('data-state', 'done');
  await expect(simulation).toContainText("4 of the plan's 5 tasks have optimistic and pessimistic durations derived by the import's rule");
  // The appendix loads when it comes into view.
  const appendix = page.locator('#appendix');
  await appendix.scrollIntoViewIfNeeded();
  await expect(appendix).toHaveAttribute('data-state', 'done');
  const tasks = appendix.locator('table.data-table--tasks');
  await expect(tasks).toContainText('Structural design & calculations');
  await expect(tasks).toContainText('Fabricate boom');
  await expect(tasks).not.toContainText('Spundwand rammen');
  await api.dispose();
  expect(consoleErrors).toEqual([]);
});

test('a P6 file of two projects offers the choice, and a bad file says why', async ({ page, consoleErrors, allowedConsole }) => {
  allowedConsole.push(/status of 422/);
  await page.goto('/projects/HBR');
  await hydrated(page);
  const card = page.getByRole('region', { name: 'Bring your schedule' });
  await card.getByLabel('Schedule file').setInputFiles({
    name: 'portfolio.xer',
    mimeType: 'application/octet-stream',
    buffer: fixture('p6-two-projects.xer'),
  });
  const preview = card.getByRole('status');
  await expect(preview.getByRole('heading', { name: 'Primavera P6 XER: what will be imported' })).toBeVisible();
  const choice = card.getByLabel('P6 project');
  await expect(choice.getByRole('option')).toHaveCount(2);
  await expect(preview.locator('dt:text-is("Tasks") + dd')).toHaveText('4');
  await choice.selectOption({ label: 'YARD · Yard paving (1 task)' });
  await expect(preview.locator('dt:text-is("Tasks") + dd')).toHaveText('1');

  // A file that is not a schedule: the problems, with their places; nothing to apply.
  await card.getByLabel('Schedule file').setInputFiles({
    name: 'broken.xml',
    mimeType: 'application/xml',
    buffer: Buffer.from('<Project xmlns="urn:not-project"><Tasks/></Project>'),
  });
  await expect(card.getByRole('alert')).toContainText('not Microsoft Project\'s');
  await expect(card.getByRole('button', { name: 'Replace the plan' })).toBeDisabled();
  expect(consoleErrors).toEqual([]);
});

test('a new project is created from a Microsoft Project file on the new-project page', async ({ page, consoleErrors }) => {
  const code = `MS${Date.now() % 1_000_000}`;
  await page.goto('/admin/projects/new');
  await hydrated(page);
  await page.getByLabel("A scheduler's file (Microsoft Project .xml, Primavera P6 .xer)").check();
  const card = page.getByRole('region', { name: "The scheduler's file" });
  const create = card.getByRole('button', { name: 'Create the project' });
  await card.getByLabel('Schedule file').setInputFiles(path.join(FIXTURES, 'project-2019.xml'));
  // The preview comes before the code is typed; creating waits for the code.
  const preview = card.getByRole('status');
  await expect(preview.locator('dt:text-is("Tasks") + dd')).toHaveText('5');
  await expect(card.getByText("Type the project's code.")).toBeVisible();
  await expect(create).toBeDisabled();
  await page.getByLabel('Code').fill('HBR');
  await expect(card.getByText('A project with code HBR exists already.')).toBeVisible();
  await expect(create).toBeDisabled();
  await page.getByLabel('Code').fill(code);
  await page.getByLabel("Manager (blank: the file's)").fill('Mara Maker');
  await expect(create).toBeEnabled();
  await create.click();
  await expect(page).toHaveURL(new RegExp(`/projects/${code}\\?imported=5,2,new$`));
  await expect(page.getByRole('status').filter({ hasText: 'The project was created from the file: 5 tasks, 2 milestones.' })).toBeVisible();
  // The file's name (none typed), the manager typed, the file's tasks.
  await expect(page.getByRole('heading', { level: 1, name: 'Harbour crane upgrade' })).toBeVisible();
  await expect(page.getByText('Mara Maker')).toBeVisible();
  await expect(page.locator('table.wbs')).toContainText('Fabricate boom');
  expect(consoleErrors).toEqual([]);
});
