import { expect, APIRequestContext, Page } from "@playwright/test";
import { ChildProcess, execFileSync, spawn } from "node:child_process";
import * as fs from "node:fs";
import { hydrated, PASSWORD, signIn, test } from "./helpers";

// The connection status needs a worker it can stop: this file runs its own product, a
// dashboard without a worker (`demo --no-worker`) and a `shipback worker` process
// against the same database, with an idle time of seconds instead of 10 minutes.
const bin = process.env.SHIPBACK_BIN ?? "../target/debug/shipback";
const DB = "../target/e2e/status.db";
const APP = "http://127.0.0.1:3110";
const EMULATOR = "http://127.0.0.1:3111";
const IDLE = "12s";
const common = [`--database-url`, `sqlite://${DB}`, `--health-idle-after`, IDLE];

let dashboard: ChildProcess | undefined;
let auth: Record<string, string> = {};
let worker: ChildProcess | undefined;

function start(args: string[]): ChildProcess {
  const child = spawn(bin, args, { stdio: ["ignore", "ignore", "pipe"], env: { ...process.env, SHIPBACK_LOG: "warn" } });
  child.stderr?.on("data", (d) => process.stderr.write(`[${args[0]}] ${d}`));
  return child;
}

/**
 * Stops a process as Ctrl-C would; it must be gone within 30 s. A worker first finishes
 * its batch and keeps the connection status once more, and each of those may wait up to
 * SQLite's 10 s busy timeout: in one CI run both did (SQLITE_BUSY), and 15 s was not
 * enough.
 */
async function stop(child: ChildProcess | undefined) {
  // Gone already (a signal leaves exitCode null): waiting for "exit" would never end.
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 30_000);
  await exited;
  clearTimeout(timer);
  expect(child.signalCode, "exited on SIGTERM, not killed").not.toBe("SIGKILL");
}

test.describe.configure({ mode: "serial" });

test.beforeAll(async ({ request }) => {
  fs.mkdirSync("../target/e2e", { recursive: true });
  for (const suffix of ["", "-wal", "-shm"]) fs.rmSync(`${DB}${suffix}`, { force: true });
  const token = execFileSync(bin, ["token", "create", "e2e-status", "--scope", "ingest,read", ...common.slice(0, 2)], {
    encoding: "utf8",
  }).trim();
  auth = { Authorization: `Bearer ${token}` };
  execFileSync(bin, ["user", "add", "e2e-viewer", "--role", "viewer", ...common.slice(0, 2)], { input: `${PASSWORD}\n` });
  dashboard = start([
    "demo", "--no-worker", "--no-trickle", ...common,
    "--bind", "127.0.0.1:3110", "--emulator-bind", "127.0.0.1:3111", "--site-root", "../target/site",
  ]);
  await expect
    .poll(async () => (await request.get(`${APP}/api/v1/openapi.json`).catch(() => null))?.status(), {
      timeout: 60_000,
    })
    .toBe(200);
  // A deterministic marketplace: no random failures unless the test asks for them.
  await setFaults(request, {});
  worker = start([
    "worker", ...common,
    "--retry-base-delay", "300ms", "--retry-max-delay", "1s", "--idle-poll", "50ms", "--import-every", "3s",
    // A paused write-back queue sends one probe a second.
    "--probe-every", "1s",
    // Small batches: a worker finishes its batch before it stops, and Amazon's 2 calls
    // a second make a batch of 50 per account last 25 s.
    "--per-account", "4",
  ]);
});

test.beforeEach(async ({ page }) => {
  await signIn(page, "viewer", APP);
});

test.afterAll(async () => {
  await stop(worker);
  await stop(dashboard);
});

async function setFaults(request: APIRequestContext, faults: object) {
  const response = await request.put(`${EMULATOR}/_emulator/faults`, { data: faults });
  expect(response.status()).toBe(200);
}

let counter = 0;

/** Adds an Amazon order to the emulator and posts its shipment for `account`. */
async function ship(request: APIRequestContext, account: string, marketplaceId = "ATVPDKIKX0DER") {
  counter += 1;
  const n = `${Date.now() % 10_000_000}`.padStart(7, "0");
  const orderId = `998-${n}-${String(counter).padStart(7, "0")}`;
  const itemId = `ST${n}${counter}`;
  const order = {
    marketplace: "amazon",
    order_id: orderId,
    marketplace_id: marketplaceId,
    items: [{ order_item_id: itemId, sku: "ST-SKU", quantity: 1 }],
  };
  expect((await request.post(`${EMULATOR}/_emulator/orders`, { data: order })).status()).toBe(201);
  const shipment = {
    shipment_id: `ST-${n}-${counter}`,
    account,
    order_id: orderId,
    carrier: "UPS",
    service: "Ground",
    tracking_number: `1ZST${n}${counter}`,
    ship_date: new Date().toISOString(),
    items: [{ order_item_id: itemId, sku: "ST-SKU", quantity: 1 }],
  };
  const response = await request.post(`${APP}/api/v1/shipments`, { data: shipment, headers: auth });
  expect(response.status(), await response.text()).toBe(200);
}

