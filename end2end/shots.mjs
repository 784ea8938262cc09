import { chromium } from '@playwright/test';
const base = 'http://127.0.0.1:3999';
const [,, user, pass, ...pages] = process.argv;
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu'] });
for (const scheme of ['light', 'dark']) {
  for (const width of [375, 1440]) {
    const ctx = await browser.newContext({ viewport: { width, height: 900 }, colorScheme: scheme, baseURL: base });
    const r = await ctx.request.post('/api/login', { form: { username: user, password: pass }, headers: { Origin: base } });
    if (!r.ok()) { console.log('login failed', r.status()); process.exit(1); }
    const page = await ctx.newPage();
    for (const p of pages) {
      const [name, path] = p.split('=');
      await page.goto(path);
      await page.waitForLoadState('networkidle');
      await page.waitForTimeout(800);
      await page.screenshot({ path: `/tmp/shots/${name}-${width}-${scheme}.png`, fullPage: width === 1440 && !name.startsWith('progress') });
    }
    await ctx.close();
  }
}
await browser.close();
