// Conformance checks: the official stripe-node SDK against a local kassa server.
//
// Starts `kassa serve` on a fresh database, creates an account with `kassa account create`,
// points stripe-node at the server and runs every check in CHECKS order. The webhook checks
// receive kassa's deliveries on local HTTP receivers (127.0.0.1) and verify them with
// stripe-node's own verifier and with the `standardwebhooks` package. Prints one line per
// check (`ok`/`FAIL`), then a closing `node: N passed, N failed` line, and exits non-zero when
// any check failed.
//
// Environment:
//   KASSA_BIN                 the kassa binary (default target/debug/kassa)
//   KASSA_TEST_DATABASE_URL   database URL to use instead of a fresh SQLite file (must be empty)
//   KASSA_SDK_VERBOSE=1       print stack traces of failing checks

import { execFileSync, spawn } from "node:child_process";
import { randomBytes, randomUUID } from "node:crypto";
import fs from "node:fs";
import http from "node:http";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import readline from "node:readline";

import { Webhook, WebhookVerificationError } from "standardwebhooks";
import Stripe from "stripe";

const KASSA_BIN =
  process.env.KASSA_BIN || new URL("../../../target/debug/kassa", import.meta.url).pathname;
const VERBOSE = process.env.KASSA_SDK_VERBOSE === "1";
const STANDARDWEBHOOKS_VERSION = createRequire(import.meta.url)(
  "standardwebhooks/package.json",
).version;
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

async function postForm(p, params) {
  const res = await fetch(S.server.base + p, {
    method: "POST",
    headers: {
      Authorization: `Bearer ${S.server.key}`,
      "Content-Type": "application/x-www-form-urlencoded",
    },
    body: new URLSearchParams(params).toString(),
  });
  return { status: res.status, text: await res.text() };
}

function randomSecret() {
  return "whsec_" + randomBytes(32).toString("base64");
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// Where two buffers part, for failure messages.
function firstDifference(a, b) {
  let n = 0;
  while (n < a.length && n < b.length && a[n] === b[n]) n++;
  const around = (x) => JSON.stringify(x.subarray(Math.max(0, n - 40), n + 40).toString());
  return (
    `lengths ${a.length}/${b.length}, first difference at byte ${n}: ` +
    `${around(a)} vs ${around(b)}`
  );
}

// Runs fn, which must throw an instance of cls.
function expectThrows(fn, cls, what) {
  try {
    fn();
  } catch (e) {
    expect(
      e instanceof cls,
      `${what}: expected ${cls.name}, got ${e?.constructor?.name}: ${e?.message}`,
    );
    return;
  }
  throw new CheckFailed(`${what}: no ${cls.name} thrown`);
}

// ------------------------------------------------------------------------------------------
// A local webhook receiver

// One request a receiver got: lower-cased headers, the raw body and what it answered.
class Delivery {
  constructor(headers, body, status) {
    this.headers = headers;
    this.body = body;
    this.status = status;
    try {
      this.event = JSON.parse(body.toString("utf8"));
    } catch {
      this.event = null;
    }
  }

  isEvent(type, objectId) {
    return this.event?.type === type && this.event?.data?.object?.id === objectId;
  }
}

// An HTTP server on 127.0.0.1 that records every POST. It answers `statuses` to the first
// requests, in order, then 200.
class Receiver {
  constructor(statuses = []) {
    this.requests = [];
    this.statuses = [...statuses];
    this.waiters = new Set();
    this.server = http.createServer((req, res) => {
      const chunks = [];
      req.on("data", (c) => chunks.push(c));
      req.on("end", () => {
        const status = this.statuses.length ? this.statuses.shift() : 200;
        const headers = {};
        for (const [k, v] of Object.entries(req.headers)) headers[k.toLowerCase()] = v;
        this.requests.push(new Delivery(headers, Buffer.concat(chunks), status));
        for (const wake of this.waiters) wake();
        res.writeHead(status, { "Content-Type": "text/plain" });
        res.end(status < 300 ? '{"received":true}' : "receiver unavailable");
      });
    });
    S.receivers.push(this);
  }

  async start() {
    await new Promise((resolve, reject) => {
      this.server.once("error", reject);
      this.server.listen(0, "127.0.0.1", resolve);
    });
    this.url = `http://127.0.0.1:${this.server.address().port}/webhooks`;
    return this;
  }

  // The first `count` deliveries of the event of `type` about `objectId`.
  async waitFor(type, objectId, { count = 1, timeoutMs = 10_000 } = {}) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.requests.filter((d) => d.isEvent(type, objectId));
      if (found.length >= count) return found.slice(0, count);
      const remaining = deadline - Date.now();
      if (remaining <= 0) {
        throw new CheckFailed(
          `${count} delivery(ies) of ${type} for ${objectId} expected within ` +
            `${timeoutMs / 1000} s, got ${found.length} (${this.requests.length} request(s) in ` +
            `all: ${JSON.stringify(this.requests.map((d) => d.event?.type))})`,
        );
      }
      await new Promise((resolve) => {
        const wake = () => {
          clearTimeout(timer);
          this.waiters.delete(wake);
          resolve();
        };
        const timer = setTimeout(wake, remaining);
        this.waiters.add(wake);
      });
    }
  }

  async close() {
    this.server.closeAllConnections?.();
    await new Promise((resolve) => this.server.close(() => resolve()));
  }
}

