// Browser tests of the hosted checkout page (`/checkout/{id}`) in a real Chromium.
//
// Starts `kassa serve` on a fresh database, creates an account with `kassa account create`, and
// a small local "shop" (the success and cancel URLs) so the browser lands on a real page. Each
// test creates its own checkout session over the Stripe-compatible API and drives the page as a
// customer would, in a fresh browser context. Every test saves a full-page screenshot to
// target/browser-screenshots/<test>.png (on failure: the page as it was when the test failed).
//
// Prints one line per test (`ok` or `FAIL`) and a closing `browser: N passed, N failed` line;
// exits non-zero when a test failed. run.sh runs these together with the dashboard's tests.
//
//   node checkout.test.mjs [test-name ...]     (default: every test)
//
// Environment: see harness.mjs.

import {
  DECLINED_CARD,
  EXPIRY_MM,
  EXPIRY_YY,
  GOOD_CARD,
  MERCHANT,
  PHONE,
  TestFailed,
  VERBOSE,
  eq,
  expect,
  fillCard,
  landOnShop,
  measureWidth,
  pressPay,
  runTests,
  squash,
  startedDirectly,
  typeCard,
} from "./harness.mjs";

// ------------------------------------------------------------------------------------------
// Helpers

async function expectCompletedAtShop(t, page, session) {
  const query = await landOnShop(t, page, "/thanks");
  eq(query.get("session_id"), session.id, "success URL session_id");
  eq(query.get("status"), "completed", "success URL status");
}

async function expectPaid(t, session, amountTotal) {
  const after = await t.readSession(session.id);
  eq(after.status, "complete", "session status");
  eq(after.payment_status, "paid", "session payment_status");
  if (amountTotal !== undefined) eq(after.amount_total, amountTotal, "session amount_total");
  return after;
}

/** The page fits a 360 px screen: no sideways scrolling, Pay and the fields on screen. */
async function expectFitsPhone(page) {
  const layout = await measureWidth(page);
  eq(layout.width, 360, "layout viewport width (the page sets a device-width viewport)");
  expect(
    layout.scrollWidth <= 360,
    `the page scrolls sideways on a 360 px screen: scrollWidth ${layout.scrollWidth}; ` +
      `sticking out: ${layout.wide.slice(0, 5).join(", ")}`,
  );
  const pay = page.locator("button[data-pay]");
  await pay.scrollIntoViewIfNeeded();
  eq(await pay.isVisible(), true, "Pay button visible");
  const box = await pay.boundingBox();
  expect(
    box && box.x >= 0 && box.x + box.width <= 360,
    `Pay button within the screen's width: ${JSON.stringify(box)}`,
  );
  for (const id of ["field-email", "field-card_number", "field-card_expiry", "field-card_cvc"]) {
    const field = await page.locator(`#${id}`).boundingBox();
    expect(
      field && field.x >= 0 && field.x + field.width <= 360,
      `#${id} within the screen's width: ${JSON.stringify(field)}`,
    );
  }
}

// ------------------------------------------------------------------------------------------
// The tests

