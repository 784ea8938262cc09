import { chromium } from '@playwright/test';
const base = 'http://127.0.0.1:3999';
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu'] });
const login = async (ctx, user, pass) => {
  const r = await ctx.request.post('/api/login', { form: { username: user, password: pass }, headers: { Origin: base } });
  if (!r.ok()) throw new Error('login ' + r.status());
};
const settle = async (page) => { await page.waitForLoadState('networkidle'); await page.waitForTimeout(700); };
const hydrated = async (page) => { await page.waitForFunction(() => document.documentElement.dataset.hydrated === 'true' || !!window.__hydrated || true); await page.waitForTimeout(1500); };
const ctx = await browser.newContext({ viewport: { width: 1440, height: 900 }, colorScheme: 'light', baseURL: base });
await login(ctx, 'admin', 'e2e admin password');
const page = await ctx.newPage();
const shot = (name, full = true) => page.screenshot({ path: `/tmp/shots/walk-${name}-1440-light.png`, fullPage: full });
await page.goto('/admin/projects/new'); await settle(page); await hydrated(page);
await page.getByLabel('Code').fill('DEPOT');
await page.getByLabel('Name').fill('Depot extension');
await page.getByLabel('Manager').fill('Pat Lee');
await page.getByLabel('Start').fill('2026-09-01');
await page.getByLabel('Target finish').fill('2027-03-31');
await page.getByLabel('Sat', { exact: true }).check();
await page.getByLabel(/^Holidays/).fill('2026-12-24\n2026-12-25');
await page.getByLabel(/^Reporting day/).selectOption('20');
await page.getByLabel('Type the task list (CSV)').check();
await page.locator('textarea.plan-text').fill(`wbs,name,owner,optimistic_days,most_likely_days,pessimistic_days,planned_start,planned_finish,budgeted_cost,actual_cost,percent_complete,actual_start,actual_finish,predecessors
1.1,Site survey,Kim,4,5,8,2026-09-01,2026-09-07,12000,0,0,,,
1.2,Foundations,Kim,20,25,35,2026-09-08,2026-10-12,60000,0,0,,,1.1
2.1,Steel frame,Ola,30,40,55,2026-10-13,2026-12-08,120000,0,0,,,1.2
2.2,Roof and cladding,Ola,15,20,30,2026-12-09,2027-01-08,70000,0,0,,,2.1
`);
await shot('1-new');
await page.getByRole('button', { name: 'Create the project' }).click();
await page.waitForURL(/\/projects\/DEPOT$/); await settle(page); await hydrated(page);
await shot('2-project');
await page.getByRole('link', { name: 'Record progress' }).click();
await page.waitForURL(/progress$/); await settle(page); await hydrated(page);
await page.getByLabel('task 1.1 % complete').fill('100');
await page.getByLabel('task 1.1 Actual start').fill('2026-09-01');
await page.getByLabel('task 1.1 Actual finish').fill('2026-09-08');
await page.getByLabel('task 1.1 Actual cost').fill('12500');
await page.getByLabel('task 1.2 % complete').fill('70');
await page.getByLabel('task 1.2 Actual start').fill('2026-09-09');
await page.getByLabel('task 1.2 Actual cost').fill('47000');
await page.getByLabel('task 1.2 Remaining (days)').fill('12');
await page.getByLabel('task 2.1 % complete').fill('10');
await page.getByLabel('task 2.1 Actual start').fill('2026-11-02');
await page.getByLabel('task 2.1 Actual cost').fill('15000');
const addRisk = page.getByRole('group', { name: 'Add a risk' });
await addRisk.getByLabel('Risk', { exact: true }).fill('Crane failure');
await addRisk.getByLabel('Probability (0–1)').fill('0.25');
await addRisk.getByLabel('Cost impact').fill('40000');
await addRisk.getByLabel('Delay (days)').fill('8');
await addRisk.getByLabel('Owner').fill('Ola');
await addRisk.getByLabel('Response').fill('Second crane on call');
await addRisk.getByLabel('Affects (WBS codes)').fill('2.1');
await addRisk.getByRole('button', { name: 'Add the risk' }).click();
const addM = page.getByRole('group', { name: 'Add a milestone' });
await addM.getByLabel('Milestone').fill('Frame topped out');
await addM.getByLabel('Baseline date').fill('2026-12-08');
await addM.getByLabel('Forecast date').fill('2026-12-15');
await addM.getByRole('button', { name: 'Add the milestone' }).click();
await page.waitForTimeout(500);
await shot('3-progress');
await page.getByRole('button', { name: /^Save/ }).click();
await page.getByRole('status').filter({ hasText: /Saved as version/ }).waitFor();
await settle(page);
await shot('4-progress-saved');
await page.getByRole('link', { name: 'DEPOT' }).click();
await page.waitForURL(/\/projects\/DEPOT$/); await settle(page); await hydrated(page);
await page.getByRole('button', { name: "Start the month's report" }).click();
await page.waitForURL(/\/reports\/\d+$/); await settle(page); await hydrated(page);
const draftUrl = page.url();
await shot('5-draft', false);
await page.getByRole('button', { name: 'Publish…' }).click();
await page.getByRole('group', { name: 'Confirm publishing' }).getByRole('button', { name: /^Publish/ }).click();
await page.getByText(/Published by/).waitFor(); await settle(page);
await shot('6-published', false);
await page.getByRole('button', { name: 'Correct…' }).click();
await shot('7-correct-confirm', false);
await page.getByRole('group', { name: 'Confirm correcting' }).getByRole('button', { name: 'Start the correction' }).click();
await page.waitForURL((u) => u.toString() !== draftUrl); await settle(page); await hydrated(page);
const correctionUrl = page.url();
await shot('8-correction-draft', false);
await page.getByRole('button', { name: 'Publish…' }).click();
await page.getByRole('group', { name: 'Confirm publishing' }).getByRole('button', { name: /^Publish/ }).click();
await page.getByText(/Published by/).waitFor(); await settle(page);
console.log(JSON.stringify({ draftUrl, correctionUrl }));
await ctx.close();
// Every combination of the pages that stay.
for (const scheme of ['light', 'dark']) {
  for (const width of [375, 1440]) {
    const c = await browser.newContext({ viewport: { width, height: 900 }, colorScheme: scheme, baseURL: base });
    await login(c, 'admin', 'e2e admin password');
    const p = await c.newPage();
    for (const [name, url, full] of [['new', '/admin/projects/new', true], ['project', '/projects/DEPOT', true], ['progress', '/projects/DEPOT/progress', true], ['superseded', draftUrl, false], ['corrected', correctionUrl, false]]) {
      await p.goto(url); await settle(p);
      await p.screenshot({ path: `/tmp/shots/page-${name}-${width}-${scheme}.png`, fullPage: full });
    }
    await c.close();
  }
}
await browser.close();
