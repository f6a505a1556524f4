import { expect } from "@playwright/test";
import { hydrated, signIn, test } from "./helpers";

// The demo seeds orders whose ship-by dates fall from an hour to two days from its
// start, one in seven already late; its flawed shipments fail at the marketplace, so
// some unconfirmed ones are due within 24 h and two are late (server/src/demo.rs).

test("the grid counts down to each shipment's deadline, filters by it, and the status panel counts what is at risk", async ({
  page,
}) => {
  await signIn(page, "operator");
  await page.goto("/?deadline=due&sort=ship_by");
  await hydrated(page);
  const first = page.locator("tr.row").first();
  await expect(first).toBeVisible();
  const left = first.getByTestId("deadline");
  await expect(left).toHaveText(/^Due in (\d+ h( \d+ min)?|\d+ min)$/);
  await expect(left).toHaveAttribute("data-urgency", "soon");
  await expect(first.locator(".col-status")).not.toContainText("Success");
  await expect(page.locator(".chip[data-deadline='due']")).toHaveAttribute("aria-current", "true");
  await expect(page.locator(".chip[data-deadline='due']")).toHaveText("Due within 24 h");
  await expect(page.getByTestId("time-zone")).toContainText("times in UTC");

  // The status panel counts what is at risk under each account, each count a link.
  const risk = page.getByTestId("deadline-risk").first();
  await expect(risk).toContainText(/\d+ due within 24 h/);
  await page.screenshot({ path: "screenshots/deadlines-desktop.png" });
  await page.setViewportSize({ width: 768, height: 1024 });
  await page.screenshot({ path: "screenshots/deadlines-tablet.png" });
  await page.setViewportSize({ width: 1440, height: 900 });

  // Late, not confirmed: in red, with how late.
  await page.goto("/?deadline=late");
  await hydrated(page);
  await expect(page.locator("tr.row").first().getByTestId("deadline")).toHaveText(/^Late by 1 h \d+ min$/);
  await expect(page.locator("tr.row").first().getByTestId("deadline")).toHaveAttribute("data-urgency", "late");

  // Late confirmations: the seeded orders shipped after their deadline, confirmed.
  await page.locator(".chip[data-deadline='late']").click();
  await page.locator(".chip[data-deadline='confirmed_late']").click();
  await expect(page).toHaveURL(/deadline=confirmed_late/);
  const words = page.locator("tr.row").first().getByTestId("deadline");
  await expect(words).toHaveText(/^Confirmed late \(1 h \d+ min\)$/);
  await expect(words).toHaveAttribute("data-urgency", "late");
  await page.screenshot({ path: "screenshots/deadlines-confirmed-late-desktop.png" });

  // The detail panel names the date and the time left.
  await page.goto("/?deadline=due&sort=ship_by");
  await hydrated(page);
  await page.locator("tr.row").first().click();
  await expect(page.getByTestId("detail-ship-by")).toContainText(/UTC · Due in /);
});

test("each person sees times in their own zone, chosen in the user menu", async ({ page }) => {
  await signIn(page, "viewer");
  await page.goto("/");
  await hydrated(page);
  await expect(page.getByTestId("time-zone")).toContainText("times in UTC");
  await page.getByTestId("who").click();
  const choice = page.getByTestId("time-zone-choice");
  await expect(choice).toBeVisible();
  await Promise.all([page.waitForEvent("load"), choice.selectOption("America/Chicago")]);
  await hydrated(page);
  await expect(page.getByTestId("time-zone")).toContainText("times in America/Chicago");
  // A full time carries the zone's abbreviation, drawn alike by the server and the browser.
  await page.locator("tr.row").first().click();
  await expect(page.getByTestId("detail-panel")).toContainText(/ C[SD]T/);
  // The attempts' start times are drawn in the zone, and their heading says which.
  await expect(page.getByTestId("attempts").locator("th").nth(1)).toHaveText("Started (America/Chicago)");
  await page.screenshot({ path: "screenshots/time-zone-desktop.png" });

  // Back to the site's zone, for the other tests.
  await page.getByTestId("who").click();
  await Promise.all([page.waitForEvent("load"), page.getByTestId("time-zone-choice").selectOption("")]);
  await hydrated(page);
  await expect(page.getByTestId("time-zone")).toContainText("times in UTC");
});
