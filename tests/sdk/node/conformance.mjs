// Conformance checks: the official stripe-node SDK against a local kassa server.
//
// Starts `kassa serve` on a fresh database, creates an account with `kassa account create`,
// points stripe-node at the server and runs every check in CHECKS order. Prints one line per
// check (`ok`/`FAIL`), then a closing `node: N passed, N failed` line, and exits non-zero when
// any check failed.
//
// Environment:
//   KASSA_BIN                 the kassa binary (default target/debug/kassa)
//   KASSA_TEST_DATABASE_URL   database URL to use instead of a fresh SQLite file (must be empty)
//   KASSA_SDK_VERBOSE=1       print stack traces of failing checks

import { execFileSync, spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import readline from "node:readline";

import Stripe from "stripe";

const KASSA_BIN =
  process.env.KASSA_BIN || new URL("../../../target/debug/kassa", import.meta.url).pathname;
const VERBOSE = process.env.KASSA_SDK_VERBOSE === "1";
const LISTEN_RE = /kassa is listening on (http:\/\/\S+)/;

// ------------------------------------------------------------------------------------------
// The server under test

class Kassa {
  constructor() {
    this.tmp = fs.mkdtempSync(path.join(os.tmpdir(), "kassa-sdk-node-"));
    this.dbUrl =
      process.env.KASSA_TEST_DATABASE_URL || "sqlite://" + path.join(this.tmp, "kassa.db");
    this.logPath = path.join(this.tmp, "kassa.log");
    this.proc = null;
    this.base = null;
    this.key = null;
  }

  async start() {
    const out = execFileSync(
      KASSA_BIN,
      ["account", "create", "--name", "SDK test", "--json", "--database-url", this.dbUrl],
      { encoding: "utf8", timeout: 120_000, stdio: ["ignore", "pipe", "pipe"] },
    );
    const account = JSON.parse(out.trim().split("\n").pop());
    this.key = account.test_secret_key;

    const log = fs.openSync(this.logPath, "w");
    this.proc = spawn(
      KASSA_BIN,
      ["serve", "--addr", "127.0.0.1:0", "--database-url", this.dbUrl],
      { stdio: ["ignore", "pipe", log] },
    );
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
      this.proc.on("exit", (code) => {
        clearTimeout(timer);
        reject(new Error(`kassa serve exited early (code ${code}):\n${this.logTail()}`));
      });
    });
  }

  logTail(n = 40) {
    try {
      const text = fs.readFileSync(this.logPath, "utf8").replace(/\x1b\[[0-9;]*m/g, "");
      return text.split("\n").slice(-n - 1).join("\n");
    } catch {
      return "";
    }
  }

  async stop() {
    if (this.proc && this.proc.exitCode === null && this.proc.signalCode === null) {
      const exited = new Promise((resolve) => this.proc.once("exit", resolve));
      this.proc.kill("SIGTERM");
      const timer = setTimeout(() => this.proc.kill("SIGKILL"), 10_000);
      await exited;
      clearTimeout(timer);
    }
    fs.rmSync(this.tmp, { recursive: true, force: true });
  }
}

// ------------------------------------------------------------------------------------------
// Small helpers

class CheckFailed extends Error {}

function expect(cond, msg) {
  if (!cond) throw new CheckFailed(msg);
}

function same(a, b) {
  return JSON.stringify(a) === JSON.stringify(b);
}

function eq(actual, expected, what) {
  if (!same(actual, expected)) {
    throw new CheckFailed(
      `${what}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`,
    );
  }
}

function need(value, what) {
  if (value === null || value === undefined) {
    throw new CheckFailed(`prerequisite missing: ${what} (an earlier check failed)`);
  }
  return value;
}

function sortedKeys(obj) {
  return Object.fromEntries(Object.entries(obj || {}).sort(([a], [b]) => a.localeCompare(b)));
}

function eqMap(actual, expected, what) {
  eq(sortedKeys(actual), sortedKeys(expected), what);
}