// An endpoint on a local receiver for customer.created and checkout.session.expired, and one
// delivery of each: a customer created and a session expired through the SDK.
async function setUpWebhookFixture() {
  const receiver = await new Receiver().start();
  const endpoint = await S.stripe.webhookEndpoints.create({
    url: receiver.url,
    enabled_events: ["customer.created", "checkout.session.expired"],
    description: "SDK signature checks",
  });
  const secret = endpoint.secret;
  expect(
    typeof secret === "string" && secret.startsWith("whsec_"),
    `endpoint secret ${JSON.stringify(secret)} should start with whsec_`,
  );
  const customer = await S.stripe.customers.create({
    name: "Webhook Customer",
    email: "webhooks@shop.example",
  });
  const session = await S.stripe.checkout.sessions.create({
    mode: "payment",
    line_items: [
      {
        price_data: { currency: "usd", unit_amount: 900, product_data: { name: "Webhook item" } },
        quantity: 1,
      },
    ],
    success_url: "https://shop.example/ok",
  });
  track(session.id);
  await S.stripe.checkout.sessions.expire(session.id);
  const [customerCreated] = await receiver.waitFor("customer.created", customer.id);
  const [sessionExpired] = await receiver.waitFor("checkout.session.expired", session.id);
  return {
    receiver,
    endpoint,
    secret,
    customer,
    session,
    customerCreated,
    sessionExpired,
    // [delivery, type, object id] for both events.
    deliveries: [
      [customerCreated, "customer.created", customer.id],
      [sessionExpired, "checkout.session.expired", session.id],
    ],
  };
}

// The shared fixture, set up by the first check that needs it.
async function webhookFixture() {
  if (!S.webhooks) {
    S.webhooks = setUpWebhookFixture().catch((e) => ({
      error: e instanceof CheckFailed ? e.message : `${e?.constructor?.name}: ${e?.message}`,
    }));
  }
  const fx = await S.webhooks;
  if (fx.error) throw new CheckFailed(`setting up the webhook deliveries failed: ${fx.error}`);
  return fx;
}

// The recorded attempts to deliver `eventId` to `endpointId`, oldest first.
async function attemptsOf(endpointId, eventId) {
  const p = `/v1/webhook_endpoints/${endpointId}/attempts?event=${eventId}&limit=100`;
  const res = await fetch(S.server.base + p, {
    headers: { Authorization: `Bearer ${S.server.key}` },
  });
  const text = await res.text();
  expect(res.status === 200, `GET ${p}: HTTP ${res.status}: ${text.slice(0, 300)}`);
  const page = JSON.parse(text);
  eq(page.object, "list", "attempts object");
  return (page.data || []).filter((a) => a.event === eventId).reverse();
}

async function waitForAttempts(endpointId, eventId, pred, what, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = await attemptsOf(endpointId, eventId);
    if (pred(found)) return found;
    if (Date.now() > deadline) {
      throw new CheckFailed(
        `${what} within ${timeoutMs / 1000} s; attempts: ${JSON.stringify(found)}`,
      );
    }
    await sleep(200);
  }
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
  webhooks: null, // promise of the webhook fixture: an endpoint on a receiver, two deliveries
  receivers: [], // every local webhook receiver, closed at the end
  clock: null, // test clock frozen at JAN_31_2027
  clockSubscription: null, // subscription of a customer on `clock`
};

const SUCCESS_URL = "https://shop.example/success?session_id={CHECKOUT_SESSION_ID}";
const RETURN_URL = "https://shop.example/account";
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

async function checkWebhooksEndpointCrud() {
  const created = [];
  try {
    const ep = await S.stripe.webhookEndpoints.create({
      url: "https://shop.example/hooks/a",
      enabled_events: ["checkout.session.completed"],
      description: "Orders",
      metadata: { team: "fulfilment" },
    });
    created.push(ep.id);
    eq(ep.object, "webhook_endpoint", "object");
    expect(ep.id.startsWith("we_"), `id ${ep.id} should start with we_`);
    eq(ep.url, "https://shop.example/hooks/a", "url");
    eq(ep.enabled_events, ["checkout.session.completed"], "enabled_events");
    eq(ep.description, "Orders", "description");
    eqMap(ep.metadata, { team: "fulfilment" }, "metadata");
    eq(ep.status, "enabled", "status");
    eq(ep.livemode, false, "livemode");
    const secret = ep.secret;
    expect(
      typeof secret === "string" && secret.startsWith("whsec_"),
      `secret ${JSON.stringify(secret)} should start with whsec_`,
    );
    eq(Buffer.from(secret.slice("whsec_".length), "base64").length, 32, "secret bytes");

    const got = await S.stripe.webhookEndpoints.retrieve(ep.id);
    eq(got.id, ep.id, "id");
    eq(got.url, ep.url, "url");
    expect(!("secret" in got), "retrieve must not show the secret");

    const upd = await S.stripe.webhookEndpoints.update(ep.id, {
      description: "Orders and expiries",
      enabled_events: ["checkout.session.completed", "checkout.session.expired"],
    });
    eq(upd.description, "Orders and expiries", "description after update");
    eq(upd.enabled_events, ["checkout.session.completed", "checkout.session.expired"],
      "enabled_events after update");
    expect(!("secret" in upd), "update must not show the secret");
    const again = await S.stripe.webhookEndpoints.retrieve(ep.id);
    eq(again.description, "Orders and expiries", "description after retrieve");
    eq(again.enabled_events, ["checkout.session.completed", "checkout.session.expired"],
      "enabled_events after retrieve");
    eqMap(again.metadata, { team: "fulfilment" }, "metadata after update");

    for (let i = 0; i < 4; i++) {
      const more = await S.stripe.webhookEndpoints.create({
        url: `https://shop.example/hooks/${i}`,
        enabled_events: ["*"],
      });
      created.push(more.id);
    }
    const first = await S.stripe.webhookEndpoints.list({ limit: 2 });
    eq(first.object, "list", "object");
    eq(first.url, "/v1/webhook_endpoints", "url");
    eq(first.data.length, 2, "first page size");
    eq(first.has_more, true, "has_more on the first page");
    for (const x of first.data) expect(!("secret" in x), "list must not show secrets");
    const seen = [];
    for await (const x of S.stripe.webhookEndpoints.list({ limit: 2 })) seen.push(x.id);
    const dupes = [...new Set(seen.filter((id, i) => seen.indexOf(id) !== i))];
    expect(dupes.length === 0, `ids seen more than once: ${dupes.join(", ")}`);
    eq(seen.filter((id) => created.includes(id)), [...created].reverse(),
      "endpoints through for await (newest first)");

    const deleted = await S.stripe.webhookEndpoints.del(ep.id);
    eq(deleted.id, ep.id, "id of the deleted endpoint");
    eq(deleted.deleted, true, "deleted");
    created.splice(created.indexOf(ep.id), 1);
    await expectError(
      () => S.stripe.webhookEndpoints.retrieve(ep.id),
      Stripe.errors.StripeInvalidRequestError,
      404,
      { code: "resource_missing" },
    );
    const listed = await S.stripe.webhookEndpoints.list({ limit: 100 }).autoPagingToArray({
      limit: 1000,
    });
    expect(!listed.some((x) => x.id === ep.id), "deleted endpoint still listed");
  } finally {
    for (const id of created) {
      await S.stripe.webhookEndpoints.del(id).catch(() => {});
    }
  }
}

