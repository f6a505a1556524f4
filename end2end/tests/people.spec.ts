import { expect } from "@playwright/test";
import { API, auth, hydrated, PASSWORD, postShipment, signIn, siteFile, test, waitForStatus } from "./helpers";

async function aFailedShipment(request: import("@playwright/test").APIRequestContext): Promise<string> {
  const page = await (await request.get(`${API}/api/v1/shipments?status=failed&limit=1`, { headers: auth() })).json();
  expect(page.items.length, "the demo has Failed shipments").toBe(1);
  return page.items[0].shipment_id;
}

test("a signed-out visitor signs in on the form and lands on the view they asked for", async ({ page }) => {
  await page.goto("/?status=failed");
  await expect(page).toHaveURL(/\/login\?next=/);
  await hydrated(page);
  await page.screenshot({ path: "screenshots/sign-in-desktop.png" });

  const form = page.getByTestId("sign-in-form");
  await form.locator("input[name='name']").fill("e2e-operator");
  await form.locator("input[name='password']").fill("not the password!");
  await form.getByTestId("sign-in").click();
  await expect(page.getByTestId("sign-in-error")).toHaveText("Wrong name or password.");
  await page.setViewportSize({ width: 768, height: 1024 });
  await page.screenshot({ path: "screenshots/sign-in-tablet-portrait-error.png" });
  await page.setViewportSize({ width: 1440, height: 900 });

  await form.locator("input[name='name']").fill("e2e-operator");
  await form.locator("input[name='password']").fill(PASSWORD);
  await form.getByTestId("sign-in").click();
  await expect(page).toHaveURL(/\/\?status=failed$/);
  await expect(page.getByTestId("who")).toContainText("e2e-operator");
  await expect(page.getByTestId("who")).toContainText("operator");
  await expect(page.locator("tbody tr[data-shipment-id]").first()).toBeVisible();

  // Sign out ends the session: the dashboard asks to sign in again.
  await page.getByTestId("sign-out").click();
  await expect(page).toHaveURL(/\/login$/);
  await page.goto("/");
  await expect(page).toHaveURL(/\/login\?next=/);
});

test("a viewer sees and exports but is offered no retry, confirmation or bulk selection", async ({ page, request }) => {
  const failed = await aFailedShipment(request);
  await signIn(page, "viewer");
  await page.goto(`/?status=failed&selected=${failed}`);
  await hydrated(page);
  await expect(page.getByTestId("who")).toContainText("viewer");
  const panel = page.getByTestId("detail-panel");
  await expect(panel.getByTestId("operators-only")).toBeVisible();
  await expect(panel.getByTestId("retry-now")).toHaveCount(0);
  await expect(panel.getByTestId("confirm-manually")).toHaveCount(0);
  await expect(page.locator("input.pick")).toHaveCount(0);
  await expect(page.getByTestId("export")).toBeVisible();
  await page.screenshot({ path: "screenshots/viewer-detail-desktop.png" });
  // Hiding is not the protection: server/tests/integration/people.rs holds every server
  // function to refusing a viewer.
});

test("an operator and an admin are offered the actions", async ({ page, request }) => {
  const failed = await aFailedShipment(request);
  for (const role of ["operator", "admin"] as const) {
    await page.context().clearCookies();
    await signIn(page, role);
    await page.goto(`/?status=failed&selected=${failed}`);
    await hydrated(page);
    await expect(page.getByTestId("who")).toContainText(role);
    await expect(page.getByTestId("detail-panel").getByTestId("retry-now")).toBeVisible();
    await expect(page.locator("input.pick").first()).toBeVisible();
  }
});