// Run fn, which must reject with the stripe-node error class `cls` and the given status/code/param.
async function expectError(fn, cls, status, { code, param, type } = {}) {
  let err;
  try {
    await fn();
  } catch (e) {
    err = e;
  }
  expect(err !== undefined, `expected ${cls.name} (HTTP ${status}), but the call succeeded`);
  const detail =
    `${err?.constructor?.name}(statusCode=${err.statusCode}, code=${err.code}, ` +
    `param=${err.param}, type=${err.rawType}, message=${JSON.stringify(err.message)})`;
  expect(err instanceof cls, `expected ${cls.name}, got ${detail}`);
  expect(err.statusCode === status, `expected HTTP ${status}, got ${detail}`);
  if (code !== undefined) expect(err.code === code, `expected code ${code}, got ${detail}`);
  if (param !== undefined) expect(err.param === param, `expected param ${param}, got ${detail}`);
  if (type !== undefined) expect(err.rawType === type, `expected type ${type}, got ${detail}`);
  return err;
}

async function v3Get(p) {
  const res = await fetch(S.server.base + p, {
    headers: { Authorization: `Bearer ${S.server.key}` },
  });
  const text = await res.text();
  expect(res.status === 200, `GET ${p}: HTTP ${res.status}: ${text.slice(0, 300)}`);
  return JSON.parse(text);
}

// ------------------------------------------------------------------------------------------
// State shared between checks

const S = {
  server: null,
  stripe: null,
  product: null, // product created with name/description/metadata
  price: null, // 2000 usd on `product`
  pricedProduct: null, // product created with default_price_data (2500 usd)
  sessionA: null, // line_items=[{price, quantity: 2}] + metadata
  sessionB: null, // price_data/product_data item + price item
  link: null, // payment link on `price`
  linkSessionId: null, // a session started by visiting the payment link's page
  allSessions: [], // every session this run created, oldest first
};

const SUCCESS_URL = "https://shop.example/success?session_id={CHECKOUT_SESSION_ID}";
const CANCEL_URL = "https://shop.example/cart";

function track(id) {
  S.allSessions.push(id);
  return id;
}

const newestFirst = () => [...S.allSessions].reverse();

// ------------------------------------------------------------------------------------------
// Checks

async function checkProductCreate() {
  const p = await S.stripe.products.create({
    name: "Widget",
    description: "A very good widget",
    metadata: { sku: "W-1" },
  });
  S.product = p;
  eq(p.object, "product", "object");
  expect(p.id.startsWith("prod_"), `id ${p.id} should start with prod_`);
  eq(p.name, "Widget", "name");
  eq(p.description, "A very good widget", "description");
  eqMap(p.metadata, { sku: "W-1" }, "metadata");
  eq(p.active, true, "active");
  eq(p.livemode, false, "livemode");
}

async function checkProductRetrieve() {
  const p = need(S.product, "product");
  const got = await S.stripe.products.retrieve(p.id);
  eq(got.id, p.id, "id");
  eq(got.name, "Widget", "name");
  eqMap(got.metadata, { sku: "W-1" }, "metadata");
}

async function checkPriceCreate() {
  const p = need(S.product, "product");
  const price = await S.stripe.prices.create({
    product: p.id,
    unit_amount: 2000,
    currency: "usd",
    metadata: { tier: "standard" },
  });
  S.price = price;
  eq(price.object, "price", "object");
  expect(price.id.startsWith("price_"), `id ${price.id} should start with price_`);
  eq(price.unit_amount, 2000, "unit_amount");
  // stripe-node turns the decimal string into a Decimal object.
  eq(String(price.unit_amount_decimal), "2000", "unit_amount_decimal");
  eq(price.currency, "usd", "currency");
  eq(price.product, p.id, "product");
  eq(price.type, "one_time", "type");
  eq(price.livemode, false, "livemode");
  eqMap(price.metadata, { tier: "standard" }, "metadata");
}

