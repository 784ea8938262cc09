// The pages as a phone meets them, for `make bench`:
// - Lighthouse 12 (mobile, default settings: simulated slow 4G and a 4x slower CPU) on the portfolio, a
//   report page and the performance dashboard, signed in as the admin through `extraHeaders` (and the
//   browser's cookie jar, for the WebSocket);
// - the report page again with devtools throttling (the same slow 4G and 4x CPU applied to the real
//   browser), for its largest contentful paint and time to interactive;
// - bytes on the wire of a first and a repeat visit to the report page, as Chromium counts them (each
//   response's encoded length: headers and body as transferred), in a phone-sized window;
// - the report page's longest main-thread task on a first visit, from a Chromium trace: how much of it
//   is V8 compiling WASM functions on their first call, and the same task with that compilation done
//   eagerly instead (a V8 flag), for what stands between the page and its blocking-time score.
// Each Lighthouse figure is the median of RUNS runs. It starts its own server (the release binary, a
// fresh SQLite database seeded with the demo portfolio, the in-process cache) on a free port.
//
// Usage: node bench/pages.mjs <server binary> <site root> <out.json> [--quick]
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import * as chromeLauncher from 'chrome-launcher';
import lighthouse from 'lighthouse';
import puppeteer from 'puppeteer-core';

const [server, siteRoot, out] = process.argv.slice(2);
if (!server || !siteRoot || !out) {
  console.error('usage: node bench/pages.mjs <server binary> <site root> <out.json> [--quick]');
  process.exit(2);
}
const QUICK = process.argv.includes('--quick');
const RUNS = QUICK ? 1 : 3;
const IDLE_SECONDS = 5;
const CHROMIUM = process.env.PMR_CHROMIUM ?? '/usr/bin/chromium';
const CHROME_FLAGS = ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--no-first-run'];
const ADMIN_PASSWORD = 'bench admin password';

const freePort = () =>
  new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });

const median = (values) => {
  const sorted = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return null;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

async function startServer() {
  const port = await freePort();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pmr-pages-'));
  // One instance as `make run` serves it: no Redis even if the caller's environment names one.
  const inherited = { ...process.env };
  delete inherited.REDIS_URL;
  const child = spawn(server, [], {
    env: {
      ...inherited,
      PMR_ADDR: `127.0.0.1:${port}`,
      DATABASE_URL: `sqlite://${dir}/pmr.db`,
      PMR_SITE_ROOT: siteRoot,
      PMR_ADMIN_PASSWORD: ADMIN_PASSWORD,
      PMR_DEMO_PASSWORD: 'bench demo password',
      RUST_LOG: 'warn',
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 600; i++) {
    try {
      if ((await fetch(`${base}/readyz`)).ok) return { base, child, dir };
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill();
  throw new Error('the server did not become ready in 60 s');
}

async function signIn(base) {
  const response = await fetch(`${base}/api/login`, {
    method: 'POST',
    headers: { Origin: base, 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ username: 'admin', password: ADMIN_PASSWORD }),
  });
  const cookie = response.headers.get('set-cookie')?.split(';')[0];
  if (!response.ok || !cookie) throw new Error(`sign-in failed: ${response.status}`);
  return cookie;
}

/** The newest report of the portfolio's first project, as its page links it. */
async function reportPath(base, cookie) {
  const html = await (await fetch(`${base}/`, { headers: { Cookie: cookie } })).text();
  const match = html.match(/href="(\/reports\/\d+)"/);
  if (!match) throw new Error('no report on the portfolio');
  return match[1];
}

async function lighthouseRun(url, cookie, throttlingMethod) {
  const chrome = await chromeLauncher.launch({ chromePath: CHROMIUM, chromeFlags: CHROME_FLAGS });
  try {
    // Extra headers do not reach the live bar's WebSocket handshake (it would be refused, and the
    // refusal logged as a console error): the session is in the browser's cookie jar too, which
    // Lighthouse does not clear.
    const browser = await puppeteer.connect({ browserURL: `http://127.0.0.1:${chrome.port}` });
    const [name, value] = cookie.split('=');
    await browser.setCookie({ name, value, domain: new URL(url).hostname, path: '/', httpOnly: true });
    await browser.disconnect();
    const flags = { port: chrome.port, output: 'json', logLevel: 'error', extraHeaders: { Cookie: cookie } };
    if (throttlingMethod) flags.throttlingMethod = throttlingMethod;
    const { lhr } = await lighthouse(url, flags);
    const score = (c) => (lhr.categories[c]?.score == null ? null : Math.round(lhr.categories[c].score * 100));
    const ms = (a) => lhr.audits[a]?.numericValue ?? null;
    const failed = (category) =>
      lhr.categories[category].auditRefs
        .filter((r) => r.weight > 0 && lhr.audits[r.id].score !== null && lhr.audits[r.id].score < 1)
        .map((r) => r.id);
    return {
      performance: score('performance'),
      accessibility: score('accessibility'),
      best_practices: score('best-practices'),
      fcp_ms: ms('first-contentful-paint'),
      lcp_ms: ms('largest-contentful-paint'),
      tti_ms: ms('interactive'),
      tbt_ms: ms('total-blocking-time'),
      cls: ms('cumulative-layout-shift'),
      bytes: ms('total-byte-weight'),
      failed_accessibility: failed('accessibility'),
      failed_best_practices: failed('best-practices'),
      // Lighthouse's own measure of the machine's speed at the time of the run (higher is faster):
      // the simulation scales what it observed on this CPU, so a busy or slowed machine scores lower.
      benchmark_index: lhr.environment?.benchmarkIndex ?? null,
    };
  } finally {
    await chrome.kill();
  }
}

/** Medians of the numeric fields over the runs; the failed audits of the first run. */
function summarize(runs) {
  const keys = ['performance', 'accessibility', 'best_practices', 'fcp_ms', 'lcp_ms', 'tti_ms', 'tbt_ms', 'cls', 'bytes',
    'benchmark_index'];
  const summary = Object.fromEntries(keys.map((k) => [k, median(runs.map((r) => r[k]))]));
  summary.failed_accessibility = [...new Set(runs.flatMap((r) => r.failed_accessibility))];
  summary.failed_best_practices = [...new Set(runs.flatMap((r) => r.failed_best_practices))];
  summary.runs = runs.length;
  return summary;
}

/** Bytes on the wire of one visit: every response's encoded length as Chromium received it. */
async function visit(browser, url) {
  const page = await browser.newPage();
  await page.setViewport({ width: 412, height: 823, deviceScaleFactor: 1.75, isMobile: true, hasTouch: true });
  const cdp = await page.createCDPSession();
  await cdp.send('Network.enable');
  const requests = new Map();
  cdp.on('Network.responseReceived', (e) => {
    requests.set(e.requestId, { url: e.response.url, status: e.response.status, cached: e.response.fromDiskCache || false, bytes: 0 });
  });
  cdp.on('Network.requestServedFromCache', (e) => {
    const r = requests.get(e.requestId);
    if (r) r.cached = true;
  });
  cdp.on('Network.loadingFinished', (e) => {
    const r = requests.get(e.requestId);
    if (r) r.bytes = e.encodedDataLength;
  });
  await page.goto(url, { waitUntil: 'load' });
  await page.waitForSelector('html[data-hydrated="true"]', { timeout: 60_000 });
  // The lazy sections in view and the live bar's chunk load after hydration.
  await page.waitForNetworkIdle({ idleTime: 1000, timeout: 60_000 });
  await page.close();
  const list = [...requests.values()];
  return {
    bytes: list.reduce((sum, r) => sum + r.bytes, 0),
    requests: list.length,
    from_cache: list.filter((r) => r.cached || r.status === 304).length,
    largest: list
      .sort((a, b) => b.bytes - a.bytes)
      .slice(0, 5)
      .map((r) => ({ path: new URL(r.url).pathname, bytes: r.bytes })),
  };
}

async function wire(url, cookie) {
  const browser = await puppeteer.launch({ executablePath: CHROMIUM, args: CHROME_FLAGS.filter((f) => !f.startsWith('--headless')), headless: true });
  try {
    const { hostname } = new URL(url);
    const [name, value] = cookie.split('=');
    await browser.setCookie({ name, value, domain: hostname, path: '/', httpOnly: true });
    const first = await visit(browser, url);
    const repeat = await visit(browser, url);
    return { first, repeat };
  } finally {
    await browser.close();
  }
}

/** A fresh headless Chromium signed in with `cookie` for `url`'s host (V8 flags `jsFlags`, if
 * any), and a phone-sized page in it. */
async function phonePage(url, cookie, jsFlags) {
  const args = CHROME_FLAGS.filter((f) => !f.startsWith('--headless'));
  if (jsFlags) args.push(`--js-flags=${jsFlags}`);
  const browser = await puppeteer.launch({ executablePath: CHROMIUM, args, headless: true });
  const { hostname } = new URL(url);
  const [name, value] = cookie.split('=');
  await browser.setCookie({ name, value, domain: hostname, path: '/', httpOnly: true });
  const page = await browser.newPage();
  await page.setViewport({ width: 412, height: 823, deviceScaleFactor: 1.75, isMobile: true, hasTouch: true });
  return { browser, page };
}

/** The report page's longest main-thread task, from a Chromium trace of a first visit in a fresh
 * browser (no throttling: these are this machine's own milliseconds, which Lighthouse's simulation
 * multiplies by four): its length, and how much of it V8 spent compiling WASM functions the first
 * time they were called (`wasm.CompileLazy`), and how many. `jsFlags` are V8 flags for the browser
 * (the comparison run turns lazy compilation off, which no page can ask for). */
async function longestTask(url, cookie, jsFlags) {
  const { browser, page } = await phonePage(url, cookie, jsFlags);
  const file = path.join(os.tmpdir(), `pmr-trace-${process.pid}.json`);
  try {
    await page.tracing.start({ path: file, categories: ['toplevel', 'devtools.timeline', 'disabled-by-default-devtools.timeline', 'v8.wasm', 'v8'] });
    await page.goto(url, { waitUntil: 'load' });
    await page.waitForSelector('html[data-hydrated="true"]', { timeout: 60_000 });
    await page.waitForNetworkIdle({ idleTime: 500, timeout: 60_000 });
    await page.tracing.stop();
    const events = JSON.parse(fs.readFileSync(file, 'utf8')).traceEvents;
    // The page's renderer main thread: the one that ran the scripts.
    const calls = new Map();
    for (const e of events) {
      if (e.name === 'FunctionCall') calls.set(`${e.pid}:${e.tid}`, (calls.get(`${e.pid}:${e.tid}`) ?? 0) + 1);
    }
    const thread = [...calls].sort((a, b) => b[1] - a[1])[0]?.[0];
    const mine = events.filter((e) => `${e.pid}:${e.tid}` === thread && e.ph === 'X');
    const tasks = mine.filter((e) => e.name === 'RunTask');
    const longest = tasks.sort((a, b) => b.dur - a.dur)[0];
    if (!longest) throw new Error('the trace of the report page has no tasks');
    const compiles = mine.filter((e) => e.name === 'wasm.CompileLazy');
    const inside = compiles.filter((e) => e.ts >= longest.ts && e.ts + e.dur <= longest.ts + longest.dur);
    return {
      task_ms: longest.dur / 1000,
      compile_ms: inside.reduce((sum, e) => sum + e.dur, 0) / 1000,
      functions_compiled: inside.length,
      functions_compiled_in_all: compiles.length,
    };
  } finally {
    await browser.close();
    fs.rmSync(file, { force: true });
  }
}

/** What the report page costs while a reader reads its top, in a phone-sized window without
 * throttling: once it has hydrated and the sections in view have loaded, Chromium's main-thread task
 * time (`Performance.getMetrics`: `TaskDuration`, and of it style and layout) over the next
 * `IDLE_SECONDS`, per second, and the animations running at the end (`document.getAnimations()`). */
async function idleWork(url, cookie) {
  const { browser, page } = await phonePage(url, cookie);
  try {
    await page.goto(url, { waitUntil: 'load' });
    await page.waitForSelector('html[data-hydrated="true"]', { timeout: 60_000 });
    await page.waitForNetworkIdle({ idleTime: 1000, timeout: 60_000 });
    const cdp = await page.createCDPSession();
    await cdp.send('Performance.enable');
    const read = async () => Object.fromEntries((await cdp.send('Performance.getMetrics')).metrics.map((m) => [m.name, m.value]));
    const before = await read();
    await new Promise((r) => setTimeout(r, IDLE_SECONDS * 1000));
    const after = await read();
    const perSecond = (k) => ((after[k] - before[k]) * 1000) / IDLE_SECONDS;
    return {
      seconds: IDLE_SECONDS,
      task_ms_per_s: perSecond('TaskDuration'),
      style_layout_ms_per_s: perSecond('RecalcStyleDuration') + perSecond('LayoutDuration'),
      animations: await page.evaluate(() => document.getAnimations().length),
    };
  } finally {
    await browser.close();
  }
}

/** Medians of `longestTask` over the runs. */
async function tasks(url, cookie, jsFlags) {
  const runs = [];
  for (let i = 0; i < RUNS; i++) runs.push(await longestTask(url, cookie, jsFlags));
  return Object.fromEntries(Object.keys(runs[0]).map((k) => [k, median(runs.map((r) => r[k]))]));
}

const { base, child, dir } = await startServer();
try {
  const cookie = await signIn(base);
  const report = await reportPath(base, cookie);
  const pages = [
    { name: 'portfolio', path: '/' },
    { name: 'report', path: report },
    { name: 'dashboard', path: '/admin/performance' },
  ];
  const result = { runs: RUNS, report_path: report, pages: {}, report_devtools: null, wire: null, report_task: null, report_task_eager: null, report_idle: null };
  for (const p of pages) {
    const runs = [];
    for (let i = 0; i < RUNS; i++) runs.push(await lighthouseRun(base + p.path, cookie));
    result.pages[p.name] = { path: p.path, ...summarize(runs) };
    console.error(`lighthouse ${p.name}: performance ${result.pages[p.name].performance}, accessibility ${result.pages[p.name].accessibility}`);
  }
  const devtools = [];
  for (let i = 0; i < RUNS; i++) devtools.push(await lighthouseRun(base + report, cookie, 'devtools'));
  result.report_devtools = summarize(devtools);
  result.wire = await wire(base + report, cookie);
  result.report_idle = await idleWork(base + report, cookie);
  result.report_task = await tasks(base + report, cookie);
  result.report_task_eager = await tasks(base + report, cookie, '--no-wasm-lazy-compilation');
  console.error(`report page's longest task: ${result.report_task.task_ms} ms (${result.report_task.compile_ms} ms compiling); eager compilation: ${result.report_task_eager.task_ms} ms`);
  console.error(`report page left open: ${result.report_idle.task_ms_per_s} ms of main-thread tasks per second, ${result.report_idle.animations} animations running`);
  console.error(`report page: LCP ${result.report_devtools.lcp_ms} ms, TTI ${result.report_devtools.tti_ms} ms (devtools); wire ${result.wire.first.bytes} B first, ${result.wire.repeat.bytes} B repeat`);
  fs.writeFileSync(out, JSON.stringify(result, null, 2));
} finally {
  child.kill();
  fs.rmSync(dir, { recursive: true, force: true });
}
