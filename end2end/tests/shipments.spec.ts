import { expect } from "@playwright/test";
import * as fs from "fs";
import { API, auth, hydrated, postShipment, setFaults, signIn, siteFile, test, waitForStatus } from "./helpers";

test.beforeAll(async ({ request }) => {
  // The demo starts with a backlog of seeded shipments, written back at Amazon's rate
  // (2 per second per account): let it drain so that each test's own shipment is not
  // queued behind it.
  await setFaults(request, {});
  await expect
    .poll(
      async () =>
        (await (await request.get(`${API}/api/v1/shipments?status=pending&status=retrying&limit=1`, { headers: auth() })).json()).total,
      { timeout: 120_000, intervals: [1_000] },
    )
    .toBe(0);
});

test.beforeEach(async ({ page, request }) => {
  // Deterministic marketplace: no random failures unless a test asks for them.
  await setFaults(request, {});
  await signIn(page, "operator");
});

test("a posted shipment is announced, not pushed in; shown on request, it turns Success without a reload", async ({ page, request }) => {
  await page.goto("/");
  await hydrated(page);
  // A marker that a reload would wipe.
  await page.evaluate(() => ((window as any).__noReload = true));
  // An open detail panel and a scrolled page must survive the live updates.
  const opened = page.locator("tr.row").nth(2);
  const openedId = await opened.getAttribute("data-shipment-id");
  await opened.click();
  await expect(page.getByTestId("detail-panel")).toBeVisible();
  await page.evaluate(() => window.scrollTo(0, 200));
  const scrolled = await page.evaluate(() => window.scrollY);
  expect(scrolled).toBeGreaterThan(0);
  const rowIds = () =>
    page.locator("tr.row").evaluateAll((rows) => rows.map((r) => r.getAttribute("data-shipment-id")));
  const before = await rowIds();

  // Slow answers keep the shipment Pending long enough to be seen.
  await setFaults(request, { latency_ms: 4000 });
  const shipment = await postShipment(request);
  const announcement = page.getByTestId("new-rows");
  await expect(announcement).toHaveText("1 new shipment — show");
  const row = page.locator(`tr[data-shipment-id="${shipment.shipment_id}"]`);
  await expect(row).toHaveCount(0);
  expect(await rowIds()).toEqual(before);
  expect(await page.evaluate(() => window.scrollY)).toBe(scrolled);
  await expect(page).toHaveURL(new RegExp(`selected=${openedId}`));
  await expect(page.getByTestId("detail-panel")).toBeVisible();
  await page.screenshot({ path: "screenshots/new-shipments-desktop.png" });
  await page.setViewportSize({ width: 768, height: 1024 });
  await expect(announcement).toBeVisible();
  await page.screenshot({ path: "screenshots/new-shipments-tablet-portrait.png" });
  await page.setViewportSize({ width: 1440, height: 900 });

  await announcement.click();
  await expect(announcement).toHaveCount(0);
  await expect(row).toBeVisible();
  await expect(row.locator(".badge")).toHaveText(/Pending/);
  await expect(row.locator(".badge")).toHaveText(/Success/, { timeout: 20_000 });
  expect(await page.evaluate(() => (window as any).__noReload)).toBe(true);
  await expect(row.locator(".col-tracking")).toHaveText(shipment.tracking_number);
  await expect(page.getByTestId("detail-panel")).toBeVisible();
});

test("the status filter lists only that status and matches the API count", async ({ page, request }) => {
  // A seeded shipment whose order lacks the item: it fails for good.
  await waitForStatus(request, "SB-100005", "failed");
  await page.goto("/");
  await hydrated(page);
  await page.locator(".chip[data-status='failed']").click();
  await expect(page).toHaveURL(/status=failed/);
  await expect(page.locator(".chip[data-status='failed']")).toHaveAttribute("aria-current", "true");

  const expected = (await (await request.get(`${API}/api/v1/shipments?status=failed`, { headers: auth() })).json()).total;
  expect(expected).toBeGreaterThan(0);
  await expect(page.getByTestId("total")).toHaveText(`${expected} shipments`);
  const badges = page.locator("tbody tr .badge");
  await expect(badges.first()).toBeVisible();
  for (const text of await badges.allInnerTexts()) {
    expect(text).toContain("Failed");
  }

  // A copied link restores the same view.
  const copy = await page.context().newPage();
  await copy.goto(page.url());
  await expect(copy.locator(".chip[data-status='failed']")).toHaveAttribute("aria-current", "true");
  await expect(copy.getByTestId("total")).toHaveText(`${expected} shipments`);

  await page.getByTestId("clear-filters").click();
  await expect(page).not.toHaveURL(/status=/);
});