async function checkWebhooksSignatureStripe() {
  const fx = await webhookFixture();
  for (const [d, type, objectId] of fx.deliveries) {
    const sig = d.headers["stripe-signature"];
    expect(
      typeof sig === "string" && /^t=\d+,v1=[0-9a-f]{64}/.test(sig),
      `${type}: Stripe-Signature header ${JSON.stringify(sig)}`,
    );
    const contentType = (d.headers["content-type"] || "").split(";")[0];
    eq(contentType, "application/json", `${type}: Content-Type`);
    const event = S.stripe.webhooks.constructEvent(d.body, sig, fx.secret);
    eq(event.object, "event", `${type}: object`);
    expect(event.id.startsWith("evt_"), `event id ${event.id} should start with evt_`);
    eq(event.type, type, "type");
    eq(event.data.object.id, objectId, `${type}: data.object.id`);
    eq(event.livemode, false, `${type}: livemode`);
    // The body as text verifies as well.
    S.stripe.webhooks.constructEvent(d.body.toString("utf8"), sig, fx.secret);
    expectThrows(
      () => S.stripe.webhooks.constructEvent(d.body, sig, randomSecret()),
      Stripe.errors.StripeSignatureVerificationError,
      `${type}: verifying with another secret`,
    );
    expectThrows(
      () => S.stripe.webhooks.constructEvent(d.body.toString("utf8") + " ", sig, fx.secret),
      Stripe.errors.StripeSignatureVerificationError,
      `${type}: verifying an altered body`,
    );
  }
  eq(fx.sessionExpired.event.data.object.status, "expired",
    "checkout.session.expired: data.object.status");
}

async function checkWebhooksSignatureStandard() {
  const fx = await webhookFixture();
  const wh = new Webhook(fx.secret);
  for (const [d, type, objectId] of fx.deliveries) {
    for (const name of ["webhook-id", "webhook-timestamp", "webhook-signature"]) {
      expect(d.headers[name], `${type}: header ${name} missing`);
    }
    const payload = wh.verify(d.body, d.headers);
    eq(payload.type, type, "type");
    eq(payload.data.object.id, objectId, `${type}: data.object.id`);
    const fromText = wh.verify(d.body.toString("utf8"), d.headers);
    eq(fromText.id, payload.id, `${type}: id when verifying text`);
    expectThrows(
      () => new Webhook(randomSecret()).verify(d.body, d.headers),
      WebhookVerificationError,
      `${type}: verifying with another secret`,
    );
    expectThrows(
      () => wh.verify(d.body.toString("utf8") + " ", d.headers),
      WebhookVerificationError,
      `${type}: verifying an altered body`,
    );
  }
}

async function checkWebhooksEventsApi() {
  const fx = await webhookFixture();
  const delivered = {};
  for (const [d, type, objectId] of fx.deliveries) {
    const eventId = d.event.id;
    delivered[eventId] = type;
    const listed = await S.stripe.events.list({ type, limit: 100 });
    eq(listed.object, "list", "object");
    eq(listed.url, "/v1/events", "url");
    const ids = [];
    for await (const e of S.stripe.events.list({ type, limit: 100 })) ids.push(e.id);
    expect(ids.includes(eventId),
      `events.list({type: ${type}}) lacks the delivered ${eventId}: ${JSON.stringify(ids)}`);
    for (const e of listed.data) {
      eq(e.type, type, `type of ${e.id} in events.list({type: ${type}})`);
    }
    const got = await S.stripe.events.retrieve(eventId);
    eq(got.object, "event", "object");
    eq(got.id, eventId, "id");
    eq(got.type, type, "type");
    eq(got.data.object.id, objectId, "data.object.id");
    eq(got.created, d.event.created, "created");
    const res = await fetch(`${S.server.base}/v1/events/${eventId}`, {
      headers: { Authorization: `Bearer ${S.server.key}` },
    });
    eq(res.status, 200, `GET /v1/events/${eventId} status`);
    const raw = Buffer.from(await res.arrayBuffer());
    expect(
      raw.equals(d.body),
      `GET /v1/events/${eventId} differs from the delivered body: ` +
        firstDifference(raw, d.body),
    );
  }
  const types = ["customer.created", "checkout.session.expired"];
  const seen = {};
  for await (const e of S.stripe.events.list({ types, limit: 100 })) seen[e.id] = e.type;
  for (const [eventId, type] of Object.entries(delivered)) {
    eq(seen[eventId], type, `${eventId} in events.list({types: [...]})`);
  }
  const others = [...new Set(Object.values(seen))].filter((t) => !types.includes(t)).sort();
  eq(others, [], "other types in events.list({types: [...]})");
}

