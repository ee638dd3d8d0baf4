// What the browser tests share: the kassa server under test, the local "shop" its success and
// cancel URLs point at, a test's context (browser pages, screenshots), the hosted checkout
// page's form helpers, and the runner that prints one line per test and the closing
// `browser: N passed, N failed` line.
//
// Test files (checkout.test.mjs, dashboard.test.mjs, portal.test.mjs, docs.test.mjs) export their TESTS, `[name, fn]` pairs, and
// run them with `runTests` when started directly; run.mjs runs them all on one server.
//
// Environment:
//   KASSA_BIN                  the kassa binary (default target/debug/kassa)
//   KASSA_CHROMIUM             the Chromium executable (default /usr/bin/chromium)
//   KASSA_TEST_DATABASE_URL    an empty database to use instead of a fresh SQLite file
//   KASSA_BROWSER_VERBOSE=1    print stack traces and the server log of failing tests

import { execFileSync, spawn } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import readline from "node:readline";
import { fileURLToPath } from "node:url";

import { chromium } from "playwright-core";

export const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const KASSA_BIN = process.env.KASSA_BIN || path.join(ROOT, "target/debug/kassa");
const CHROMIUM = process.env.KASSA_CHROMIUM || "/usr/bin/chromium";
export const SCREENSHOTS = path.join(ROOT, "target/browser-screenshots");
export const VERBOSE = process.env.KASSA_BROWSER_VERBOSE === "1";
const LISTEN_RE = /kassa is listening on (http:\/\/\S+)/;
const PASSWORD_RE = /^ {2}password\s+(\S+)\s*$/m;

/** Bound on one step: a navigation, a click, a wait, an API call. */
export const STEP_MS = 15_000;
/** Bound on a whole test. */
const TEST_MS = 120_000;

export const MERCHANT = "Browser Shop";
export const GOOD_CARD = "4242424242424242";
export const DECLINED_CARD = "4000000000000002";
/** A future expiry: December, three years from now. */
export const EXPIRY_MM = "12";
export const EXPIRY_YY = String((new Date().getUTCFullYear() + 3) % 100).padStart(2, "0");

/** The dashboard user the dashboard tests sign in as. */
export const OWNER_EMAIL = "owner@shop.example";

// ------------------------------------------------------------------------------------------
// The server under test

class Kassa {
  constructor() {
    this.tmp = fs.mkdtempSync(path.join(os.tmpdir(), "kassa-browser-"));
    this.dbUrl =
      process.env.KASSA_TEST_DATABASE_URL || "sqlite://" + path.join(this.tmp, "kassa.db");
    this.logPath = path.join(this.tmp, "kassa.log");
    this.proc = null;
    this.base = null;
    this.accountId = null;
    this.key = null;
    this.owner = null;
  }