async function checkPriceRetrieve() {
  const price = need(S.price, "price");
  let got = await S.stripe.prices.retrieve(price.id);
  eq(got.id, price.id, "id");
  eq(got.unit_amount, 2000, "unit_amount");
  eq(got.currency, "usd", "currency");
  eq(got.product, S.product.id, "product");
  got = await S.stripe.prices.retrieve(price.id, { expand: ["product"] });
  expect(
    got.product && typeof got.product === "object" && got.product.object === "product",
    `expand=[product] should give a product object, got ${JSON.stringify(got.product)}`,
  );
  eq(got.product.name, "Widget", "product.name");
}

async function checkProductDefaultPrice() {
  const p = await S.stripe.products.create({
    name: "Gadget",
    default_price_data: { unit_amount: 2500, currency: "usd" },
  });
  S.pricedProduct = p;
  expect(
    typeof p.default_price === "string" && p.default_price.startsWith("price_"),
    `default_price should be a price id, got ${JSON.stringify(p.default_price)}`,
  );
  const price = await S.stripe.prices.retrieve(p.default_price);
  eq(price.unit_amount, 2500, "default price unit_amount");
  eq(price.currency, "usd", "default price currency");
  eq(price.product, p.id, "default price product");
}

async function checkSessionCreatePrice() {
  const price = need(S.price, "price");
  const s = await S.stripe.checkout.sessions.create({
    mode: "payment",
    line_items: [{ price: price.id, quantity: 2 }],
    success_url: SUCCESS_URL,
    cancel_url: CANCEL_URL,
    metadata: { order_id: "42", channel: "web" },
    client_reference_id: "user-7",
  });
  track(s.id);
  S.sessionA = s;
  eq(s.object, "checkout.session", "object");
  expect(s.id.startsWith("cs_test_"), `id ${s.id} should start with cs_test_`);
  eq(s.mode, "payment", "mode");
  eq(s.status, "open", "status");
  eq(s.payment_status, "unpaid", "payment_status");
  eq(s.amount_subtotal, 4000, "amount_subtotal");
  eq(s.amount_total, 4000, "amount_total");
  eq(s.currency, "usd", "currency");
  eq(s.livemode, false, "livemode");
  eqMap(s.metadata, { order_id: "42", channel: "web" }, "metadata");
  eq(s.success_url, SUCCESS_URL, "success_url");
  eq(s.cancel_url, CANCEL_URL, "cancel_url");
  eq(s.client_reference_id, "user-7", "client_reference_id");
  expect(typeof s.url === "string" && s.url.includes(s.id), `url ${s.url} should contain the id`);
  expect(
    Number.isInteger(s.created) && Number.isInteger(s.expires_at) && s.expires_at > s.created,
    `created/expires_at: ${s.created}/${s.expires_at}`,
  );
  expect(!("line_items" in s), "line_items must be absent unless expanded");
  const rid = s.lastResponse?.requestId;
  expect(typeof rid === "string" && rid.startsWith("req_"), `Request-Id header: ${rid}`);
}

async function checkSessionUrlOnServer() {
  const s = need(S.sessionA, "session");
  expect(
    s.url.startsWith(S.server.base + "/"),
    `url ${s.url} should point at the server kassa listens on (${S.server.base})`,
  );
}

async function checkSessionCreatePriceData() {
  const price = need(S.price, "price");
  const s = await S.stripe.checkout.sessions.create({
    mode: "payment",
    line_items: [
      {
        price_data: {
          currency: "usd",
          unit_amount: 1500,
          product_data: { name: "T-shirt", metadata: { size: "M" } },
        },
        quantity: 3,
      },
      { price: price.id, quantity: 1 },
    ],
    success_url: "https://shop.example/thanks",
    cancel_url: CANCEL_URL,
    metadata: { order_id: "43" },
    expand: ["line_items"],
  });
  track(s.id);
  S.sessionB = s;
  eq(s.object, "checkout.session", "object");
  eq(s.status, "open", "status");
  eq(s.payment_status, "unpaid", "payment_status");
  eq(s.amount_subtotal, 6500, "amount_subtotal");
  eq(s.amount_total, 6500, "amount_total");
  eq(s.currency, "usd", "currency");
  eq(s.livemode, false, "livemode");
  eqMap(s.metadata, { order_id: "43" }, "metadata");
  expect(typeof s.url === "string" && s.url.includes(s.id), `url ${s.url} should contain the id`);
  // expand works on create too.
  eq(s.line_items?.object, "list", "expand=[line_items] on create");
  eq(s.line_items.data.map((i) => i.quantity).sort(), [1, 3], "line item quantities");
}

