// Playwright runs the built server on its own port with a fresh SQLite database (seeded with the demo
// portfolio on start) and drives Debian's Chromium, headless. Beside it run two more instances of the
// same binary, A and B, sharing another fresh database and a Redis (the scale-out setup), for the
// tests that cross instances (`tests/instances.ts`). `make test` sets PMR_E2E_PORT, PMR_E2E_PORT_A,
// PMR_E2E_PORT_B and PMR_E2E_REDIS_PORT to free ports and PMR_E2E_SERVER to the binary it built; the
// defaults suit a manual `npx playwright test`. The servers start in this order, each once the one
// before is ready: A seeds the shared database before B opens it.
import { defineConfig } from '@playwright/test';
import { INSTANCE_A, INSTANCE_B, REDIS_PORT } from './tests/instances';

const port = Number(process.env.PMR_E2E_PORT ?? 3100);
const server = process.env.PMR_E2E_SERVER ?? '../target/debug/server';
const dataDir = `.cache/e2e-${port}`;
const sharedDir = `.cache/e2e-${port}-shared`;

/** What every instance is started with. */
const common = {
  PMR_SITE_ROOT: process.env.PMR_E2E_SITE_ROOT ?? '../target/site',
  RUST_LOG: process.env.PMR_E2E_LOG ?? 'warn',
  // Known passwords for the first admin and the demo accounts (see tests/fixtures.ts).
  PMR_ADMIN_PASSWORD: 'e2e admin password',
  PMR_DEMO_PASSWORD: 'e2e demo password',
};

/** Instance A or B of the scale-out pair. */
function instance(at: number, first: boolean) {
  return {
    command: `${first ? `rm -rf ${sharedDir} && ` : ''}exec ${server}`,
    url: `http://127.0.0.1:${at}/readyz`,
    reuseExistingServer: false,
    timeout: 60_000,
    stdout: 'pipe' as const,
    stderr: 'pipe' as const,
    env: {
      ...common,
      PMR_ADDR: `127.0.0.1:${at}`,
      DATABASE_URL: `sqlite://${sharedDir}/pmr.db`,
      REDIS_URL: `redis://127.0.0.1:${REDIS_PORT}/0`,
    },
  };
}

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
  webServer: [
    {
      command: `rm -rf ${dataDir} && exec ${server}`,
      url: `http://127.0.0.1:${port}/readyz`,
      reuseExistingServer: false,
      timeout: 60_000,
      stdout: 'pipe',
      stderr: 'pipe',
      env: {
        ...common,
        PMR_ADDR: `127.0.0.1:${port}`,
        DATABASE_URL: `sqlite://${dataDir}/pmr.db`,
        // Alerts fire at once, so the dashboard test can watch one fire and resolve.
        PMR_ALERT_PENDING_SECS: '0',
      },
    },
    {
      command: `exec redis-server --port ${REDIS_PORT} --bind 127.0.0.1 --save '' --appendonly no`,
      port: REDIS_PORT,
      reuseExistingServer: false,
      timeout: 20_000,
    },
    instance(INSTANCE_A, true),
    instance(INSTANCE_B, false),
  ],
});
