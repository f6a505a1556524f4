import AxeBuilder from "@axe-core/playwright";
import { expect, type Page } from "@playwright/test";
import { API, auth, hydrated, signIn, test } from "./helpers";

/** The axe rules' violations on the page as it is now, one line each. */
async function violations(page: Page): Promise<string[]> {
  const results = await new AxeBuilder({ page }).analyze();
  return results.violations.map(
    (v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`,
  );
}

test("every screen passes the accessibility audit (axe rules), desktop, tablet and phone", async ({ page, request }) => {
  const listing = await (await request.get(`${API}/api/v1/shipments?limit=1`, { headers: auth() })).json();
  const id = listing.items[0].shipment_id;
  await page.goto("/login");
  await expect(page.locator("form")).toBeVisible();
  expect(await violations(page), "/login").toEqual([]);

  await signIn(page, "admin");
  const screens = [
    "/",
    `/?selected=${id}`,
    "/?status=failed&deadline=late",
    `/shipments/${id}`,
    "/audit",
    "/admin/accounts",
    "/admin/carriers",
    "/admin/access",
  ];
  for (const viewport of [
    { width: 1440, height: 900 },
    { width: 768, height: 1024 },
    { width: 390, height: 844 },
  ]) {
    await page.setViewportSize(viewport);
    for (const screen of screens) {
      await page.goto(screen);
      await hydrated(page);
      await expect(page.locator(".loading")).toHaveCount(0);
      expect(await violations(page), `${screen} at ${viewport.width}x${viewport.height}`).toEqual([]);
    }
  }
});