  async start() {
    const out = execFileSync(
      KASSA_BIN,
      ["account", "create", "--name", MERCHANT, "--json", "--database-url", this.dbUrl],
      { encoding: "utf8", timeout: 120_000, stdio: ["ignore", "pipe", "pipe"] },
    );
    const account = JSON.parse(out.trim().split("\n").pop());
    this.accountId = account.account_id;
    this.key = account.test_secret_key;

    const log = fs.openSync(this.logPath, "w");
    this.proc = spawn(KASSA_BIN, ["serve", "--addr", "127.0.0.1:0", "--database-url", this.dbUrl], {
      stdio: ["ignore", "pipe", log],
    });
    fs.closeSync(log);
    // Reading every line also keeps the pipe drained for the whole run.
    const lines = readline.createInterface({ input: this.proc.stdout });
    this.base = await new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error("kassa did not report its address within 60 s")),
        60_000,
      );
      lines.on("line", (line) => {
        const m = LISTEN_RE.exec(line);
        if (m) {
          clearTimeout(timer);
          resolve(m[1].replace(/\/$/, ""));
        }
      });
      this.proc.once("exit", (code) => {
        clearTimeout(timer);
        reject(new Error(`kassa serve exited early (code ${code}):\n${this.logTail()}`));
      });
    });
  }

  /**
   * The account's dashboard user, `{email, password}`, made with `kassa user create` the first
   * time a test asks (the password is printed once).
   */
  dashboardUser() {
    if (!this.owner) {
      const out = execFileSync(
        KASSA_BIN,
        [
          "user",
          "create",
          "--account",
          this.accountId,
          "--email",
          OWNER_EMAIL,
          "--database-url",
          this.dbUrl,
        ],
        { encoding: "utf8", timeout: 60_000, stdio: ["ignore", "pipe", "pipe"] },
      );
      const m = PASSWORD_RE.exec(out);
      if (!m) throw new Error(`kassa user create printed no password:\n${out}`);
      this.owner = { email: OWNER_EMAIL, password: m[1] };
    }
    return this.owner;
  }

  logTail(n = 40) {
    try {
      const text = fs.readFileSync(this.logPath, "utf8").replace(/\x1b\[[0-9;]*m/g, "");
      return text.split("\n").slice(-n - 1).join("\n");
    } catch {
      return "";
    }
  }

  running() {
    return this.proc && this.proc.exitCode === null && this.proc.signalCode === null;
  }

  /** Last resort on the way out (a crash, Ctrl-C): no waiting possible. */
  killNow() {
    if (this.running()) this.proc.kill("SIGKILL");
    fs.rmSync(this.tmp, { recursive: true, force: true });
  }

  async stop() {
    if (this.running()) {
      const exited = new Promise((resolve) => this.proc.once("exit", resolve));
      this.proc.kill("SIGTERM");
      const timer = setTimeout(() => this.proc.kill("SIGKILL"), 10_000);
      await exited;
      clearTimeout(timer);
    }
    fs.rmSync(this.tmp, { recursive: true, force: true });
  }

  /** A Stripe-style API call: form-encoded body, JSON answer. */
  async api(method, apiPath, pairs) {
    return this.call(method, apiPath, {
      contentType: "application/x-www-form-urlencoded",
      payload: pairs ? new URLSearchParams(pairs).toString() : undefined,
    });
  }

  /** A Loops-style (V3) API call: JSON body, JSON answer. */
  async apiJson(method, apiPath, object) {
    return this.call(method, apiPath, {
      contentType: "application/json",
      payload: object === undefined ? undefined : JSON.stringify(object),
    });
  }

  /** An API call with the account's test key: `payload` (text) as `contentType`, JSON answer. */
  async call(method, apiPath, { contentType, payload }) {
    const res = await fetch(this.base + apiPath, {
      method,
      headers: {
        Authorization: `Bearer ${this.key}`,
        ...(payload !== undefined ? { "Content-Type": contentType } : {}),
      },
      body: payload,
      signal: AbortSignal.timeout(STEP_MS),
    });
    const text = await res.text();
    let body;
    try {
      body = JSON.parse(text);
    } catch {
      throw new Error(`${method} ${apiPath}: ${res.status}, not JSON: ${text.slice(0, 200)}`);
    }
    if (!res.ok) {
      throw new Error(`${method} ${apiPath}: ${res.status} ${JSON.stringify(body.error ?? body)}`);
    }
    return body;
  }
}

// ------------------------------------------------------------------------------------------
// The shop: where the success and cancel URLs point

class Shop {
  async start() {
    this.server = http.createServer((req, res) => {
      const page = new URL(req.url, "http://shop").pathname.replace(/^\//, "") || "home";
      res.writeHead(200, { "Content-Type": "text/html; charset=utf-8" });
      res.end(
        `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Shop: ${page}</title>` +
          `</head><body><h1 id="shop-page">${page}</h1></body></html>`,
      );
    });
    await new Promise((resolve) => this.server.listen(0, "127.0.0.1", resolve));
    this.base = `http://127.0.0.1:${this.server.address().port}`;
  }

  async stop() {
    if (!this.server) return;
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }
}

// ------------------------------------------------------------------------------------------
// Small helpers

export class TestFailed extends Error {}

export function expect(cond, msg) {
  if (!cond) throw new TestFailed(msg);
}

export function eq(actual, expected, what) {
  if (JSON.stringify(actual) !== JSON.stringify(expected)) {
    throw new TestFailed(
      `${what}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`,
    );
  }
}

/** Resolves with `promise`, or rejects after `ms`. */
export function within(ms, what, promise) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(
      () => reject(new TestFailed(`${what}: no result within ${ms / 1000} s`)),
      ms,
    );
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Text with runs of white space made single spaces. */
export function squash(text) {
  return (text ?? "").replace(/\s+/g, " ").trim();
}

// ------------------------------------------------------------------------------------------
// What a test gets: the servers, sessions, browser contexts and its screenshot

class TestContext {
  constructor(name, { kassa, shop, browser, shared }) {
    this.name = name;
    this.kassa = kassa;
    this.shop = shop;
    this.browser = browser;
    /** What a test made for later tests of the same run to reuse (they make it if it's not). */
    this.shared = shared;
    this.contexts = [];
    this.lastPage = null;
    this.screenshotTaken = false;
    this.softFailures = [];
  }