async function checkWebhooksReplayAfter500() {
  const receiver = await new Receiver([500]).start();
  const ep = await S.stripe.webhookEndpoints.create({
    url: receiver.url,
    enabled_events: ["customer.created"],
    description: "fails once",
  });
  try {
    const customer = await S.stripe.customers.create({ name: "Retry Customer" });
    const [first] = await receiver.waitFor("customer.created", customer.id);
    eq(first.status, 500, "answer to the first delivery");
    const eventId = first.event.id;
    let attempts = await waitForAttempts(ep.id, eventId, (a) => a.length >= 1,
      "the failed attempt recorded");
    eq(attempts.length, 1, "attempts before the resend");
    eq(attempts[0].status_code, 500, "status_code of the first attempt");
    eq(attempts[0].succeeded, false, "succeeded of the first attempt");
    eq(attempts[0].endpoint, ep.id, "endpoint of the first attempt");

    const resend = await postForm(`/v1/events/${eventId}/resend`, { endpoint: ep.id });
    expect(resend.status === 200,
      `POST /v1/events/${eventId}/resend: HTTP ${resend.status}: ${resend.text.slice(0, 300)}`);
    const second = (await receiver.waitFor("customer.created", customer.id, { count: 2 }))[1];
    eq(second.status, 200, "answer to the resend");
    expect(second.body.equals(first.body),
      `resent body differs: ${firstDifference(second.body, first.body)}`);
    const event = S.stripe.webhooks.constructEvent(
      second.body, second.headers["stripe-signature"], ep.secret);
    eq(event.id, eventId, "id of the resent event");
    eq(event.type, "customer.created", "type of the resent event");
    eq(event.data.object.id, customer.id, "data.object.id of the resent event");
    const payload = new Webhook(ep.secret).verify(second.body, second.headers);
    eq(payload.id, eventId, "id of the resent event (Standard Webhooks)");
    // Standard Webhooks: the same message keeps its webhook-id when it is sent again.
    eq(second.headers["webhook-id"], first.headers["webhook-id"], "webhook-id of the resend");
    attempts = await waitForAttempts(ep.id, eventId, (a) => a.some((x) => x.succeeded),
      "a succeeded attempt recorded after the resend");
    eq(attempts.find((x) => x.succeeded).status_code, 200, "status_code of the resent attempt");
  } finally {
    await S.stripe.webhookEndpoints.del(ep.id).catch(() => {});
  }
}

// A checkout completed without a browser, through the test helper and stripe-node's
// rawRequest: the session is paid, and its webhook arrives and verifies.
async function checkTestHelperPay() {
  const receiver = await new Receiver().start();
  const ep = await S.stripe.webhookEndpoints.create({
    url: receiver.url,
    enabled_events: ["checkout.session.completed"],
    description: "test helper payments",
  });
  try {
    const price = need(S.price, "price");
    const session = await S.stripe.checkout.sessions.create({
      mode: "payment",
      line_items: [{ price: price.id, quantity: 1 }],
      success_url: SUCCESS_URL,
    });
    track(session.id);
    const paid = await S.stripe.rawRequest(
      "POST",
      `/v1/test_helpers/checkout/sessions/${session.id}/pay`,
      { card: "4242 4242 4242 4242", email: "ada@example.com" },
    );
    eq(paid.object, "checkout.session", "object of the answer");
    eq(paid.id, session.id, "id of the answer");
    eq([paid.status, paid.payment_status], ["complete", "paid"], "status of the answer");
    const got = await S.stripe.checkout.sessions.retrieve(session.id);
    eq([got.status, got.payment_status], ["complete", "paid"], "status of the session");
    eq(got.customer_details?.email, "ada@example.com", "customer_details.email");
    const [d] = await receiver.waitFor("checkout.session.completed", session.id);
    const event = S.stripe.webhooks.constructEvent(d.body, d.headers["stripe-signature"], ep.secret);
    eq(event.type, "checkout.session.completed", "event type");
    eq(event.data.object.payment_status, "paid", "data.object.payment_status");
    eq(new Webhook(ep.secret).verify(d.body, d.headers).id, event.id, "Standard Webhooks id");
  } finally {
    await S.stripe.webhookEndpoints.del(ep.id).catch(() => {});
  }
}

// A declined test card: stripe-node's StripeCardError with the decline code, and the session
// still open for another card.
async function checkTestHelperDecline() {
  const price = need(S.price, "price");
  const session = await S.stripe.checkout.sessions.create({
    mode: "payment",
    line_items: [{ price: price.id, quantity: 1 }],
    success_url: SUCCESS_URL,
  });
  track(session.id);
  const pay = (card) =>
    S.stripe.rawRequest("POST", `/v1/test_helpers/checkout/sessions/${session.id}/pay`, { card });
  const err = await expectError(() => pay("4000000000009995"), Stripe.errors.StripeCardError, 402, {
    code: "card_declined",
    type: "card_error",
  });
  eq(err.decline_code, "insufficient_funds", "decline_code");
  eq(err.payment_intent?.status, "requires_payment_method", "payment_intent.status");
  eq((await S.stripe.checkout.sessions.retrieve(session.id)).status, "open", "status after");
  const paid = await pay("4242424242424242");
  eq(paid.payment_status, "paid", "payment_status after another card");

  // Each attempt left a charge: the declined one named by the error, then the payment.
  const failed = await S.stripe.charges.retrieve(err.charge);
  eq([failed.status, failed.paid, failed.failure_code], ["failed", false, "card_declined"],
    "the declined charge");
  eq(failed.outcome?.reason, "insufficient_funds", "outcome.reason");
  const statuses = [];
  for await (const charge of S.stripe.charges.list({ payment_intent: paid.payment_intent })) {
    statuses.push(charge.status);
  }
  eq(statuses, ["succeeded", "failed"], "the PaymentIntent's charges, newest first");
  const intent = await S.stripe.paymentIntents.retrieve(paid.payment_intent, {
    expand: ["latest_charge"],
  });
  eq(intent.latest_charge?.object, "charge", "latest_charge expanded");
  eq(intent.latest_charge?.amount_captured, intent.amount, "amount_captured");
}

// Stripe's test id pm_card_visa attached to a customer makes a new PaymentMethod, which the
// customer's list and paymentMethods.list show.
async function checkPaymentMethodsAttachList() {
  const customer = await S.stripe.customers.create({ email: "ada@example.com" });
  const pm = await S.stripe.paymentMethods.attach("pm_card_visa", { customer: customer.id });
  expect(pm.id.startsWith("pm_") && pm.id !== "pm_card_visa", `a new method, got ${pm.id}`);
  eq([pm.object, pm.type, pm.customer, pm.card?.brand, pm.card?.last4],
    ["payment_method", "card", customer.id, "visa", "4242"], "the attached method");
  const ids = [];
  for await (const method of S.stripe.customers.listPaymentMethods(customer.id, { type: "card" })) {
    ids.push(method.id);
  }
  eq(ids, [pm.id], "the customer's methods");
  const listed = await S.stripe.paymentMethods.list({ customer: customer.id, type: "card" });
  eq(listed.data.map((method) => method.id), [pm.id], "paymentMethods.list");
}

