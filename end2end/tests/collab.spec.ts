// Live collaboration in two real browsers: an editor and an admin open the same draft, see each other
// and where each is, type into the same text at once, both end with the same merged text, and after a
// reload the merged text is there (and readers see the commentary). A viewer is told nothing of an
// editor it cannot use. A regeneration reloads the report over the same connection, the editor
// left open. Markup typed into a narrative comes back as text in the browser-rendered section.
// Over a slow network, a page that leaves a report before its socket has opened closes that socket
// once it opens, without the browser's "closed before the connection is established" warning.
import * as net from 'node:net';
import type { Browser, Page } from '@playwright/test';
import { test, expect, hydrated, latestReportId, signIn, type User } from './fixtures';

/** A second signed-in page in its own browser context, with its console watched too. */
async function secondPage(browser: Browser, baseURL: string, user: User, errors: string[]): Promise<Page> {
  const context = await browser.newContext({ baseURL });
  await signIn(context.request, user, baseURL);
  const page = await context.newPage();
  page.on('console', (msg) => {
    if (msg.type() === 'error' || msg.type() === 'warning') errors.push(`${user} ${msg.type()}: ${msg.text()}`);
  });
  page.on('pageerror', (err) => errors.push(`${user} pageerror: ${err.message}`));
  return page;
}

async function openLive(page: Page, id: number) {
  await page.goto(`/reports/${id}`);
  await hydrated(page);
  await expect(page.getByTestId('collab-state')).toHaveAttribute('data-link', 'live');
}

test('two people edit one report together and the merged text stays', async ({ page, browser, baseURL, consoleErrors }) => {
  const id = await latestReportId(baseURL ?? '', 'CDW');
  const otherErrors: string[] = [];
  const admin = await secondPage(browser, baseURL ?? '', 'admin', otherErrors);
  await openLive(page, id);
  await openLive(admin, id);

  // Each sees the other.
  await expect(page.getByTestId('presence').locator('[data-user=admin]')).toBeVisible();
  await expect(admin.getByTestId('presence').locator('[data-user=eddie]')).toBeVisible();

  await page.getByTestId('edit-toggle').click();
  await admin.getByTestId('edit-toggle').click();
  const mine = page.getByTestId('edit-risks');
  const theirs = admin.getByTestId('edit-risks');
  await expect(mine).toBeVisible();

  // Where each one is: the admin sees eddie in the Risks section.
  await mine.click();
  await expect(admin.getByTestId('presence').locator('[data-user=eddie]')).toContainText('in Risks');

  // A first line everyone has, then both type into it at the same time: eddie at the end, the admin
  // at the start (the caret of each stays in place while the other's letters arrive).
  await page.keyboard.type('Risks reviewed.');
  await expect(theirs).toHaveValue('Risks reviewed.');
  await theirs.click();
  await Promise.all([
    (async () => {
      await mine.focus();
      await page.keyboard.press('Control+End');
      await page.keyboard.type(' Vendor slippage watched weekly.', { delay: 15 });
    })(),
    (async () => {
      await theirs.focus();
      await admin.keyboard.press('Control+Home');
      await admin.keyboard.type('Steering note: ', { delay: 15 });
    })(),
  ]);
  const merged = 'Steering note: Risks reviewed. Vendor slippage watched weekly.';
  await expect(mine).toHaveValue(merged);
  await expect(theirs).toHaveValue(merged);
  expect(await mine.inputValue()).toBe(await theirs.inputValue());
  await expect(admin.getByText('Eddie Editor is typing…')).toBeVisible();

  // Everything was stored: after a reload the document has it, and readers see the commentary.
  const text = await mine.inputValue();
  await expect(page.getByTestId('collab-state')).not.toContainText('saving');
  await page.reload();
  await hydrated(page);
  await expect(page.getByTestId('collab-state')).toHaveAttribute('data-link', 'live');
  await page.getByTestId('edit-toggle').click();
  await expect(page.getByTestId('edit-risks')).toHaveValue(text);
  await expect(async () => {
    await page.reload();
    await hydrated(page);
    await page.locator('#risks').scrollIntoViewIfNeeded();
    await expect(page.locator('#risks .section-note')).toContainText('Vendor slippage watched weekly.', { timeout: 2000 });
  }).toPass({ timeout: 15000 });

  // A named revision appears for everyone.
  await page.getByTestId('edit-toggle').click();
  await page.getByTestId('revision-name').fill('After the risk review');
  await page.getByTestId('save-revision').click();
  await expect(admin.getByTestId('collab-notice')).toContainText('saved revision');
  await admin.getByTestId('revisions').locator('summary').click();
  await expect(admin.getByTestId('revision').first()).toContainText('After the risk review');

  await admin.context().close();
  expect(otherErrors).toEqual([]);
  expect(consoleErrors).toEqual([]);
});

test.describe('as a viewer', () => {
  test.use({ user: 'vera' });

  test('a viewer sees who is here but gets no editor', async ({ page, baseURL, consoleErrors }) => {
    const id = await latestReportId(baseURL ?? '', 'CDW');
    await openLive(page, id);
    await expect(page.getByTestId('presence').locator('[data-user=vera]')).toContainText('You');
    await expect(page.getByTestId('edit-toggle')).toHaveCount(0);
    expect(consoleErrors).toEqual([]);
  });
});