async function checkSessionRetrieveExpandLineItems() {
  const s = need(S.sessionA, "session");
  const got = await S.stripe.checkout.sessions.retrieve(s.id, { expand: ["line_items"] });
  eq(got.id, s.id, "id");
  eq(got.line_items?.object, "list", "line_items.object");
  eq(got.line_items.data.length, 1, "number of line items");
  const item = got.line_items.data[0];
  eq(item.object, "item", "item.object");
  expect(item.id.startsWith("li_"), `item id ${item.id} should start with li_`);
  eq(item.quantity, 2, "line_items.data[0].quantity");
  eq(item.price?.object, "price", "line_items.data[0].price.object");
  eq(item.price.id, S.price.id, "line_items.data[0].price.id");
  eq(item.price.unit_amount, 2000, "line_items.data[0].price.unit_amount");
  eq(item.amount_total, 4000, "line_items.data[0].amount_total");
  eq(item.currency, "usd", "line_items.data[0].currency");
  const plain = await S.stripe.checkout.sessions.retrieve(s.id);
  expect(!("line_items" in plain), "line_items must be absent unless expanded");
  eq(plain.amount_total, 4000, "amount_total");
}

async function checkSessionExpandPaymentLink() {
  const price = need(S.price, "price");
  const link = await S.stripe.paymentLinks.create({
    line_items: [{ price: price.id, quantity: 1 }],
    metadata: { campaign: "spring" },
  });
  S.link = link;
  eq(link.object, "payment_link", "payment link object");
  // A customer opening the link's page starts a new session and is sent to it.
  const res = await fetch(`${S.server.base}/l/${link.id}`, { redirect: "manual" });
  expect(
    [302, 303, 307].includes(res.status),
    `GET /l/${link.id}: expected a redirect, got HTTP ${res.status}`,
  );
  const location = res.headers.get("location") || "";
  const m = /(cs_test_[A-Za-z0-9]+)/.exec(location);
  expect(m, `redirect Location ${JSON.stringify(location)} names no session`);
  const sid = track(m[1]);
  S.linkSessionId = sid;
  const plain = await S.stripe.checkout.sessions.retrieve(sid);
  eq(plain.payment_link, link.id, "payment_link (not expanded)");
  eq(plain.amount_total, 2000, "amount_total");
  const got = await S.stripe.checkout.sessions.retrieve(sid, { expand: ["payment_link"] });
  eq(got.payment_link?.object, "payment_link", "expanded payment_link.object");
  eq(got.payment_link.id, link.id, "payment_link.id");
  const listed = await S.stripe.checkout.sessions.list({ payment_link: link.id });
  eq(listed.data.map((x) => x.id), [sid], "sessions listed with payment_link filter");
}

async function checkSessionListFilters() {
  need(S.sessionA, "session");
  const page = await S.stripe.checkout.sessions.list({ status: "open", limit: 2 });
  eq(page.object, "list", "object");
  eq(page.url, "/v1/checkout/sessions", "url");
  eq(page.data.length, 2, "page size");
  eq(page.has_more, true, "has_more");
  for (const x of page.data) eq(x.status, "open", `status of ${x.id}`);
  eq(page.data.map((x) => x.id), newestFirst().slice(0, 2), "first page (newest first)");
  const next = await S.stripe.checkout.sessions.list({
    status: "open",
    limit: 2,
    starting_after: page.data.at(-1).id,
  });
  eq(next.data.map((x) => x.id), newestFirst().slice(2, 4), "page after starting_after");
  const before = await S.stripe.checkout.sessions.list({
    limit: 1,
    ending_before: next.data[0].id,
  });
  eq(before.data.map((x) => x.id), [page.data.at(-1).id], "page with ending_before");
  const firstCreated = S.sessionA.created;
  const since = await S.stripe.checkout.sessions.list({ created: { gte: firstCreated }, limit: 100 });
  eq(since.data.map((x) => x.id), newestFirst(), "created[gte] filter");
  const earlier = await S.stripe.checkout.sessions.list({ created: { lt: firstCreated } });
  eq(earlier.data.map((x) => x.id), [], "created[lt] filter");
}