// A subscription started by a paid checkout, read and changed through stripe-node's own
// resources: subscriptions.list({status: "all", customer}) auto-paging, retrieve with expand,
// update (cancel at period end and undo), invoices.retrieve, and cancel.
async function checkSubscriptionLifecycle() {
  const price = await S.stripe.prices.create({
    currency: "eur",
    unit_amount: 900,
    recurring: { interval: "month" },
    product_data: { name: "SDK plan" },
  });
  const session = await S.stripe.checkout.sessions.create({
    mode: "subscription",
    line_items: [{ price: price.id, quantity: 2 }],
    subscription_data: { metadata: { source: "sdk" } },
    success_url: SUCCESS_URL,
  });
  track(session.id);
  const paid = await S.stripe.rawRequest(
    "POST",
    `/v1/test_helpers/checkout/sessions/${session.id}/pay`,
    { card: "4242424242424242" },
  );
  const subId = need(paid.subscription, "session.subscription");
  const ids = [];
  for await (const sub of S.stripe.subscriptions.list({ status: "all", customer: paid.customer, limit: 1 })) {
    ids.push(sub.id);
  }
  eq(ids, [subId], "the customer's subscriptions");
  const sub = await S.stripe.subscriptions.retrieve(subId, { expand: ["latest_invoice"] });
  eq([sub.status, sub.metadata.source], ["active", "sdk"], "status and metadata");
  eq(sub.items.data[0].price.id, price.id, "items.data[0].price");
  eq(sub.items.data[0].plan.amount_decimal, "900", "plan.amount_decimal");
  eq([sub.latest_invoice.status, sub.latest_invoice.amount_paid], ["paid", 1800], "first invoice");
  const later = await S.stripe.subscriptions.update(subId, { cancel_at_period_end: true });
  eq([later.cancel_at_period_end, later.cancel_at], [true, sub.current_period_end], "cancel at period end");
  const undone = await S.stripe.subscriptions.update(subId, { cancel_at_period_end: false });
  eq(undone.cancel_at, null, "undone");
  const invoice = await S.stripe.invoices.retrieve(sub.latest_invoice.id);
  eq(invoice.lines.data.map((l) => l.amount), [1800], "invoice lines");
  const canceled = await S.stripe.subscriptions.cancel(subId);
  eq(canceled.status, "canceled", "status after cancel");
  eq((await S.stripe.subscriptions.list({ customer: paid.customer })).data, [], "canceled ones hidden");
}

// A customer portal session through stripe-node's billingPortal.sessions.create: Stripe's
// object with the account's default configuration, and a url that opens the portal page; an
// unknown customer raises StripeInvalidRequestError naming it.
async function checkBillingPortalSession() {
  const customer = await S.stripe.customers.create({ email: "ada@example.com", name: "Ada" });
  const session = await S.stripe.billingPortal.sessions.create({
    customer: customer.id,
    return_url: RETURN_URL,
  });
  eq([session.object, session.customer, session.return_url, session.livemode],
    ["billing_portal.session", customer.id, RETURN_URL, false], "the session");
  expect(session.id.startsWith("bps_"), `a bps_ id, got ${session.id}`);
  expect(session.configuration.startsWith("bpc_"), `the default configuration, got ${session.configuration}`);
  const again = await S.stripe.billingPortal.sessions.create({
    customer: customer.id,
    return_url: RETURN_URL,
  });
  eq(again.configuration, session.configuration, "one default configuration");
  expect(session.url.startsWith(`${S.server.base}/portal/`), `url ${session.url} should open the portal`);
  const page = await fetch(session.url);
  eq(page.status, 200, "GET the portal page");
  expect((await page.text()).includes("Your billing"), "the portal page");
  await expectError(
    () => S.stripe.billingPortal.sessions.create({ customer: "cus_nope", return_url: RETURN_URL }),
    Stripe.errors.StripeInvalidRequestError,
    400,
    { code: "resource_missing", param: "customer" },
  );
}

// ------------------------------------------------------------------------------------------
// Test clocks

const HOUR = 3600;
const DAY = 86_400;

// Midnight UTC of a date, in unix seconds.
const utc = (year, month, day) => Date.UTC(year, month - 1, day) / 1000;

const JAN_31_2027 = utc(2027, 1, 31); // 1801353600: a monthly period anchored on the 31st

// A customer created on `clock`, subscribed to 2 × €9.00 a month by a subscription-mode
// checkout naming it, paid with the test helper; the subscription.
async function subscribeOnClock(clock, email) {
  const customer = await S.stripe.customers.create({ email, test_clock: clock.id });
  eq(customer.test_clock, clock.id, "customer.test_clock");
  const price = await S.stripe.prices.create({
    currency: "eur",
    unit_amount: 900,
    recurring: { interval: "month" },
    product_data: { name: "SDK clock plan" },
  });
  const session = await S.stripe.checkout.sessions.create({
    mode: "subscription",
    customer: customer.id,
    line_items: [{ price: price.id, quantity: 2 }],
    success_url: SUCCESS_URL,
  });
  track(session.id);
  const paid = await S.stripe.rawRequest(
    "POST",
    `/v1/test_helpers/checkout/sessions/${session.id}/pay`,
    { card: "4242424242424242" },
  );
  eq(paid.customer, customer.id, "session.customer");
  const sub = await S.stripe.subscriptions.retrieve(
    need(paid.subscription, "session.subscription"),
  );
  eq([sub.status, sub.test_clock, sub.customer], ["active", clock.id, customer.id],
    "the subscription on the clock");
  eq(sub.current_period_start, clock.frozen_time, "current_period_start: the clock's time");
  return sub;
}