test("the search box finds a shipment by tracking number; chips show and clear the filters", async ({ page, request }) => {
  const shipment = await postShipment(request);
  await page.goto("/");
  await hydrated(page);
  const search = page.locator("input[name='q']");
  await search.fill(` ${shipment.tracking_number} `);
  await search.press("Enter");
  await expect(page).toHaveURL(new RegExp(`q=${shipment.tracking_number}`));
  await expect(page.getByTestId("total")).toHaveText("1 shipments");
  await expect(page.locator("tbody tr")).toHaveCount(1);
  await expect(page.locator(`tr[data-shipment-id="${shipment.shipment_id}"]`)).toBeVisible();
  await expect(page.getByTestId("search-chip")).toContainText(shipment.tracking_number);

  // eBay shipments only: the Amazon one is not among them.
  await page.getByTestId("clear-filters").click();
  await page.locator(".chip[data-marketplace='ebay']").click();
  await expect(page).toHaveURL(/marketplace=ebay/);
  const expected = (await (await request.get(`${API}/api/v1/shipments?marketplace=ebay`, { headers: auth() })).json()).total;
  await expect(page.getByTestId("total")).toHaveText(`${expected} shipments`);
  await page.locator("select[name='carrier']").selectOption("UPS");
  await expect(page).toHaveURL(/carrier=UPS/);
  await expect(page.locator(".chip[data-carrier='UPS']")).toBeVisible();
  await page.getByTestId("clear-filters").click();
  await expect(page).not.toHaveURL(/marketplace|carrier/);
});

test("clicking a heading sorts by it, and again reverses", async ({ page }) => {
  await page.goto("/");
  await hydrated(page);
  const carriers = async () =>
    (await page.locator("tbody tr .col-carrier .carrier").allInnerTexts()).map((t) => t.trim());

  // The heading turns at once; the rows follow when the new page arrives.
  const sorted = async (descending: boolean) => {
    const seen = await carriers();
    const expected = [...seen].sort();
    return seen.length > 1 && JSON.stringify(seen) === JSON.stringify(descending ? expected.reverse() : expected);
  };
  await page.locator("th a[data-sort='carrier']").click();
  await expect(page).toHaveURL(/sort=carrier/);
  await expect(page.locator("th.col-carrier")).toHaveAttribute("aria-sort", "ascending");
  await expect.poll(() => sorted(false)).toBe(true);

  await page.locator("th a[data-sort='carrier']").click();
  await expect(page).toHaveURL(/sort=-carrier/);
  await expect(page.locator("th.col-carrier")).toHaveAttribute("aria-sort", "descending");
  await expect.poll(() => sorted(true)).toBe(true);

  await page.locator("th a[data-sort='ship_date']").click();
  await expect(page).toHaveURL(/sort=ship_date/);
  await expect
    .poll(async () => {
      const dates = await page.locator("tbody tr .col-date").allInnerTexts();
      return JSON.stringify(dates) === JSON.stringify([...dates].sort());
    })
    .toBe(true);
});

