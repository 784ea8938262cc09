// The scale-out pair the e2e run starts beside the main server (playwright.config.ts): instances A
// and B of the release binary, sharing one SQLite database (seeded by A) and a Redis.

export const INSTANCE_A = Number(process.env.PMR_E2E_PORT_A ?? 3101);
export const INSTANCE_B = Number(process.env.PMR_E2E_PORT_B ?? 3102);
export const REDIS_PORT = Number(process.env.PMR_E2E_REDIS_PORT ?? 3103);

/** The base URL of instance A or B. */
export function instanceURL(port: number): string {
  return `http://127.0.0.1:${port}`;
}