function badge(page: Page, account: string, api: string) {
  return page.locator(`a.api-badge[data-account="${account}"][data-api="${api}"]`);
}

function sentence(page: Page, account: string, api: string) {
  return page.locator(`li.api-row:has(a.api-badge[data-account="${account}"][data-api="${api}"]) .api-sentence`);
}

test("an outage turns one account's Writeback Red with its reason, then it recovers; others stay Green", async ({
  page,
  request,
}) => {
  await page.goto(`${APP}/`);
  await hydrated(page);
  const panel = page.getByTestId("status-panel");
  await expect(panel.locator(".account-card")).toHaveCount(5);
  // Amazon accounts show Products, Writeback and Orders; eBay accounts Trading and Writeback.
  await expect(panel.locator('.account-card[data-account="acme-us"] a.api-badge')).toHaveCount(3);
  await expect(panel.locator('.account-card[data-account="acme-ebay"] a.api-badge')).toHaveCount(2);

  await ship(request, "acme-us");
  await expect(badge(page, "acme-us", "writeback")).toHaveAttribute("data-health", "green");
  // The word and the icon, not colour alone.
  await expect(badge(page, "acme-us", "writeback")).toContainText("Green");
  await expect(badge(page, "acme-us", "writeback").locator(".api-icon")).toHaveText("✓");

  // No reload and no polling from here on: the page is told by the server, and reads
  // only the accounts each event names (a whole-board read names none).
  await page.evaluate(() => ((window as any).__noReload = true));
  const boardReads: string[] = [];
  page.on("request", (r) => {
    if (r.url().includes("get_status_board")) boardReads.push(r.postData() ?? "");
  });
  await page.locator(".live-toggle input").uncheck();
  await setFaults(request, { api: "writeback", seller: "acme-us", outage: true });
  for (let i = 0; i < 3; i++) await ship(request, "acme-us");
  await ship(request, "northwind");
  // Red takes five failures in a row: the first calls, then one probe a second.
  await expect(badge(page, "acme-us", "writeback")).toHaveAttribute("data-health", "red", { timeout: 20_000 });
  await expect(badge(page, "acme-us", "writeback")).toContainText("Red");
  await expect(sentence(page, "acme-us", "writeback")).toContainText("The API is down: the last");
  await expect(sentence(page, "acme-us", "writeback")).toContainText("503 Service Unavailable");
  await expect(badge(page, "northwind", "writeback")).toHaveAttribute("data-health", "green");
  await expect(badge(page, "acme-us", "orders")).not.toHaveAttribute("data-health", "red");
  const partial = boardReads.filter((body) => body.includes("accounts"));
  expect(partial.length, `board reads: ${JSON.stringify(boardReads)}`).toBeGreaterThan(0);
  expect(partial.some((body) => body.includes("acme-us"))).toBe(true);

  const json = await (await request.get(`${APP}/api/v1/status`, { headers: auth })).json();
  const acme = json.accounts.find((a: any) => a.account === "acme-us");
  const writeback = acme.apis.find((a: any) => a.api === "writeback");
  expect(writeback.health).toBe("red");
  expect(writeback.figures.consecutive_failures).toBeGreaterThanOrEqual(5);
  // The API carries the sentence's times in UTC.
  expect(writeback.sentence).toMatch(/since \d\d:\d\d:\d\d UTC\. Last error .* at \d\d:\d\d:\d\d UTC\.$/);
  // The shipments wait behind the paused queue instead of spending attempts.
  expect(writeback.waiting).toBeGreaterThanOrEqual(3);
  const waitingLine = page.locator(
    'li.api-row:has(a.api-badge[data-account="acme-us"][data-api="writeback"]) [data-testid="api-waiting"]',
  );
  await expect(waitingLine).toContainText(/\d+ shipments waiting/);

  await page.screenshot({ path: "screenshots/status-desktop.png" });
  await page.setViewportSize({ width: 768, height: 1024 });
  await expect(panel).toBeVisible();
  // Folded on a tablet: one line of counts, worst first, and the grid near the top.
  const toggle = page.getByTestId("status-toggle");
  await expect(toggle).toHaveAttribute("aria-expanded", "false");
  await expect(toggle.locator(".tally").first()).toHaveText(/✕ 1 Red/);
  await expect(badge(page, "acme-us", "writeback")).toBeHidden();
  expect((await toggle.boundingBox())!.height).toBeGreaterThanOrEqual(44);
  let [panelBox, gridBox] = [await panel.boundingBox(), await page.locator(".grid-pane").boundingBox()];
  expect(panelBox!.y + panelBox!.height).toBeLessThanOrEqual(gridBox!.y);
  expect(gridBox!.y, "the grid starts in the top half of the screen").toBeLessThan(512);
  await page.screenshot({ path: "screenshots/status-tablet-portrait-folded.png", fullPage: false });
  // Unfolded: every account and API, above the grid.
  await toggle.click();
  await expect(toggle).toHaveAttribute("aria-expanded", "true");
  await expect(badge(page, "acme-us", "writeback")).toBeVisible();
  [panelBox, gridBox] = [await panel.boundingBox(), await page.locator(".grid-pane").boundingBox()];
  expect(panelBox!.y + panelBox!.height).toBeLessThanOrEqual(gridBox!.y);
  const badgeBox = await badge(page, "acme-us", "writeback").boundingBox();
  expect(badgeBox!.height).toBeGreaterThanOrEqual(44);
  expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(768);
  await page.screenshot({ path: "screenshots/status-tablet-portrait.png", fullPage: false });
  await page.setViewportSize({ width: 1440, height: 900 });

  // A badge leads to the account's shipments not written back yet: they wait, and say
  // on what.
  await badge(page, "acme-us", "writeback").click();
  await expect(page).toHaveURL(/account=acme-us/);
  await expect(page).toHaveURL(/status=failed&status=retrying&status=pending/);
  await expect(page.locator('.account-chip[data-account="acme-us"]')).toBeVisible();
  const rows = page.locator("tbody tr");
  await expect(rows.first()).toBeVisible();
  for (const account of await page.locator("tbody tr .col-account").allTextContents()) {
    expect(account.trim()).toBe("Acme Outdoor US");
  }
  const waiting = page.locator('tbody tr .badge[data-waiting="true"]');
  await expect(waiting.first()).toContainText("Waiting");
  await waiting.first().click();
  await expect(page.getByTestId("detail-waiting")).toContainText(
    /^Waiting: Amazon Writeback for acme-us is down since \d\d:\d\d:\d\d UTC/,
  );
  await page.screenshot({ path: "screenshots/waiting-desktop.png" });
  await page.setViewportSize({ width: 768, height: 1024 });
  await expect(page.getByTestId("detail-waiting")).toBeVisible();
  expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(768);
  await page.screenshot({ path: "screenshots/waiting-tablet-portrait.png" });
  await page.setViewportSize({ width: 1440, height: 900 });

  // In the viewer's own zone, the kept sentences' times too: drawn by the server, then
  // by the browser alike. (Another tab: this one must not reload.)
  const chicago = await page.context().newPage();
  await chicago.goto(page.url());
  await hydrated(chicago);
  await chicago.getByTestId("who").click();
  await Promise.all([
    chicago.waitForEvent("load"),
    chicago.getByTestId("time-zone-choice").selectOption("America/Chicago"),
  ]);
  await hydrated(chicago);
  await expect(sentence(chicago, "acme-us", "writeback")).toContainText(
    /since \d\d:\d\d:\d\d C[SD]T\. Last error .* at \d\d:\d\d:\d\d C[SD]T\./,
  );
  await expect(chicago.getByTestId("detail-waiting")).toContainText(/since \d\d:\d\d:\d\d C[SD]T \(/);
  await chicago.screenshot({ path: "screenshots/waiting-chicago-desktop.png" });
  await chicago.getByTestId("who").click();
  await Promise.all([chicago.waitForEvent("load"), chicago.getByTestId("time-zone-choice").selectOption("")]);
  await chicago.close();

  // The outage ends: a probe goes through, the queue resumes, and the badge is Green.
  await setFaults(request, {});
  await expect(badge(page, "acme-us", "writeback")).toHaveAttribute("data-health", "green", { timeout: 15_000 });
  await expect(sentence(page, "acme-us", "writeback")).toHaveCount(0);
  await expect(waitingLine).toHaveCount(0);
  expect(await page.evaluate(() => (window as any).__noReload)).toBe(true);
});

test("with the worker stopped, every API turns None after the idle time", async ({ page }) => {
  await page.goto(`${APP}/`);
  await hydrated(page);
  await expect(badge(page, "acme-us", "writeback")).not.toHaveAttribute("data-health", "none");
  await stop(worker);
  // 12 s of idle time, then the browser's own clock turns it None without an event.
  await expect(badge(page, "acme-us", "writeback")).toHaveAttribute("data-health", "none", { timeout: 20_000 });
  await expect(badge(page, "acme-us", "writeback")).toContainText("None");
  await expect(sentence(page, "acme-us", "writeback")).toContainText("Unknown: no call in the last 12 seconds");
  await expect(page.locator('a.api-badge:not([data-health="none"])')).toHaveCount(0);
});