async function checkSessionAutoPaging() {
  const price = need(S.price, "price");
  for (let i = 0; i < 7; i++) {
    const s = await S.stripe.checkout.sessions.create({
      mode: "payment",
      line_items: [{ price: price.id, quantity: 1 }],
      success_url: "https://shop.example/ok",
      metadata: { batch: String(i) },
    });
    track(s.id);
  }
  const first = await S.stripe.checkout.sessions.list({ limit: 3 });
  eq(first.data.length, 3, "first page size");
  eq(first.has_more, true, "has_more on the first page");
  const seen = [];
  for await (const s of S.stripe.checkout.sessions.list({ limit: 3 })) seen.push(s.id);
  const dupes = [...new Set(seen.filter((id, i) => seen.indexOf(id) !== i))];
  expect(dupes.length === 0, `ids seen more than once: ${dupes.join(", ")}`);
  eq([...seen].sort(), [...S.allSessions].sort(), "all sessions seen through for await");
  eq(seen, newestFirst(), "order (newest first)");
  // Filters are kept on every page the SDK fetches.
  const open = await S.stripe.checkout.sessions
    .list({ status: "open", limit: 3 })
    .autoPagingToArray({ limit: 1000 });
  eq(open.map((x) => x.id), newestFirst(), "open sessions through autoPagingToArray");
}

async function checkSessionListLineItems() {
  const s = need(S.sessionA, "session");
  const items = await S.stripe.checkout.sessions.listLineItems(s.id, { limit: 5 });
  eq(items.object, "list", "object");
  eq(items.url, `/v1/checkout/sessions/${s.id}/line_items`, "url");
  eq(items.has_more, false, "has_more");
  eq(items.data.length, 1, "number of items");
  const item = items.data[0];
  eq(item.object, "item", "object");
  eq(item.quantity, 2, "quantity");
  eq(item.price.id, S.price.id, "price.id");
  eq(item.amount_subtotal, 4000, "amount_subtotal");
  eq(item.amount_total, 4000, "amount_total");
  eq(item.description, "Widget", "description");

  const b = need(S.sessionB, "price_data session");
  const page = await S.stripe.checkout.sessions.listLineItems(b.id, { limit: 1 });
  eq(page.data.length, 1, "page size with limit=1");
  eq(page.has_more, true, "has_more with limit=1");
  const all = [];
  for await (const i of S.stripe.checkout.sessions.listLineItems(b.id, { limit: 1 })) all.push(i);
  eq(all.length, 2, "line items through for await");
  eq(new Set(all.map((i) => i.id)).size, 2, "distinct line item ids");
  const tshirt = all.find((i) => i.description === "T-shirt");
  expect(tshirt, `a line item described 'T-shirt': ${all.map((i) => i.description)}`);
  eq(tshirt.quantity, 3, "T-shirt quantity");
  eq(tshirt.amount_total, 4500, "T-shirt amount_total");
  eq(tshirt.price.unit_amount, 1500, "T-shirt price.unit_amount");
  eq(tshirt.price.currency, "usd", "T-shirt price.currency");
  expect(
    typeof tshirt.price.product === "string" && tshirt.price.product.startsWith("prod_"),
    `T-shirt price.product ${JSON.stringify(tshirt.price.product)} should be a product id`,
  );
  const product = await S.stripe.products.retrieve(tshirt.price.product);
  eq(product.name, "T-shirt", "product_data name");
  eqMap(product.metadata, { size: "M" }, "product_data metadata");
}

async function checkSessionUpdateMetadata() {
  const s = need(S.sessionA, "session");
  const got = await S.stripe.checkout.sessions.update(s.id, {
    metadata: { note: "gift", channel: "" },
  });
  eq(got.id, s.id, "id");
  eqMap(got.metadata, { order_id: "42", note: "gift" }, "metadata after update");
  const again = await S.stripe.checkout.sessions.retrieve(s.id);
  eqMap(again.metadata, { order_id: "42", note: "gift" }, "metadata after retrieve");
  eq(again.status, "open", "status");
}