test("every column sorts both ways as the API does; a shared link restores filters, sort and selection; back and forward work", async ({ page, request }) => {
  // Wide enough for every column; narrower screens hide the less used ones.
  await page.setViewportSize({ width: 1920, height: 1000 });
  await page.goto("/");
  await hydrated(page);
  const gridIds = () =>
    page.locator("tbody tr.row").evaluateAll((rows) => rows.map((r) => r.getAttribute("data-shipment-id")));
  const apiIds = async (query: string) =>
    (await (await request.get(`${API}/api/v1/shipments?${query}&limit=50`, { headers: auth() })).json()).items.map(
      (i: any) => i.shipment_id,
    );
  const keys = await page.locator("th a[data-sort]").evaluateAll((links) => links.map((a) => a.getAttribute("data-sort")!));
  expect(keys.length).toBe(10);
  for (const key of keys) {
    for (const [sort, direction] of [[key, "ascending"], [`-${key}`, "descending"]]) {
      await page.locator(`th a[data-sort='${key}']`).click();
      // Newest first is the default view, which the URL does not spell out.
      await expect(page).toHaveURL(sort === "-ship_date" ? /\/$/ : new RegExp(`sort=${sort}(&|$)`));
      await expect(page.locator(`th:has(a[data-sort='${key}'])`)).toHaveAttribute("aria-sort", direction);
      // Live updates may move rows between the two reads: compare once both settle.
      await expect.poll(async () => JSON.stringify(await gridIds())).toBe(JSON.stringify(await apiIds(`sort=${sort}`)));
    }
  }

  // A view with a filter, a sort and an open shipment, opened from its link elsewhere.
  await waitForStatus(request, "SB-100005", "failed");
  await page.goto("/?status=failed&sort=-error_count&selected=SB-100005");
  await hydrated(page);
  const other = await page.context().newPage();
  await other.goto(page.url());
  await hydrated(other);
  await expect(other.locator(".chip[data-status='failed']")).toHaveAttribute("aria-current", "true");
  await expect(other.locator("th:has(a[data-sort='error_count'])")).toHaveAttribute("aria-sort", "descending");
  await expect(other.getByTestId("detail-panel")).toBeVisible();
  await expect(other.locator("tr[data-shipment-id='SB-100005']")).toHaveAttribute("aria-selected", "true");
  await other.close();

  // Back and forward walk the views.
  await page.locator("th a[data-sort='order_id']").click();
  await expect(page).toHaveURL(/sort=order_id/);
  await page.goBack();
  await expect(page).toHaveURL(/sort=-error_count/);
  await expect(page.locator("th:has(a[data-sort='error_count'])")).toHaveAttribute("aria-sort", "descending");
  await page.goForward();
  await expect(page).toHaveURL(/sort=order_id/);
  await expect(page.locator("th:has(a[data-sort='order_id'])")).toHaveAttribute("aria-sort", "ascending");
});

test("Export CSV downloads every shipment the grid lists, in the grid's order", async ({ page, request }) => {
  await page.goto("/?sort=-carrier");
  await hydrated(page);
  // Live off: the grid and the file must describe the same moment.
  await page.locator(".live-toggle input").uncheck();
  await expect(page.getByTestId("grid-summary")).toBeVisible();
  const gridIds = await page
    .locator("tbody tr.row")
    .evaluateAll((rows) => rows.map((r) => r.getAttribute("data-shipment-id")));
  const total = Number((await page.getByTestId("total").innerText()).split(" ")[0]);

  const [download] = await Promise.all([page.waitForEvent("download"), page.getByTestId("export").click()]);
  expect(download.suggestedFilename()).toMatch(/^shipments-\d{4}-\d{2}-\d{2}\.csv$/);
  const text = fs.readFileSync((await download.path())!, "utf8");
  const lines = text.trimEnd().split("\r\n");
  expect(lines[0]).toMatch(/^Shipment ID,Order ID,Account,/);
  const exported = lines.slice(1).map((line) => line.split(",")[0]);
  expect(exported.length).toBe(total);
  // The page on screen is the file's beginning, row for row.
  expect(exported.slice(0, gridIds.length)).toEqual(gridIds);
  // And the whole file is what the API lists, page after page, for the same view.
  const listed: string[] = [];
  let cursor = "";
  do {
    const page_ = await (await request.get(`${API}/api/v1/shipments?sort=-carrier&limit=100${cursor}`, { headers: auth() })).json();
    listed.push(...page_.items.map((i: any) => i.shipment_id));
    cursor = page_.next_cursor ? `&cursor=${page_.next_cursor}` : "";
  } while (cursor);
  expect(exported).toEqual(listed);
});

