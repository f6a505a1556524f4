import { expect, test as base, Page, APIRequestContext } from "@playwright/test";
import * as fs from "fs";
import * as path from "path";

/**
 * Playwright's `test`, failing any test in whose browser a page threw: an uncaught
 * exception, or a Rust panic in the wasm (which leaves the page dead to clicks).
 */
export const test = base.extend<{ expectedBrowserErrors: RegExp[]; failOnBrowserErrors: void }>({
  /** Errors a test provokes on purpose, set with `test.use`. */
  expectedBrowserErrors: [[], { option: true }],
  failOnBrowserErrors: [
    async ({ context, expectedBrowserErrors }, use) => {
      const errors: string[] = [];
      const watch = (page: Page) => {
        page.on("pageerror", (e) => errors.push(`${page.url()}: uncaught ${e.message}`));
        page.on("console", (m) => {
          if (m.type() === "error" && m.text().includes("panicked at")) {
            errors.push(`${page.url()}: ${m.text().split("\n").slice(0, 2).join(" ")}`);
          }
        });
      };
      context.pages().forEach(watch);
      context.on("page", watch);
      await use();
      const unexpected = errors.filter((e) => !expectedBrowserErrors.some((pattern) => pattern.test(e)));
      expect(unexpected, "errors in the browser").toEqual([]);
    },
    { auto: true },
  ],
});

export const API = "http://127.0.0.1:3100";
export const EMULATOR = "http://127.0.0.1:3101";

/** The path of one of the compiled site's files: pages ask for them under the build's
 * name (`/build/<digest>/pkg/<file>`). `file` is a regular expression's source. */
export function siteFile(file: string): RegExp {
  return new RegExp(`^/build/[0-9a-f]{16}/pkg/${file}$`);
}

export const PASSWORD = "e2e password, long enough";
export type Role = "viewer" | "operator" | "admin";

/** Signs the page's browser context in as the e2e person of `role` (see the config). */
export async function signIn(page: Page, role: Role, base = API) {
  const response = await page.request.post(`${base}/login`, {
    form: { name: `e2e-${role}`, password: PASSWORD, next: "/" },
    maxRedirects: 0,
  });
  expect(response.status(), "signed in").toBe(303);
  expect(response.headers()["location"]).toBe("/");
}

/** Waits until the wasm has hydrated the page, so that clicks are handled. */
export async function hydrated(page: Page) {
  await expect(page.locator("body[data-hydrated='true']")).toHaveCount(1, { timeout: 30_000 });
}

export async function setFaults(request: APIRequestContext, faults: object) {
  const response = await request.put(`${EMULATOR}/_emulator/faults`, { data: faults });
  expect(response.status()).toBe(200);
}

let token: string | undefined;

/** The station API's Authorization header, with the token the test server was given. */
export function auth(): Record<string, string> {
  token ??= fs.readFileSync(path.join(__dirname, "../../target/e2e/token"), "utf8").trim();
  return { Authorization: `Bearer ${token}` };
}

let counter = 0;

/** Adds an order to the emulator and posts its shipment through the station API. */
export async function postShipment(
  request: APIRequestContext,
  overrides: Record<string, unknown> = {},
): Promise<Record<string, any>> {
  counter += 1;
  const n = `${Date.now() % 10_000_000}`.padStart(7, "0");
  const orderId = `999-${n}-${String(counter).padStart(7, "0")}`;
  const itemId = `E2E${n}${counter}`;
  const order = {
    marketplace: "amazon",
    order_id: orderId,
    marketplace_id: "ATVPDKIKX0DER",
    items: [{ order_item_id: itemId, sku: "E2E-SKU", quantity: 3 }],
  };
  expect((await request.post(`${EMULATOR}/_emulator/orders`, { data: order })).status()).toBe(201);
  const shipment = {
    shipment_id: `E2E-${n}-${counter}`,
    account: "acme-us",
    order_id: orderId,
    carrier: "UPS",
    service: "Ground",
    tracking_number: `1ZE2E${n}${counter}`,
    ship_date: new Date().toISOString(),
    items: [{ order_item_id: itemId, sku: "E2E-SKU", quantity: 3 }],
    ...overrides,
  };
  const response = await request.post(`${API}/api/v1/shipments`, { data: shipment, headers: auth() });
  expect(response.status(), await response.text()).toBe(200);
  return shipment;
}

/** Polls the API until the shipment reaches `status`. */
export async function waitForStatus(request: APIRequestContext, shipmentId: string, status: string) {
  await expect
    .poll(
      async () =>
        (await (await request.get(`${API}/api/v1/shipments/${shipmentId}`, { headers: auth() })).json()).status,
      { timeout: 30_000 },
    )
    .toBe(status);
}