test("an admin reads the audit log: who did what, when and from where", async ({ page }) => {
  // The admin screens are lazy routes (`cargo leptos build --split`): the shipments
  // screen does not download their code; opening the Admin menu fetches theirs, and
  // never the sign-in page's.
  const wasm: string[] = [];
  page.on("request", (r) => {
    if (r.url().endsWith(".wasm")) wasm.push(new URL(r.url()).pathname);
  });
  await signIn(page, "admin");
  await page.goto("/");
  await hydrated(page);
  expect(wasm.filter((p) => siteFile("shipback\\.wasm").test(p))).toHaveLength(1);
  expect(wasm.filter((p) => p.includes("route_view"))).toEqual([]);
  await page.getByTestId("admin-menu").locator("summary").click();
  const screens = () =>
    wasm
      .map((p) => p.match(siteFile("split___(\\w+)_route_view_\\d+\\.wasm"))?.[1])
      .filter((screen) => screen)
      .sort();
  await expect.poll(screens).toEqual(["access", "accounts", "audit", "carriers"]);
  await page.getByTestId("audit-link").click();
  await expect(page).toHaveURL(/\/audit$/);
  const rows = page.getByTestId("audit-row");
  await expect(rows.first()).toBeVisible();
  expect(screens()).toEqual(["access", "accounts", "audit", "carriers"]);
  // The newest entry is this sign-in.
  await expect(rows.first()).toContainText("e2e-admin");
  await expect(rows.first()).toContainText("sign_in");
  await expect(rows.first()).toContainText("127.0.0.1");
  await page.screenshot({ path: "screenshots/audit-desktop.png" });
  const [download] = await Promise.all([page.waitForEvent("download"), page.getByTestId("audit-export").click()]);
  expect(download.suggestedFilename()).toMatch(/^audit-\d{4}-\d{2}-\d{2}\.csv$/);
  const text = require("fs").readFileSync((await download.path())!, "utf8");
  expect(text.split("\r\n")[0]).toBe("ID,At (UTC),Actor,Role,Action,Target,Detail,Address");
  expect(text).toContain(",e2e-admin,admin,sign_in,");
  // An operator has no audit link, and the page refuses them.
  await page.context().clearCookies();
  await signIn(page, "operator");
  await page.goto("/");
  await hydrated(page);
  await expect(page.getByTestId("who")).toContainText("operator");
  await expect(page.getByTestId("admin-menu")).toHaveCount(0);
  await page.goto("/audit");
  await expect(page.locator(".error-line")).toContainText("this needs an admin");
});

test("an admin registers an account, fixes a mistake, edits and disables it", async ({ page }) => {
  await signIn(page, "admin");
  await page.goto("/");
  await hydrated(page);
  await page.getByTestId("admin-menu").locator("summary").click();
  await page.getByTestId("accounts-link").click();
  await expect(page).toHaveURL(/\/admin\/accounts$/);
  await hydrated(page);
  await expect(page.getByTestId("account-row").first()).toBeVisible();

  const form = page.getByTestId("account-form");
  const key = `e2e-${Date.now() % 1_000_000}`;
  const fill = async (name: string, value: string) => form.locator(`input[name='${name}']`).fill(value);
  await fill("key", key);
  await fill("display_name", "E2E Store");
  await fill("company", "E2E Inc.");
  await fill("marketplace_id", "ATVPDKIKX0DER");
  await fill("region", "us");
  await fill("api_base_url", "http://127.0.0.1:3101");
  await fill("auth_base_url", "http://127.0.0.1:3101");
  await fill("client_id", "amzn1.application-oa2-client.e2e");
  await fill("client_secret", "e2e-secret");
  await fill("refresh_token", "Atzr|e2e-refresh");
  await form.getByTestId("save-account").click();
  await expect(page.getByTestId("account-error")).toHaveText("Correct the fields in red.");
  await expect(form.locator("label:has(input[name='region']) .error-line")).toContainText("na, eu or fe");
  await page.screenshot({ path: "screenshots/accounts-desktop-error.png" });

  await fill("region", "na");
  await form.getByTestId("save-account").click();
  await expect(page.getByTestId("account-saved")).toHaveText(`Saved ${key}.`);
  const row = page.locator(`tr[data-account='${key}']`);
  await expect(row).toContainText("E2E Store");
  await expect(row).toContainText("Enabled");
  // The secrets are not shown again: the edit form keeps them blank.
  await row.getByTestId("edit-account").click();
  await expect(form.locator("input[name='client_secret']")).toHaveValue("");
  await fill("display_name", "E2E Store, renamed");
  await form.getByTestId("save-account").click();
  await expect(row).toContainText("E2E Store, renamed");
  await row.getByTestId("toggle-account").click();
  await expect(row).toContainText("Disabled");
  await expect(form.locator("input[name='enabled']")).not.toBeChecked();
  await page.setViewportSize({ width: 768, height: 1024 });
  await page.screenshot({ path: "screenshots/accounts-tablet-portrait.png", fullPage: true });
  const width = await page.evaluate(() => document.documentElement.scrollWidth);
  expect(width, "no sideways scrolling").toBeLessThanOrEqual(768);
});