test('markup typed into a narrative is shown as text in the browser, never run', async ({ page, baseURL, consoleErrors }) => {
  const id = await latestReportId(baseURL ?? '', 'CPR');
  await openLive(page, id);
  await page.getByTestId('edit-toggle').click();
  const risks = page.getByTestId('edit-risks');
  await risks.click();
  await page.keyboard.press('Control+End');
  const markup = ' <img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script><b>bold</b>';
  await page.keyboard.type(markup);
  await expect(risks).toHaveValue(new RegExp(`${markup.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`));
  await expect(page.getByTestId('collab-state')).not.toContainText('saving');
  // Read back as a reader gets it: the Risks section is rendered in the browser, from its server
  // function, once scrolled to.
  await expect(async () => {
    await page.reload();
    await hydrated(page);
    await page.locator('#risks').scrollIntoViewIfNeeded();
    await expect(page.locator('#risks .section-note')).toContainText('<b>bold</b>', { timeout: 2000 });
  }).toPass({ timeout: 15000 });
  await expect(page.locator('#risks .section-note').locator('img, script, b')).toHaveCount(0);
  expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
  expect(consoleErrors).toEqual([]);
});

test('a page whose session is signed out elsewhere is told so and stops editing', async ({ page, baseURL, consoleErrors }) => {
  const id = await latestReportId(baseURL ?? '', 'HBR');
  await openLive(page, id);
  await page.getByTestId('edit-toggle').click();
  await expect(page.getByTestId('edit-risks')).toBeVisible();
  // The same browser signs out through another request (another tab would do the same).
  const out = await page.request.post('/api/logout', { headers: { Origin: baseURL ?? '' } });
  expect(out.status()).toBe(200);
  await expect(page.getByTestId('collab-state')).toContainText('You were signed out');
  await expect(page.getByTestId('collab-state')).toHaveAttribute('data-link', 'down');
  expect(consoleErrors).toEqual([]);
});

// A regeneration reloads the report and rebuilds its view: the live bar is rebuilt over the same
// connection (nobody sees this reader leave and come back), and an open editor stays open.
test('regenerating a report keeps its live connection and the open editor', async ({ page, baseURL, consoleErrors }) => {
  const id = await latestReportId(baseURL ?? '', 'CPR');
  const sockets: string[] = [];
  page.on('websocket', (ws) => sockets.push(ws.url()));
  await openLive(page, id);
  await page.getByTestId('edit-toggle').click();
  await expect(page.getByTestId('edit-risks')).toBeVisible();
  // The reload that follows the regeneration is marked, so the rebuilt view can be told from the old.
  await page.route('**/api/get_report_outline*', async (route) => {
    const response = await route.fetch();
    const outline = await response.json();
    await route.fulfill({ response, json: { ...outline, title: `${outline.title} (reloaded)` } });
  });
  await page.getByRole('button', { name: 'Regenerate from current data' }).click();
  await expect(page.getByRole('heading', { level: 1 })).toContainText('(reloaded)');
  await expect(page.getByTestId('edit-risks')).toBeVisible();
  await expect(page.getByTestId('collab-state')).toHaveAttribute('data-link', 'live');
  expect(sockets).toHaveLength(1);
  expect(consoleErrors).toEqual([]);
});

// Changing month re-renders the report view; the previous panel's socket must close with it, or the
// reader appears twice in everyone's presence bar. ERP's older final reports are opened by no other test.
test('a re-rendered report leaves no phantom in the presence bar', async ({ page, baseURL, consoleErrors }) => {
  await page.goto('/');
  const reply = await page.request.post('/api/list_portfolio', { headers: { Origin: baseURL ?? '' } });
  const portfolio = await reply.json();
  const erp = portfolio.projects.find((p: { code: string }) => p.code === 'ERP').reports;
  await page.goto(`/reports/${erp[3].id}`);
  await hydrated(page);
  const live = page.getByText(/Live · \d+ here/);
  await expect(live).toHaveText(/Live · 1 here/);
  await page.getByRole('link', { name: /Previous month/ }).click();
  await expect(page).toHaveURL(new RegExp(`/reports/${erp[4].id}$`));
  await expect(live).toHaveText(/Live · 1 here/);
  await page.getByRole('link', { name: /Next month/ }).click();
  await expect(page).toHaveURL(new RegExp(`/reports/${erp[3].id}$`));
  await expect(live).toHaveText(/Live · 1 here/);
  // One window: the old page's socket is gone, not folded into the same person.
  await expect(page.getByTestId('presence').locator('[data-windows="1"]')).toHaveCount(1);
  expect(consoleErrors).toEqual([]);
});