// Advances the clock to `to`, then polls it until the server's clock worker has run every step
// due and made it ready.
async function advanceClock(clockId, to, { polls = 300, everyMs = 100 } = {}) {
  const clocks = S.stripe.testHelpers.testClocks;
  const advancing = await clocks.advance(clockId, { frozen_time: to });
  eq(advancing.status, "advancing", "status of the advance's answer");
  eq(advancing.status_details?.advancing?.target_frozen_time, to,
    "status_details.advancing.target_frozen_time");
  for (let i = 0; i < polls; i++) {
    const clock = await clocks.retrieve(clockId);
    if (clock.status === "ready") {
      eq(clock.frozen_time, to, "frozen_time once ready");
      return clock;
    }
    eq(clock.status, "advancing", `status of ${clockId} while it advances`);
    await sleep(everyMs);
  }
  throw new CheckFailed(
    `test clock ${clockId} still advancing to ${to} after ${polls} polls over ` +
      `${(polls * everyMs) / 1000} s`,
  );
}

const deleteClockQuietly = (id) => S.stripe.testHelpers.testClocks.del(id).catch(() => {});

// Test clocks through stripe-node's stripe.testHelpers.testClocks: create, retrieve, and list
// with auto-paging, newest first.
async function checkTestClocksCreateRetrieveList() {
  const clocks = S.stripe.testHelpers.testClocks;
  const clock = await clocks.create({ frozen_time: JAN_31_2027, name: "SDK renewals" });
  S.clock = clock;
  eq(clock.object, "test_helpers.test_clock", "object");
  expect(clock.id.startsWith("clock_"), `id ${clock.id} should start with clock_`);
  eq([clock.frozen_time, clock.name, clock.status, clock.livemode],
    [JAN_31_2027, "SDK renewals", "ready", false], "the new clock");
  eq(clock.deletes_after - clock.created, 30 * DAY, "deletes_after, 30 days after created");
  eq(await clocks.retrieve(clock.id), clock, "the retrieved clock");
  const spares = [];
  try {
    for (const i of [1, 2]) {
      const spare = await clocks.create({
        frozen_time: JAN_31_2027 + i * DAY,
        name: `SDK spare ${i}`,
      });
      spares.push(spare.id);
    }
    const first = await clocks.list({ limit: 2 });
    eq([first.object, first.url], ["list", "/v1/test_helpers/test_clocks"], "object and url");
    eq([first.data.length, first.has_more], [2, true], "first page (size, has_more)");
    expect(first.data.every((c) => c.object === "test_helpers.test_clock"),
      `listed objects: ${JSON.stringify(first.data.map((c) => c.object))}`);
    const seen = [];
    for await (const c of clocks.list({ limit: 2 })) seen.push(c.id);
    const dupes = [...new Set(seen.filter((id, i) => seen.indexOf(id) !== i))];
    eq(dupes, [], "ids seen more than once");
    const mine = [clock.id, ...spares];
    eq(seen.filter((id) => mine.includes(id)), [...mine].reverse(),
      "clocks through auto-pagination (newest first)");
  } finally {
    for (const id of spares) await deleteClockQuietly(id);
  }
}

// A customer on the clock subscribed through a checkout; advancing the clock three months and
// two hours runs three renewals on calendar months (Feb 28, Mar 31, Apr 30), each invoiced and
// paid. Lists leave the clock's subscription out unless asked for it.
async function checkTestClocksAdvanceRenewals() {
  const clock = need(S.clock, "test clock");
  const sub = await subscribeOnClock(clock, "renewals@shop.example");
  S.clockSubscription = sub;
  eq(sub.current_period_end, utc(2027, 2, 28), "current_period_end (a month from the 31st)");
  await advanceClock(clock.id, utc(2027, 4, 30) + 2 * HOUR);
  const renewed = await S.stripe.subscriptions.retrieve(sub.id);
  eq(renewed.status, "active", "status after the renewals");
  eq([renewed.current_period_start, renewed.current_period_end],
    [utc(2027, 4, 30), utc(2027, 5, 31)], "current period after three renewals");
  eq(renewed.items.data[0].current_period_start, utc(2027, 4, 30),
    "items.data[0].current_period_start");
  const invoices = [];
  for await (const invoice of S.stripe.invoices.list({
    customer: sub.customer,
    subscription: sub.id,
    limit: 2,
  })) {
    invoices.push(invoice);
  }
  eq(invoices.map((i) => i.billing_reason),
    ["subscription_cycle", "subscription_cycle", "subscription_cycle", "subscription_create"],
    "billing_reason of the subscription's invoices, newest first");
  eq(invoices.map((i) => [i.status, i.amount_paid]), Array(4).fill(["paid", 1800]),
    "status and amount_paid of each invoice");
  eq(invoices.slice(0, 3).map((i) => [i.lines.data[0].period.start, i.lines.data[0].period.end]),
    [
      [utc(2027, 4, 30), utc(2027, 5, 31)],
      [utc(2027, 3, 31), utc(2027, 4, 30)],
      [utc(2027, 2, 28), utc(2027, 3, 31)],
    ],
    "the renewals' periods");
  eq(renewed.latest_invoice, invoices[0].id, "latest_invoice");
  const everyone = [];
  for await (const s of S.stripe.subscriptions.list({ status: "all", limit: 100 })) {
    everyone.push(s.id);
  }
  expect(!everyone.includes(sub.id),
    `subscriptions.list() without customer or test_clock lists ${sub.id}`);
  const onClock = [];
  for await (const s of S.stripe.subscriptions.list({ test_clock: clock.id })) onClock.push(s.id);
  eq(onClock, [sub.id], "subscriptions.list({test_clock})");
}

