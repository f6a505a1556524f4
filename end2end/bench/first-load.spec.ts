import { expect, test, type CDPSession, type Page } from "@playwright/test";

// What a picker feels on a warehouse tablet: a mid-range device (CPU slowed 4x) on
// shared Wi-Fi (about 10 Mbit/s down, 40 ms latency), 768x1024, signed in, opening the
// shipments screen with 50 rows. Measured: from navigation to the first row answering a
// tap (the page hydrated and the row's details open), cold cache and warm cache, with
// the bytes that crossed the network. A benchmark: it prints, it asserts no time.
// Targets (issue 16): cold <= 2.5 s, warm <= 1.0 s.

const BASE = "http://127.0.0.1:3200";
const RUNS = 3;

async function tabletProfile(page: Page): Promise<CDPSession> {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send("Network.enable");
  await cdp.send("Emulation.setCPUThrottlingRate", { rate: 4 });
  await cdp.send("Network.emulateNetworkConditions", {
    offline: false,
    latency: 40,
    downloadThroughput: (10 * 1_000_000) / 8,
    uploadThroughput: (5 * 1_000_000) / 8,
  });
  return cdp;
}

/** Loads the screen and taps the first row; the time until its details show, and the
 * bytes the network carried meanwhile. */
async function openAndTap(
  page: Page,
  cdp: CDPSession,
): Promise<{ ms: number; bytes: number; firstRowMs: number; hydratedMs: number; elements: number }> {
  let bytes = 0;
  const count = (event: { encodedDataLength: number }) => {
    bytes += event.encodedDataLength;
  };
  cdp.on("Network.loadingFinished", count);
  const start = Date.now();
  await page.goto(`${BASE}/?limit=50`, { waitUntil: "commit" });
  await expect(page.locator("tr.row").first()).toBeVisible({ timeout: 60_000 });
  const firstRowMs = Date.now() - start;
  await expect(page.locator("body[data-hydrated='true']")).toHaveCount(1, { timeout: 60_000 });
  const hydratedMs = Date.now() - start;
  await page.locator("tr.row").first().click();
  await expect(page.getByTestId("detail-panel")).toBeVisible({ timeout: 60_000 });
  const ms = Date.now() - start;
  cdp.off("Network.loadingFinished", count);
  const elements = await page.evaluate(() => document.getElementsByTagName("*").length);
  return { ms, bytes, firstRowMs, hydratedMs, elements };
}

test("first load on a mid-range tablet: cold and warm", async ({ browser }) => {
  const rows: string[] = [];
  for (let run = 1; run <= RUNS; run++) {
    // A fresh context: an empty cache, signed in anew.
    const context = await browser.newContext({ viewport: { width: 768, height: 1024 } });
    const page = await context.newPage();
    const signIn = await page.request.post(`${BASE}/login`, {
      form: { name: "e2e-viewer", password: "e2e password, long enough", next: "/" },
      maxRedirects: 0,
    });
    expect(signIn.status()).toBe(303);
    const cdp = await tabletProfile(page);
    const cold = await openAndTap(page, cdp);
    // The same device a moment later: what it cached is still there.
    const warm = await openAndTap(page, cdp);
    rows.push(
      `run ${run}: cold ${cold.ms} ms (first row shown ${cold.firstRowMs} ms, hydrated ${cold.hydratedMs} ms, ` +
        `${cold.bytes} bytes, ${cold.elements} elements) · warm ${warm.ms} ms (first row shown ${warm.firstRowMs} ms, ` +
        `hydrated ${warm.hydratedMs} ms, ${warm.bytes} bytes)`,
    );
    await context.close();
  }
  console.log(["first load, tablet profile (CPU 4x slower, 10 Mbit/s, 40 ms):", ...rows].join("\n"));
});