test("the detail panel shows the shipment and its attempts with each error", async ({ page, request }) => {
  await setFaults(request, { forced_status: 503 });
  const shipment = await postShipment(request);
  // The marketplace's outage spends no attempt: the account's queue waits, probed.
  await expect
    .poll(
      async () => (await (await request.get(`${API}/api/v1/shipments/${shipment.shipment_id}`, { headers: auth() })).json()).attempts.length,
      { timeout: 30_000 },
    )
    .toBeGreaterThanOrEqual(2);
  await setFaults(request, {});
  await waitForStatus(request, shipment.shipment_id, "success");

  await page.goto("/");
  await hydrated(page);
  await page.locator(`tr[data-shipment-id="${shipment.shipment_id}"]`).click();
  await expect(page).toHaveURL(new RegExp(`selected=${shipment.shipment_id}`));
  const panel = page.getByTestId("detail-panel");
  await expect(panel).toBeVisible();
  await expect(panel.getByTestId("detail-order")).toHaveText(shipment.order_id);
  await expect(panel).toContainText("UPS / Ground");
  await expect(panel).toContainText(shipment.tracking_number);
  const attempts = panel.locator("[data-testid='attempts'] tbody tr.attempt");
  expect(await attempts.count()).toBeGreaterThanOrEqual(3);
  // Newest first: the success, then the failures with the marketplace's words.
  await expect(attempts.first()).toContainText("Success");
  await expect(attempts.last()).toContainText("503");
  await expect(panel.locator(".attempt-message").last()).toContainText("ServiceUnavailable");

  // The open panel survives a reload of the shared link.
  await page.reload();
  await expect(page.getByTestId("detail-panel")).toBeVisible();
  await expect(page.getByTestId("detail-order")).toHaveText(shipment.order_id);
});

test("a failed shipment is retried now from its detail, and another is confirmed by hand", async ({ page, request }) => {
  // The marketplace refuses both for good.
  await setFaults(request, { api: "writeback", forced_status: 400 });
  const retried = await postShipment(request);
  const confirmed = await postShipment(request);
  await waitForStatus(request, retried.shipment_id, "failed");
  await waitForStatus(request, confirmed.shipment_id, "failed");
  await setFaults(request, {});

  await page.goto(`/?selected=${retried.shipment_id}`);
  await hydrated(page);
  const panel = page.getByTestId("detail-panel");
  await expect(panel.getByTestId("order-link")).toHaveAttribute(
    "href",
    `https://sellercentral.amazon.com/orders-v3/order/${retried.order_id}`,
  );
  await panel.getByTestId("retry-now").click();
  const row = page.locator(`tr[data-shipment-id="${retried.shipment_id}"] .badge`);
  await expect(row).toHaveText(/Success/, { timeout: 20_000 });
  // The new round's success above the old round's refusal.
  const attempts = panel.locator("[data-testid='attempts'] tbody tr.attempt");
  await expect(attempts.first()).toContainText("Success");
  await expect(attempts.last()).toContainText("400");

  await page.goto(`/?status=failed&selected=${confirmed.shipment_id}`);
  await hydrated(page);
  const form = page.getByTestId("detail-panel");
  // Who confirmed is required: a red line, nothing sent.
  await form.getByTestId("confirm-manually").click();
  await expect(form.locator(".confirm-form .error-line")).toHaveText("Enter who confirmed the shipment on the marketplace.");
  await page.screenshot({ path: "screenshots/detail-failed-actions.png" });
  await page.setViewportSize({ width: 768, height: 1024 });
  await page.screenshot({ path: "screenshots/tablet-portrait-detail-failed-actions.png" });
  await page.setViewportSize({ width: 1440, height: 900 });
  const name = form.locator("input[name='confirmed_by']");
  await name.fill("Dana (packing)");
  // The worker goes on while the operator types: the panel reads the shipment again on
  // that event, and the form keeps its text and its focus.
  await name.focus();
  const reread = page.waitForResponse((r) => r.url().includes("/rpc/get_shipment"));
  await postShipment(request);
  await reread;
  await expect(name).toHaveValue("Dana (packing)");
  await expect(name).toBeFocused();
  await form.locator("textarea[name='note']").fill("Confirmed in Seller Central");
  await form.getByTestId("confirm-manually").click();
  await expect(form.getByTestId("confirmed-by")).toContainText("Confirmed manually by Dana (packing)");
  await expect(form.getByTestId("confirmed-by")).toContainText("Confirmed in Seller Central");
  // It left the Failed list.
  await expect(page.locator(`tr[data-shipment-id="${confirmed.shipment_id}"]`)).toHaveCount(0);
  const detail = await (await request.get(`${API}/api/v1/shipments/${confirmed.shipment_id}`, { headers: auth() })).json();
  expect(detail.status).toBe("confirmed_manually");
  expect(detail.manual_confirmation.confirmed_by).toBe("Dana (packing)");
});

