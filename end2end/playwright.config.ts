import { defineConfig } from "@playwright/test";

// The product under test: the demo (emulator, worker, API and dashboard in one process)
// on its own ports and a fresh database, with retries in milliseconds.
const bin = process.env.SHIPBACK_BIN ?? "../target/debug/shipback";
const db = "../target/e2e/shipback.db";
export const API = "http://127.0.0.1:3100";
export const EMULATOR = "http://127.0.0.1:3101";
export const PASSWORD = "e2e password, long enough";

export default defineConfig({
  testDir: "./tests",
  timeout: 90_000,
  expect: { timeout: 15_000 },
  fullyParallel: false,
  workers: 1,
  retries: 0,
  reporter: [["list"]],
  outputDir: "./test-results",
  use: {
    baseURL: API,
    viewport: { width: 1440, height: 900 },
    trace: "off",
    launchOptions: {
      executablePath: "/usr/bin/chromium",
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    },
  },
  webServer: {
    command:
      `mkdir -p ../target/e2e && rm -f ${db} ${db}-wal ${db}-shm && ` +
      // The tests' token for the station API (helpers.ts reads it).
      `${bin} token create e2e --scope ingest,read,operate --database-url sqlite://${db} ` +
      `> ../target/e2e/token && ` +
      // One person per role; helpers.ts signs in with the same password.
      `for role in viewer operator admin; do ` +
      `echo '${PASSWORD}' | ${bin} user add e2e-$role --role $role --database-url sqlite://${db} || exit 1; ` +
      `done && ` +
      `${bin} demo --no-trickle --database-url sqlite://${db} ` +
      `--bind 127.0.0.1:3100 --emulator-bind 127.0.0.1:3101 --site-root ../target/site ` +
      `--retry-base-delay 300ms --retry-max-delay 1s --probe-every 1s --idle-poll 50ms`,
    url: `${API}/api/v1/openapi.json`,
    reuseExistingServer: false,
    timeout: 120_000,
    stdout: "ignore",
    stderr: "pipe",
    env: { SHIPBACK_LOG: "warn" },
  },
});