test("an admin adds a person and makes a token, shown once, then revokes it", async ({ page, request }) => {
  await signIn(page, "admin");
  await page.goto("/");
  await hydrated(page);
  await page.getByTestId("admin-menu").locator("summary").click();
  await page.getByTestId("access-link").click();
  await expect(page).toHaveURL(/\/admin\/access$/);
  await hydrated(page);

  // A person: a short password is refused with the reason, a good one saves.
  const person = page.getByTestId("person-form");
  const who = `e2e-new-${Date.now() % 1_000_000}`;
  await person.locator("input[name='name']").fill(who);
  await person.locator("select[name='role']").selectOption("operator");
  await person.locator("input[name='password']").fill("short");
  await person.getByTestId("save-person").click();
  await expect(page.getByTestId("person-error")).toContainText("12 to 128 characters");
  await person.locator("input[name='password']").fill("a new person's long password");
  await person.getByTestId("save-person").click();
  await expect(page.getByTestId("person-saved")).toBeVisible();
  await expect(page.locator(`tr[data-person='${who}']`)).toContainText("operator");

  // A token: shown once, works on the API, and is refused once revoked.
  const tokens = page.getByTestId("token-form");
  const name = `e2e-monitor-${Date.now() % 1_000_000}`;
  await tokens.locator("input[name='token_name']").fill(name);
  await tokens.locator("input[name='ingest']").uncheck();
  await tokens.locator("input[name='read']").check();
  await tokens.getByTestId("create-token").click();
  const token = (await page.getByTestId("new-token").textContent())!.trim();
  expect(token).toMatch(/^sbk_/);
  await page.screenshot({ path: "screenshots/access-desktop.png" });
  const headers = { Authorization: `Bearer ${token}` };
  expect((await request.get(`${API}/api/v1/shipments?limit=1`, { headers })).status()).toBe(200);
  const row = page.locator(`tr[data-token='${name}']`);
  await expect(row).toContainText("read");
  await row.getByTestId("revoke-token").click();
  await expect(row).toContainText("revoked");
  expect((await request.get(`${API}/api/v1/shipments?limit=1`, { headers })).status()).toBe(401);
  // Shown once: the screen, opened again, has no trace of it.
  await page.reload();
  await expect(page.locator(`tr[data-token='${name}']`)).toBeVisible();
  expect(await page.content()).not.toContain(token.slice(4, 20));
});

test("a carrier nobody mapped waits with its reason, and an admin maps it on the Carriers screen", async ({ page, request }) => {
  const carrier = `Van Line ${Date.now() % 1_000_000}`;
  const shipment = await postShipment(request, { carrier });
  // Never sent as it is: it waits, and says why.
  await expect
    .poll(
      async () =>
        (await (await request.get(`${API}/api/v1/shipments/${shipment.shipment_id}`, { headers: auth() })).json())
          .last_error,
      { timeout: 30_000 },
    )
    .toBe(`carrier '${carrier}' has no Amazon carrier code: map it under Admin → Carriers`);

  await signIn(page, "admin");
  await page.goto("/");
  await hydrated(page);
  await page.getByTestId("admin-menu").locator("summary").click();
  await page.getByTestId("carriers-link").click();
  await expect(page).toHaveURL(/\/admin\/carriers$/);
  await hydrated(page);
  const waiting = page.getByTestId("unmapped-carrier").filter({ hasText: carrier });
  await expect(waiting).toContainText("1 waiting");
  await page.screenshot({ path: "screenshots/carriers-desktop.png", fullPage: true });
  await waiting.getByRole("button", { name: "Map it" }).click();
  const form = page.getByTestId("carrier-form");
  await expect(form.locator("input[name='station_name']")).toHaveValue(carrier);
  await form.locator("select[name='code']").selectOption("Other");
  await form.getByTestId("save-carrier").click();
  await expect(page.getByTestId("carrier-error")).toContainText("give the carrier's name");
  await form.locator("input[name='name']").fill("Van Line Ltd");
  await form.getByTestId("save-carrier").click();
  await expect(page.getByTestId("carrier-saved")).toBeVisible();
  await expect(page.getByTestId("carrier-row").filter({ hasText: carrier })).toContainText("Other");
  await waitForStatus(request, shipment.shipment_id, "success");
  await page.setViewportSize({ width: 768, height: 1024 });
  await page.screenshot({ path: "screenshots/carriers-tablet-portrait.png", fullPage: true });
  const width = await page.evaluate(() => document.documentElement.scrollWidth);
  expect(width, "no sideways scrolling").toBeLessThanOrEqual(768);
});