test("bulk retry: Failed shipments ticked in the grid start a new round together", async ({ page, request }) => {
  await setFaults(request, { api: "writeback", forced_status: 400 });
  const shipments = [await postShipment(request), await postShipment(request)];
  for (const s of shipments) await waitForStatus(request, s.shipment_id, "failed");
  await setFaults(request, {});

  await page.goto("/?status=failed");
  await hydrated(page);
  for (const s of shipments) {
    const box = page.locator(`tr[data-shipment-id="${s.shipment_id}"] input.pick`);
    await box.check();
  }
  // Ticking does not open the detail.
  await expect(page).not.toHaveURL(/selected=/);
  await expect(page.getByTestId("bulk-bar")).toContainText("2 failed shipments selected");
  await page.getByTestId("retry-selected").click();
  await expect(page.getByTestId("bulk-outcome")).toHaveText("2 shipments queued for a new round.");
  await expect(page.getByTestId("bulk-bar")).toHaveCount(0);
  for (const s of shipments) {
    await waitForStatus(request, s.shipment_id, "success");
    // Gone from the Failed view without a reload.
    await expect(page.locator(`tr[data-shipment-id="${s.shipment_id}"]`)).toHaveCount(0);
  }
});

test("a shipment has its own shareable page", async ({ page, request }) => {
  const shipment = await postShipment(request);
  await waitForStatus(request, shipment.shipment_id, "success");
  await page.goto(`/?selected=${shipment.shipment_id}`);
  await hydrated(page);
  await page.getByTestId("detail-panel").getByTestId("shipment-link").click();
  await expect(page).toHaveURL(new RegExp(`/shipments/${shipment.shipment_id}$`));
  const own = page.getByTestId("shipment-page");
  await expect(own.getByTestId("detail-order")).toHaveText(shipment.order_id);
  await expect(own.locator("[data-testid='attempts'] tbody tr.attempt").first()).toContainText("Success");
  // Opened directly (a shared link), rendered by the server.
  const fresh = await page.context().newPage();
  await fresh.goto(`/shipments/${shipment.shipment_id}`);
  await expect(fresh.getByTestId("detail-order")).toHaveText(shipment.order_id);
  await fresh.goto("/shipments/NO-SUCH-SHIPMENT");
  await expect(fresh.locator(".error-line")).toHaveText("There is no shipment 'NO-SUCH-SHIPMENT'.");
});

test("a shipment's details are a wasm chunk of their own, fetched once the grid has hydrated", async ({ page, request }) => {
  const shipment = await postShipment(request);
  const wasm: string[] = [];
  page.on("request", (r) => {
    if (r.url().endsWith(".wasm")) wasm.push(new URL(r.url()).pathname);
  });
  const detailChunk = siteFile("split_shipment_details\\.wasm");
  await page.goto("/");
  await hydrated(page);
  expect(wasm[0]).toMatch(siteFile("shipback\\.wasm"));
  // Fetched after hydration, before anyone opens a shipment.
  await expect.poll(() => wasm.filter((p) => detailChunk.test(p)).length).toBe(1);
  const before = wasm.length;
  await page.locator(`tr[data-shipment-id="${shipment.shipment_id}"]`).click();
  await expect(page.getByTestId("detail-panel").getByTestId("detail-order")).toHaveText(shipment.order_id);
  expect(wasm.length, "opening a shipment fetches no more code").toBe(before);

  // A shared link that shows a shipment: the server drew its details, and the browser
  // fetches their code before it hydrates, so that it can take them over. (Without it,
  // hydration fails with a panic, which fails every test.)
  const shared = await page.context().newPage();
  await shared.goto(`/?selected=${shipment.shipment_id}`);
  await hydrated(shared);
  const copy = shared.getByTestId("detail-panel").locator("button.copy");
  await copy.click();
  await expect(copy).toContainText("✓ Copied");
});