async function checkSessionExpire() {
  const s = need(S.sessionA, "session");
  const got = await S.stripe.checkout.sessions.expire(s.id);
  eq(got.id, s.id, "id");
  eq(got.status, "expired", "status");
  eq(got.payment_status, "unpaid", "payment_status");
  eq(got.url, null, "url of an expired session");
  const again = await S.stripe.checkout.sessions.retrieve(s.id);
  eq(again.status, "expired", "status after retrieve");
  const expired = await S.stripe.checkout.sessions.list({ status: "expired" });
  eq(expired.data.map((x) => x.id), [s.id], "sessions listed with status=expired");
  const open = await S.stripe.checkout.sessions.list({ status: "open", limit: 100 });
  expect(!open.data.some((x) => x.id === s.id), "expired session still listed with status=open");
}

async function checkSessionExpireAgainCode() {
  const s = need(S.sessionA, "session");
  let err;
  try {
    await S.stripe.checkout.sessions.expire(s.id);
  } catch (e) {
    err = e;
  }
  expect(err, "expiring an expired session succeeded");
  expect(err instanceof Stripe.errors.StripeError, `not a StripeError: ${err}`);
  eq(err.rawType, "invalid_request_error", "error type");
  eq(err.code, "checkout_session_not_open", "error code");
  const again = await S.stripe.checkout.sessions.retrieve(s.id);
  eq(again.status, "expired", "status after second expire");
}

async function checkSessionExpireAgainClass() {
  // Stripe answers 400 (stripe-php raises InvalidRequestException: "Only Checkout Sessions
  // with a status in ["open"] can be expired"), so the SDK raises StripeInvalidRequestError
  // without retrying.
  const s = need(S.sessionA, "session");
  await expectError(
    () => S.stripe.checkout.sessions.expire(s.id),
    Stripe.errors.StripeInvalidRequestError,
    400,
    { code: "checkout_session_not_open" },
  );
}

async function checkErrorMissingLineItems() {
  await expectError(
    () =>
      S.stripe.checkout.sessions.create({
        mode: "payment",
        success_url: "https://shop.example/ok",
      }),
    Stripe.errors.StripeInvalidRequestError,
    400,
    { code: "parameter_missing", param: "line_items", type: "invalid_request_error" },
  );
}

async function checkErrorMissingCurrency() {
  const p = need(S.product, "product");
  await expectError(
    () => S.stripe.prices.create({ product: p.id, unit_amount: 100 }),
    Stripe.errors.StripeInvalidRequestError,
    400,
    { code: "parameter_missing", param: "currency" },
  );
}

async function checkErrorBadInteger() {
  const p = need(S.product, "product");
  await expectError(
    () => S.stripe.prices.create({ product: p.id, unit_amount: "abc", currency: "usd" }),
    Stripe.errors.StripeInvalidRequestError,
    400,
    { code: "parameter_invalid_integer", param: "unit_amount" },
  );
  await expectError(
    () =>
      S.stripe.checkout.sessions.create({
        mode: "payment",
        line_items: [
          {
            price_data: { currency: "usd", unit_amount: "abc", product_data: { name: "X" } },
            quantity: 1,
          },
        ],
      }),
    Stripe.errors.StripeInvalidRequestError,
    400,
    { code: "parameter_invalid_integer", param: "line_items[0][price_data][unit_amount]" },
  );
}

async function checkErrorUnknownId() {
  const e = await expectError(
    () => S.stripe.checkout.sessions.retrieve("cs_test_doesnotexist"),
    Stripe.errors.StripeInvalidRequestError,
    404,
    { code: "resource_missing", param: "id", type: "invalid_request_error" },
  );
  expect(e.message.includes("cs_test_doesnotexist"), `message should name the id: ${e.message}`);
  await expectError(
    () => S.stripe.prices.retrieve("price_doesnotexist"),
    Stripe.errors.StripeInvalidRequestError,
    404,
    { code: "resource_missing", param: "id" },
  );
}

