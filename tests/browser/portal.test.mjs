// Browser tests of the customer portal page (`/portal/{id}`) in a real Chromium: a customer
// subscribed through a test payment opens the portal session's URL on a phone, cancels at the
// period's end with the keyboard, sees the change, and goes back to the shop; the page fits a
// 360 px screen, and nothing on it breaks its Content-Security-Policy or logs an error.
//
//   node portal.test.mjs [test-name ...]     (default: every test)
//
// Environment: see harness.mjs.

import {
  GOOD_CARD,
  MERCHANT,
  PHONE,
  eq,
  expect,
  landOnShop,
  measureWidth,
  runTests,
  squash,
  startedDirectly,
} from "./harness.mjs";

/** A customer with a paid monthly subscription: `{subscription, customer}`. */
async function subscribe(t) {
  const price = await t.kassa.api("POST", "/v1/prices", [
    ["currency", "eur"],
    ["unit_amount", "900"],
    ["recurring[interval]", "month"],
    ["product_data[name]", "Portal plan"],
  ]);
  const session = await t.kassa.api("POST", "/v1/checkout/sessions", [
    ["mode", "subscription"],
    ["line_items[0][price]", price.id],
    ["line_items[0][quantity]", "1"],
  ]);
  const paid = await t.kassa.api("POST", `/v1/test_helpers/checkout/sessions/${session.id}/pay`, [
    ["card", GOOD_CARD],
    ["email", "ada@example.com"],
    ["name", "Ada Lovelace"],
  ]);
  const subscription = await t.kassa.api("GET", `/v1/subscriptions/${paid.subscription}`);
  return { subscription, customer: subscription.customer };
}

/** Collects CSP violations and console errors of every page of `page`'s context. */
async function watchProblems(page) {
  const problems = [];
  const context = page.context();
  await context.exposeBinding("__kassaReportViolation", ({ frame }, v) => {
    problems.push(`CSP violation on ${frame.url()}: ${JSON.stringify(v)}`);
  });
  await context.addInitScript(() => {
    document.addEventListener("securitypolicyviolation", (e) => {
      window.__kassaReportViolation({
        directive: e.violatedDirective,
        blocked: e.blockedURI,
        source: `${e.sourceFile}:${e.lineNumber}`,
      });
    });
  });
  page.on("console", (msg) => {
    if (msg.type() === "error" || msg.type() === "warning") {
      problems.push(`console ${msg.type()} on ${page.url()}: ${msg.text()}`);
    }
  });
  page.on("pageerror", (error) => problems.push(`uncaught error on ${page.url()}: ${error}`));
  return problems;
}

/** The page fits a 360 px screen: no sideways scrolling; the buttons on screen. */
async function expectFitsPhone(page) {
  const layout = await measureWidth(page);
  eq(layout.width, 360, "layout viewport width (the page sets a device-width viewport)");
  expect(
    layout.scrollWidth <= 360,
    `the page scrolls sideways on a 360 px screen: scrollWidth ${layout.scrollWidth}; ` +
      `sticking out: ${layout.wide.slice(0, 5).join(", ")}`,
  );
  for (const button of await page.locator("main button").all()) {
    await button.scrollIntoViewIfNeeded();
    const box = await button.boundingBox();
    expect(
      box && box.x >= 0 && box.x + box.width <= 360,
      `button "${squash(await button.textContent())}" within the screen: ${JSON.stringify(box)}`,
    );
  }
}

/** Tabs from the top of the page until the focused element's text is `label`. */
async function tabTo(page, label) {
  for (let i = 0; i < 30; i++) {
    await page.keyboard.press("Tab");
    const focused = await page.evaluate(() => {
      const el = document.activeElement;
      if (!el || el === document.body) return null;
      const style = getComputedStyle(el);
      return {
        text: (el.textContent || "").replace(/\s+/g, " ").trim(),
        ring: style.boxShadow !== "none" || style.outlineStyle !== "none",
      };
    });
    if (focused && focused.text === label) {
      expect(focused.ring, `no visible focus style on "${label}"`);
      return;
    }
  }
  throw new Error(`"${label}" was not reached with the Tab key`);
}