export const TESTS = [
  [
    "pay-succeeds",
    async (t) => {
      const session = await t.createSession();
      const page = await t.newPage();
      await t.open(page, session);
      eq(await page.title(), `Checkout · ${MERCHANT}`, "title");
      eq(squash(await page.locator("#total").textContent()), "$50.00", "total");
      eq(squash(await page.locator("button[data-pay]").textContent()), "Pay $50.00", "Pay button");
      eq(await page.locator("#field-email").inputValue(), "ada@example.com", "prefilled email");

      await typeCard(page, GOOD_CARD);
      eq(
        await page.locator("#field-card_number").inputValue(),
        "4242 4242 4242 4242",
        "card number as typed, grouped by the page",
      );
      eq(
        await page.locator("#field-card_expiry").inputValue(),
        `${EXPIRY_MM} / ${EXPIRY_YY}`,
        "expiry as typed, formatted by the page",
      );
      await page.locator("button[data-pay]").click();
      await expectCompletedAtShop(t, page, session);
      await expectPaid(t, session, 5000);

      // The checkout link now says the payment is done, and offers no form.
      await t.open(page, session);
      const heading = page.locator("main.card.message h1");
      eq(squash(await heading.textContent()), "Payment complete", "h1");
      eq(await page.locator("#pay-form").count(), 0, "payment forms on the completed page");
      await t.screenshot(page);
    },
  ],

  [
    "decline-then-pay",
    async (t) => {
      const session = await t.createSession();
      const page = await t.newPage();
      await t.open(page, session);

      await typeCard(page, DECLINED_CARD);
      const declined = await pressPay(page, session);
      eq(declined.status(), 402, "status of the declined payment");
      const alert = page.locator("#form-alert");
      await alert.waitFor();
      eq(await alert.getAttribute("role"), "alert", "alert role");
      const reason = squash(await alert.textContent());
      expect(
        reason.startsWith("Your card was declined."),
        `the alert gives the reason: ${JSON.stringify(reason)}`,
      );
      eq(new URL(page.url()).pathname, `/checkout/${session.id}`, "still on the checkout page");
      eq(
        await page.locator("#field-card_number").inputValue(),
        "",
        "card number after the decline (never sent back)",
      );
      eq(await page.locator("#field-email").inputValue(), "ada@example.com", "email kept");
      eq(await page.locator("button[data-pay]").isEnabled(), true, "Pay button enabled again");
      eq(squash(await page.locator("button[data-pay]").textContent()), "Pay $50.00", "Pay button");
      const open = await t.readSession(session.id);
      eq(open.status, "open", "session status after the decline");
      eq(open.payment_status, "unpaid", "payment_status after the decline");
      await t.screenshot(page);

      await typeCard(page, GOOD_CARD);
      await page.locator("button[data-pay]").click();
      await expectCompletedAtShop(t, page, session);
      await expectPaid(t, session, 5000);
    },
  ],

  [
    "field-error-by-the-field",
    async (t) => {
      const session = await t.createSession();
      const page = await t.newPage();
      await t.open(page, session);
      await typeCard(page, GOOD_CARD);
      await page.locator("#field-card_cvc").fill("12");
      const answer = await pressPay(page, session);
      eq(answer.status(), 400, "status of a form with a mistake");
      const cvc = page.locator("#field-card_cvc");
      await cvc.waitFor();
      eq(await cvc.getAttribute("aria-invalid"), "true", "aria-invalid on the CVC");
      const describedBy = await cvc.getAttribute("aria-describedby");
      expect(describedBy, "the CVC input names its error with aria-describedby");
      const error = page.locator(`[id="${describedBy}"]`);
      eq(await error.getAttribute("class"), "field-error", "the described-by element");
      eq(squash(await error.textContent()), "Your card's security code has 3 digits.", "error");
      // The error sits with its own field, not elsewhere in the form.
      eq(
        await error.evaluate((el) => el.closest(".field")?.querySelector("input")?.id),
        "field-card_cvc",
        "field of the error",
      );
      eq(await page.locator(".field-error").count(), 1, "field errors on the page");
      eq((await t.readSession(session.id)).status, "open", "session status");
      await t.screenshot(page);
    },
  ],

  [
    "quantity-updates-total",
    async (t) => {
      const session = await t.createSession();
      const page = await t.newPage();
      await t.open(page, session);
      const quantity = page.locator("input[data-quantity]");
      eq(await quantity.count(), 1, "quantity inputs");
      expect(
        /^quantity\[li_\w+\]$/.test(await quantity.getAttribute("name")),
        "the quantity input is named quantity[li_...]",
      );
      eq(await quantity.inputValue(), "2", "quantity");
      t.check(
        !(await page.locator("[data-update]").isVisible()),
        "the 'Update total' button is visible although the page updates the total itself",
      );

      await quantity.fill("3");
      // Before anything is submitted: the page itself shows the new total.
      eq(squash(await page.locator("#total").textContent()), "$75.00", "total after 2 → 3");
      eq(squash(await page.locator("button[data-pay]").textContent()), "Pay $75.00", "Pay button");
      eq(squash(await page.locator("[data-line-total]").textContent()), "$75.00", "line total");
      eq(new URL(page.url()).pathname, `/checkout/${session.id}`, "still on the page");
      eq((await t.readSession(session.id)).amount_total, 5000, "amount_total before paying");
      await typeCard(page, GOOD_CARD);
      await t.screenshot(page);

      await page.locator("button[data-pay]").click();
      await expectCompletedAtShop(t, page, session);
      await expectPaid(t, session, 7500);
    },
  ],

  [
    "cancel-returns-to-shop",
    async (t) => {
      const session = await t.createSession();
      const page = await t.newPage();
      await t.open(page, session);
      const cancel = page.locator("form.cancel button");
      eq(squash(await cancel.textContent()), `Cancel and return to ${MERCHANT}`, "Cancel button");
      await cancel.click();
      const query = await landOnShop(t, page, "/cart");
      eq(query.get("session_id"), session.id, "cancel URL session_id");
      eq(query.get("status"), "canceled", "cancel URL status");
      const after = await t.readSession(session.id);
      eq(after.status, "expired", "session status (Stripe's word for canceled)");
      eq(after.payment_status, "unpaid", "payment_status");

      // Coming back to the link: the session says it was canceled, no form.
      await t.open(page, session);
      eq(
        squash(await page.locator("main.card.message h1").textContent()),
        "This checkout was canceled",
        "h1",
      );
      eq(await page.locator("#pay-form").count(), 0, "payment forms on the canceled page");
      await t.screenshot(page);
    },
  ],

  [
    "expired-session",
    async (t) => {
      const session = await t.createSession();
      await t.kassa.api("POST", `/v1/checkout/sessions/${session.id}/expire`, []);
      const page = await t.newPage();
      await t.open(page, session);
      eq(
        squash(await page.locator("main.card.message h1").textContent()),
        "This checkout has expired",
        "h1",
      );
      eq(await page.locator("#pay-form").count(), 0, "payment forms on the expired page");
      eq(await page.locator("input, button[data-pay]").count(), 0, "inputs on the expired page");
      const back = page.locator("main.card.message a");
      eq(squash(await back.textContent()), `Return to ${MERCHANT}`, "way back to the shop");
      eq(await back.getAttribute("href"), `${t.shop.base}/cart`, "it leads to the cancel URL");
      await t.screenshot(page);
    },
  ],

  [
    "works-without-javascript",
    async (t) => {
      const session = await t.createSession();
      const page = await t.newPage({ javaScriptEnabled: false });
      await t.open(page, session);
      const update = page.locator("[data-update]");
      eq(await update.isVisible(), true, "'Update total' button visible without JavaScript");

      await page.locator("input[data-quantity]").fill("3");
      // Nothing recomputes the total without JavaScript: the button asks the server.
      eq(squash(await page.locator("#total").textContent()), "$50.00", "total before updating");
      await update.click();
      await page.waitForURL((url) => url.pathname === `/checkout/${session.id}`);
      await page.waitForLoadState();
      eq(squash(await page.locator("#total").textContent()), "$75.00", "total after updating");
      eq(squash(await page.locator("button[data-pay]").textContent()), "Pay $75.00", "Pay button");
      eq(await page.locator("input[data-quantity]").inputValue(), "3", "quantity after updating");
      eq((await t.readSession(session.id)).amount_total, 7500, "amount_total after updating");

      await fillCard(page, GOOD_CARD);
      await t.screenshot(page);
      await page.locator("button[data-pay]").click();
      await expectCompletedAtShop(t, page, session);
      await expectPaid(t, session, 7500);
    },
  ],

  [
    "phone-viewport",
    async (t) => {
      const session = await t.createSession();
      const page = await t.newPage(PHONE);
      await t.open(page, session);
      await expectFitsPhone(page);
      await typeCard(page, GOOD_CARD);
      await t.screenshot(page);
      await page.locator("button[data-pay]").tap();
      await expectCompletedAtShop(t, page, session);
      await expectPaid(t, session, 5000);
    },
  ],

  [
    "keyboard-focus-order",
    async (t) => {
      const session = await t.createSession();
      const page = await t.newPage();
      await t.open(page, session);
      // Tab from the top of the page, as a keyboard user does, typing the card on the way.
      const typed = {
        "field-card_number": GOOD_CARD,
        "field-card_expiry": EXPIRY_MM + EXPIRY_YY,
        "field-card_cvc": "123",
        "field-name": "Ada Lovelace",
      };
      const order = [];
      let reachedPay = false;
      for (let i = 0; i < 25 && !reachedPay; i++) {
        await page.keyboard.press("Tab");
        const focused = await page.evaluate(() => {
          const el = document.activeElement;
          if (!el || el === document.body) return null;
          const style = getComputedStyle(el);
          return {
            key: el.hasAttribute("data-pay") ? "pay" : el.id || el.tagName.toLowerCase(),
            boxShadow: style.boxShadow,
            outlineStyle: style.outlineStyle,
            outlineWidth: style.outlineWidth,
          };
        });
        if (!focused) continue;
        order.push(focused.key);
        const ring =
          focused.boxShadow !== "none" ||
          (focused.outlineStyle !== "none" && parseFloat(focused.outlineWidth) > 0);
        expect(ring, `no visible focus style on ${focused.key}: ${JSON.stringify(focused)}`);
        if (typed[focused.key]) await page.keyboard.type(typed[focused.key]);
        reachedPay = focused.key === "pay";
      }
      if (VERBOSE) console.log(`     Tab order: ${order.join(" → ")}`);
      const wanted = [
        "field-email",
        "field-card_number",
        "field-card_expiry",
        "field-card_cvc",
        "pay",
      ];
      const at = wanted.map((key) => order.indexOf(key));
      expect(
        at.every((i) => i >= 0) && at.every((i, n) => n === 0 || i > at[n - 1]),
        `Tab order ${order.join(" → ")} does not reach ${wanted.join(" → ")} in order`,
      );
      eq(
        await page.locator("#field-card_number").inputValue(),
        "4242 4242 4242 4242",
        "card number typed by keyboard",
      );
      await t.screenshot(page);
      // Past Pay: the Cancel button, with a focus style too; and back.
      await page.keyboard.press("Tab");
      const next = await page.evaluate(() => {
        const el = document.activeElement;
        const style = getComputedStyle(el);
        return {
          cancel: !!el.closest("form.cancel"),
          ring: style.boxShadow !== "none" || style.outlineStyle !== "none",
        };
      });
      eq(next, { cancel: true, ring: true }, "after Pay, Tab focuses Cancel with a focus style");
      await page.keyboard.press("Shift+Tab");
      // Enter on the focused Pay button pays.
      await page.keyboard.press("Enter");
      await expectCompletedAtShop(t, page, session);
      await expectPaid(t, session, 5000);
    },
  ],

  [
    "no-console-errors-or-csp-violations",
    async (t) => {
      const session = await t.createSession();
      const expired = await t.createSession();
      await t.kassa.api("POST", `/v1/checkout/sessions/${expired.id}/expire`, []);
      const page = await t.newPage();
      const problems = [];
      const violations = [];
      const context = page.context();
      await context.exposeBinding("__kassaReportViolation", ({ frame }, v) => {
        violations.push({ ...v, page: frame.url() });
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
      const onKassa = (url) => (url || "").startsWith(t.kassa.base);
      page.on("console", (msg) => {
        if (msg.type() === "error" || msg.type() === "warning") {
          problems.push(`console ${msg.type()} on ${page.url()}: ${msg.text()}`);
        }
      });
      page.on("pageerror", (error) => problems.push(`uncaught error on ${page.url()}: ${error}`));
      page.on("requestfailed", (request) => {
        if (onKassa(request.url())) {
          problems.push(`request failed: ${request.url()} ${request.failure()?.errorText}`);
        }
      });
      page.on("response", (response) => {
        const url = new URL(response.url());
        if (onKassa(response.url()) && url.pathname.startsWith("/assets/")) {
          if (response.status() !== 200) problems.push(`${url.pathname}: ${response.status()}`);
        }
      });

      // The whole journey: edit the order, type a card, pay, come back to the link; and an
      // expired session's page.
      await t.open(page, session);
      await page.locator("input[data-quantity]").fill("4");
      eq(squash(await page.locator("#total").textContent()), "$100.00", "total after 2 → 4");
      await typeCard(page, GOOD_CARD);
      await page.locator("button[data-pay]").click();
      await expectCompletedAtShop(t, page, session);
      await expectPaid(t, session, 10000);
      await t.open(page, session);
      // The thank-you page's link to the receipt, and the receipt.
      await page.getByRole("link", { name: "View your receipt" }).click();
      await page.waitForURL((url) => url.pathname.startsWith("/receipts/ch_"));
      await t.open(page, expired);
      // Let late reports (a deferred script, a blocked load) arrive.
      await page.waitForTimeout(300);
      await t.open(page, session);
      await t.screenshot(page);
      await page.waitForTimeout(300);

      expect(problems.length === 0, `problems on the page:\n  ${problems.join("\n  ")}`);
      expect(
        violations.length === 0,
        `CSP violations:\n  ${violations.map((v) => JSON.stringify(v)).join("\n  ")}`,
      );

      // The listener itself works: a load the policy forbids is reported.
      await page.evaluate(() => {
        const img = new Image();
        img.src = "http://127.0.0.1:9/blocked.png";
      });
      await page.waitForTimeout(500);
      expect(
        violations.some((v) => v.directive.startsWith("img-src")),
        "a forbidden image load was not reported as a CSP violation: the check sees nothing",
      );
    },
  ],

  [
    "enter-in-card-field-pays",
    async (t) => {
      // Enter in the last field is how many people submit a form: it must pay, like the Pay
      // button, and never throw away the card they typed.
      const session = await t.createSession();
      const page = await t.newPage();
      await t.open(page, session);
      await typeCard(page, GOOD_CARD);
      await t.screenshot(page);
      const posted = page.waitForRequest(
        (r) => r.method() === "POST" && new URL(r.url()).pathname === `/checkout/${session.id}`,
      );
      await page.locator("#field-card_cvc").press("Enter");
      const action = new URLSearchParams((await posted).postData() ?? "").getAll("action");
      expect(
        action.includes("pay") && !action.includes("update"),
        `Enter in the security code field sent action=${action.join(",")}, not a payment`,
      );
      await expectCompletedAtShop(t, page, session);
      await expectPaid(t, session, 5000);
    },
  ],

  [
    "expiry-with-four-digit-year",
    async (t) => {
      // The server reads MM/YYYY as well as MM / YY; pasted or autofilled "MM/YYYY" must keep its
      // year.
      const session = await t.createSession();
      const page = await t.newPage();
      await t.open(page, session);
      const year = String(new Date().getUTCFullYear() + 3);
      await typeCard(page, GOOD_CARD);
      await page.locator("#field-card_expiry").fill(`${EXPIRY_MM}/${year}`);
      const shown = await page.locator("#field-card_expiry").inputValue();
      await t.screenshot(page);
      t.check(
        [`${EXPIRY_MM}/${year}`, `${EXPIRY_MM} / ${year}`, `${EXPIRY_MM} / ${EXPIRY_YY}`].includes(
          shown,
        ),
        `pasting "${EXPIRY_MM}/${year}" into the expiry leaves ${JSON.stringify(shown)}`,
      );
      const answer = await pressPay(page, session);
      if (answer.status() !== 303) {
        await page.waitForLoadState();
        await t.screenshot(page);
        const errors = (await page.locator(".field-error, .alert").allTextContents()).map(squash);
        throw new TestFailed(
          `paying with expiry ${EXPIRY_MM}/${year} answered ${answer.status()}: ` +
            errors.join(" | ") +
            (t.softFailures.length ? `; ${t.softFailures.join("; ")}` : ""),
        );
      }
      await expectCompletedAtShop(t, page, session);
      await expectPaid(t, session, 5000);
    },
  ],

  [
    "phone-viewport-long-names",
    async (t) => {
      // Real catalogues have long words: compound nouns, SKUs. They wrap; the page still fits.
      const session = await t.createSession([
        [
          "line_items[0][price_data][product_data][name]",
          "Donaudampfschifffahrtsgesellschaftskapitänsmütze",
        ],
        ["line_items[1][price_data][currency]", "usd"],
        ["line_items[1][price_data][unit_amount]", "500"],
        ["line_items[1][price_data][product_data][name]", "Gift card GC-2024-XMAS-000000000123"],
        ["line_items[1][quantity]", "1"],
      ]);
      const page = await t.newPage(PHONE);
      await t.open(page, session);
      await t.screenshot(page);
      await expectFitsPhone(page);
    },
  ],

  [
    "receipt-on-a-phone-and-in-print",
    async (t) => {
      // A customer pays on a phone, opens the receipt from the thank-you page, and prints it.
      const session = await t.createSession();
      const page = await t.newPage(PHONE);
      await t.open(page, session);
      await typeCard(page, GOOD_CARD);
      await page.locator("button[data-pay]").click();
      await expectCompletedAtShop(t, page, session);
      await t.open(page, session);
      await page.getByRole("link", { name: "View your receipt" }).click();
      await page.waitForURL((url) => url.pathname.startsWith("/receipts/ch_"));
      eq(await page.title(), `Receipt from ${MERCHANT}`, "title");
      const text = squash(await page.locator("main").textContent());
      for (const shown of ["Amount paid", "$50.00", "Visa ending 4242", "Total"]) {
        expect(text.includes(shown), `the receipt shows ${shown}: ${text}`);
      }
      expect(!(await page.content()).includes("4242424242424242"), "no card number in the HTML");
      const layout = await measureWidth(page);
      expect(
        layout.scrollWidth <= 360,
        `the receipt scrolls sideways on a 360 px screen: ${layout.wide.slice(0, 5).join(", ")}`,
      );
      await t.screenshot(page);
      // Printed: the document alone, the page's footer left out.
      await page.emulateMedia({ media: "print" });
      eq(await page.locator("footer.footer").isVisible(), false, "the footer is not printed");
      eq(await page.locator("table.lines").isVisible(), true, "the lines are printed");
      await t.screenshot(page, "receipt-print");
    },
  ],
];

if (startedDirectly(import.meta.url)) await runTests(TESTS);