async function checkErrorWrongKey() {
  await expectError(
    () => S.stripe.checkout.sessions.list({}, { apiKey: "sk_test_wrong" + "x".repeat(40) }),
    Stripe.errors.StripeAuthenticationError,
    401,
  );
}

async function checkIdempotencyReplay() {
  const price = need(S.price, "price");
  const idempotencyKey = "sdk-node-" + randomUUID();
  const params = {
    mode: "payment",
    line_items: [{ price: price.id, quantity: 1 }],
    success_url: "https://shop.example/ok",
    metadata: { try: "1" },
  };
  const first = await S.stripe.checkout.sessions.create(params, { idempotencyKey });
  track(first.id);
  const second = await S.stripe.checkout.sessions.create(params, { idempotencyKey });
  eq(second.id, first.id, "id of the replayed create");
  eq(second.lastResponse.headers["idempotent-replayed"], "true", "Idempotent-Replayed header");
  const listed = (await S.stripe.checkout.sessions.list({ limit: 100 })).data.map((x) => x.id);
  eq(listed.filter((id) => id === first.id).length, 1, "sessions created by the two calls");
  eq(listed.length, S.allSessions.length, "no extra session created");
}

async function checkIdempotencyMismatch() {
  const price = need(S.price, "price");
  const idempotencyKey = "sdk-node-" + randomUUID();
  const first = await S.stripe.checkout.sessions.create(
    {
      mode: "payment",
      line_items: [{ price: price.id, quantity: 1 }],
      success_url: "https://shop.example/ok",
    },
    { idempotencyKey },
  );
  track(first.id);
  await expectError(
    () =>
      S.stripe.checkout.sessions.create(
        {
          mode: "payment",
          line_items: [{ price: price.id, quantity: 5 }],
          success_url: "https://shop.example/ok",
        },
        { idempotencyKey },
      ),
    Stripe.errors.StripeIdempotencyError,
    400,
    { type: "idempotency_error" },
  );
}

async function checkLoopsV3Sessions() {
  for (const s of [need(S.sessionA, "session"), need(S.sessionB, "price_data session")]) {
    const sdk = await S.stripe.checkout.sessions.retrieve(s.id, { expand: ["line_items"] });
    const v3 = await v3Get(`/api/v3/checkout/sessions/${s.id}?expand[]=line_items`);
    eq(v3.object, "checkout.session", "V3 object");
    eq(v3.id, sdk.id, "V3 id");
    eq(v3.amount_total, sdk.amount_total, "V3 amount_total");
    eq(v3.currency, sdk.currency, "V3 currency");
    eq(v3.status, sdk.status, "V3 status");
    eq(v3.payment_status, sdk.payment_status, "V3 payment_status");
    eqMap(v3.metadata, sdk.metadata, "V3 metadata");
    eq(v3.livemode, false, "V3 livemode");
    const pairs = (items) => items.map((i) => `${i.price.id}x${i.quantity}`).sort();
    eq(pairs(v3.line_items?.data || []), pairs(sdk.line_items.data), "V3 line item (price, quantity)");
  }
  eq((await v3Get(`/api/v3/checkout/sessions/${S.sessionA.id}`)).status, "expired",
    "V3 status of the expired session");
  eq((await v3Get(`/api/v3/checkout/sessions/${S.sessionB.id}`)).status, "open",
    "V3 status of the open session");
}

async function checkLoopsV3Products() {
  const p = need(S.product, "product");
  let v3 = await v3Get(`/api/v3/products/${p.id}`);
  eq(v3.object, "product", "V3 object");
  eq(v3.id, p.id, "V3 id");
  eq(v3.name, "Widget", "V3 name");
  eq(v3.description, "A very good widget", "V3 description");
  eqMap(v3.metadata, { sku: "W-1" }, "V3 metadata");
  eq(v3.active, true, "V3 active");
  eq(v3.livemode, false, "V3 livemode");
  const pp = need(S.pricedProduct, "product with a default price");
  v3 = await v3Get(`/api/v3/products/${pp.id}`);
  eq(v3.id, pp.id, "V3 id");
  eq(v3.default_price, pp.default_price, "V3 default_price");
  // Loops product amounts are major units, as decimal strings.
  eq(v3.priceAmount, "25.00", "V3 priceAmount");
  eq(v3.priceCurrency, "usd", "V3 priceCurrency");
  eq(v3.amountType, "FIXED", "V3 amountType");
}