// Deleting the clock answers deleted: true, and deletes its customer, which ends the
// subscription.
async function checkTestClocksDelete() {
  const clocks = S.stripe.testHelpers.testClocks;
  const clock = need(S.clock, "test clock");
  const sub = need(S.clockSubscription, "subscription on the clock");
  const deleted = await clocks.del(clock.id);
  eq([deleted.id, deleted.object, deleted.deleted], [clock.id, "test_helpers.test_clock", true],
    "the deleted clock");
  await expectError(() => clocks.retrieve(clock.id), Stripe.errors.StripeInvalidRequestError, 404, {
    code: "resource_missing",
  });
  const ended = await S.stripe.subscriptions.retrieve(sub.id);
  eq(ended.status, "canceled", "the clock's subscription");
  const customer = await S.stripe.customers.retrieve(sub.customer);
  eq(customer.deleted, true, "the clock's customer deleted");
}

// A renewal declined on a test clock (pm_card_chargeCustomerFail attached with
// paymentMethods.attach and made the default with subscriptions.update): the subscription is
// past_due and its invoice open after one attempt; invoices.pay rejects with StripeCardError
// while the card declines, and pays the invoice once pm_card_visa is the default.
async function checkSubscriptionDunningInvoicePay() {
  const clock = await S.stripe.testHelpers.testClocks.create({
    frozen_time: JAN_31_2027,
    name: "SDK dunning",
  });
  try {
    const sub = await subscribeOnClock(clock, "dunning@shop.example");
    const failing = await S.stripe.paymentMethods.attach("pm_card_chargeCustomerFail", {
      customer: sub.customer,
    });
    eq(failing.customer, sub.customer, "customer of the attached method");
    const changed = await S.stripe.subscriptions.update(sub.id, {
      default_payment_method: failing.id,
    });
    eq(changed.default_payment_method, failing.id, "default_payment_method");
    const renewal = sub.current_period_end;
    await advanceClock(clock.id, renewal + 2 * HOUR);
    const due = await S.stripe.subscriptions.retrieve(sub.id, { expand: ["latest_invoice"] });
    eq(due.status, "past_due", "status after the declined renewal");
    const invoice = due.latest_invoice;
    eq(invoice?.object, "invoice", "latest_invoice expanded");
    eq([invoice.billing_reason, invoice.status, invoice.attempt_count, invoice.amount_paid],
      ["subscription_cycle", "open", 1, 0], "the renewal invoice after the decline");
    eq(invoice.next_payment_attempt, renewal + HOUR + DAY,
      "next_payment_attempt (a day after the failure)");

    const err = await expectError(() => S.stripe.invoices.pay(invoice.id),
      Stripe.errors.StripeCardError, 402, { code: "card_declined", type: "card_error" });
    const declined = await S.stripe.charges.retrieve(need(err.charge, "error.charge"));
    eq([declined.status, declined.customer, declined.payment_method],
      ["failed", sub.customer, failing.id], "the declined charge");
    const still = await S.stripe.invoices.retrieve(invoice.id);
    eq(still.status, "open", "status after the declined pay");

    const visa = await S.stripe.paymentMethods.attach("pm_card_visa", { customer: sub.customer });
    await S.stripe.subscriptions.update(sub.id, { default_payment_method: visa.id });
    const paid = await S.stripe.invoices.pay(invoice.id);
    eq([paid.object, paid.id, paid.status, paid.amount_paid, paid.amount_remaining],
      ["invoice", invoice.id, "paid", 1800, 0], "the paid invoice");
    const active = await S.stripe.subscriptions.retrieve(sub.id);
    eq(active.status, "active", "status after invoices.pay");
  } finally {
    await deleteClockQuietly(clock.id);
  }
}

// A renewal run by a test clock reaches a local receiver as invoice.paid, signed: stripe-node's
// webhooks.constructEvent verifies it with the endpoint's secret, and its data.object is the
// renewal invoice. test_helpers.test_clock.ready follows the advance.
async function checkWebhooksInvoicePaidRenewal() {
  const receiver = await new Receiver().start();
  const ep = await S.stripe.webhookEndpoints.create({
    url: receiver.url,
    enabled_events: ["invoice.paid", "test_helpers.test_clock.ready"],
    description: "renewals",
  });
  const clock = await S.stripe.testHelpers.testClocks.create({
    frozen_time: JAN_31_2027,
    name: "SDK webhooks",
  });
  try {
    const sub = await subscribeOnClock(clock, "hooks@shop.example");
    const to = sub.current_period_end + 2 * HOUR;
    await advanceClock(clock.id, to);
    const renewal = (await S.stripe.subscriptions.retrieve(sub.id)).latest_invoice;
    expect(renewal !== sub.latest_invoice,
      `no renewal invoice: latest_invoice is still ${renewal}`);

    const [d] = await receiver.waitFor("invoice.paid", renewal);
    const sig = d.headers["stripe-signature"];
    const event = S.stripe.webhooks.constructEvent(d.body, sig, ep.secret);
    eq([event.object, event.type], ["event", "invoice.paid"], "object and type");
    const invoice = event.data.object;
    eq([invoice.object, invoice.id, invoice.billing_reason, invoice.status, invoice.amount_paid],
      ["invoice", renewal, "subscription_cycle", "paid", 1800], "data.object");
    eq([invoice.customer, invoice.parent?.subscription_details?.subscription],
      [sub.customer, sub.id], "data.object customer and subscription");
    eq(invoice.lines.data[0].period.start, sub.current_period_end,
      "data.object.lines.data[0].period.start");
    expectThrows(() => S.stripe.webhooks.constructEvent(d.body, sig, randomSecret()),
      Stripe.errors.StripeSignatureVerificationError, "invoice.paid with another secret");

    const [first] = await receiver.waitFor("invoice.paid", sub.latest_invoice);
    const firstEvent = S.stripe.webhooks.constructEvent(
      first.body, first.headers["stripe-signature"], ep.secret);
    eq(firstEvent.data.object.billing_reason, "subscription_create",
      "billing_reason of the checkout's invoice.paid");
    const [ready] = await receiver.waitFor("test_helpers.test_clock.ready", clock.id);
    const readyEvent = S.stripe.webhooks.constructEvent(
      ready.body, ready.headers["stripe-signature"], ep.secret);
    eq([readyEvent.data.object.status, readyEvent.data.object.frozen_time], ["ready", to],
      "test_helpers.test_clock.ready data.object");
  } finally {
    await deleteClockQuietly(clock.id);
    await S.stripe.webhookEndpoints.del(ep.id).catch(() => {});
  }
}