  /** A check that fails the test at its end but lets it go on, to see the rest of the flow. */
  check(cond, msg) {
    if (!cond) this.softFailures.push(msg);
  }

  /**
   * A checkout session: 2 × $25.00 "Linen shirt", quantity adjustable up to 5. `changes` are
   * [param, value] pairs that replace the default of the same param, or are added.
   */
  async createSession(changes = []) {
    const params = new Map([
      ["mode", "payment"],
      ["line_items[0][price_data][currency]", "usd"],
      ["line_items[0][price_data][unit_amount]", "2500"],
      ["line_items[0][price_data][product_data][name]", "Linen shirt"],
      ["line_items[0][quantity]", "2"],
      ["line_items[0][adjustable_quantity][enabled]", "true"],
      ["line_items[0][adjustable_quantity][maximum]", "5"],
      ["success_url", `${this.shop.base}/thanks`],
      ["cancel_url", `${this.shop.base}/cart`],
      ["customer_email", "ada@example.com"],
    ]);
    for (const [param, value] of changes) params.set(param, value);
    return this.kassa.api("POST", "/v1/checkout/sessions", [...params]);
  }

  async readSession(id) {
    return this.kassa.api("GET", `/v1/checkout/sessions/${id}`);
  }

  /** A page in a fresh browser context (its own cookies), with bounded steps. */
  async newPage(options = {}) {
    const context = await this.browser.newContext({ locale: "en-US", ...options });
    context.setDefaultTimeout(STEP_MS);
    context.setDefaultNavigationTimeout(STEP_MS);
    this.contexts.push(context);
    const page = await context.newPage();
    this.lastPage = page;
    return page;
  }

  /** Opens a session's checkout page; fails unless it answers `status`. */
  async open(page, session, status = 200) {
    const response = await page.goto(session.url);
    eq(response.status(), status, `GET ${new URL(session.url).pathname} status`);
    return response;
  }