async function checkPaymentIntentsList() {
  const page = await S.stripe.paymentIntents.list();
  eq(page.object, "list", "object");
  eq(page.url, "/v1/payment_intents", "url");
  eq(page.data.length, 0, "number of payment intents");
  eq(page.has_more, false, "has_more");
}

const CHECKS = [
  ["product.create", checkProductCreate],
  ["product.retrieve", checkProductRetrieve],
  ["price.create", checkPriceCreate],
  ["price.retrieve", checkPriceRetrieve],
  ["product.create.default_price_data", checkProductDefaultPrice],
  ["session.create.price", checkSessionCreatePrice],
  ["session.url.points_at_server", checkSessionUrlOnServer],
  ["session.create.price_data", checkSessionCreatePriceData],
  ["session.retrieve.expand_line_items", checkSessionRetrieveExpandLineItems],
  ["session.retrieve.expand_payment_link", checkSessionExpandPaymentLink],
  ["session.list.filters", checkSessionListFilters],
  ["session.list.auto_paging", checkSessionAutoPaging],
  ["session.list_line_items", checkSessionListLineItems],
  ["session.update.metadata", checkSessionUpdateMetadata],
  ["session.expire", checkSessionExpire],
  ["session.expire.again.code", checkSessionExpireAgainCode],
  ["session.expire.again.invalid_request_400", checkSessionExpireAgainClass],
  ["error.parameter_missing.line_items", checkErrorMissingLineItems],
  ["error.parameter_missing.currency", checkErrorMissingCurrency],
  ["error.parameter_invalid_integer", checkErrorBadInteger],
  ["error.resource_missing", checkErrorUnknownId],
  ["error.authentication", checkErrorWrongKey],
  ["idempotency.replay", checkIdempotencyReplay],
  ["idempotency.mismatch", checkIdempotencyMismatch],
  ["loops_v3.sessions", checkLoopsV3Sessions],
  ["loops_v3.products", checkLoopsV3Products],
  ["payment_intents.list", checkPaymentIntentsList],
];

async function main() {
  console.log(`stripe-node ${Stripe.PACKAGE_VERSION} (API version ${Stripe.API_VERSION}), ` +
    `kassa ${KASSA_BIN}`);
  const server = new Kassa();
  const onSignal = async (sig) => {
    await server.stop();
    process.exit(sig === "SIGINT" ? 130 : 143);
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  let passed = 0;
  let failed = 0;
  try {
    await server.start();
    S.server = server;
    console.log(`kassa listening on ${server.base}`);
    const url = new URL(server.base);
    S.stripe = new Stripe(server.key, {
      host: url.hostname,
      port: Number(url.port),
      protocol: "http",
    });
    for (const [name, fn] of CHECKS) {
      try {
        await fn();
        passed++;
        console.log(`ok   ${name}`);
      } catch (e) {
        failed++;
        const reason = e instanceof CheckFailed ? e.message : `${e?.constructor?.name}: ${e?.message}`;
        console.log(`FAIL ${name}: ${String(reason).replace(/\n/g, " ")}`);
        if (VERBOSE) console.log(e?.stack);
      }
    }
  } catch (e) {
    failed++;
    console.log(`FAIL setup: ${e?.constructor?.name}: ${e?.message}`);
  } finally {
    if (failed && server.proc) {
      const tail = server.logTail().trimEnd();
      if (tail) console.log(`--- kassa log (last lines) ---\n${tail}`);
    }
    await server.stop();
  }
  console.log(`node: ${passed} passed, ${failed} failed`);
  return failed ? 1 : 0;
}

process.exitCode = await main();