// A partial refunds.create, then the rest: the charge's amount_refunded and refunded, its
// refunds expanded and listed, refunds.update's metadata, the receipt page showing both, and
// Stripe's charge_already_refunded after.
async function checkRefundsPartialThenFull() {
  const price = need(S.price, "price");
  const session = await S.stripe.checkout.sessions.create({
    mode: "payment",
    line_items: [{ price: price.id, quantity: 1 }],
    success_url: SUCCESS_URL,
  });
  track(session.id);
  const paid = await S.stripe.rawRequest(
    "POST", `/v1/test_helpers/checkout/sessions/${session.id}/pay`,
    { card: "4242424242424242", email: "ada@example.com" });
  const intent = await S.stripe.paymentIntents.retrieve(paid.payment_intent);
  const first = await S.stripe.refunds.create({
    payment_intent: intent.id, amount: 100, reason: "requested_by_customer",
    metadata: { ticket: "7" },
  });
  eq([first.object, first.status, first.amount, first.charge],
    ["refund", "succeeded", 100, intent.latest_charge], "the first refund");
  let charge = await S.stripe.charges.retrieve(intent.latest_charge);
  eq([charge.amount_refunded, charge.refunded], [100, false], "after the first refund");
  const rest = await S.stripe.refunds.create({ charge: charge.id });
  eq(rest.amount, intent.amount - 100, "the second refund takes what is left");
  charge = await S.stripe.charges.retrieve(charge.id, { expand: ["refunds"] });
  eq([charge.amount_refunded, charge.refunded], [intent.amount, true], "after both");
  eq(charge.refunds.data.map((r) => r.id), [rest.id, first.id], "charge.refunds, newest first");
  const listed = [];
  for await (const refund of S.stripe.refunds.list({ charge: charge.id })) listed.push(refund.id);
  eq(listed, [rest.id, first.id], "refunds.list({charge})");
  const updated = await S.stripe.refunds.update(first.id, { metadata: { ticket: "8" } });
  eq(updated.metadata.ticket, "8", "refunds.update metadata");
  await expectError(() => S.stripe.refunds.create({ charge: charge.id }),
    Stripe.errors.StripeInvalidRequestError, 400, { code: "charge_already_refunded" });
  expect(charge.receipt_url.startsWith(`${S.server.base}/receipts/`),
    `receipt_url under kassa: ${charge.receipt_url}`);
  const html = await (await fetch(charge.receipt_url)).text();
  expect(html.includes("Receipt from") && html.split("Refunded on").length === 3,
    "the receipt shows both refunds");
}

// A refund's charge.refunded delivery, verified with stripe-node's webhook verifier.
async function checkWebhooksChargeRefunded() {
  const receiver = await new Receiver().start();
  const ep = await S.stripe.webhookEndpoints.create({
    url: receiver.url,
    enabled_events: ["charge.refunded"],
    description: "refunds",
  });
  try {
    const price = need(S.price, "price");
    const session = await S.stripe.checkout.sessions.create({
      mode: "payment",
      line_items: [{ price: price.id, quantity: 1 }],
      success_url: SUCCESS_URL,
    });
    track(session.id);
    const paid = await S.stripe.rawRequest(
      "POST", `/v1/test_helpers/checkout/sessions/${session.id}/pay`,
      { card: "4242424242424242" });
    const intent = await S.stripe.paymentIntents.retrieve(paid.payment_intent);
    await S.stripe.refunds.create({ payment_intent: intent.id, amount: 150 });
    const [d] = await receiver.waitFor("charge.refunded", intent.latest_charge);
    const event = S.stripe.webhooks.constructEvent(d.body, d.headers["stripe-signature"], ep.secret);
    eq(event.type, "charge.refunded", "event type");
    eq([event.data.object.object, event.data.object.amount_refunded, event.data.object.refunded],
      ["charge", 150, false], "the charge as refunded");
  } finally {
    await S.stripe.webhookEndpoints.del(ep.id).catch(() => {});
  }
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
  ["webhooks.endpoint_crud", checkWebhooksEndpointCrud],
  ["webhooks.signature_stripe", checkWebhooksSignatureStripe],
  ["webhooks.signature_standard", checkWebhooksSignatureStandard],
  ["webhooks.events_api", checkWebhooksEventsApi],
  ["webhooks.replay_after_500", checkWebhooksReplayAfter500],
  ["test_helpers.pay", checkTestHelperPay],
  ["test_helpers.pay.decline.charges", checkTestHelperDecline],
  ["subscriptions.lifecycle", checkSubscriptionLifecycle],
  ["payment_methods.attach.list", checkPaymentMethodsAttachList],
  ["billing_portal.session.create", checkBillingPortalSession],
  ["test_clocks.create.retrieve.list", checkTestClocksCreateRetrieveList],
  ["test_clocks.advance.renewals", checkTestClocksAdvanceRenewals],
  ["test_clocks.delete", checkTestClocksDelete],
  ["subscriptions.dunning.invoice_pay", checkSubscriptionDunningInvoicePay],
  ["webhooks.invoice_paid.renewal", checkWebhooksInvoicePaidRenewal],
  ["refunds.partial_then_full.receipt", checkRefundsPartialThenFull],
  ["webhooks.charge_refunded", checkWebhooksChargeRefunded],
];

async function main() {
  console.log(`stripe-node ${Stripe.PACKAGE_VERSION} (API version ${Stripe.API_VERSION}), ` +
    `standardwebhooks ${STANDARDWEBHOOKS_VERSION}, kassa ${KASSA_BIN}`);
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
    for (const receiver of S.receivers) await receiver.close();
    await server.stop();
  }
  console.log(`node: ${passed} passed, ${failed} failed`);
  return failed ? 1 : 0;
}

process.exitCode = await main();