test("a return visit downloads none of the site's code: the browser keeps it for good", async ({ page }) => {
  await page.goto("/");
  await hydrated(page);
  // The same browser opens the screen again, in another tab.
  const again = await page.context().newPage();
  const cdp = await page.context().newCDPSession(again);
  await cdp.send("Network.enable");
  const asked = new Map<string, string>();
  const cached = new Set<string>();
  const downloaded: string[] = [];
  cdp.on("Network.requestWillBeSent", (e) => {
    const path = new URL(e.request.url).pathname;
    if (path.startsWith("/build/")) asked.set(e.requestId, path);
  });
  cdp.on("Network.requestServedFromCache", (e) => cached.add(e.requestId));
  cdp.on("Network.responseReceived", (e) => {
    if (!asked.has(e.requestId)) return;
    if (e.response.fromDiskCache || cached.has(e.requestId)) {
      cached.add(e.requestId);
    } else {
      downloaded.push(`${asked.get(e.requestId)} ${e.response.status}`);
    }
  });
  await again.goto("/");
  await hydrated(again);
  const paths = [...asked.values()];
  expect(paths.some((p) => siteFile("shipback\\.wasm").test(p)), paths.join(", ")).toBe(true);
  expect(paths.some((p) => siteFile("shipback\\.css").test(p)), paths.join(", ")).toBe(true);
  // Not even asked whether they changed (no 304): their names change when they do.
  expect(downloaded).toEqual([]);
});

test.describe("with the details' chunk refused by the network", () => {
  // wasm-split's loader (JavaScript that cargo-leptos generates) leaves the refused
  // fetch's promise unhandled for a moment: the browser reports it, and nothing breaks.
  test.use({ expectedBrowserErrors: [/uncaught Failed to fetch$/] });

  test("the panel says so, the page goes on, and Try again fetches it once the network is back", async ({ page, request }) => {
    const other = await postShipment(request);
    const shipment = await postShipment(request);
    let refused = 0;
    await page.route("**/pkg/split_shipment_details.wasm", (route) => {
      refused += 1;
      return route.abort("connectionreset");
    });
    await page.goto("/");
    await hydrated(page);
    await page.locator(`tr[data-shipment-id="${shipment.shipment_id}"]`).click();
    const panel = page.getByTestId("detail-panel");
    await expect(panel.locator(".error-line")).toContainText("Could not load the code that shows a shipment");
    expect(refused).toBeGreaterThanOrEqual(1);
    await page.screenshot({ path: "screenshots/detail-code-refused.png" });
    // The page is still alive: another row opens, and says the same.
    await page.locator(`tr[data-shipment-id="${other.shipment_id}"]`).click();
    await expect(page).toHaveURL(new RegExp(`selected=${other.shipment_id}`));
    await expect(panel.locator(".error-line")).toContainText("Could not load the code that shows a shipment");
    await page.unroute("**/pkg/split_shipment_details.wasm");
    await panel.getByTestId("fetch-details-again").click();
    await expect(panel.getByTestId("detail-order")).toHaveText(other.order_id);
  });
});

test("the keyboard moves through rows, Enter opens the detail and Escape closes it", async ({ page, request }) => {
  await page.goto("/");
  await hydrated(page);
  const rows = page.locator("tbody tr.row");
  const second = await rows.nth(1).getAttribute("data-shipment-id");
  await page.keyboard.press("ArrowDown");
  await page.keyboard.press("ArrowDown");
  await expect(rows.nth(1)).toBeFocused();
  // A live update rebuilds the grid; the focused row keeps the focus.
  const reread = page.waitForResponse((r) => r.url().includes("/rpc/list_shipments"));
  await postShipment(request);
  await reread;
  await expect(page.locator(`tr.row[data-shipment-id="${second}"]`)).toBeFocused();
  await page.keyboard.press("ArrowUp");
  await expect(rows.nth(0)).toBeFocused();
  await page.keyboard.press("ArrowDown");
  await page.keyboard.press("Enter");
  await expect(page).toHaveURL(new RegExp(`selected=${second}`));
  await expect(page.getByTestId("detail-panel")).toBeVisible();
  await page.keyboard.press("Escape");
  await expect(page).not.toHaveURL(/selected=/);
  await expect(page.getByTestId("detail-panel")).toHaveCount(0);
});