export const TESTS = [
  [
    "portal-cancel-at-period-end",
    async (t) => {
      const { subscription, customer } = await subscribe(t);
      const portal = await t.kassa.api("POST", "/v1/billing_portal/sessions", [
        ["customer", customer],
        ["return_url", `${t.shop.base}/account`],
      ]);
      const page = await t.newPage(PHONE);
      const problems = await watchProblems(page);
      const response = await page.goto(portal.url);
      eq(response.status(), 200, "GET portal status");
      eq(await page.title(), `Billing · ${MERCHANT}`, "title");
      const item = page.locator(`#subscription-${subscription.id}`);
      expect(squash(await item.textContent()).includes("Portal plan"), "the plan's name is shown");
      expect(squash(await item.textContent()).includes("€9.00 / month"), "its price is shown");
      await expectFitsPhone(page);

      // With the keyboard, as a person without a mouse does.
      await page.locator("h1").click();
      await tabTo(page, "Cancel at end of period");
      await Promise.all([
        page.waitForURL((url) => url.search === "?saved=canceled"),
        page.keyboard.press("Enter"),
      ]);
      const notice = squash(await page.locator(".notice[role=status]").textContent());
      expect(notice.includes("will end at the end of its current period"), `notice: ${notice}`);
      eq(
        await item.locator("button", { hasText: "Resume subscription" }).count(),
        1,
        "Resume button after canceling",
      );
      const after = await t.kassa.api("GET", `/v1/subscriptions/${subscription.id}`);
      eq(after.cancel_at_period_end, true, "cancel_at_period_end");
      eq(after.status, "active", "status until the period ends");
      await expectFitsPhone(page);
      await t.screenshot(page);

      // Back to the shop.
      await page.locator("a", { hasText: `Return to ${MERCHANT}` }).first().click();
      await landOnShop(t, page, "/account");
      await page.waitForTimeout(300);
      expect(problems.length === 0, `problems on the page:\n  ${problems.join("\n  ")}`);
    },
  ],

  [
    "portal-without-javascript",
    async (t) => {
      // Every action works as plain forms: cancel, resume, replace the card; then the invoice
      // history leads to the invoice's page and its receipt, and back.
      const { subscription, customer } = await subscribe(t);
      const portal = await t.kassa.api("POST", "/v1/billing_portal/sessions", [
        ["customer", customer],
        ["return_url", `${t.shop.base}/account`],
      ]);
      const page = await t.newPage({ ...PHONE, javaScriptEnabled: false });
      const problems = await watchProblems(page);
      await page.goto(portal.url);
      const item = page.locator(`#subscription-${subscription.id}`);
      const press = async (button) => {
        await Promise.all([
          page.waitForURL((url) => url.search.startsWith("?saved=")),
          button.click(),
        ]);
      };
      await press(item.locator("button", { hasText: "Cancel at end of period" }));
      await press(item.locator("button", { hasText: "Resume subscription" }));
      const resumed = await t.kassa.api("GET", `/v1/subscriptions/${subscription.id}`);
      eq(resumed.cancel_at_period_end, false, "cancel_at_period_end after resuming");

      await page.locator("input[name=card_number]").fill("5555 5555 5555 4444");
      await page.locator("input[name=card_expiry]").fill("12 / 34");
      await page.locator("input[name=card_cvc]").fill("123");
      await press(page.locator("button", { hasText: "Save card" }));
      const text = squash(await page.locator("main").textContent());
      expect(text.includes("ending in 4444"), `the new card is shown: ${text}`);
      const replaced = await t.kassa.api("GET", `/v1/subscriptions/${subscription.id}`);
      expect(
        replaced.default_payment_method !== subscription.default_payment_method,
        "the subscription charges the new card",
      );
      await expectFitsPhone(page);
      await t.screenshot(page);

      await page.locator("a", { hasText: "Invoice" }).first().click();
      await page.waitForURL((url) => url.pathname.startsWith("/invoices/in_"));
      await page.locator("a", { hasText: "View the receipt" }).click();
      await page.waitForURL((url) => url.pathname.startsWith("/receipts/ch_"));
      eq(await page.title(), `Receipt from ${MERCHANT}`, "the receipt's title");
      await t.screenshot(page, "portal-receipt");
      await page.goBack();
      await page.goBack();
      await page.locator("a", { hasText: `Return to ${MERCHANT}` }).first().click();
      await landOnShop(t, page, "/account");
      expect(problems.length === 0, `problems on the pages:\n  ${problems.join("\n  ")}`);
    },
  ],
];

if (startedDirectly(import.meta.url)) await runTests(TESTS);