  /**
   * A full-page screenshot (or, with `fullPage: false`, of the viewport: for pages too long to
   * picture whole), target/browser-screenshots/<name>.png; by default the test's own, named
   * after the test.
   */
  async screenshot(page = this.lastPage, name = this.name, { fullPage = true } = {}) {
    fs.mkdirSync(SCREENSHOTS, { recursive: true });
    await page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`), fullPage });
    if (name === this.name) this.screenshotTaken = true;
  }

  async close() {
    for (const context of this.contexts) {
      await context.close().catch(() => {});
    }
  }
}

// ------------------------------------------------------------------------------------------
// The hosted checkout page, as a customer uses it

/** Waits for the browser to arrive on the shop's `pagePath`; returns its query. */
export async function landOnShop(t, page, pagePath) {
  await page.waitForURL((url) => url.origin === t.shop.base && url.pathname === pagePath);
  await page.locator("#shop-page").waitFor();
  return new URL(page.url()).searchParams;
}

/** Types a card as a person does, key by key (the page formats as they type). */
export async function typeCard(page, number) {
  await page.locator("#field-card_number").fill("");
  await page.locator("#field-card_number").pressSequentially(number);
  await page.locator("#field-card_expiry").fill("");
  await page.locator("#field-card_expiry").pressSequentially(EXPIRY_MM + EXPIRY_YY);
  await page.locator("#field-card_cvc").fill("123");
  await page.locator("#field-name").fill("Ada Lovelace");
}

/** Fills the card fields whole, formatted as the hints ask (for pages without JavaScript). */
export async function fillCard(page, number) {
  await page.locator("#field-card_number").fill(number.replace(/(\d{4})(?=\d)/g, "$1 "));
  await page.locator("#field-card_expiry").fill(`${EXPIRY_MM} / ${EXPIRY_YY}`);
  await page.locator("#field-card_cvc").fill("123");
  await page.locator("#field-name").fill("Ada Lovelace");
}

/** Presses Pay and waits for the answer to the form's POST (the page it renders, if any). */
export async function pressPay(page, session) {
  const posted = page.waitForResponse(
    (r) =>
      r.request().method() === "POST" && new URL(r.url()).pathname === `/checkout/${session.id}`,
  );
  await page.locator("button[data-pay]").click();
  return posted;
}

// ------------------------------------------------------------------------------------------
// Phones

/** A phone: 360 CSS pixels wide, touch. */
export const PHONE = {
  viewport: { width: 360, height: 740 },
  deviceScaleFactor: 2,
  isMobile: true,
  hasTouch: true,
};

/**
 * How the page sits on a 360 px screen: the layout viewport's `width`, the page's
 * `scrollWidth` (more than `width`: it scrolls sideways), and what sticks out (`wide`).
 */
export async function measureWidth(page) {
  return page.evaluate(() => {
    const width = document.documentElement.clientWidth;
    const sticksOut = (el) => {
      const box = el.getBoundingClientRect();
      return box.width > 0 && (box.right > width + 0.5 || box.left < -0.5);
    };
    // To blame: text that runs past the screen's edge (a long word sets the minimum width of
    // its column), else the innermost elements that stick out.
    const culprits = new Set();
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      if (!node.textContent.trim()) continue;
      const range = document.createRange();
      range.selectNodeContents(node);
      if ([...range.getClientRects()].some((r) => r.right > width + 0.5)) {
        culprits.add(node.parentElement);
      }
    }
    if (culprits.size === 0) {
      for (const el of document.body.querySelectorAll("*")) {
        if (sticksOut(el) && ![...el.children].some(sticksOut)) culprits.add(el);
      }
    }
    const wide = [...culprits].map((el) => {
      const box = el.getBoundingClientRect();
      const what = `${el.tagName.toLowerCase()}${el.className ? "." + el.className : ""}`;
      return (
        `${what} "${(el.textContent || el.value || "").trim().slice(0, 40)}" ` +
        `${Math.round(box.left)}..${Math.round(box.right)}`
      );
    });
    return { scrollWidth: document.documentElement.scrollWidth, width, wide };
  });
}

// ------------------------------------------------------------------------------------------
// Running

async function runTest(name, fn, shared) {
  const t = new TestContext(name, shared);
  try {
    await within(TEST_MS, name, fn(t));
  } catch (error) {
    // The page as it was when the test failed.
    if (t.lastPage && !t.lastPage.isClosed()) {
      await t.screenshot(t.lastPage).catch(() => {});
    }
    throw error;
  } finally {
    await t.close();
  }
  if (t.softFailures.length) throw new TestFailed(t.softFailures.join("; "));
  if (!t.screenshotTaken) throw new TestFailed("the test saved no screenshot");
}

/** True when `moduleUrl` (a test file's import.meta.url) is the script node was started with. */
export function startedDirectly(moduleUrl) {
  const script = process.argv[1];
  return script !== undefined && path.resolve(script) === fileURLToPath(moduleUrl);
}

/**
 * Runs `tests` (`[name, fn]` pairs; those named on the command line, or all) on one server, one
 * shop and one Chromium, and prints a line per test and the closing summary line.
 */
export async function runTests(tests) {
  const only = process.argv.slice(2);
  const unknown = only.filter((name) => !tests.some(([n]) => n === name));
  if (unknown.length) {
    const known = tests.map(([n]) => n).join(", ");
    console.error(`unknown tests: ${unknown.join(", ")}; known: ${known}`);
    process.exit(2);
  }
  const selected = tests.filter(([name]) => only.length === 0 || only.includes(name));

  const kassa = new Kassa();
  const shop = new Shop();
  let browser = null;
  const killOnExit = () => kassa.killNow();
  process.on("exit", killOnExit);
  for (const signal of ["SIGINT", "SIGTERM"]) {
    process.on(signal, () => {
      kassa.killNow();
      process.exit(130);
    });
  }

  let passed = 0;
  let failed = 0;
  try {
    await kassa.start();
    await shop.start();
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true });
    const shared = {};
    for (const [name, fn] of selected) {
      const started = Date.now();
      try {
        await runTest(name, fn, { kassa, shop, browser, shared });
        passed++;
        console.log(`ok   ${name} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
      } catch (error) {
        failed++;
        const message =
          error instanceof TestFailed ? error.message : String(error?.message ?? error);
        console.log(`FAIL ${name}: ${message.split("\n").join("\n     ")}`);
        if (VERBOSE) {
          console.log(error?.stack);
          console.log(`kassa log:\n${kassa.logTail()}`);
        }
        if (!kassa.running()) {
          console.log(`kassa serve is not running any more:\n${kassa.logTail()}`);
        }
      }
    }
  } catch (error) {
    failed = Math.max(1, selected.length - passed);
    console.log(`FAIL setup: ${error?.message ?? error}`);
  } finally {
    if (browser) await browser.close().catch(() => {});
    await shop.stop().catch(() => {});
    await kassa.stop().catch(() => {});
    process.off("exit", killOnExit);
  }
  console.log(`browser: ${passed} passed, ${failed} failed`);
  process.exitCode = failed === 0 ? 0 : 1;
}
