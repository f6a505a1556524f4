import { expect } from "@playwright/test";
import { API, auth, hydrated, postShipment, setFaults, signIn, test, waitForStatus } from "./helpers";

/** A shipment the marketplace refuses (so it stays unconfirmed), whose order must ship
 * within `hours`; returned once the order sync has given it its deadline. */
async function failedShipmentDue(request: any, hours: number) {
  await setFaults(request, { api: "writeback", forced_status: 400 });
  const shipBy = new Date(Date.now() + hours * 3600_000);
  shipBy.setMilliseconds(0);
  const shipment = await postShipment(request, {}, { ship_by: shipBy.toISOString() });
  await waitForStatus(request, shipment.shipment_id, "failed");
  await setFaults(request, {});
  await expect
    .poll(
      async () =>
        (await (await request.get(`${API}/api/v1/shipments/${shipment.shipment_id}`, { headers: auth() })).json())
          .ship_by,
      { timeout: 30_000 },
    )
    .toBeTruthy();
  return shipment;
}

test("the grid counts down to each shipment's deadline, filters by it, and the status panel counts what is at risk", async ({
  page,
  request,
}) => {
  const shipment = await failedShipmentDue(request, 2);
  await signIn(page, "operator");
  await page.goto("/?deadline=due");
  await hydrated(page);
  const row = page.locator(`tr[data-shipment-id="${shipment.shipment_id}"]`);
  await expect(row).toBeVisible();
  const left = row.getByTestId("deadline");
  await expect(left).toHaveText(/^Due in 1 h 5\d min$/);
  await expect(left).toHaveAttribute("data-urgency", "soon");
  await expect(page.locator(".chip[data-deadline='due']")).toHaveAttribute("aria-pressed", "true");
  await expect(page.locator(".chip[data-deadline='due']")).toHaveText("Due within 24 h");
  await expect(page.getByTestId("time-zone")).toContainText("times in UTC");

  // The status panel counts it under its account, and its count links to the grid.
  const risk = page.locator(".account-card[data-account='acme-us']").getByTestId("deadline-risk");
  await expect(risk).toContainText(/\d+ due within 24 h/);
  await page.screenshot({ path: "screenshots/deadlines-desktop.png" });
  await page.setViewportSize({ width: 768, height: 1024 });
  await page.screenshot({ path: "screenshots/deadlines-tablet.png" });
  await page.setViewportSize({ width: 1440, height: 900 });

  // Late confirmations: the demo's seeded orders include some shipped after their deadline.
  await page.locator(".chip[data-deadline='due']").click();
  await page.locator(".chip[data-deadline='confirmed_late']").click();
  await expect(page).toHaveURL(/deadline=confirmed_late/);
  const words = page.locator("tr.row").first().getByTestId("deadline");
  await expect(words).toHaveText(/^Confirmed late \(/);
  await expect(words).toHaveAttribute("data-urgency", "late");

  // Sorted by deadline, the most urgent first; the detail panel names the date.
  await page.goto(`/?deadline=due&deadline=late&sort=ship_by&selected=${shipment.shipment_id}`);
  await hydrated(page);
  await expect(page.getByTestId("detail-ship-by")).toContainText(/UTC · Due in 1 h/);
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
  await page.screenshot({ path: "screenshots/time-zone-desktop.png" });

  // Back to the site's zone, for the other tests.
  await page.getByTestId("who").click();
  await Promise.all([page.waitForEvent("load"), page.getByTestId("time-zone-choice").selectOption("")]);
  await hydrated(page);
  await expect(page.getByTestId("time-zone")).toContainText("times in UTC");
});
