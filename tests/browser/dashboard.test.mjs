// Browser tests of the merchant dashboard (`/dashboard`) in a real Chromium.
//
// Same server and harness as the checkout tests (harness.mjs): `kassa serve` on a fresh
// database, an account from `kassa account create`, and its dashboard user from
// `kassa user create`. Each test signs in, in a fresh browser context, and works the pages as a
// merchant does: products, checkout sessions, subscriptions, webhook endpoints (delivered to a
// receiver in this process), API keys. Every test saves a full-page screenshot to
// target/browser-screenshots/<test>.png, and the pages it visits as dashboard-<page>.png.
//
// Prints one line per test (`ok` or `FAIL`) and a closing `browser: N passed, N failed` line;
// exits non-zero when a test failed. run.sh runs these together with the checkout tests.
//
//   node dashboard.test.mjs [test-name ...]    (default: every test)
//
// Environment: see harness.mjs.

import crypto from "node:crypto";
import http from "node:http";

import {
  GOOD_CARD,
  OWNER_EMAIL,
  PHONE,
  STEP_MS,
  TestFailed,
  eq,
  expect,
  landOnShop,
  measureWidth,
  runTests,
  squash,
  startedDirectly,
  typeCard,
} from "./harness.mjs";

/** What the dashboard tests need of the browser: the clipboard, for the Copy buttons. */
const CLIPBOARD = { permissions: ["clipboard-read", "clipboard-write"] };

const SECTIONS = [
  "Overview",
  "Products",
  "Payment links",
  "Checkout sessions",
  "Subscriptions",
  "Webhooks",
  "API keys",
  "Settings",
];

// ------------------------------------------------------------------------------------------
// A webhook receiver: answers 200 to every POST and keeps what it got

class Receiver {
  constructor() {
    this.deliveries = [];
  }

  async start() {
    this.server = http.createServer((req, res) => {
      const chunks = [];
      req.on("data", (chunk) => chunks.push(chunk));
      req.on("end", () => {
        const body = Buffer.concat(chunks).toString("utf8");
        let event = null;
        try {
          event = JSON.parse(body);
        } catch {
          // Kept as text: the test says what it expected.
        }
        this.deliveries.push({ method: req.method, headers: req.headers, body, event });
        res.writeHead(200, { "Content-Type": "text/plain" });
        res.end("ok");
      });
    });
    await new Promise((resolve) => this.server.listen(0, "127.0.0.1", resolve));
    this.url = `http://127.0.0.1:${this.server.address().port}/webhooks`;
  }

  /** The deliveries of events of `type` about the object `objectId`. */
  of(type, objectId) {
    return this.deliveries.filter(
      (d) => d.event?.type === type && d.event?.data?.object?.id === objectId,
    );
  }

  async stop() {
    if (!this.server) return;
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }
}

// ------------------------------------------------------------------------------------------
// Helpers

/**
 * Polls `look` (async; answers `{ ok, seen }`) until it is ok, for up to `ms`; fails with what
 * it saw last.
 */
