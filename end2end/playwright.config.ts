// Playwright runs the built server on its own port with a fresh SQLite database (seeded with the demo
// portfolio on start) and drives Debian's Chromium, headless. `make test` sets PMR_E2E_PORT to a free
// port and PMR_E2E_SERVER to the binary it built; the defaults suit a manual `npx playwright test`.
import { defineConfig } from '@playwright/test';

const port = Number(process.env.PMR_E2E_PORT ?? 3100);
const server = process.env.PMR_E2E_SERVER ?? '../target/debug/server';
const dataDir = `.cache/e2e-${port}`;

export default defineConfig({
  testDir: './tests',
  fullyParallel: true,
  forbidOnly: !!process.env.CI,
  retries: 0,
  workers: 2,
  timeout: 30_000,
  expect: { timeout: 10_000 },
  reporter: [['list']],
  use: {
    baseURL: `http://127.0.0.1:${port}`,
    trace: 'retain-on-failure',
    launchOptions: {
      executablePath: process.env.PMR_CHROMIUM ?? '/usr/bin/chromium',
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
      ],
    },
  },
  webServer: {
    command: `rm -rf ${dataDir} && exec ${server}`,
    url: `http://127.0.0.1:${port}/readyz`,
    reuseExistingServer: false,
    timeout: 60_000,
    stdout: 'pipe',
    stderr: 'pipe',
    env: {
      PMR_ADDR: `127.0.0.1:${port}`,
      DATABASE_URL: `sqlite://${dataDir}/pmr.db`,
      PMR_SITE_ROOT: process.env.PMR_E2E_SITE_ROOT ?? '../target/site',
      RUST_LOG: process.env.PMR_E2E_LOG ?? 'warn',
      // Known passwords for the first admin and the demo accounts (see tests/fixtures.ts).
      PMR_ADMIN_PASSWORD: 'e2e admin password',
      PMR_DEMO_PASSWORD: 'e2e demo password',
      // Alerts fire at once, so the dashboard test can watch one fire and resolve.
      PMR_ALERT_PENDING_SECS: '0',
    },
  },
});
