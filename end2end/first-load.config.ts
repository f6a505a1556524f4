import { defineConfig } from "@playwright/test";

// The first-load benchmark (bench/first-load.spec.ts): the release build, with its
// precompressed site files, on ports of its own, as `scripts/bench-first-load.sh`
// builds it. Prints figures; asserts no timing.
// Another build's binary and site, to compare two builds in turn (docs/benchmarks.md).
const bin = process.env.SHIPBACK_BENCH_BIN ?? "../target/release/shipback";
const site = process.env.SHIPBACK_BENCH_SITE ?? "../target/site";
const db = "../target/bench-first-load/shipback.db";
export const PASSWORD = "e2e password, long enough";

export default defineConfig({
  testDir: "./bench",
  timeout: 300_000,
  fullyParallel: false,
  workers: 1,
  retries: 0,
  reporter: [["list"]],
  outputDir: "./test-results",
  use: {
    baseURL: "http://127.0.0.1:3200",
    trace: "off",
    launchOptions: {
      executablePath: "/usr/bin/chromium",
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"],
    },
  },
  webServer: {
    command:
      `mkdir -p ../target/bench-first-load && rm -f ${db} ${db}-wal ${db}-shm && ` +
      `echo '${PASSWORD}' | ${bin} user add e2e-viewer --role viewer --database-url sqlite://${db} && ` +
      `${bin} demo --no-trickle --database-url sqlite://${db} ` +
      `--bind 127.0.0.1:3200 --emulator-bind 127.0.0.1:3201 --site-root ${site}`,
    url: "http://127.0.0.1:3200/api/v1/openapi.json",
    reuseExistingServer: false,
    timeout: 120_000,
    stdout: "ignore",
    stderr: "pipe",
    env: { SHIPBACK_LOG: "warn" },
  },
});
