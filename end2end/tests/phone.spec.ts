import { expect } from "@playwright/test";
import { hydrated, signIn, test } from "./helpers";

test("on a supervisor's phone the top bar folds into a menu, the filters behind one button, and the grid shows order, status and time left", async ({
  page,
}) => {
  await page.setViewportSize({ width: 390, height: 844 });
  await signIn(page, "operator");
  await page.goto("/?status=success&deadline=confirmed_late");
  await hydrated(page);

  // Every action can be reached, inside the screen's width.
  await expect(page.getByTestId("update")).toBeHidden();
  await expect(page.getByTestId("sign-out")).toBeHidden();
  await page.screenshot({ path: "screenshots/phone.png" });
  await page.getByTestId("menu-toggle").click();
  for (const id of ["update", "export", "sign-out"]) {
    const action = page.getByTestId(id);
    await expect(action).toBeVisible();
    const box = (await action.boundingBox())!;
    expect(box.x).toBeGreaterThanOrEqual(0);
    expect(box.x + box.width).toBeLessThanOrEqual(390);
  }
  await page.screenshot({ path: "screenshots/phone-menu.png" });
  await page.getByTestId("menu-toggle").click();
  await expect(page.getByTestId("update")).toBeHidden();

  // The filters fold behind a button that counts them.
  const toggle = page.getByTestId("filters-toggle");
  await expect(toggle).toHaveText("Filters (2)");
  const chip = page.locator(".chip[data-status='failed']");
  await expect(chip).toBeHidden();
  await toggle.click();
  await expect(chip).toBeVisible();
  await page.screenshot({ path: "screenshots/phone-filters.png" });
  await toggle.click();
  await expect(chip).toBeHidden();

  // The grid: order, status and time left.
  const row = page.locator("tr.row").first();
  await expect(row.locator(".col-order")).toBeVisible();
  await expect(row.locator(".col-status")).toBeVisible();
  await expect(row.locator(".col-left")).toBeVisible();
  for (const hidden of [".col-carrier", ".col-tracking", ".col-date", ".col-shipby", ".col-last"]) {
    await expect(row.locator(hidden)).toBeHidden();
  }
  const table = (await page.locator("table.grid").boundingBox())!;
  expect(table.x + table.width).toBeLessThanOrEqual(390);
});