async function eventually(what, look, ms = 10_000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const { ok, seen } = await look();
    if (ok) return seen;
    if (Date.now() > deadline) {
      throw new TestFailed(`${what}: not within ${ms / 1000} s; last seen: ${seen}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** Fails the test (at its end) on an uncaught error or a console error on the page. */
function watchForProblems(t, page) {
  page.on("pageerror", (error) => t.check(false, `uncaught error on ${page.url()}: ${error}`));
  page.on("console", (msg) => {
    // An error status is logged too; the tests check the status where they expect one.
    if (msg.type() !== "error" || msg.text().startsWith("Failed to load resource:")) return;
    t.check(false, `console error on ${page.url()}: ${msg.text()}`);
  });
}

/** A dashboard path's URL. */
function at(t, dashboardPath) {
  return `${t.kassa.base}${dashboardPath}`;
}

function pathOf(page) {
  return new URL(page.url()).pathname;
}

/** Opens a dashboard page by its URL; fails unless it answers `status`. */
async function visit(t, page, dashboardPath, status = 200) {
  const response = await page.goto(at(t, dashboardPath));
  eq(response.status(), status, `GET ${dashboardPath} status`);
  return response;
}

/** Follows a link of the header's navigation and waits for its page. */
async function navigate(page, section) {
  const link = page.getByRole("navigation", { name: "Dashboard" }).getByRole("link", {
    name: section,
    exact: true,
  });
  const href = await link.getAttribute("href");
  await link.click();
  await page.waitForURL((url) => url.pathname === href);
  await page.waitForLoadState();
}

async function heading(page) {
  return squash(await page.locator("main h1").textContent());
}

/** Signs the dashboard's user in, in a fresh browser context; returns the page (Overview). */
async function signIn(t, options = {}) {
  const user = t.kassa.dashboardUser();
  const page = await t.newPage({ ...CLIPBOARD, ...options });
  watchForProblems(t, page);
  await visit(t, page, "/dashboard/sign-in");
  await page.locator("#field-email").fill(user.email);
  await page.locator("#field-password").fill(user.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL((url) => url.pathname === "/dashboard");
  await page.waitForLoadState();
  return page;
}

/** What the clipboard holds, read as a page script does. */
async function clipboard(page) {
  return page.evaluate(() => navigator.clipboard.readText());
}

/**
 * What keeps part of `locator` from the user, or null when all of it can be seen and clicked:
 * an ancestor that cuts it off (overflow), or something drawn over its corners or middle.
 * Scrolls only the page to it, as a person does: never the element's ancestors (Playwright's
 * scrollIntoViewIfNeeded would scroll an `overflow: hidden` box to show what it cuts off).
 */
async function whatHides(locator) {
  return locator.evaluate((el) => {
    window.scrollBy(0, el.getBoundingClientRect().top - window.innerHeight / 4);
    const describe = (node) =>
      node
        ? `${node.tagName.toLowerCase()}${node.className ? "." + node.className : ""}`
        : "nothing";
    const box = el.getBoundingClientRect();
    const span = (from, to) => `${Math.round(from)}..${Math.round(to)}`;
    const edges = (r) => `${span(r.top, r.bottom)} × ${span(r.left, r.right)}`;
    for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
      const style = getComputedStyle(p);
      if (style.overflowX === "visible" && style.overflowY === "visible") continue;
      const r = p.getBoundingClientRect();
      const out =
        box.top < r.top - 0.5 ||
        box.bottom > r.bottom + 0.5 ||
        box.left < r.left - 0.5 ||
        box.right > r.right + 0.5;
      if (out) {
        return (
          `cut off by its ancestor ${describe(p)} (overflow: ${style.overflow}): it spans ` +
          `${edges(box)} (y × x), the ${describe(p)} ${edges(r)}`
        );
      }
    }
    // The middle, and near the corners (inside any rounding of them).
    const points = [
      [0.5, 0.5],
      [0.1, 0.1],
      [0.9, 0.1],
      [0.1, 0.9],
      [0.9, 0.9],
    ].map(([fx, fy]) => [box.left + fx * box.width, box.top + fy * box.height]);
    for (const [x, y] of points) {
      const top = document.elementFromPoint(x, y);
      if (!top || (top !== el && !el.contains(top))) {
        return `at (${Math.round(x)}, ${Math.round(y)}) ${describe(top)} is on top of it`;
      }
    }
    return null;
  });
}

/**
 * Short words (statuses, amounts, dates, column headings: 2 to 12 characters) inside
 * `selector` that are drawn split over lines other than after a hyphen, as `"ACTIVE" → A|CT|IV|E`.
 */
async function wordsSplitApart(page, selector) {
  return page.evaluate((selector) => {
    const split = new Set();
    for (const scope of document.querySelectorAll(selector)) {
      const walker = document.createTreeWalker(scope, NodeFilter.SHOW_TEXT);
      for (let node = walker.nextNode(); node; node = walker.nextNode()) {
        for (const m of node.textContent.matchAll(/\S+/g)) {
          const word = m[0];
          if (word.length < 2 || word.length > 12) continue;
          const pieces = [""];
          let lastTop = null;
          let badBreak = false;
          for (let i = 0; i < word.length; i++) {
            const range = document.createRange();
            range.setStart(node, m.index + i);
            range.setEnd(node, m.index + i + 1);
            const rect = range.getBoundingClientRect();
            if (lastTop !== null && rect.top > lastTop + rect.height / 2) {
              pieces.push("");
              if (word[i - 1] !== "-") badBreak = true;
            }
            lastTop = rect.top;
            pieces[pieces.length - 1] += word[i];
          }
          if (badBreak) split.add(`"${word}" → ${pieces.join("|")}`);
        }
      }
    }
    return [...split];
  }, selector);
}

/** The "This month" tile of the Overview for US dollars: `{ cents, count }`. */
async function monthInDollars(page) {
  await navigate(page, "Overview");
  const tile = page.locator(".tile", { has: page.locator("h2", { hasText: "This month" }) });
  for (const figure of await tile.locator(".figure").all()) {
    const amount = squash(await figure.locator("strong").textContent());
    const count = squash(await figure.locator("span").textContent());
    const m = /^\$([\d,]+)\.(\d\d)$/.exec(amount);
    const n = /^(\d+) payments?$/.exec(count);
    if (m && n) {
      return { cents: Number(m[1].replace(/,/g, "")) * 100 + Number(m[2]), count: Number(n[1]) };
    }
  }
  return { cents: 0, count: 0 };
}

/** A definition list's terms and descriptions, as an object. */
async function facts(dl) {
  return dl.evaluate((el) => {
    const out = {};
    for (const dt of el.querySelectorAll(":scope > dt")) {
      const dd = dt.nextElementSibling;
      out[dt.textContent.replace(/\s+/g, " ").trim()] = dd
        ? dd.textContent.replace(/\s+/g, " ").trim()
        : "";
    }
    return out;
  });
}

/** The status of a GET /api/v3/account with `key`. */
async function accountStatus(t, key) {
  const res = await fetch(`${t.kassa.base}/api/v3/account`, {
    headers: { Authorization: `Bearer ${key}` },
    signal: AbortSignal.timeout(STEP_MS),
  });
  return { status: res.status, body: await res.text() };
}

/** A `Stripe-Signature` header's `t` and `v1` parts checked against `secret`. */
function signedWith(secret, header, body) {
  const parts = (header ?? "").split(",").map((part) => part.split("="));
  const timestamp = parts.find(([name]) => name === "t")?.[1];
  if (!timestamp) return false;
  const expected = crypto.createHmac("sha256", secret).update(`${timestamp}.${body}`).digest("hex");
  return parts.some(([name, value]) => name === "v1" && value === expected);
}

/**
 * Creates "Linen shirt", $25.00, through the product form; the page ends on the product.
 * Returns its id. `screenshots`: save the form as dashboard-product-form.png.
 */
async function createProductInForm(t, page, { screenshots = false } = {}) {
  await navigate(page, "Products");
  await page.getByRole("link", { name: "Create a product" }).click();
  await page.waitForURL((url) => url.pathname === "/dashboard/products/new");
  eq(await heading(page), "Create a product", "h1 of the product form");
  await page.locator("#f-name").fill("Linen shirt");
  await page.locator("#f-type").selectOption("FIXED");
  await page.locator("#f-currency").fill("usd");
  await page.locator("#f-price").fill("25.00");
  if (screenshots) await t.screenshot(page, "dashboard-product-form");
  const saved = page.waitForResponse(
    (r) => r.request().method() === "POST" && new URL(r.url()).pathname === "/dashboard/products",
  );
  await page.getByRole("button", { name: "Save product" }).click();
  const answer = await saved;
  if (answer.status() !== 303) {
    await page.waitForLoadState();
    const alert = squash(await page.locator("#form-alert").textContent().catch(() => ""));
    throw new TestFailed(`saving the product answered ${answer.status()}: ${alert}`);
  }
  await page.waitForURL((url) => /^\/dashboard\/products\/prod_\w+$/.test(url.pathname));
  const id = pathOf(page).split("/").pop();
  eq(squash(await page.locator("#product-id").textContent()), id, "product id on its page");
  eq(await heading(page), "Linen shirt", "h1 of the product page");
  return id;
}

/** The product the session tests sell: made by an earlier test of the run, or made now. */
async function productForSale(t, page) {
  if (!t.shared.productId) t.shared.productId = await createProductInForm(t, page);
  return t.shared.productId;
}

/**
 * Adds a webhook endpoint for `events` through "Add Webhook"; the page ends on the endpoint.
 * Returns its id. `screenshots`: save the list as dashboard-webhooks.png.
 */
async function addEndpoint(t, page, url, events, { screenshots = false } = {}) {
  await navigate(page, "Webhooks");
  eq(await heading(page), "Webhooks", "h1 of the webhooks page");
  const add = page.locator("details", { has: page.locator("summary", { hasText: "Add Webhook" }) });
  if ((await add.getAttribute("open")) === null) await add.locator("summary").click();
  await page.locator("#w-url").fill(url);
  await page.locator("#w-events").fill(events);
  if (screenshots) await t.screenshot(page, "dashboard-webhooks");
  await page.getByRole("button", { name: "Add endpoint" }).click();
  try {
    await page.waitForURL((u) => /^\/dashboard\/webhooks\/we_\w+$/.test(u.pathname));
  } catch {
    const alert = squash(await page.locator("#form-alert").textContent().catch(() => ""));
    throw new TestFailed(`"Add endpoint" did not lead to the endpoint: ${alert || page.url()}`);
  }
  eq(await heading(page), "Webhook endpoint", "h1 of the endpoint page");
  const settings = await facts(page.locator("main dl.facts").first());
  eq(settings.URL, url, "endpoint URL on its page");
  eq(settings.Events, events, "endpoint events on its page");
  eq(settings.Status, "enabled", "endpoint status on its page");
  return pathOf(page).split("/").pop();
}

/** Presses "View Secret" and returns the secret the page then shows. */
async function viewSecret(page) {
  const shown = page.waitForResponse(
    (r) => r.request().method() === "POST" && r.url().endsWith("/secret"),
  );
  await page.getByRole("button", { name: "View Secret" }).click();
  eq((await shown).status(), 200, "status of View Secret");
  await page.locator("code#secret").waitFor();
  return squash(await page.locator("code#secret").textContent());
}

/** The endpoint's deliveries, as the table on its page shows them. */
async function deliveryRows(page) {
  return page.locator("main table tbody tr").evaluateAll((rows) =>
    rows.map((row) => [...row.cells].map((c) => c.textContent.replace(/\s+/g, " ").trim())),
  );
}

/**
 * A monthly price of `unitAmount` euro cents for a new product `name`, and a subscription-mode
 * session for `quantity` of it (success and cancel URLs at the shop).
 */
async function subscriptionSession(t, { name, unitAmount, quantity }) {
  const price = await t.kassa.api("POST", "/v1/prices", [
    ["currency", "eur"],
    ["unit_amount", String(unitAmount)],
    ["recurring[interval]", "month"],
    ["product_data[name]", name],
  ]);
  return t.kassa.api("POST", "/v1/checkout/sessions", [
    ["mode", "subscription"],
    ["line_items[0][price]", price.id],
    ["line_items[0][quantity]", String(quantity)],
    ["success_url", `${t.shop.base}/thanks`],
    ["cancel_url", `${t.shop.base}/cart`],
  ]);
}

/** A subscription made by an earlier test of the run, or one paid through the API now. */
async function subscriptionForSale(t) {
  if (!t.shared.subscriptionId) {
    const session = await subscriptionSession(t, {
      name: "Coffee club",
      unitAmount: 1200,
      quantity: 1,
    });
    const paid = await t.kassa.api("POST", `/v1/test_helpers/checkout/sessions/${session.id}/pay`, [
      ["card", GOOD_CARD],
      ["email", "grace@example.com"],
    ]);
    t.shared.subscriptionId = paid.subscription;
  }
  return t.shared.subscriptionId;
}

// ------------------------------------------------------------------------------------------
// The tests

export const TESTS = [
  [
    "dashboard-sign-in",
    async (t) => {
      const user = t.kassa.dashboardUser();
      const page = await t.newPage();
      watchForProblems(t, page);
      // Signed out, the dashboard sends you to sign in.
      await page.goto(at(t, "/dashboard"));
      eq(pathOf(page), "/dashboard/sign-in", "where /dashboard leads when signed out");
      eq(await page.title(), "Sign in · kassa", "title");

      await page.locator("#field-email").fill(user.email);
      await page.locator("#field-password").fill(`${user.password}x`);
      const refused = page.waitForResponse(
        (r) =>
          r.request().method() === "POST" && new URL(r.url()).pathname === "/dashboard/sign-in",
      );
      await page.getByRole("button", { name: "Sign in" }).click();
      eq((await refused).status(), 401, "status of a wrong password");
      await page.waitForLoadState();
      const alert = page.getByRole("alert");
      eq(await alert.isVisible(), true, "alert visible");
      eq(squash(await alert.textContent()), "The email or password is wrong.", "alert");
      eq(await page.locator("#field-email").inputValue(), user.email, "email kept");
      eq(await page.locator("#field-password").inputValue(), "", "password not sent back");
      eq(
        (await page.context().cookies()).some((c) => c.name === "kassa_dashboard"),
        false,
        "a session cookie after a wrong password",
      );
      await t.screenshot(page);

      await page.locator("#field-password").fill(user.password);
      await page.getByRole("button", { name: "Sign in" }).click();
      await page.waitForURL((url) => url.pathname === "/dashboard");
      await page.waitForLoadState();
      eq(await heading(page), "Overview", "h1 after signing in");
      eq(await page.title(), "Overview · kassa", "title");
      const nav = page.getByRole("navigation", { name: "Dashboard" });
      eq(
        (await nav.getByRole("link").allTextContents()).map(squash),
        [...SECTIONS, "API reference"],
        "sections in the navigation, then the API reference",
      );
      eq(
        squash(await nav.locator('[aria-current="page"]').textContent()),
        "Overview",
        "current section",
      );
      eq(
        await page.getByRole("button", { name: "Switch to live" }).isVisible(),
        true,
        "'Switch to live' button visible",
      );
      eq(
        await page.getByRole("button", { name: `Sign out ${OWNER_EMAIL}` }).isVisible(),
        true,
        "'Sign out' button visible",
      );
      eq(
        await page.locator(".tile h2").allTextContents(),
        [
          "Today",
          "This month",
          "Active subscriptions",
          "Monthly recurring revenue",
          "Renewals in the next 7 days",
          "Past due",
        ],
        "tiles",
      );
      await t.screenshot(page, "dashboard-overview");
    },
  ],

  [
    "dashboard-sign-in-from-another-site-refused",
    async (t) => {
      // Another site's page with a form that posts the attacker's own credentials to kassa's
      // sign-in (login CSRF): the browser must not end up signed in.
      const user = t.kassa.dashboardUser();
      const attacker = http.createServer((req, res) => {
        res.writeHead(200, { "Content-Type": "text/html; charset=utf-8" });
        res.end(
          `<!doctype html><html><body><form method="post" action="${t.kassa.base}/dashboard/sign-in">` +
            `<input name="email" value="${user.email}"><input name="password" value="${user.password}">` +
            `<input name="csrf" value="guessed-token-guessed-token-gues">` +
            `<button type="submit">Win a prize</button></form></body></html>`,
        );
      });
      await new Promise((resolve) => attacker.listen(0, "127.0.0.1", resolve));
      try {
        const page = await t.newPage();
        // The victim has opened kassa's sign-in page before: the browser holds its CSRF cookie.
        await visit(t, page, "/dashboard/sign-in");
        await page.goto(`http://127.0.0.1:${attacker.address().port}/`);
        const answered = page.waitForResponse(
          (r) =>
            r.request().method() === "POST" && new URL(r.url()).pathname === "/dashboard/sign-in",
        );
        await page.getByRole("button", { name: "Win a prize" }).click();
        eq((await answered).status(), 403, "status of the other site's sign-in post");
        await page.waitForLoadState();
        eq(
          squash(await page.getByRole("alert").textContent()),
          "This form has expired or was sent from another site. Please sign in again.",
          "alert",
        );
        eq(
          (await page.context().cookies()).some((c) => c.name === "kassa_dashboard"),
          false,
          "a session cookie after the other site's post",
        );
        await t.screenshot(page);
        // The form kassa shows then signs in as usual.
        await page.locator("#field-email").fill(user.email);
        await page.locator("#field-password").fill(user.password);
        await page.getByRole("button", { name: "Sign in" }).click();
        await page.waitForURL((url) => url.pathname === "/dashboard");
      } finally {
        attacker.closeAllConnections();
        await new Promise((resolve) => attacker.close(resolve));
      }
    },
  ],

  [
    "dashboard-product-metadata-round-trip",
    async (t) => {
      // Every legal key and value: `=`, line breaks, surrounding spaces, markup, emoji.
      const metadata = {
        "a=b": "c=d",
        " padded key ": "  padded value  ",
        "multi\nline": "first\nsecond\nthird",
        "\nleading": "\nstarts with a line break",
        trailing: "ends with a line break\n",
        empty: "",
        html: "<b>&amp; \"quoted\" 'single'</b></textarea>",
        "unicode ünï 😀": "ωμέγα 😀",
        "tab\tkey": "tab\tvalue",
      };
      const created = await t.kassa.apiJson("POST", "/api/v3/products", {
        name: "Round  trip ✓",
        description: "  Two\nlines & <tags>  ",
        images: ["https://cdn.example/a.png?size=2&fit=crop", "https://cdn.example/b.png"],
        metadata,
        amountType: "FIXED",
        priceAmount: "12.34",
        priceCurrency: "eur",
      });
      const before = await t.kassa.apiJson("GET", `/v1/products/${created.id}`);
      const page = await signIn(t);
      await visit(t, page, `/dashboard/products/${created.id}`);
      await t.screenshot(page, "dashboard-product-metadata");
      const save = async () => {
        const saved = page.waitForResponse(
          (r) =>
            r.request().method() === "POST" &&
            new URL(r.url()).pathname === `/dashboard/products/${created.id}`,
        );
        await page.getByRole("button", { name: "Save product" }).click();
        const answer = await saved;
        await page.waitForLoadState();
        if (answer.status() !== 303) {
          const alert = squash(await page.locator("#form-alert").textContent().catch(() => ""));
          throw new TestFailed(`saving the product answered ${answer.status()}: ${alert}`);
        }
      };

      // Saved untouched: the product is exactly as it was, `updated` included.
      await save();
      eq(
        await t.kassa.apiJson("GET", `/v1/products/${created.id}`),
        before,
        "the product after saving the form untouched",
      );

      // One value edited with a line break, a key cleared, a key typed into an empty row.
      const keys = Object.keys(before.metadata).sort();
      const row = (key) => keys.indexOf(key);
      await page.locator(`#f-meta-${row("a=b")}-value`).fill("new\nvalue");
      await page.locator(`#f-meta-${row("empty")}-key`).fill("");
      await page.locator(`#f-meta-${keys.length}-key`).fill(" added=key ");
      await page.locator(`#f-meta-${keys.length}-value`).fill(" v\n2 ");
      await save();
      const after = await t.kassa.apiJson("GET", `/v1/products/${created.id}`);
      const expected = { ...metadata, "a=b": "new\nvalue", " added=key ": " v\n2 " };
      delete expected.empty;
      eq(
        JSON.stringify(Object.entries(after.metadata).sort()),
        JSON.stringify(Object.entries(expected).sort()),
        "metadata after the edit",
      );
      eq(after.name, before.name, "name after the edit");
      eq(after.description, before.description, "description after the edit");
      eq(after.images, before.images, "images after the edit");
      eq(after.default_price, before.default_price, "price after the edit");
      await t.screenshot(page);
    },
  ],

  [
    "dashboard-product-copy-id",
    async (t) => {
      const page = await signIn(t);
      const id = await createProductInForm(t, page, { screenshots: true });
      t.shared.productId = id;
      expect(/^prod_\w+$/.test(id), `product id ${id} is prod_...`);

      await navigate(page, "Products");
      eq(await heading(page), "Products", "h1 of the products page");
      const row = page.locator("main tbody tr").filter({ has: page.locator(`[id="id-${id}"]`) });
      eq(await row.count(), 1, "rows of the new product in the list");
      const cells = (await row.locator("td").allInnerTexts()).map(squash);
      expect(cells[0].startsWith("Linen shirt"), `product cell: ${JSON.stringify(cells[0])}`);
      eq(cells[1], "$25.00", "price in the list");
      eq(cells[2], "ACTIVE", "status in the list");
      await t.screenshot(page, "dashboard-products");

      const menu = row.locator("details.menu");
      eq(
        await menu.locator("summary").getAttribute("aria-label"),
        "Actions for Linen shirt",
        "the ⋮ menu's name",
      );
      await menu.locator("summary").click();
      eq(await menu.getAttribute("open"), "", "the ⋮ menu is open");
      const copy = menu.locator("button[data-copy]");
      eq(squash(await copy.textContent()), "Copy Product ID", "menu item");
      await t.screenshot(page);
      const hidden = await whatHides(menu.locator(".menu-items"));
      t.check(!hidden, `the open ⋮ menu of ${id} is not all visible: ${hidden}`);
      await copy.click();
      await menu.locator("button[data-copy]", { hasText: "Copied" }).waitFor();
      eq(await clipboard(page), id, "clipboard after Copy Product ID");

      // The menu of the last row opens below the table's end: it must show whole there too.
      // (On a fresh page: the click above may have scrolled the table to reach the button.)
      await page.reload();
      const last = page.locator("main tbody tr").last().locator("details.menu");
      await last.locator("summary").click();
      eq(await last.getAttribute("open"), "", "the last row's ⋮ menu is open");
      const lastHidden = await whatHides(last.locator(".menu-items"));
      t.check(
        !lastHidden,
        `the open ⋮ menu of the list's last row is not all visible: ${lastHidden}`,
      );
    },
  ],

  [
    "dashboard-session-paid-and-delivered",
    async (t) => {
      const receiver = new Receiver();
      await receiver.start();
      try {
        const page = await signIn(t);
        const productId = await productForSale(t, page);

        // The merchant listens for completed checkouts.
        const endpointId = await addEndpoint(t, page, receiver.url, "checkout.session.completed");
        const secret = await viewSecret(page);

        // The shop starts a checkout for the product.
        const session = await t.kassa.apiJson("POST", "/api/v3/checkout/sessions", {
          productId,
          success_url: `${t.shop.base}/thanks`,
          cancel_url: `${t.shop.base}/cart`,
        });
        expect(/^cs_\w+$/.test(session.id), `session id ${session.id} is cs_...`);

        // It is in the dashboard, found by its id.
        await navigate(page, "Checkout sessions");
        eq(await heading(page), "Checkout sessions", "h1 of the sessions page");
        await page.locator("#q").fill(session.id);
        await page.getByRole("search").getByRole("button", { name: "Search" }).click();
        await page.waitForURL((url) => url.searchParams.get("q") === session.id);
        await page.waitForLoadState();
        const rows = page.locator("main tbody tr");
        eq(await rows.count(), 1, "sessions found by id");
        const cells = (await rows.first().locator("td").allInnerTexts()).map(squash);
        eq(cells[0], `${session.id} Linen shirt`, "session cell");
        eq(cells[1], "$25.00", "amount in the list");
        eq(cells[2], "Open", "status in the list");
        await t.screenshot(page, "dashboard-sessions");

        // The customer pays on the hosted page (the Overview should count it).
        const monthBefore = await monthInDollars(page);
        const customer = await t.newPage();
        const opened = await customer.goto(session.url);
        eq(opened.status(), 200, "status of the hosted page");
        await customer.locator("#field-email").fill("ada@example.com");
        await typeCard(customer, GOOD_CARD);
        await customer.locator("button[data-pay]").click();
        const query = await landOnShop(t, customer, "/thanks");
        eq(query.get("session_id"), session.id, "success URL session_id");
        const paid = await t.kassa.apiJson("GET", `/api/v3/checkout/sessions/${session.id}`);
        // From here on, a failure's screenshot shows the dashboard.
        t.lastPage = page;

        // The receiver hears of it, signed with the secret the dashboard shows.
        await eventually("checkout.session.completed at the receiver", async () => ({
          ok: receiver.of("checkout.session.completed", session.id).length > 0,
          seen: `${receiver.deliveries.length} other deliveries`,
        }));
        const [delivered] = receiver.of("checkout.session.completed", session.id);
        expect(
          signedWith(secret, delivered.headers["stripe-signature"], delivered.body),
          `the delivery's Stripe-Signature ${delivered.headers["stripe-signature"]} does not ` +
            "verify with the secret View Secret shows",
        );
        const eventId = delivered.event.id;

        // The completed sessions: it is there, and only completed ones are.
        await navigate(page, "Checkout sessions");
        await page.locator("#status").selectOption("completed");
        await page.getByRole("search").getByRole("button", { name: "Search" }).click();
        await page.waitForURL((url) => url.searchParams.get("status") === "completed");
        await page.waitForLoadState();
        const statuses = (
          await page.locator("main tbody tr td:nth-child(3)").allTextContents()
        ).map(squash);
        expect(
          statuses.length > 0 && statuses.every((s) => s === "Completed"),
          `statuses listed under Completed: ${statuses.join(", ")}`,
        );
        const link = page.locator(`main a[href="/dashboard/sessions/${session.id}"]`);
        eq(await link.count(), 1, "links to the paid session among the completed ones");

        // Its page: the payment, and the event with its delivery.
        await link.click();
        await page.waitForURL((url) => url.pathname === `/dashboard/sessions/${session.id}`);
        const delivery = new RegExp(`to ${endpointId}: 200 in \\d+ ms`);
        await eventually("a 200 delivery on the session's page", async () => {
          await page.reload();
          const events = await page.locator("ol.timeline > li").evaluateAll((items) =>
            items.map((li) => ({
              kind: li.querySelector("strong")?.textContent.trim(),
              deliveries: [...li.querySelectorAll("ul > li")].map((d) =>
                d.textContent.replace(/\s+/g, " ").trim(),
              ),
            })),
          );
          const completed = events.find((e) => e.kind === "checkout.session.completed");
          return {
            ok: !!completed && completed.deliveries.some((d) => delivery.test(d)),
            seen: JSON.stringify(events),
          };
        });
        eq(await heading(page), "Checkout session", "h1 of the session page");
        const summary = await facts(page.locator("main dl.facts").first());
        eq(summary.Total, "$25.00", "total");
        eq(summary["Customer email"], "ada@example.com", "customer email");
        eq(
          squash(await page.locator("main > p .status").first().textContent()),
          "Completed",
          "status",
        );
        const payment = await facts(
          page.locator("main dl.facts", { has: page.locator("dt", { hasText: "PaymentIntent" }) }),
        );
        expect(/^pi_\w+$/.test(payment.PaymentIntent), `PaymentIntent ${payment.PaymentIntent}`);
        eq(payment.PaymentIntent, paid.payment_intent, "PaymentIntent, as the API has it");
        eq(payment.Status, "succeeded", "payment status");
        eq(payment.Amount, "$25.00", "payment amount");
        expect(
          /visa/i.test(payment.Card) && payment.Card.includes("4242"),
          `card shown as ${JSON.stringify(payment.Card)}: brand and last 4 wanted`,
        );
        expect(
          (await page.locator("ol.timeline").textContent()).includes(eventId),
          `the delivered event ${eventId} is on the session's timeline`,
        );
        await t.screenshot(page, "dashboard-session");

        // The Overview counts it.
        eq(
          await monthInDollars(page),
          { cents: monthBefore.cents + 2500, count: monthBefore.count + 1 },
          "this month in US dollars after the payment",
        );

        // The endpoint's log has the delivery, and Resend sends it again.
        await page.goto(at(t, `/dashboard/webhooks/${endpointId}`));
        const logged = await deliveryRows(page);
        const row = logged.find((cells) => cells[1] === eventId);
        expect(row, `delivery of ${eventId} in the endpoint's log: ${JSON.stringify(logged)}`);
        eq(row[2], "200", "response code in the endpoint's log");
        const before = receiver.deliveries.filter((d) => d.event?.id === eventId).length;
        const resend = page
          .locator("main tbody tr", { has: page.locator("code", { hasText: eventId }) })
          .first()
          .getByRole("button", { name: "Resend" });
        await resend.click();
        await page.waitForURL((url) => url.pathname === `/dashboard/webhooks/${endpointId}`);
        await eventually(`${eventId} delivered again after Resend`, async () => {
          const count = receiver.deliveries.filter((d) => d.event?.id === eventId).length;
          return { ok: count > before, seen: `${count} deliveries of it` };
        });
        await eventually("the second delivery in the endpoint's log", async () => {
          await page.reload();
          const now = (await deliveryRows(page)).filter((cells) => cells[1] === eventId);
          return {
            ok: now.length >= 2 && now.every((cells) => cells[2] === "200"),
            seen: JSON.stringify(now),
          };
        });
        await t.screenshot(page, "dashboard-endpoint");
        await t.screenshot(page);
      } finally {
        await receiver.stop();
      }
    },
  ],

  [
    "dashboard-webhook-secret",
    async (t) => {
      const page = await signIn(t);
      const endpointId = await addEndpoint(
        t,
        page,
        `${t.shop.base}/webhooks`,
        "checkout.session.completed, checkout.session.expired",
        { screenshots: true },
      );
      expect(/^we_\w+$/.test(endpointId), `endpoint id ${endpointId} is we_...`);
      eq(await page.locator("code#secret").count(), 0, "secrets shown before View Secret");
      expect(
        !(await page.content()).includes("whsec_"),
        "the secret is in the page before View Secret",
      );

      const secret = await viewSecret(page);
      expect(/^whsec_[A-Za-z0-9+/]+={0,2}$/.test(secret), `secret ${secret} is whsec_ and base64`);
      eq(Buffer.from(secret.slice("whsec_".length), "base64").length, 32, "bytes in the secret");
      const copy = page.locator('button[data-copy="#secret"]');
      eq(squash(await copy.textContent()), "Copy", "the secret's copy button");
      await copy.click();
      await page.locator('button[data-copy="#secret"]', { hasText: "Copied" }).waitFor();
      eq(await clipboard(page), secret, "clipboard after Copy");
      await t.screenshot(page);

      // Roll secret asks first, then shows the new one.
      let asked = null;
      page.once("dialog", (dialog) => {
        asked = dialog.message();
        dialog.accept();
      });
      await page.getByRole("button", { name: "Roll secret" }).click();
      // The roll redirects (reloading must not roll again) to the endpoint, showing the secret.
      await page.waitForURL(
        (url) =>
          url.pathname === `/dashboard/webhooks/${endpointId}` &&
          url.searchParams.get("reveal") === "true",
      );
      eq(asked, "Make a new secret? The current one keeps working for 24 hours.", "confirmation");
      await page.locator("code#secret").waitFor();
      const rolled = squash(await page.locator("code#secret").textContent());
      expect(/^whsec_/.test(rolled), `rolled secret ${rolled} is whsec_...`);
      expect(rolled !== secret, "Roll secret shows the same secret");
      await t.screenshot(page, "dashboard-endpoint-secret");
    },
  ],

  [
    "dashboard-key-create-revoke",
    async (t) => {
      const page = await signIn(t);
      await navigate(page, "API keys");
      eq(await heading(page), "API keys", "h1 of the keys page");
      await page.getByRole("button", { name: "Create a test key" }).click();
      await page.locator("code#new-key").waitFor();
      const key = squash(await page.locator("code#new-key").textContent());
      expect(/^sk_test_\w+$/.test(key), `new key ${key.slice(0, 12)}… is sk_test_...`);
      await t.screenshot(page, "dashboard-keys");

      const used = await accountStatus(t, key);
      eq(used.status, 200, `GET /api/v3/account with the new key (${used.body.slice(0, 120)})`);
      eq(JSON.parse(used.body).livemode, false, "livemode of the new key's account");

      // The list shows keys redacted: the prefix and the last four characters.
      const shown = new RegExp(`^sk_test_\\W+${key.slice(-4)}$`);
      const row = page
        .locator("main tbody tr")
        .filter({ has: page.locator("code", { hasText: shown }) });
      eq(await row.count(), 1, `rows of the new key (${shown})`);
      const redacted = squash(await row.locator("code").textContent());
      let asked = null;
      page.once("dialog", (dialog) => {
        asked = dialog.message();
        dialog.accept();
      });
      const revoked = page.waitForResponse(
        (r) => r.request().method() === "POST" && r.url().endsWith("/revoke"),
      );
      await row.getByRole("button", { name: "Revoke" }).click();
      eq((await revoked).status(), 303, "status of Revoke");
      await page.locator("code#new-key").waitFor({ state: "detached" });
      await page.waitForLoadState();
      eq(asked, `Revoke ${redacted}? Requests with it will be refused at once.`, "confirmation");
      const cells = (await row.locator("td").allInnerTexts()).map(squash);
      expect(cells[3].startsWith("revoked "), `status of the revoked key: ${cells[3]}`);
      eq(await row.getByRole("button", { name: "Revoke" }).count(), 0, "Revoke on a revoked key");
      t.check(cells[2] !== "never", `"Last used" of a key just used says ${cells[2]}`);

      const refused = await accountStatus(t, key);
      eq(refused.status, 401, "GET /api/v3/account with the revoked key");
      eq((await accountStatus(t, t.kassa.key)).status, 200, "the account's other key still works");
      await t.screenshot(page);
    },
  ],

  [
    "dashboard-csrf-less-post-refused",
    async (t) => {
      const page = await signIn(t);
      await navigate(page, "API keys");
      const keys = async () => page.locator("main tbody tr").count();
      const before = await keys();
      const post = (fields) =>
        page.evaluate(async (fields) => {
          const res = await fetch("/dashboard/keys", {
            method: "POST",
            body: new URLSearchParams(fields),
            credentials: "include",
          });
          return { status: res.status, text: await res.text() };
        }, fields);

      const without = await post({});
      eq(without.status, 403, "status of a POST without the CSRF token");
      expect(
        without.text.includes("Please reload the page"),
        `the refusal says what to do: ${without.text.slice(0, 200)}`,
      );
      eq((await post({ csrf: "not-the-token" })).status, 403, "status with a wrong CSRF token");
      await page.reload();
      eq(await keys(), before, "keys after the refused POSTs");

      // The same request with the page's token is taken: the refusals were about the token.
      const token = await page.locator('input[name="csrf"]').first().inputValue();
      const taken = await post({ csrf: token });
      eq(taken.status, 200, "status with the page's CSRF token");
      expect(taken.text.includes('id="new-key"'), "the accepted POST shows a new key");
      await page.reload();
      eq(await keys(), before + 1, "keys after the accepted POST");
      await t.screenshot(page);
    },
  ],

  [
    "dashboard-subscription",
    async (t) => {
      // A customer subscribes on the hosted page: 2 × €9.00 a month.
      const session = await subscriptionSession(t, {
        name: "Pro plan",
        unitAmount: 900,
        quantity: 2,
      });
      const customer = await t.newPage();
      watchForProblems(t, customer);
      eq((await customer.goto(session.url)).status(), 200, "status of the hosted page");
      await customer.locator("#field-email").fill("ada@example.com");
      await typeCard(customer, GOOD_CARD);
      await t.screenshot(customer, "dashboard-subscription-checkout");
      await customer.locator("button[data-pay]").click();
      const query = await landOnShop(t, customer, "/thanks");
      eq(query.get("session_id"), session.id, "success URL session_id");
      const paid = await t.kassa.api("GET", `/v1/checkout/sessions/${session.id}`);
      eq(paid.status, "complete", "session status after paying");
      const id = paid.subscription;
      expect(/^sub_\w+$/.test(id), `the session's subscription ${id} is sub_...`);
      t.shared.subscriptionId = id;
      const subscription = await t.kassa.api("GET", `/v1/subscriptions/${id}`);

      // The merchant finds it among the active subscriptions.
      const page = await signIn(t);
      await navigate(page, "Subscriptions");
      eq(await heading(page), "Subscriptions", "h1 of the subscriptions page");
      await page.locator("#status").selectOption("active");
      await page.getByRole("search").getByRole("button", { name: "Filter" }).click();
      await page.waitForURL((url) => url.searchParams.get("status") === "active");
      await page.waitForLoadState();
      const row = page.locator(`main tr[id="subscription-${id}"]`);
      eq(await row.count(), 1, "rows of the new subscription among the active ones");
      const cells = (await row.locator("td").allInnerTexts()).map(squash);
      eq(cells.slice(0, 4), [id, "ada@example.com", "Active", "€18.00 / month"], "its row");
      await t.screenshot(page, "dashboard-subscriptions");

      // Its page: price, period, next invoice, items, the paid invoice and its charge.
      await row.getByRole("link", { name: id }).click();
      await page.waitForURL((url) => url.pathname === `/dashboard/subscriptions/${id}`);
      await page.waitForLoadState();
      eq(await heading(page), "Subscription", "h1 of the subscription page");
      const shown = await facts(page.locator("main dl.facts").first());
      eq(shown.Customer, "ada@example.com", "customer");
      eq(shown.Price, "€18.00 / month", "price");
      eq(shown["Cancel at period end"], "No", "cancel at period end");
      eq(shown["Checkout session"], session.id, "checkout session");
      expect(
        /^\d{4}-\d\d-\d\d \d\d:\d\d to \d{4}-\d\d-\d\d \d\d:\d\d$/.test(shown["Current period"]),
        `current period shown as ${shown["Current period"]}`,
      );
      eq(
        shown["Next invoice"],
        shown["Current period"].split(" to ")[1],
        "next invoice at the period end",
      );
      const items = await page
        .locator("main table")
        .first()
        .locator("tbody tr")
        .evaluateAll((rows) =>
          rows.map((r) => [...r.cells].map((c) => c.textContent.replace(/\s+/g, " ").trim())),
        );
      eq(items.length, 1, "items");
      eq(items[0].slice(1), ["€9.00 / month", "2", "€18.00"], "the item's price, quantity, amount");
      expect(items[0][0].startsWith("Pro plan"), `the item's product: ${items[0][0]}`);
      const invoice = page.locator(`main tr[id="invoice-${subscription.latest_invoice}"]`);
      const invoiceCells = (await invoice.locator("td").allInnerTexts()).map(squash);
      eq(invoiceCells.slice(1, 5), ["paid", "€18.00", "€18.00", "1"], "the first invoice");
      const attempt = squash(
        await page.locator(`ul[id="attempts-${subscription.latest_invoice}"] li`).textContent(),
      );
      expect(
        /Succeeded · visa ending 4242 · €18\.00 ch_\w+ · Refund…$/.test(attempt),
        `the invoice's charge attempt: ${attempt}`,
      );
      await t.screenshot(page, "dashboard-subscription-page");

      // Cancel at period end, then take it back.
      await page.getByRole("button", { name: "Cancel at period end" }).click();
      await page.getByRole("button", { name: "Resume" }).waitFor();
      const ending = await facts(page.locator("main dl.facts").first());
      eq(ending["Cancel at period end"], "Yes", "cancel at period end after the button");
      expect(
        ending["Next invoice"].startsWith("None: ends "),
        `next invoice: ${ending["Next invoice"]}`,
      );
      eq(
        (await t.kassa.api("GET", `/v1/subscriptions/${id}`)).cancel_at_period_end,
        true,
        "the API's cancel_at_period_end",
      );
      await page.getByRole("button", { name: "Resume" }).click();
      await page.getByRole("button", { name: "Cancel at period end" }).waitFor();
      eq(
        (await t.kassa.api("GET", `/v1/subscriptions/${id}`)).cancel_at_period_end,
        false,
        "the API's cancel_at_period_end after Resume",
      );

      // Cancel now asks first; keeping it changes nothing.
      await page.getByRole("link", { name: "Cancel now…" }).click();
      await page.waitForURL((url) => url.pathname === `/dashboard/subscriptions/${id}/cancel`);
      eq(await heading(page), "Cancel this subscription now?", "h1 of the confirmation");
      await t.screenshot(page, "dashboard-subscription-cancel");
      await page.getByRole("link", { name: "Keep subscription" }).click();
      await page.waitForURL((url) => url.pathname === `/dashboard/subscriptions/${id}`);
      eq((await t.kassa.api("GET", `/v1/subscriptions/${id}`)).status, "active", "status kept");

      // The customer's page and the session's page lead to the same invoice.
      await page.getByRole("link", { name: "ada@example.com" }).click();
      await page.waitForURL(
        (url) => url.pathname === `/dashboard/customers/${subscription.customer}`,
      );
      eq(await heading(page), "Customer", "h1 of the customer page");
      eq(await page.locator(`main tr[id="subscription-${id}"]`).count(), 1, "their subscription");
      eq(await invoice.count(), 1, "their invoice");
      await visit(t, page, `/dashboard/sessions/${session.id}`);
      const link = page.locator(`#session-subscription a[href="/dashboard/subscriptions/${id}"]`);
      eq(await link.count(), 1, "the session's link to its subscription");
      eq(await invoice.count(), 1, "the session's invoice");

      // The overview counts it, and draws the revenue chart.
      await navigate(page, "Overview");
      const active = squash(await page.locator("#figure-active strong").textContent());
      expect(Number(active) >= 1, `active subscriptions: ${active}`);
      const mrr = (await page.locator("#figure-mrr .figure").allInnerTexts()).map(squash);
      expect(
        mrr.some((line) => /^€[\d,]+\.\d\d EUR a month$/.test(line)),
        `monthly recurring revenue: ${JSON.stringify(mrr)}`,
      );
      const chart = page.locator("#revenue-eur svg");
      eq(await chart.getAttribute("role"), "img", "the chart's role");
      expect((await chart.locator("rect.bar").count()) >= 1, "bars in the euro chart");
      const box = await chart.boundingBox();
      expect(box && box.width > 300 && box.height > 50, `the chart's size: ${JSON.stringify(box)}`);
      await t.screenshot(page, "dashboard-overview-subscriptions");

      // The settings say what ends a subscription after its last failed retry.
      await navigate(page, "Settings");
      eq(await heading(page), "Settings", "h1 of the settings page");
      const chosen = page.locator('input[name="dunning_final_action"]:checked');
      eq(await chosen.count(), 1, "one dunning choice checked");
      expect(
        ["cancel", "unpaid"].includes(await chosen.inputValue()),
        "the dunning choice is cancel or unpaid",
      );
      await t.screenshot(page, "dashboard-settings");
      await t.screenshot(page);
    },
  ],

  [
    "dashboard-phone",
    async (t) => {
      // Something in each list: a product, a session.
      const setup = await signIn(t);
      await productForSale(t, setup);
      await t.createSession();
      await subscriptionForSale(t);

      const page = await signIn(t, PHONE);
      for (const [section, shot] of [
        ["Overview", "dashboard-phone"],
        ["Products", "dashboard-phone-products"],
        ["Checkout sessions", "dashboard-phone-sessions"],
        ["Subscriptions", "dashboard-phone-subscriptions"],
      ]) {
        if (section !== "Overview") await navigate(page, section);
        eq(await heading(page), section, "h1");
        if (section !== "Overview") {
          expect((await page.locator("main tbody tr").count()) > 0, `rows on ${section}`);
        }
        await t.screenshot(page, shot);
        const layout = await measureWidth(page);
        eq(layout.width, 360, `layout viewport width on ${section}`);
        t.check(
          layout.scrollWidth <= 360,
          `${section} scrolls sideways on a 360 px screen: scrollWidth ${layout.scrollWidth}; ` +
            `sticking out: ${layout.wide.slice(0, 5).join(", ")}`,
        );
        const split = await wordsSplitApart(page, "main table");
        t.check(
          split.length === 0,
          `${section} on a 360 px screen draws words split over lines: ` +
            split.slice(0, 8).join(", "),
        );
      }
    },
  ],
];

if (startedDirectly(import.meta.url)) await runTests(TESTS);