// Someone with the report open in two windows is one person in everyone's bar, placed where they
// moved last. HBR's fourth-newest report is opened by no other test.
test('a person with two windows is one person in the presence bar', async ({ page, browser, baseURL, consoleErrors }) => {
  await page.goto('/');
  const reply = await page.request.post('/api/list_portfolio', { headers: { Origin: baseURL ?? '' } });
  const portfolio = await reply.json();
  const id = portfolio.projects.find((p: { code: string }) => p.code === 'HBR').reports[3].id;
  const otherErrors: string[] = [];
  const admin = await secondPage(browser, baseURL ?? '', 'admin', otherErrors);
  const second = await page.context().newPage();
  await openLive(page, id);
  await openLive(second, id);
  await openLive(admin, id);
  const eddie = admin.getByTestId('presence').locator('[data-user=eddie]');
  await expect(eddie).toHaveCount(1);
  await expect(eddie).toHaveAttribute('data-windows', '2');
  await expect(eddie).toHaveAttribute('title', /\(2 windows\)$/);
  await expect(admin.getByTestId('collab-state')).toContainText('Live · 2 here');
  // Eddie's own bar: "You" once, in this window's place.
  await expect(page.getByTestId('presence').locator('[data-user=eddie]')).toHaveText('You');
  await expect(page.getByTestId('collab-state')).toContainText('Live · 2 here');
  // The second window closes: still one eddie, now with one window.
  await second.close();
  await expect(eddie).toHaveAttribute('data-windows', '1');
  await expect(eddie).toHaveCount(1);
  expect(consoleErrors).toEqual([]);
  expect(otherErrors).toEqual([]);
});

/** A TCP proxy to the app that holds every connection `delayMs` before passing it on, as a slow
 * network or a busy server would; it records each connection's request line and whether the
 * browser ended it. It expects each handshake in the connection's first chunk, as browsers send it. */
async function slowProxy(target: number, delayMs: number) {
  const connections: { request: string; ended: boolean }[] = [];
  const open = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const seen = { request: '', ended: false };
    connections.push(seen);
    open.add(client);
    const pending: Buffer[] = [];
    let upstream: net.Socket | null = null;
    client.on('data', (data: Buffer) => {
      let chunk = data;
      if (!seen.request) {
        // The handshake names the app's own host, as it would without the proxy.
        const head = chunk.toString('latin1');
        seen.request = head.split('\r\n')[0];
        chunk = Buffer.from(head.replace(/\r\nHost: [^\r]*/i, `\r\nHost: 127.0.0.1:${target}`), 'latin1');
      }
      if (upstream) upstream.write(chunk);
      else pending.push(chunk);
    });
    client.on('close', () => {
      seen.ended = true;
      open.delete(client);
      upstream?.destroy();
    });
    client.on('error', () => {});
    setTimeout(() => {
      if (seen.ended) return;
      upstream = net.connect(target, '127.0.0.1', () => pending.splice(0).forEach((c) => upstream?.write(c)));
      upstream.on('data', (chunk) => client.write(chunk));
      upstream.on('close', () => client.destroy());
      upstream.on('error', () => client.destroy());
    }, delayMs);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    connections,
    close: () => {
      open.forEach((s) => s.destroy());
      server.close();
    },
  };
}

test.describe('over a slow network', () => {
  // The page's sockets go to the proxy, on another port than the page's own origin.
  test.use({ bypassCSP: true });

  test('leaving a report while its socket is still connecting closes it, without a browser warning', async ({ page, baseURL, consoleErrors }) => {
    const proxy = await slowProxy(Number(new URL(baseURL ?? '').port), 2000);
    try {
      await page.addInitScript((port) => {
        const Real = window.WebSocket;
        const ViaProxy = function (url: string | URL, protocols?: string | string[]) {
          return new Real(String(url).replace(/^(wss?:\/\/)[^/]+/, `$1127.0.0.1:${port}`), protocols);
        } as unknown as typeof WebSocket;
        Object.assign(ViaProxy, { CONNECTING: 0, OPEN: 1, CLOSING: 2, CLOSED: 3 });
        ViaProxy.prototype = Real.prototype;
        window.WebSocket = ViaProxy;
      }, proxy.port);
      const reply = await page.request.post('/api/list_portfolio', { headers: { Origin: baseURL ?? '' } });
      const erp = (await reply.json()).projects.find((p: { code: string }) => p.code === 'ERP').reports;
      await page.goto(`/reports/${erp[1].id}`);
      await hydrated(page);
      await expect.poll(() => proxy.connections.map((c) => c.request)).toContainEqual(expect.stringContaining(`/ws/reports/${erp[1].id} `));
      // The handshake is still held by the proxy: move to the previous month now.
      await page.getByRole('link', { name: /Previous month/ }).click();
      await expect(page).toHaveURL(new RegExp(`/reports/${erp[2].id}$`));
      const first = proxy.connections.find((c) => c.request.includes(`/ws/reports/${erp[1].id} `));
      // Once the first socket opens, the page closes it; the second one goes live.
      await expect.poll(() => first?.ended).toBe(true);
      await expect(page.getByTestId('collab-state')).toHaveAttribute('data-link', 'live');
      expect(consoleErrors).toEqual([]);
    } finally {
      proxy.close();
    }
  });
});