test("the detail shows what the marketplaces report: order status, pictures, titles and weights", async ({ page, request }) => {
  // The demo's sync reads written-back orders back, then their lines, then the catalog.
  const detail = async (id: string) => (await request.get(`${API}/api/v1/shipments/${id}`, { headers: auth() })).json();
  await expect
    .poll(async () => {
      const amazon = await detail("SB-100000");
      const ebay = await detail("SB-100003");
      return Boolean(amazon.marketplace_order?.shipped && amazon.items[0].image_url && ebay.marketplace_order?.shipped);
    }, { timeout: 90_000, intervals: [1_000] })
    .toBe(true);

  await page.goto("/?selected=SB-100000");
  await hydrated(page);
  const panel = page.getByTestId("detail-panel");
  await expect(panel).toContainText("Order in Amazon");
  await expect(panel.getByTestId("detail-order-status")).toHaveText("✓ Shipped");
  const item = panel.getByTestId("detail-item").first();
  await expect(item).toContainText(/pounds/);
  await expect(item).toContainText(/B0[0-9A-F]{8}/);
  const picture = item.locator("img.item-image");
  await expect(picture).toHaveAttribute("src", /\/_emulator\/images\/B0/);
  // The picture really loads.
  await expect
    .poll(() => picture.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth > 0))
    .toBe(true);

  await page.goto("/?selected=SB-100003");
  await hydrated(page);
  await expect(panel).toContainText("Order in eBay");
  await expect(panel.getByTestId("detail-order-status")).toHaveText("✓ Completed");
  await expect(panel.getByTestId("detail-item").first()).toContainText(/\d+ × \S/);
});

test("screenshots at desktop and tablet sizes, with no sideways scrolling", async ({ page, request }) => {
  // The pages run under their Content-Security-Policy: anything it blocks is an error.
  const refused: string[] = [];
  page.on("console", (message) => {
    if (message.type() === "error" && /Content Security Policy/i.test(message.text())) refused.push(message.text());
  });
  const policy = (await request.get(`${API}/`)).headers()["content-security-policy"];
  expect(policy).toMatch(/script-src 'self' 'nonce-[A-Za-z0-9_-]{16,}' 'wasm-unsafe-eval'/);
  await waitForStatus(request, "SB-100005", "failed");
  const sizes = [
    ["desktop", { width: 1440, height: 900 }],
    ["tablet-portrait", { width: 768, height: 1024 }],
    ["tablet-landscape", { width: 1024, height: 768 }],
  ] as const;
  for (const [name, viewport] of sizes) {
    await page.setViewportSize(viewport);
    for (const [suffix, url] of [["grid", "/"], ["detail", "/?selected=SB-100005"], ["detail-catalog", "/?selected=SB-100000"]]) {
      await page.goto(url);
      await hydrated(page);
      await expect(page.locator("tbody tr").first()).toBeVisible();
      if (suffix.startsWith("detail")) {
        await expect(page.getByTestId("detail-panel")).toContainText("Write-back attempts");
      }
      await page.screenshot({ path: `screenshots/shipments-${name}-${suffix}.png` });
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      expect(overflow, `${name} ${suffix} scrolls sideways`).toBeLessThanOrEqual(0);
      // The status and the time left of every listed shipment are on screen without
      // scrolling the table.
      const badge = await page.locator("tbody tr .badge").first().boundingBox();
      expect(badge!.x + badge!.width).toBeLessThanOrEqual(viewport.width);
      const tableOverflow = await page.evaluate(() => {
        const wrap = document.querySelector(".table-wrap")!;
        return wrap.scrollWidth - wrap.clientWidth;
      });
      expect(tableOverflow, `${name} ${suffix}: the grid scrolls sideways`).toBeLessThanOrEqual(0);
    }
  }
  expect(refused, "blocked by the Content-Security-Policy").toEqual([]);
});
