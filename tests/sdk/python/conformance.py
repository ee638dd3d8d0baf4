#!/usr/bin/env python3
"""Conformance checks: the official stripe-python SDK against a local kassa server.

Starts `kassa serve` on a fresh database, creates an account with `kassa account create`,
points stripe-python at the server and runs every check in CHECKS order. The webhook checks
receive kassa's deliveries on local HTTP receivers (127.0.0.1) and verify them with
stripe-python's own verifier and with the `standardwebhooks` package. Prints one line per
check (`ok`/`FAIL`), then a closing `python: N passed, N failed` line, and exits non-zero when
any check failed.

Environment:
  KASSA_BIN                 the kassa binary (default target/debug/kassa)
  KASSA_TEST_DATABASE_URL   database URL to use instead of a fresh SQLite file (must be empty)
  KASSA_SDK_VERBOSE=1       print tracebacks of failing checks
"""

import base64
import calendar
import http.server
import json
import os
import re
import subprocess
import sys
import threading
import time
import traceback
import urllib.error
import urllib.parse
import urllib.request
import uuid

import standardwebhooks
import stripe

from kassa_server import KASSA_BIN, Kassa  # beside this file

VERBOSE = os.environ.get("KASSA_SDK_VERBOSE") == "1"


# --------------------------------------------------------------------------------------------
# Small helpers


class CheckFailed(AssertionError):
    pass


def expect(cond, msg):
    if not cond:
        raise CheckFailed(msg)


def eq(actual, expected, what):
    if actual != expected:
        raise CheckFailed("%s: expected %r, got %r" % (what, expected, actual))


def need(value, what):
    """A value an earlier check should have produced."""
    if value is None:
        raise CheckFailed("prerequisite missing: %s (an earlier check failed)" % what)
    return value


def expect_error(fn, cls, status, code=None, param=None, type_=None):
    """Run fn, which must raise the SDK exception `cls` with the given HTTP status/code/param."""
    try:
        fn()
    except stripe.StripeError as e:
        err = getattr(e, "error", None)
        got_code = e.code or (err.code if err is not None else None)
        got_param = getattr(e, "param", None) or (err.param if err is not None else None)
        got_type = err.type if err is not None else None
        detail = "%s(http_status=%r, code=%r, param=%r, type=%r, message=%r)" % (
            type(e).__name__, e.http_status, got_code, got_param, got_type, e.user_message)
        expect(isinstance(e, cls), "expected %s, got %s" % (cls.__name__, detail))
        expect(e.http_status == status, "expected HTTP %s, got %s" % (status, detail))
        if code is not None:
            expect(got_code == code, "expected code %r, got %s" % (code, detail))
        if param is not None:
            expect(got_param == param, "expected param %r, got %s" % (param, detail))
        if type_ is not None:
            expect(got_type == type_, "expected type %r, got %s" % (type_, detail))
        return e
    raise CheckFailed("expected %s (HTTP %s), but the call succeeded" % (cls.__name__, status))


def http_get(url, key=None, follow=True):
    """Plain HTTP GET (no SDK). Returns (status, headers, body bytes)."""
    req = urllib.request.Request(url, method="GET")
    if key:
        req.add_header("Authorization", "Bearer " + key)

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    opener = urllib.request.build_opener() if follow else urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(req, timeout=30) as resp:
            return resp.status, resp.headers, resp.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


def v3_get(path):
    status, _, body = http_get(S.server.base + path, key=S.server.key)
    expect(status == 200, "GET %s: HTTP %s: %s" % (path, status, body[:300]))
    return json.loads(body)


def metadata_dict(obj):
    md = obj.metadata
    return md.to_dict() if hasattr(md, "to_dict") else dict(md or {})


def http_post_form(url, params, key):
    """Plain form-encoded HTTP POST (no SDK). Returns (status, body bytes)."""
    req = urllib.request.Request(url, method="POST",
                                 data=urllib.parse.urlencode(params).encode())
    req.add_header("Authorization", "Bearer " + key)
    req.add_header("Content-Type", "application/x-www-form-urlencoded")
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def random_secret():
    return "whsec_" + base64.b64encode(os.urandom(32)).decode()


def first_difference(a, b):
    """Where two byte strings part, for failure messages."""
    n = next((i for i, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))
    return "lengths %d/%d, first difference at byte %d: %r vs %r" % (
        len(a), len(b), n, a[max(0, n - 40):n + 40], b[max(0, n - 40):n + 40])


# --------------------------------------------------------------------------------------------
# A local webhook receiver


class Delivery:
    """One request a receiver got: lower-cased headers, the raw body and what it answered."""

    def __init__(self, headers, body, status):
        self.headers = headers
        self.body = body
        self.status = status
        try:
            self.event = json.loads(body)
        except ValueError:
            self.event = None

    def is_event(self, type_, object_id):
        e = self.event if isinstance(self.event, dict) else {}
        obj = (e.get("data") or {}).get("object") or {}
        return e.get("type") == type_ and obj.get("id") == object_id


class Receiver:
    """An HTTP server on 127.0.0.1 that records every POST. It answers `statuses` to the first
    requests, in order, then 200."""

    def __init__(self, statuses=()):
        self.requests = []
        self.statuses = list(statuses)
        self.cond = threading.Condition()
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                headers = {k.lower(): v for k, v in self.headers.items()}
                with receiver.cond:
                    status = receiver.statuses.pop(0) if receiver.statuses else 200
                    receiver.requests.append(Delivery(headers, body, status))
                    receiver.cond.notify_all()
                answer = b'{"received":true}' if status < 300 else b"receiver unavailable"
                self.send_response(status)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = "http://127.0.0.1:%d/webhooks" % self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        S.receivers.append(self)

    def wait_for(self, type_, object_id, count=1, timeout=10):
        """The first `count` deliveries of the event of `type_` about `object_id`."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                found = [d for d in self.requests if d.is_event(type_, object_id)]
                if len(found) >= count:
                    return found[:count]
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise CheckFailed(
                        "%d delivery(ies) of %s for %s expected within %d s, got %d (%d request(s)"
                        " in all: %s)" % (count, type_, object_id, timeout, len(found),
                                          len(self.requests),
                                          [(d.event or {}).get("type") for d in self.requests]))
                self.cond.wait(remaining)

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


class WebhookFixture:
    """An endpoint on a local receiver for customer.created and checkout.session.expired, and
    one delivery of each: a customer created and a session expired through the SDK."""

    def __init__(self):
        self.receiver = Receiver()
        self.endpoint = stripe.WebhookEndpoint.create(
            url=self.receiver.url,
            enabled_events=["customer.created", "checkout.session.expired"],
            description="SDK signature checks")
        self.secret = self.endpoint.secret
        expect(isinstance(self.secret, str) and self.secret.startswith("whsec_"),
               "endpoint secret %r should start with whsec_" % (self.secret,))
        self.customer = stripe.Customer.create(name="Webhook Customer",
                                               email="webhooks@shop.example")
        self.session = stripe.checkout.Session.create(
            mode="payment",
            line_items=[{"price_data": {"currency": "usd", "unit_amount": 900,
                                        "product_data": {"name": "Webhook item"}},
                         "quantity": 1}],
            success_url="https://shop.example/ok")
        track(self.session.id)
        stripe.checkout.Session.expire(self.session.id)
        self.customer_created = self.receiver.wait_for("customer.created", self.customer.id)[0]
        self.session_expired = self.receiver.wait_for("checkout.session.expired",
                                                      self.session.id)[0]

    def deliveries(self):
        """(delivery, type, object id) for both events."""
        return [(self.customer_created, "customer.created", self.customer.id),
                (self.session_expired, "checkout.session.expired", self.session.id)]


def webhook_fixture():
    """The shared WebhookFixture, set up by the first check that needs it."""
    if S.webhooks is None and S.webhooks_error is None:
        try:
            S.webhooks = WebhookFixture()
        except Exception as e:  # noqa: BLE001 - reported by every check that needs it
            S.webhooks_error = e if isinstance(e, CheckFailed) else "%s: %s" % (
                type(e).__name__, e)
    if S.webhooks_error is not None:
        raise CheckFailed("setting up the webhook deliveries failed: %s" % S.webhooks_error)
    return S.webhooks


def attempts_of(endpoint_id, event_id):
    """The recorded attempts to deliver `event_id` to `endpoint_id`, oldest first."""
    path = "/v1/webhook_endpoints/%s/attempts?event=%s&limit=100" % (endpoint_id, event_id)
    status, _, body = http_get(S.server.base + path, key=S.server.key)
    expect(status == 200, "GET %s: HTTP %s: %s" % (path, status, body[:300]))
    page = json.loads(body)
    eq(page.get("object"), "list", "attempts object")
    return [a for a in reversed(page.get("data") or []) if a.get("event") == event_id]


def wait_for_attempts(endpoint_id, event_id, pred, what, timeout=10):
    deadline = time.monotonic() + timeout
    while True:
        found = attempts_of(endpoint_id, event_id)
        if pred(found):
            return found
        if time.monotonic() > deadline:
            raise CheckFailed("%s within %d s; attempts: %s" % (what, timeout, json.dumps(found)))
        time.sleep(0.2)


# --------------------------------------------------------------------------------------------
# State shared between checks


class State:
    server = None
    product = None            # stripe.Product created with name/description/metadata
    price = None              # stripe.Price, 2000 usd on `product`
    priced_product = None     # stripe.Product created with default_price_data (2500 usd)
    session_a = None          # line_items=[{price, quantity: 2}] + metadata
    session_b = None          # price_data/product_data item + price item
    link = None               # stripe.PaymentLink on `price`
    link_session_id = None    # a session started by visiting the payment link's page
    batch = []                # sessions created for the pagination check, oldest first
    all_sessions = []         # every session this run created, oldest first
    webhooks = None           # WebhookFixture: an endpoint on a receiver and two deliveries
    webhooks_error = None     # why setting up `webhooks` failed
    receivers = []            # every local webhook receiver, closed at the end
    clock = None              # stripe.test_helpers.TestClock frozen at JAN_31_2027
    clock_subscription = None  # stripe.Subscription of a customer on `clock`


S = State()

SUCCESS_URL = "https://shop.example/success?session_id={CHECKOUT_SESSION_ID}"
RETURN_URL = "https://shop.example/account"
CANCEL_URL = "https://shop.example/cart"


def track(session_id):
    S.all_sessions.append(session_id)
    return session_id


# --------------------------------------------------------------------------------------------
# Checks


def check_product_create():
    p = stripe.Product.create(name="Widget", description="A very good widget",
                              metadata={"sku": "W-1"})
    S.product = p
    expect(isinstance(p, stripe.Product), "expected stripe.Product, got %r" % type(p))
    eq(p.object, "product", "object")
    expect(p.id.startswith("prod_"), "id %r should start with prod_" % p.id)
    eq(p.name, "Widget", "name")
    eq(p.description, "A very good widget", "description")
    eq(metadata_dict(p), {"sku": "W-1"}, "metadata")
    eq(p.active, True, "active")
    eq(p.livemode, False, "livemode")


def check_product_retrieve():
    p = need(S.product, "product")
    got = stripe.Product.retrieve(p.id)
    eq(got.id, p.id, "id")
    eq(got.name, "Widget", "name")
    eq(metadata_dict(got), {"sku": "W-1"}, "metadata")


def check_price_create():
    p = need(S.product, "product")
    price = stripe.Price.create(product=p.id, unit_amount=2000, currency="usd",
                                metadata={"tier": "standard"})
    S.price = price
    expect(isinstance(price, stripe.Price), "expected stripe.Price, got %r" % type(price))
    eq(price.object, "price", "object")
    expect(price.id.startswith("price_"), "id %r should start with price_" % price.id)
    eq(price.unit_amount, 2000, "unit_amount")
    # stripe-python turns the decimal string into a decimal.Decimal.
    eq(str(price.unit_amount_decimal), "2000", "unit_amount_decimal")
    eq(price.currency, "usd", "currency")
    eq(price.product, p.id, "product")
    eq(price.type, "one_time", "type")
    eq(price.livemode, False, "livemode")
    eq(metadata_dict(price), {"tier": "standard"}, "metadata")


def check_price_retrieve():
    price = need(S.price, "price")
    got = stripe.Price.retrieve(price.id)
    eq(got.id, price.id, "id")
    eq(got.unit_amount, 2000, "unit_amount")
    eq(got.currency, "usd", "currency")
    eq(got.product, S.product.id, "product")
    got = stripe.Price.retrieve(price.id, expand=["product"])
    expect(isinstance(got.product, stripe.Product),
           "expand=[product] should give a stripe.Product, got %r" % type(got.product))
    eq(got.product.name, "Widget", "product.name")


def check_product_default_price():
    p = stripe.Product.create(name="Gadget",
                              default_price_data={"unit_amount": 2500, "currency": "usd"})
    S.priced_product = p
    expect(isinstance(p.default_price, str) and p.default_price.startswith("price_"),
           "default_price should be a price id, got %r" % (p.default_price,))
    price = stripe.Price.retrieve(p.default_price)
    eq(price.unit_amount, 2500, "default price unit_amount")
    eq(price.currency, "usd", "default price currency")
    eq(price.product, p.id, "default price product")


def check_session_create_price():
    price = need(S.price, "price")
    s = stripe.checkout.Session.create(
        mode="payment",
        line_items=[{"price": price.id, "quantity": 2}],
        success_url=SUCCESS_URL,
        cancel_url=CANCEL_URL,
        metadata={"order_id": "42", "channel": "web"},
        client_reference_id="user-7",
    )
    track(s.id)
    S.session_a = s
    expect(isinstance(s, stripe.checkout.Session),
           "expected stripe.checkout.Session, got %r" % type(s))
    eq(s.object, "checkout.session", "object")
    expect(s.id.startswith("cs_test_"), "id %r should start with cs_test_" % s.id)
    eq(s.mode, "payment", "mode")
    eq(s.status, "open", "status")
    eq(s.payment_status, "unpaid", "payment_status")
    eq(s.amount_subtotal, 4000, "amount_subtotal")
    eq(s.amount_total, 4000, "amount_total")
    eq(s.currency, "usd", "currency")
    eq(s.livemode, False, "livemode")
    eq(metadata_dict(s), {"order_id": "42", "channel": "web"}, "metadata")
    eq(s.success_url, SUCCESS_URL, "success_url")
    eq(s.cancel_url, CANCEL_URL, "cancel_url")
    eq(s.client_reference_id, "user-7", "client_reference_id")
    expect(isinstance(s.url, str) and s.id in s.url, "url %r should contain the id" % (s.url,))
    expect(isinstance(s.created, int) and isinstance(s.expires_at, int)
           and s.expires_at > s.created, "created/expires_at: %r/%r" % (s.created, s.expires_at))
    expect("line_items" not in s, "line_items must be absent unless expanded")
    rid = s.last_response.request_id
    expect(isinstance(rid, str) and rid.startswith("req_"), "Request-Id header: %r" % (rid,))


def check_session_url_on_server():
    s = need(S.session_a, "session")
    expect(s.url.startswith(S.server.base + "/"),
           "url %r should point at the server kassa listens on (%s)" % (s.url, S.server.base))


def check_session_create_price_data():
    price = need(S.price, "price")
    s = stripe.checkout.Session.create(
        mode="payment",
        line_items=[
            {
                "price_data": {
                    "currency": "usd",
                    "unit_amount": 1500,
                    "product_data": {"name": "T-shirt", "metadata": {"size": "M"}},
                },
                "quantity": 3,
            },
            {"price": price.id, "quantity": 1},
        ],
        success_url="https://shop.example/thanks",
        cancel_url=CANCEL_URL,
        metadata={"order_id": "43"},
        expand=["line_items"],
    )
    track(s.id)
    S.session_b = s
    eq(s.object, "checkout.session", "object")
    eq(s.status, "open", "status")
    eq(s.payment_status, "unpaid", "payment_status")
    eq(s.amount_subtotal, 6500, "amount_subtotal")
    eq(s.amount_total, 6500, "amount_total")
    eq(s.currency, "usd", "currency")
    eq(s.livemode, False, "livemode")
    eq(metadata_dict(s), {"order_id": "43"}, "metadata")
    expect(isinstance(s.url, str) and s.id in s.url, "url %r should contain the id" % (s.url,))
    # expand works on create too.
    expect(isinstance(s.line_items, stripe.ListObject),
           "expand=[line_items] on create: got %r" % type(s.line_items))
    eq(sorted(i.quantity for i in s.line_items.data), [1, 3], "line item quantities")


def check_session_retrieve_expand_line_items():
    s = need(S.session_a, "session")
    got = stripe.checkout.Session.retrieve(s.id, expand=["line_items"])
    eq(got.id, s.id, "id")
    expect(isinstance(got.line_items, stripe.ListObject),
           "line_items should be a ListObject, got %r" % type(got.line_items))
    eq(len(got.line_items.data), 1, "number of line items")
    item = got.line_items.data[0]
    expect(isinstance(item, stripe.LineItem), "item should be a LineItem, got %r" % type(item))
    eq(item.object, "item", "item.object")
    expect(item.id.startswith("li_"), "item id %r should start with li_" % item.id)
    eq(item.quantity, 2, "line_items.data[0].quantity")
    expect(isinstance(item.price, stripe.Price), "item.price should be a Price, got %r"
           % type(item.price))
    eq(item.price.id, S.price.id, "line_items.data[0].price.id")
    eq(item.price.unit_amount, 2000, "line_items.data[0].price.unit_amount")
    eq(item.amount_total, 4000, "line_items.data[0].amount_total")
    eq(item.currency, "usd", "line_items.data[0].currency")
    plain = stripe.checkout.Session.retrieve(s.id)
    expect("line_items" not in plain, "line_items must be absent unless expanded")
    eq(plain.amount_total, 4000, "amount_total")


def check_session_expand_payment_link():
    price = need(S.price, "price")
    link = stripe.PaymentLink.create(line_items=[{"price": price.id, "quantity": 1}],
                                     metadata={"campaign": "spring"})
    S.link = link
    eq(link.object, "payment_link", "payment link object")
    # A customer opening the link's page starts a new session and is sent to it.
    status, headers, body = http_get(S.server.base + "/l/" + link.id, follow=False)
    expect(status in (302, 303, 307), "GET /l/%s: expected a redirect, got HTTP %s: %s"
           % (link.id, status, body[:200]))
    m = re.search(r"(cs_test_[A-Za-z0-9]+)", headers.get("Location") or "")
    expect(m, "redirect Location %r names no session" % headers.get("Location"))
    sid = track(m.group(1))
    S.link_session_id = sid
    plain = stripe.checkout.Session.retrieve(sid)
    eq(plain.payment_link, link.id, "payment_link (not expanded)")
    eq(plain.amount_total, 2000, "amount_total")
    got = stripe.checkout.Session.retrieve(sid, expand=["payment_link"])
    expect(isinstance(got.payment_link, stripe.PaymentLink),
           "expanded payment_link should be a PaymentLink, got %r" % type(got.payment_link))
    eq(got.payment_link.id, link.id, "payment_link.id")
    eq(got.payment_link.object, "payment_link", "payment_link.object")
    listed = stripe.checkout.Session.list(payment_link=link.id)
    eq([x.id for x in listed.data], [sid], "sessions listed with payment_link filter")


def check_session_list_filters():
    need(S.session_a, "session")
    page = stripe.checkout.Session.list(status="open", limit=2)
    expect(isinstance(page, stripe.ListObject), "expected ListObject, got %r" % type(page))
    eq(page.object, "list", "object")
    eq(page.url, "/v1/checkout/sessions", "url")
    eq(len(page.data), 2, "page size")
    eq(page.has_more, True, "has_more")
    for x in page.data:
        expect(isinstance(x, stripe.checkout.Session), "item type %r" % type(x))
        eq(x.status, "open", "status of %s" % x.id)
    newest_two = list(reversed(S.all_sessions))[:2]
    eq([x.id for x in page.data], newest_two, "first page (newest first)")
    nxt = stripe.checkout.Session.list(status="open", limit=2, starting_after=page.data[-1].id)
    eq([x.id for x in nxt.data], list(reversed(S.all_sessions))[2:4], "page after starting_after")
    before = stripe.checkout.Session.list(limit=1, ending_before=nxt.data[0].id)
    eq([x.id for x in before.data], [page.data[-1].id], "page with ending_before")
    first_created = S.session_a.created
    since = stripe.checkout.Session.list(created={"gte": first_created}, limit=100)
    eq([x.id for x in since.data], list(reversed(S.all_sessions)), "created[gte] filter")
    earlier = stripe.checkout.Session.list(created={"lt": first_created})
    eq([x.id for x in earlier.data], [], "created[lt] filter")


def check_session_auto_paging():
    price = need(S.price, "price")
    S.batch = []
    for i in range(7):
        s = stripe.checkout.Session.create(
            mode="payment", line_items=[{"price": price.id, "quantity": 1}],
            success_url="https://shop.example/ok", metadata={"batch": str(i)})
        S.batch.append(track(s.id))
    first = stripe.checkout.Session.list(limit=3)
    eq(len(first.data), 3, "first page size")
    eq(first.has_more, True, "has_more on the first page")
    seen = [x.id for x in first.auto_paging_iter()]
    dupes = sorted({i for i in seen if seen.count(i) > 1})
    expect(not dupes, "ids seen more than once: %r" % dupes)
    eq(sorted(seen), sorted(S.all_sessions), "all sessions seen through auto-pagination")
    eq(seen, list(reversed(S.all_sessions)), "order (newest first)")
    # Filters are kept on every page the SDK fetches.
    open_seen = [x.id for x in stripe.checkout.Session.list(status="open", limit=3)
                 .auto_paging_iter()]
    eq(open_seen, list(reversed(S.all_sessions)), "open sessions through auto-pagination")


def check_session_list_line_items():
    s = need(S.session_a, "session")
    items = stripe.checkout.Session.list_line_items(s.id, limit=5)
    expect(isinstance(items, stripe.ListObject), "expected ListObject, got %r" % type(items))
    eq(items.object, "list", "object")
    eq(items.url, "/v1/checkout/sessions/%s/line_items" % s.id, "url")
    eq(items.has_more, False, "has_more")
    eq(len(items.data), 1, "number of items")
    item = items.data[0]
    eq(item.object, "item", "object")
    eq(item.quantity, 2, "quantity")
    eq(item.price.id, S.price.id, "price.id")
    eq(item.amount_subtotal, 4000, "amount_subtotal")
    eq(item.amount_total, 4000, "amount_total")
    eq(item.description, "Widget", "description")

    b = need(S.session_b, "price_data session")
    page = stripe.checkout.Session.list_line_items(b.id, limit=1)
    eq(len(page.data), 1, "page size with limit=1")
    eq(page.has_more, True, "has_more with limit=1")
    all_items = list(page.auto_paging_iter())
    eq(len(all_items), 2, "line items through auto-pagination")
    eq(len({i.id for i in all_items}), 2, "distinct line item ids")
    by_desc = {i.description: i for i in all_items}
    expect("T-shirt" in by_desc, "a line item described 'T-shirt': %r" % sorted(by_desc))
    tshirt = by_desc["T-shirt"]
    eq(tshirt.quantity, 3, "T-shirt quantity")
    eq(tshirt.amount_total, 4500, "T-shirt amount_total")
    eq(tshirt.price.unit_amount, 1500, "T-shirt price.unit_amount")
    eq(tshirt.price.currency, "usd", "T-shirt price.currency")
    expect(isinstance(tshirt.price.product, str) and tshirt.price.product.startswith("prod_"),
           "T-shirt price.product %r should be a product id" % (tshirt.price.product,))
    product = stripe.Product.retrieve(tshirt.price.product)
    eq(product.name, "T-shirt", "product_data name")
    eq(metadata_dict(product), {"size": "M"}, "product_data metadata")


def check_session_modify_metadata():
    s = need(S.session_a, "session")
    got = stripe.checkout.Session.modify(s.id, metadata={"note": "gift", "channel": ""})
    eq(got.id, s.id, "id")
    eq(metadata_dict(got), {"order_id": "42", "note": "gift"}, "metadata after update")
    again = stripe.checkout.Session.retrieve(s.id)
    eq(metadata_dict(again), {"order_id": "42", "note": "gift"}, "metadata after retrieve")
    eq(again.status, "open", "status")


def check_session_expire():
    s = need(S.session_a, "session")
    got = stripe.checkout.Session.expire(s.id)
    eq(got.id, s.id, "id")
    eq(got.status, "expired", "status")
    eq(got.payment_status, "unpaid", "payment_status")
    eq(got.url, None, "url of an expired session")
    again = stripe.checkout.Session.retrieve(s.id)
    eq(again.status, "expired", "status after retrieve")
    expired = [x.id for x in stripe.checkout.Session.list(status="expired").data]
    eq(expired, [s.id], "sessions listed with status=expired")
    open_ids = [x.id for x in stripe.checkout.Session.list(status="open", limit=100).data]
    expect(s.id not in open_ids, "expired session still listed with status=open")


def check_session_expire_again_code():
    s = need(S.session_a, "session")
    try:
        stripe.checkout.Session.expire(s.id)
    except stripe.StripeError as e:
        err = e.error
        expect(err is not None, "error body missing")
        eq(err.type, "invalid_request_error", "error type")
        eq(err.code, "checkout_session_not_open", "error code")
    else:
        raise CheckFailed("expiring an expired session succeeded")
    eq(stripe.checkout.Session.retrieve(s.id).status, "expired", "status after second expire")


def check_session_expire_again_class():
    # Stripe answers 400 (stripe-php raises InvalidRequestException: "Only Checkout Sessions
    # with a status in ["open"] can be expired"), so the SDK raises InvalidRequestError
    # without retrying.
    s = need(S.session_a, "session")
    expect_error(lambda: stripe.checkout.Session.expire(s.id), stripe.InvalidRequestError, 400,
                 code="checkout_session_not_open")


def check_error_missing_line_items():
    expect_error(lambda: stripe.checkout.Session.create(mode="payment",
                                                        success_url="https://shop.example/ok"),
                 stripe.InvalidRequestError, 400, code="parameter_missing", param="line_items",
                 type_="invalid_request_error")


def check_error_missing_currency():
    p = need(S.product, "product")
    expect_error(lambda: stripe.Price.create(product=p.id, unit_amount=100),
                 stripe.InvalidRequestError, 400, code="parameter_missing", param="currency")


def check_error_bad_integer():
    p = need(S.product, "product")
    expect_error(lambda: stripe.Price.create(product=p.id, unit_amount="abc", currency="usd"),
                 stripe.InvalidRequestError, 400, code="parameter_invalid_integer",
                 param="unit_amount")
    expect_error(lambda: stripe.checkout.Session.create(
        mode="payment",
        line_items=[{"price_data": {"currency": "usd", "unit_amount": "abc",
                                    "product_data": {"name": "X"}}, "quantity": 1}]),
        stripe.InvalidRequestError, 400, code="parameter_invalid_integer",
        param="line_items[0][price_data][unit_amount]")


def check_error_unknown_id():
    e = expect_error(lambda: stripe.checkout.Session.retrieve("cs_test_doesnotexist"),
                     stripe.InvalidRequestError, 404, code="resource_missing", param="id",
                     type_="invalid_request_error")
    expect("cs_test_doesnotexist" in (e.user_message or ""),
           "message should name the id: %r" % e.user_message)
    expect_error(lambda: stripe.Price.retrieve("price_doesnotexist"),
                 stripe.InvalidRequestError, 404, code="resource_missing", param="id")


def check_error_wrong_key():
    expect_error(lambda: stripe.checkout.Session.list(api_key="sk_test_wrong" + "x" * 40),
                 stripe.AuthenticationError, 401)


def check_idempotency_replay():
    price = need(S.price, "price")
    key = "sdk-python-" + uuid.uuid4().hex
    params = dict(mode="payment", line_items=[{"price": price.id, "quantity": 1}],
                  success_url="https://shop.example/ok", metadata={"try": "1"})
    first = stripe.checkout.Session.create(idempotency_key=key, **params)
    track(first.id)
    second = stripe.checkout.Session.create(idempotency_key=key, **params)
    eq(second.id, first.id, "id of the replayed create")
    eq(second.last_response.headers.get("Idempotent-Replayed"), "true",
       "Idempotent-Replayed header")
    listed = [x.id for x in stripe.checkout.Session.list(limit=100).data]
    eq(listed.count(first.id), 1, "sessions created by the two calls")
    eq(len(listed), len(S.all_sessions), "no extra session created")


def check_idempotency_mismatch():
    price = need(S.price, "price")
    key = "sdk-python-" + uuid.uuid4().hex
    first = stripe.checkout.Session.create(
        idempotency_key=key, mode="payment", line_items=[{"price": price.id, "quantity": 1}],
        success_url="https://shop.example/ok")
    track(first.id)
    expect_error(lambda: stripe.checkout.Session.create(
        idempotency_key=key, mode="payment", line_items=[{"price": price.id, "quantity": 5}],
        success_url="https://shop.example/ok"),
        stripe.IdempotencyError, 400, type_="idempotency_error")


def check_loops_v3_sessions():
    for s in (need(S.session_a, "session"), need(S.session_b, "price_data session")):
        sdk = stripe.checkout.Session.retrieve(s.id, expand=["line_items"])
        v3 = v3_get("/api/v3/checkout/sessions/%s?expand[]=line_items" % s.id)
        eq(v3.get("object"), "checkout.session", "V3 object")
        eq(v3.get("id"), sdk.id, "V3 id")
        eq(v3.get("amount_total"), sdk.amount_total, "V3 amount_total")
        eq(v3.get("currency"), sdk.currency, "V3 currency")
        eq(v3.get("status"), sdk.status, "V3 status")
        eq(v3.get("payment_status"), sdk.payment_status, "V3 payment_status")
        eq(v3.get("metadata"), metadata_dict(sdk), "V3 metadata")
        eq(v3.get("livemode"), False, "V3 livemode")
        v3_items = (v3.get("line_items") or {}).get("data") or []
        eq(sorted((i["price"]["id"], i["quantity"]) for i in v3_items),
           sorted((i.price.id, i.quantity) for i in sdk.line_items.data),
           "V3 line item (price, quantity)")
    # The expired session shows expired on both surfaces; the open one open.
    eq(v3_get("/api/v3/checkout/sessions/%s" % S.session_a.id)["status"], "expired",
       "V3 status of the expired session")
    eq(v3_get("/api/v3/checkout/sessions/%s" % S.session_b.id)["status"], "open",
       "V3 status of the open session")


def check_loops_v3_products():
    p = need(S.product, "product")
    v3 = v3_get("/api/v3/products/%s" % p.id)
    eq(v3.get("object"), "product", "V3 object")
    eq(v3.get("id"), p.id, "V3 id")
    eq(v3.get("name"), "Widget", "V3 name")
    eq(v3.get("description"), "A very good widget", "V3 description")
    eq(v3.get("metadata"), {"sku": "W-1"}, "V3 metadata")
    eq(v3.get("active"), True, "V3 active")
    eq(v3.get("livemode"), False, "V3 livemode")
    pp = need(S.priced_product, "product with a default price")
    v3 = v3_get("/api/v3/products/%s" % pp.id)
    eq(v3.get("id"), pp.id, "V3 id")
    eq(v3.get("default_price"), pp.default_price, "V3 default_price")
    # Loops product amounts are major units, as decimal strings.
    eq(v3.get("priceAmount"), "25.00", "V3 priceAmount")
    eq(v3.get("priceCurrency"), "usd", "V3 priceCurrency")
    eq(v3.get("amountType"), "FIXED", "V3 amountType")


def check_payment_intents_list():
    page = stripe.PaymentIntent.list()
    expect(isinstance(page, stripe.ListObject), "expected ListObject, got %r" % type(page))
    eq(page.object, "list", "object")
    eq(page.url, "/v1/payment_intents", "url")
    eq(len(page.data), 0, "number of payment intents")
    eq(page.has_more, False, "has_more")


def check_stripe_client():
    client = stripe.StripeClient(S.server.key, base_addresses={"api": S.server.base})
    price = need(S.price, "price")
    s = client.v1.checkout.sessions.create(params={
        "mode": "payment", "line_items": [{"price": price.id, "quantity": 4}],
        "success_url": "https://shop.example/ok"})
    track(s.id)
    eq(s.amount_total, 8000, "amount_total")
    got = client.v1.checkout.sessions.retrieve(s.id, params={"expand": ["line_items"]})
    eq(got.line_items.data[0].quantity, 4, "line_items.data[0].quantity")
    items = client.v1.checkout.sessions.line_items.list(s.id, params={"limit": 100})
    eq([i.quantity for i in items.data], [4], "line items")
    page = client.v1.checkout.sessions.list(params={"limit": 1})
    eq([x.id for x in page.data], [s.id], "newest session")


def check_webhooks_endpoint_crud():
    created = []
    try:
        ep = stripe.WebhookEndpoint.create(
            url="https://shop.example/hooks/a", enabled_events=["checkout.session.completed"],
            description="Orders", metadata={"team": "fulfilment"})
        created.append(ep.id)
        expect(isinstance(ep, stripe.WebhookEndpoint),
               "expected stripe.WebhookEndpoint, got %r" % type(ep))
        eq(ep.object, "webhook_endpoint", "object")
        expect(ep.id.startswith("we_"), "id %r should start with we_" % ep.id)
        eq(ep.url, "https://shop.example/hooks/a", "url")
        eq(list(ep.enabled_events), ["checkout.session.completed"], "enabled_events")
        eq(ep.description, "Orders", "description")
        eq(metadata_dict(ep), {"team": "fulfilment"}, "metadata")
        eq(ep.status, "enabled", "status")
        eq(ep.livemode, False, "livemode")
        secret = ep.secret
        expect(isinstance(secret, str) and secret.startswith("whsec_"),
               "secret %r should start with whsec_" % (secret,))
        eq(len(base64.b64decode(secret[len("whsec_"):])), 32, "secret bytes")

        got = stripe.WebhookEndpoint.retrieve(ep.id)
        eq(got.id, ep.id, "id")
        eq(got.url, ep.url, "url")
        expect("secret" not in got, "retrieve must not show the secret")

        upd = stripe.WebhookEndpoint.modify(
            ep.id, description="Orders and expiries",
            enabled_events=["checkout.session.completed", "checkout.session.expired"])
        eq(upd.description, "Orders and expiries", "description after update")
        eq(list(upd.enabled_events), ["checkout.session.completed", "checkout.session.expired"],
           "enabled_events after update")
        expect("secret" not in upd, "update must not show the secret")
        again = stripe.WebhookEndpoint.retrieve(ep.id)
        eq(again.description, "Orders and expiries", "description after retrieve")
        eq(list(again.enabled_events), ["checkout.session.completed", "checkout.session.expired"],
           "enabled_events after retrieve")
        eq(metadata_dict(again), {"team": "fulfilment"}, "metadata after update")

        for i in range(4):
            created.append(stripe.WebhookEndpoint.create(
                url="https://shop.example/hooks/%d" % i, enabled_events=["*"]).id)
        first = stripe.WebhookEndpoint.list(limit=2)
        expect(isinstance(first, stripe.ListObject), "expected ListObject, got %r" % type(first))
        eq(first.url, "/v1/webhook_endpoints", "url")
        eq(len(first.data), 2, "first page size")
        eq(first.has_more, True, "has_more on the first page")
        seen = [x.id for x in first.auto_paging_iter()]
        dupes = sorted({i for i in seen if seen.count(i) > 1})
        expect(not dupes, "ids seen more than once: %r" % dupes)
        eq([i for i in seen if i in created], list(reversed(created)),
           "endpoints through auto-pagination (newest first)")
        for x in first.data:
            expect("secret" not in x, "list must not show secrets")

        deleted = stripe.WebhookEndpoint.delete(ep.id)
        eq(deleted.id, ep.id, "id of the deleted endpoint")
        eq(deleted.deleted, True, "deleted")
        created.remove(ep.id)
        expect_error(lambda: stripe.WebhookEndpoint.retrieve(ep.id), stripe.InvalidRequestError,
                     404, code="resource_missing")
        listed = [x.id for x in stripe.WebhookEndpoint.list(limit=100).auto_paging_iter()]
        expect(ep.id not in listed, "deleted endpoint still listed")
    finally:
        for id_ in created:
            try:
                stripe.WebhookEndpoint.delete(id_)
            except stripe.StripeError:
                pass


def check_webhooks_signature_stripe():
    fx = webhook_fixture()
    for d, type_, object_id in fx.deliveries():
        sig = d.headers.get("stripe-signature")
        expect(sig and re.match(r"^t=\d+,v1=[0-9a-f]{64}", sig),
               "%s: Stripe-Signature header %r" % (type_, sig))
        eq(d.headers.get("content-type", "").split(";")[0], "application/json",
           "%s: Content-Type" % type_)
        event = stripe.Webhook.construct_event(d.body.decode("utf-8"), sig, fx.secret)
        expect(isinstance(event, stripe.Event), "expected stripe.Event, got %r" % type(event))
        eq(event.object, "event", "%s: object" % type_)
        expect(event.id.startswith("evt_"), "event id %r should start with evt_" % event.id)
        eq(event.type, type_, "type")
        eq(event.data.object.id, object_id, "%s: data.object.id" % type_)
        eq(event.livemode, False, "%s: livemode" % type_)
        # The raw bytes verify as well.
        stripe.Webhook.construct_event(d.body, sig, fx.secret)
        other = random_secret()
        try:
            stripe.Webhook.construct_event(d.body.decode("utf-8"), sig, other)
        except stripe.SignatureVerificationError:
            pass
        else:
            raise CheckFailed("%s: verified with another secret" % type_)
        try:
            stripe.Webhook.construct_event(d.body.decode("utf-8") + " ", sig, fx.secret)
        except stripe.SignatureVerificationError:
            pass
        else:
            raise CheckFailed("%s: an altered body verified" % type_)
    eq(fx.session_expired.event["data"]["object"].get("status"), "expired",
       "checkout.session.expired: data.object.status")


def check_webhooks_signature_standard():
    fx = webhook_fixture()
    wh = standardwebhooks.Webhook(fx.secret)
    for d, type_, object_id in fx.deliveries():
        for name in ("webhook-id", "webhook-timestamp", "webhook-signature"):
            expect(d.headers.get(name), "%s: header %s missing" % (type_, name))
        payload = wh.verify(d.body, d.headers)
        eq(payload.get("type"), type_, "type")
        eq(payload["data"]["object"]["id"], object_id, "%s: data.object.id" % type_)
        eq(wh.verify(d.body.decode("utf-8"), d.headers)["id"], payload["id"],
           "%s: id when verifying text" % type_)
        try:
            standardwebhooks.Webhook(random_secret()).verify(d.body, d.headers)
        except standardwebhooks.WebhookVerificationError:
            pass
        else:
            raise CheckFailed("%s: verified with another secret" % type_)
        try:
            wh.verify(d.body + b" ", d.headers)
        except standardwebhooks.WebhookVerificationError:
            pass
        else:
            raise CheckFailed("%s: an altered body verified" % type_)


def check_webhooks_events_api():
    fx = webhook_fixture()
    delivered = {}
    for d, type_, object_id in fx.deliveries():
        event_id = d.event["id"]
        delivered[event_id] = type_
        listed = stripe.Event.list(type=type_, limit=100)
        expect(isinstance(listed, stripe.ListObject), "expected ListObject, got %r"
               % type(listed))
        eq(listed.url, "/v1/events", "url")
        ids = [e.id for e in listed.auto_paging_iter()]
        expect(event_id in ids, "Event.list(type=%r) lacks the delivered %s: %r"
               % (type_, event_id, ids))
        for e in listed.data:
            eq(e.type, type_, "type of %s in Event.list(type=%r)" % (e.id, type_))
        got = stripe.Event.retrieve(event_id)
        expect(isinstance(got, stripe.Event), "expected stripe.Event, got %r" % type(got))
        eq(got.id, event_id, "id")
        eq(got.type, type_, "type")
        eq(got.data.object.id, object_id, "data.object.id")
        eq(got.created, d.event["created"], "created")
        status, _, raw = http_get(S.server.base + "/v1/events/" + event_id, key=S.server.key)
        eq(status, 200, "GET /v1/events/%s status" % event_id)
        expect(raw == d.body, "GET /v1/events/%s differs from the delivered body: %s"
               % (event_id, first_difference(raw, d.body)))
    both = stripe.Event.list(types=["customer.created", "checkout.session.expired"], limit=100)
    seen = {e.id: e.type for e in both.auto_paging_iter()}
    for event_id, type_ in delivered.items():
        eq(seen.get(event_id), type_, "%s in Event.list(types=[...])" % event_id)
    others = sorted({t for t in seen.values()} - {"customer.created", "checkout.session.expired"})
    eq(others, [], "other types in Event.list(types=[...])")


def check_webhooks_replay_after_500():
    receiver = Receiver(statuses=[500])
    ep = stripe.WebhookEndpoint.create(url=receiver.url, enabled_events=["customer.created"],
                                       description="fails once")
    try:
        customer = stripe.Customer.create(name="Retry Customer")
        first = receiver.wait_for("customer.created", customer.id)[0]
        eq(first.status, 500, "answer to the first delivery")
        event_id = first.event["id"]
        attempts = wait_for_attempts(ep.id, event_id, lambda a: len(a) >= 1,
                                     "the failed attempt recorded")
        eq(len(attempts), 1, "attempts before the resend")
        eq(attempts[0].get("status_code"), 500, "status_code of the first attempt")
        eq(attempts[0].get("succeeded"), False, "succeeded of the first attempt")
        eq(attempts[0].get("endpoint"), ep.id, "endpoint of the first attempt")

        status, body = http_post_form(S.server.base + "/v1/events/%s/resend" % event_id,
                                      {"endpoint": ep.id}, S.server.key)
        expect(status == 200, "POST /v1/events/%s/resend: HTTP %s: %s"
               % (event_id, status, body[:300]))
        second = receiver.wait_for("customer.created", customer.id, count=2)[1]
        eq(second.status, 200, "answer to the resend")
        expect(second.body == first.body, "resent body differs: %s"
               % first_difference(second.body, first.body))
        event = stripe.Webhook.construct_event(second.body.decode("utf-8"),
                                               second.headers.get("stripe-signature"),
                                               ep.secret)
        eq(event.id, event_id, "id of the resent event")
        eq(event.type, "customer.created", "type of the resent event")
        eq(event.data.object.id, customer.id, "data.object.id of the resent event")
        payload = standardwebhooks.Webhook(ep.secret).verify(second.body, second.headers)
        eq(payload["id"], event_id, "id of the resent event (Standard Webhooks)")
        # Standard Webhooks: the same message keeps its webhook-id when it is sent again.
        eq(second.headers.get("webhook-id"), first.headers.get("webhook-id"),
           "webhook-id of the resend")
        attempts = wait_for_attempts(
            ep.id, event_id, lambda a: any(x.get("succeeded") for x in a),
            "a succeeded attempt recorded after the resend")
        ok = [a for a in attempts if a.get("succeeded")]
        eq(ok[0].get("status_code"), 200, "status_code of the resent attempt")
    finally:
        try:
            stripe.WebhookEndpoint.delete(ep.id)
        except stripe.StripeError:
            pass


def test_helper_client():
    return stripe.StripeClient(S.server.key, base_addresses={"api": S.server.base})


def check_test_helper_pay():
    """A checkout completed without a browser, through the test helper and stripe-python's
    raw_request: the session is paid, and its webhook arrives and verifies."""
    receiver = Receiver()
    ep = stripe.WebhookEndpoint.create(url=receiver.url,
                                       enabled_events=["checkout.session.completed"],
                                       description="test helper payments")
    try:
        price = need(S.price, "price")
        s = stripe.checkout.Session.create(mode="payment",
                                           line_items=[{"price": price.id, "quantity": 1}],
                                           success_url=SUCCESS_URL)
        track(s.id)
        client = test_helper_client()
        response = client.raw_request("post", "/v1/test_helpers/checkout/sessions/%s/pay" % s.id,
                                      card="4242 4242 4242 4242", email="ada@example.com")
        paid = client.deserialize(response, api_mode="V1")
        expect(isinstance(paid, stripe.checkout.Session),
               "expected stripe.checkout.Session, got %r" % type(paid))
        eq(paid.id, s.id, "id of the answer")
        eq((paid.status, paid.payment_status), ("complete", "paid"), "status of the answer")
        got = stripe.checkout.Session.retrieve(s.id)
        eq((got.status, got.payment_status), ("complete", "paid"), "status of the session")
        eq(got.customer_details.email, "ada@example.com", "customer_details.email")
        d = receiver.wait_for("checkout.session.completed", s.id)[0]
        event = stripe.Webhook.construct_event(d.body.decode("utf-8"),
                                               d.headers.get("stripe-signature"), ep.secret)
        eq(event.type, "checkout.session.completed", "event type")
        eq(event.data.object.payment_status, "paid", "data.object.payment_status")
        eq(standardwebhooks.Webhook(ep.secret).verify(d.body, d.headers)["id"], event.id,
           "Standard Webhooks id")
    finally:
        try:
            stripe.WebhookEndpoint.delete(ep.id)
        except stripe.StripeError:
            pass


def check_test_helper_decline():
    """A declined test card: stripe-python's CardError with the decline code, and the session
    still open for another card."""
    price = need(S.price, "price")
    s = stripe.checkout.Session.create(mode="payment",
                                       line_items=[{"price": price.id, "quantity": 1}],
                                       success_url=SUCCESS_URL)
    track(s.id)
    client = test_helper_client()
    path = "/v1/test_helpers/checkout/sessions/%s/pay" % s.id
    e = expect_error(lambda: client.raw_request("post", path, card="4000000000009995"),
                     stripe.CardError, 402, code="card_declined", type_="card_error")
    eq(e.error.decline_code, "insufficient_funds", "decline_code")
    eq(e.error.payment_intent.status, "requires_payment_method", "payment_intent.status")
    eq(stripe.checkout.Session.retrieve(s.id).status, "open", "status after the decline")
    paid = client.deserialize(client.raw_request("post", path, card="4242424242424242"),
                              api_mode="V1")
    eq(paid.payment_status, "paid", "payment_status after another card")

    # Each attempt left a charge: the declined one named by the error, then the payment.
    failed = stripe.Charge.retrieve(e.error.charge)
    expect(isinstance(failed, stripe.Charge), "expected stripe.Charge, got %r" % type(failed))
    eq((failed.status, failed.paid, failed.failure_code), ("failed", False, "card_declined"),
       "the declined charge")
    eq(failed.outcome.reason, "insufficient_funds", "outcome.reason")
    charges = stripe.Charge.list(payment_intent=paid.payment_intent)
    eq([c.status for c in charges.auto_paging_iter()], ["succeeded", "failed"],
       "the PaymentIntent's charges, newest first")
    intent = stripe.PaymentIntent.retrieve(paid.payment_intent, expand=["latest_charge"])
    expect(isinstance(intent.latest_charge, stripe.Charge),
           "latest_charge expands to a stripe.Charge, got %r" % type(intent.latest_charge))
    eq(intent.latest_charge.id, charges.data[0].id, "latest_charge")
    eq(intent.latest_charge.amount_captured, intent.amount, "amount_captured")


def check_payment_methods_attach_list():
    """Stripe's test id pm_card_visa attached to a customer makes a new PaymentMethod, which the
    customer's list and PaymentMethod.list show."""
    customer = stripe.Customer.create(email="ada@example.com")
    pm = stripe.PaymentMethod.attach("pm_card_visa", customer=customer.id)
    expect(isinstance(pm, stripe.PaymentMethod),
           "expected stripe.PaymentMethod, got %r" % type(pm))
    expect(pm.id.startswith("pm_") and pm.id != "pm_card_visa", "a new method, got %s" % pm.id)
    eq((pm.type, pm.customer, pm.card.brand, pm.card.last4),
       ("card", customer.id, "visa", "4242"), "the attached method")
    listed = stripe.Customer.list_payment_methods(customer.id, type="card")
    eq([m.id for m in listed.auto_paging_iter()], [pm.id], "the customer's methods")
    expect(isinstance(listed.data[0], stripe.PaymentMethod),
           "listed as stripe.PaymentMethod, got %r" % type(listed.data[0]))
    eq([m.id for m in stripe.PaymentMethod.list(customer=customer.id, type="card").data],
       [pm.id], "PaymentMethod.list")


def check_subscription_lifecycle():
    """A subscription started by a paid checkout, read and changed through stripe-python's own
    resources: Subscription.list(status="all", customer=...) auto-paging, retrieve with
    expand, modify (cancel at period end and undo), Invoice.retrieve with its lines, and
    Subscription.cancel."""
    price = stripe.Price.create(currency="eur", unit_amount=900, recurring={"interval": "month"},
                                product_data={"name": "SDK plan"})
    s = stripe.checkout.Session.create(mode="subscription",
                                       line_items=[{"price": price.id, "quantity": 2}],
                                       subscription_data={"metadata": {"source": "sdk"}},
                                       success_url=SUCCESS_URL)
    track(s.id)
    client = test_helper_client()
    paid = client.deserialize(
        client.raw_request("post", "/v1/test_helpers/checkout/sessions/%s/pay" % s.id,
                           card="4242424242424242"), api_mode="V1")
    sub_id = need(paid.subscription, "session.subscription")
    subs = list(stripe.Subscription.list(status="all", customer=paid.customer, limit=1)
                .auto_paging_iter())
    eq([x.id for x in subs], [sub_id], "the customer's subscriptions")
    sub = stripe.Subscription.retrieve(sub_id, expand=["latest_invoice"])
    expect(isinstance(sub, stripe.Subscription), "expected stripe.Subscription, got %r" % type(sub))
    eq((sub.status, sub.metadata.to_dict()), ("active", {"source": "sdk"}), "status and metadata")
    eq(sub["items"].data[0].price.id, price.id, "items.data[0].price")
    # stripe-python turns the decimal string into a decimal.Decimal.
    eq(str(sub["items"].data[0].plan.amount_decimal), "900", "plan.amount_decimal")
    expect(isinstance(sub.latest_invoice, stripe.Invoice),
           "latest_invoice expands to a stripe.Invoice, got %r" % type(sub.latest_invoice))
    eq((sub.latest_invoice.status, sub.latest_invoice.amount_paid), ("paid", 1800), "first invoice")
    eq(sub.latest_invoice.billing_reason, "subscription_create", "billing_reason")
    later = stripe.Subscription.modify(sub_id, cancel_at_period_end=True)
    eq((later.cancel_at_period_end, later.cancel_at), (True, sub.current_period_end),
       "cancel at period end")
    eq(stripe.Subscription.modify(sub_id, cancel_at_period_end=False).cancel_at, None, "undone")
    invoice = stripe.Invoice.retrieve(sub.latest_invoice.id)
    eq([line.amount for line in invoice.lines.data], [1800], "invoice lines")
    canceled = stripe.Subscription.cancel(sub_id)
    eq(canceled.status, "canceled", "status after cancel")
    eq(stripe.Subscription.list(customer=paid.customer).data, [], "canceled ones hidden by default")


def check_billing_portal_session():
    """A customer portal session through stripe-python's billing_portal.Session.create: Stripe's
    object with the account's default configuration, and a url that opens the portal page; an
    unknown customer raises InvalidRequestError naming it."""
    customer = stripe.Customer.create(email="ada@example.com", name="Ada")
    session = stripe.billing_portal.Session.create(customer=customer.id, return_url=RETURN_URL)
    expect(isinstance(session, stripe.billing_portal.Session),
           "expected stripe.billing_portal.Session, got %r" % type(session))
    eq((session.object, session.customer, session.return_url, session.livemode),
       ("billing_portal.session", customer.id, RETURN_URL, False), "the session")
    expect(session.id.startswith("bps_"), "a bps_ id, got %s" % session.id)
    expect(session.configuration.startswith("bpc_"),
           "the default configuration, got %s" % session.configuration)
    again = stripe.billing_portal.Session.create(customer=customer.id, return_url=RETURN_URL)
    eq(again.configuration, session.configuration, "one default configuration")
    expect(session.url.startswith(S.server.base + "/portal/"),
           "url %r should open the portal on the server" % session.url)
    status, _, body = http_get(session.url)
    eq(status, 200, "GET the portal page")
    expect(b"Your billing" in body, "the portal page")
    expect_error(lambda: stripe.billing_portal.Session.create(customer="cus_nope",
                                                              return_url=RETURN_URL),
                 stripe.InvalidRequestError, 400, code="resource_missing", param="customer")


# --------------------------------------------------------------------------------------------
# Test clocks

HOUR = 3600
DAY = 86400


def utc(year, month, day):
    """Midnight UTC of a date, in unix seconds."""
    return calendar.timegm((year, month, day, 0, 0, 0))


JAN_31_2027 = utc(2027, 1, 31)  # 1801353600: a monthly period anchored on the 31st


def subscribe_on_clock(clock, email):
    """A customer created on `clock`, subscribed to 2 x EUR 9.00 a month by a subscription-mode
    checkout naming it, paid with the test helper; the subscription."""
    customer = stripe.Customer.create(email=email, test_clock=clock.id)
    eq(customer.test_clock, clock.id, "customer.test_clock")
    price = stripe.Price.create(currency="eur", unit_amount=900, recurring={"interval": "month"},
                                product_data={"name": "SDK clock plan"})
    s = stripe.checkout.Session.create(mode="subscription", customer=customer.id,
                                       line_items=[{"price": price.id, "quantity": 2}],
                                       success_url=SUCCESS_URL)
    track(s.id)
    client = test_helper_client()
    paid = client.deserialize(
        client.raw_request("post", "/v1/test_helpers/checkout/sessions/%s/pay" % s.id,
                           card="4242424242424242"), api_mode="V1")
    eq(paid.customer, customer.id, "session.customer")
    sub = stripe.Subscription.retrieve(need(paid.subscription, "session.subscription"))
    eq((sub.status, sub.test_clock, sub.customer), ("active", clock.id, customer.id),
       "the subscription on the clock")
    eq(sub.current_period_start, clock.frozen_time, "current_period_start: the clock's time")
    return sub


def advance_clock(clock_id, to, polls=300, every=0.1):
    """Advances the clock to `to`, then polls it until the server's clock worker has run every
    step due and made it ready."""
    advancing = stripe.test_helpers.TestClock.advance(clock_id, frozen_time=to)
    eq(advancing.status, "advancing", "status of the advance's answer")
    eq(advancing.status_details.advancing.target_frozen_time, to,
       "status_details.advancing.target_frozen_time")
    for _ in range(polls):
        clock = stripe.test_helpers.TestClock.retrieve(clock_id)
        if clock.status == "ready":
            eq(clock.frozen_time, to, "frozen_time once ready")
            return clock
        eq(clock.status, "advancing", "status of %s while it advances" % clock_id)
        time.sleep(every)
    raise CheckFailed("test clock %s still advancing to %d after %d polls over %.0f s"
                      % (clock_id, to, polls, polls * every))


def delete_clock_quietly(clock_id):
    try:
        stripe.test_helpers.TestClock.delete(clock_id)
    except stripe.StripeError:
        pass


def check_test_clocks_create_retrieve_list():
    """Test clocks through stripe-python's stripe.test_helpers.TestClock: create, retrieve, and
    list with auto-paging, newest first."""
    TestClock = stripe.test_helpers.TestClock
    clock = TestClock.create(frozen_time=JAN_31_2027, name="SDK renewals")
    S.clock = clock
    expect(isinstance(clock, TestClock), "expected TestClock, got %r" % type(clock))
    eq(clock.object, "test_helpers.test_clock", "object")
    expect(clock.id.startswith("clock_"), "id %r should start with clock_" % clock.id)
    eq((clock.frozen_time, clock.name, clock.status, clock.livemode),
       (JAN_31_2027, "SDK renewals", "ready", False), "the new clock")
    eq(clock.deletes_after - clock.created, 30 * DAY, "deletes_after, 30 days after created")
    got = TestClock.retrieve(clock.id)
    expect(isinstance(got, TestClock), "retrieve: expected TestClock, got %r" % type(got))
    eq(got.to_dict(), clock.to_dict(), "the retrieved clock")
    spares = []
    try:
        for i in (1, 2):
            spares.append(TestClock.create(frozen_time=JAN_31_2027 + i * DAY,
                                           name="SDK spare %d" % i).id)
        first = TestClock.list(limit=2)
        expect(isinstance(first, stripe.ListObject), "expected ListObject, got %r" % type(first))
        eq(first.url, "/v1/test_helpers/test_clocks", "url")
        eq((len(first.data), first.has_more), (2, True), "first page (size, has_more)")
        expect(all(isinstance(c, TestClock) for c in first.data),
               "listed as TestClock: %r" % [type(c) for c in first.data])
        seen = [c.id for c in first.auto_paging_iter()]
        dupes = sorted({i for i in seen if seen.count(i) > 1})
        expect(not dupes, "ids seen more than once: %r" % dupes)
        mine = [clock.id] + spares
        eq([i for i in seen if i in mine], list(reversed(mine)),
           "clocks through auto-pagination (newest first)")
    finally:
        for id_ in spares:
            delete_clock_quietly(id_)


def check_test_clocks_advance_renewals():
    """A customer on the clock subscribed through a checkout; advancing the clock three months
    and two hours runs three renewals on calendar months (Feb 28, Mar 31, Apr 30), each
    invoiced and paid. Lists leave the clock's subscription out unless asked for it."""
    clock = need(S.clock, "test clock")
    sub = subscribe_on_clock(clock, "renewals@shop.example")
    S.clock_subscription = sub
    eq(sub.current_period_end, utc(2027, 2, 28), "current_period_end (a month from the 31st)")
    advance_clock(clock.id, utc(2027, 4, 30) + 2 * HOUR)
    renewed = stripe.Subscription.retrieve(sub.id)
    eq(renewed.status, "active", "status after the renewals")
    eq((renewed.current_period_start, renewed.current_period_end),
       (utc(2027, 4, 30), utc(2027, 5, 31)), "current period after three renewals")
    eq(renewed["items"].data[0].current_period_start, utc(2027, 4, 30),
       "items.data[0].current_period_start")
    invoices = list(stripe.Invoice.list(customer=sub.customer, subscription=sub.id, limit=2)
                    .auto_paging_iter())
    expect(all(isinstance(i, stripe.Invoice) for i in invoices),
           "listed as stripe.Invoice: %r" % [type(i) for i in invoices])
    eq([i.billing_reason for i in invoices], ["subscription_cycle"] * 3 + ["subscription_create"],
       "billing_reason of the subscription's invoices, newest first")
    eq([(i.status, i.amount_paid) for i in invoices], [("paid", 1800)] * 4,
       "status and amount_paid of each invoice")
    eq([(i.lines.data[0].period.start, i.lines.data[0].period.end) for i in invoices[:3]],
       [(utc(2027, 4, 30), utc(2027, 5, 31)), (utc(2027, 3, 31), utc(2027, 4, 30)),
        (utc(2027, 2, 28), utc(2027, 3, 31))], "the renewals' periods")
    eq(renewed.latest_invoice, invoices[0].id, "latest_invoice")
    everyone = [s.id for s in stripe.Subscription.list(status="all", limit=100)
                .auto_paging_iter()]
    expect(sub.id not in everyone, "Subscription.list() without customer or test_clock lists %s"
           % sub.id)
    on_clock = stripe.Subscription.list(test_clock=clock.id)
    eq([s.id for s in on_clock.auto_paging_iter()], [sub.id], "Subscription.list(test_clock=)")


def check_test_clocks_delete():
    """Deleting the clock answers deleted: true, and deletes its customer, which ends the
    subscription."""
    TestClock = stripe.test_helpers.TestClock
    clock = need(S.clock, "test clock")
    sub = need(S.clock_subscription, "subscription on the clock")
    deleted = TestClock.delete(clock.id)
    eq((deleted.id, deleted.object, deleted.deleted), (clock.id, "test_helpers.test_clock", True),
       "the deleted clock")
    expect_error(lambda: TestClock.retrieve(clock.id), stripe.InvalidRequestError, 404,
                 code="resource_missing")
    eq(stripe.Subscription.retrieve(sub.id).status, "canceled", "the clock's subscription")
    eq(stripe.Customer.retrieve(sub.customer).deleted, True, "the clock's customer deleted")


def check_subscription_dunning_invoice_pay():
    """A renewal declined on a test clock (pm_card_chargeCustomerFail attached with
    PaymentMethod.attach and made the default with Subscription.modify): the subscription is
    past_due and its invoice open after one attempt; Invoice.pay raises CardError while the card
    declines, and pays the invoice once pm_card_visa is the default."""
    clock = stripe.test_helpers.TestClock.create(frozen_time=JAN_31_2027, name="SDK dunning")
    try:
        sub = subscribe_on_clock(clock, "dunning@shop.example")
        failing = stripe.PaymentMethod.attach("pm_card_chargeCustomerFail", customer=sub.customer)
        eq(failing.customer, sub.customer, "customer of the attached method")
        changed = stripe.Subscription.modify(sub.id, default_payment_method=failing.id)
        eq(changed.default_payment_method, failing.id, "default_payment_method")
        renewal = sub.current_period_end
        advance_clock(clock.id, renewal + 2 * HOUR)
        due = stripe.Subscription.retrieve(sub.id, expand=["latest_invoice"])
        eq(due.status, "past_due", "status after the declined renewal")
        invoice = due.latest_invoice
        expect(isinstance(invoice, stripe.Invoice),
               "latest_invoice expands to a stripe.Invoice, got %r" % type(invoice))
        eq((invoice.billing_reason, invoice.status, invoice.attempt_count, invoice.amount_paid),
           ("subscription_cycle", "open", 1, 0), "the renewal invoice after the decline")
        eq(invoice.next_payment_attempt, renewal + HOUR + DAY,
           "next_payment_attempt (a day after the failure)")

        e = expect_error(lambda: stripe.Invoice.pay(invoice.id), stripe.CardError, 402,
                         code="card_declined", type_="card_error")
        declined = stripe.Charge.retrieve(need(e.error.charge, "error.charge"))
        eq((declined.status, declined.customer, declined.payment_method),
           ("failed", sub.customer, failing.id), "the declined charge")
        eq(stripe.Invoice.retrieve(invoice.id).status, "open", "status after the declined pay")

        visa = stripe.PaymentMethod.attach("pm_card_visa", customer=sub.customer)
        stripe.Subscription.modify(sub.id, default_payment_method=visa.id)
        paid = stripe.Invoice.pay(invoice.id)
        expect(isinstance(paid, stripe.Invoice), "expected stripe.Invoice, got %r" % type(paid))
        eq((paid.id, paid.status, paid.amount_paid, paid.amount_remaining),
           (invoice.id, "paid", 1800, 0), "the paid invoice")
        eq(stripe.Subscription.retrieve(sub.id).status, "active", "status after Invoice.pay")
    finally:
        delete_clock_quietly(clock.id)


def check_refunds_partial_then_full():
    """A partial Refund.create, then the rest: stripe-python's Refund objects, the charge's
    amount_refunded and refunded, its refunds expanded and listed, Refund.modify's metadata,
    the charge's receipt page showing both, and Stripe's charge_already_refunded after."""
    price = need(S.price, "price")
    s = stripe.checkout.Session.create(mode="payment",
                                       line_items=[{"price": price.id, "quantity": 1}],
                                       success_url=SUCCESS_URL)
    track(s.id)
    client = test_helper_client()
    paid = client.deserialize(
        client.raw_request("post", "/v1/test_helpers/checkout/sessions/%s/pay" % s.id,
                           card="4242424242424242", email="ada@example.com"),
        api_mode="V1")
    intent = stripe.PaymentIntent.retrieve(paid.payment_intent)
    first = stripe.Refund.create(payment_intent=intent.id, amount=100,
                                 reason="requested_by_customer", metadata={"ticket": "7"})
    expect(isinstance(first, stripe.Refund), "expected stripe.Refund, got %r" % type(first))
    eq((first.status, first.amount, first.charge), ("succeeded", 100, intent.latest_charge),
       "the first refund")
    charge = stripe.Charge.retrieve(intent.latest_charge)
    eq((charge.amount_refunded, charge.refunded), (100, False), "after the first refund")
    rest = stripe.Refund.create(charge=charge.id)
    eq(rest.amount, intent.amount - 100, "the second refund takes what is left")
    charge = stripe.Charge.retrieve(charge.id, expand=["refunds"])
    eq((charge.amount_refunded, charge.refunded), (intent.amount, True), "after both")
    eq([r.id for r in charge.refunds.data], [rest.id, first.id], "charge.refunds, newest first")
    eq([r.id for r in stripe.Refund.list(charge=charge.id).auto_paging_iter()],
       [rest.id, first.id], "Refund.list(charge=)")
    eq(stripe.Refund.modify(first.id, metadata={"ticket": "8"}).metadata["ticket"], "8",
       "Refund.modify metadata")
    expect_error(lambda: stripe.Refund.create(charge=charge.id), stripe.InvalidRequestError, 400,
                 code="charge_already_refunded")
    expect(charge.receipt_url.startswith(S.server.base + "/receipts/"),
           "receipt_url under kassa: %r" % charge.receipt_url)
    with urllib.request.urlopen(charge.receipt_url) as page:
        html = page.read().decode("utf-8")
    expect("Receipt from" in html and html.count("Refunded on") == 2,
           "the receipt shows both refunds")



def check_webhooks_charge_refunded():
    """A refund's charge.refunded delivery, verified with stripe-python's webhook verifier."""
    receiver = Receiver()
    ep = stripe.WebhookEndpoint.create(url=receiver.url, enabled_events=["charge.refunded"],
                                       description="refunds")
    try:
        price = need(S.price, "price")
        s = stripe.checkout.Session.create(mode="payment",
                                           line_items=[{"price": price.id, "quantity": 1}],
                                           success_url=SUCCESS_URL)
        track(s.id)
        client = test_helper_client()
        paid = client.deserialize(
            client.raw_request("post", "/v1/test_helpers/checkout/sessions/%s/pay" % s.id,
                               card="4242424242424242"),
            api_mode="V1")
        intent = stripe.PaymentIntent.retrieve(paid.payment_intent)
        stripe.Refund.create(payment_intent=intent.id, amount=150)
        d = receiver.wait_for("charge.refunded", intent.latest_charge)[0]
        event = stripe.Webhook.construct_event(d.body.decode("utf-8"),
                                               d.headers.get("stripe-signature"), ep.secret)
        eq(event.type, "charge.refunded", "event type")
        expect(isinstance(event.data.object, stripe.Charge),
               "data.object is a stripe.Charge, got %r" % type(event.data.object))
        eq((event.data.object.amount_refunded, event.data.object.refunded), (150, False),
           "the charge as refunded")
    finally:
        try:
            stripe.WebhookEndpoint.delete(ep.id)
        except stripe.StripeError:
            pass


def check_webhooks_invoice_paid_renewal():
    """A renewal run by a test clock reaches a local receiver as invoice.paid, signed:
    stripe-python's Webhook.construct_event verifies it with the endpoint's secret, and its
    data.object is the renewal invoice. test_helpers.test_clock.ready follows the advance."""
    receiver = Receiver()
    ep = stripe.WebhookEndpoint.create(
        url=receiver.url, enabled_events=["invoice.paid", "test_helpers.test_clock.ready"],
        description="renewals")
    clock = stripe.test_helpers.TestClock.create(frozen_time=JAN_31_2027, name="SDK webhooks")
    try:
        sub = subscribe_on_clock(clock, "hooks@shop.example")
        to = sub.current_period_end + 2 * HOUR
        advance_clock(clock.id, to)
        renewal = stripe.Subscription.retrieve(sub.id).latest_invoice
        expect(renewal != sub.latest_invoice, "no renewal invoice: latest_invoice is still %s"
               % renewal)

        d = receiver.wait_for("invoice.paid", renewal)[0]
        sig = d.headers.get("stripe-signature")
        event = stripe.Webhook.construct_event(d.body.decode("utf-8"), sig, ep.secret)
        expect(isinstance(event, stripe.Event), "expected stripe.Event, got %r" % type(event))
        eq(event.type, "invoice.paid", "type")
        invoice = event.data.object
        expect(isinstance(invoice, stripe.Invoice),
               "data.object should be a stripe.Invoice, got %r" % type(invoice))
        eq((invoice.id, invoice.billing_reason, invoice.status, invoice.amount_paid),
           (renewal, "subscription_cycle", "paid", 1800), "data.object")
        eq((invoice.customer, invoice.parent.subscription_details.subscription),
           (sub.customer, sub.id), "data.object customer and subscription")
        eq(invoice.lines.data[0].period.start, sub.current_period_end,
           "data.object.lines.data[0].period.start")
        try:
            stripe.Webhook.construct_event(d.body.decode("utf-8"), sig, random_secret())
        except stripe.SignatureVerificationError:
            pass
        else:
            raise CheckFailed("invoice.paid verified with another secret")

        first = receiver.wait_for("invoice.paid", sub.latest_invoice)[0]
        first_event = stripe.Webhook.construct_event(first.body, first.headers.get(
            "stripe-signature"), ep.secret)
        eq(first_event.data.object.billing_reason, "subscription_create",
           "billing_reason of the checkout's invoice.paid")
        ready = receiver.wait_for("test_helpers.test_clock.ready", clock.id)[0]
        ready_event = stripe.Webhook.construct_event(ready.body, ready.headers.get(
            "stripe-signature"), ep.secret)
        eq((ready_event.data.object.status, ready_event.data.object.frozen_time), ("ready", to),
           "test_helpers.test_clock.ready data.object")
    finally:
        delete_clock_quietly(clock.id)
        try:
            stripe.WebhookEndpoint.delete(ep.id)
        except stripe.StripeError:
            pass


CHECKS = [
    ("product.create", check_product_create),
    ("product.retrieve", check_product_retrieve),
    ("price.create", check_price_create),
    ("price.retrieve", check_price_retrieve),
    ("product.create.default_price_data", check_product_default_price),
    ("session.create.price", check_session_create_price),
    ("session.url.points_at_server", check_session_url_on_server),
    ("session.create.price_data", check_session_create_price_data),
    ("session.retrieve.expand_line_items", check_session_retrieve_expand_line_items),
    ("session.retrieve.expand_payment_link", check_session_expand_payment_link),
    ("session.list.filters", check_session_list_filters),
    ("session.list.auto_paging", check_session_auto_paging),
    ("session.list_line_items", check_session_list_line_items),
    ("session.update.metadata", check_session_modify_metadata),
    ("session.expire", check_session_expire),
    ("session.expire.again.code", check_session_expire_again_code),
    ("session.expire.again.invalid_request_400", check_session_expire_again_class),
    ("error.parameter_missing.line_items", check_error_missing_line_items),
    ("error.parameter_missing.currency", check_error_missing_currency),
    ("error.parameter_invalid_integer", check_error_bad_integer),
    ("error.resource_missing", check_error_unknown_id),
    ("error.authentication", check_error_wrong_key),
    ("idempotency.replay", check_idempotency_replay),
    ("idempotency.mismatch", check_idempotency_mismatch),
    ("loops_v3.sessions", check_loops_v3_sessions),
    ("loops_v3.products", check_loops_v3_products),
    ("payment_intents.list", check_payment_intents_list),
    ("python.stripe_client", check_stripe_client),
    ("webhooks.endpoint_crud", check_webhooks_endpoint_crud),
    ("webhooks.signature_stripe", check_webhooks_signature_stripe),
    ("webhooks.signature_standard", check_webhooks_signature_standard),
    ("webhooks.events_api", check_webhooks_events_api),
    ("webhooks.replay_after_500", check_webhooks_replay_after_500),
    ("test_helpers.pay", check_test_helper_pay),
    ("test_helpers.pay.decline.charges", check_test_helper_decline),
    ("subscriptions.lifecycle", check_subscription_lifecycle),
    ("payment_methods.attach.list", check_payment_methods_attach_list),
    ("billing_portal.session.create", check_billing_portal_session),
    ("test_clocks.create.retrieve.list", check_test_clocks_create_retrieve_list),
    ("test_clocks.advance.renewals", check_test_clocks_advance_renewals),
    ("test_clocks.delete", check_test_clocks_delete),
    ("subscriptions.dunning.invoice_pay", check_subscription_dunning_invoice_pay),
    ("webhooks.invoice_paid.renewal", check_webhooks_invoice_paid_renewal),
    ("refunds.partial_then_full.receipt", check_refunds_partial_then_full),
    ("webhooks.charge_refunded", check_webhooks_charge_refunded),
]


def main():
    print("stripe-python %s (API version %s), standardwebhooks %s, kassa %s"
          % (stripe.VERSION, stripe.api_version, standardwebhooks.__version__, KASSA_BIN),
          flush=True)
    server = Kassa()
    passed = failed = 0
    try:
        server.start()
        S.server = server
        print("kassa listening on %s" % server.base, flush=True)
        stripe.api_key = server.key
        stripe.api_base = server.base
        for name, fn in CHECKS:
            try:
                fn()
            except Exception as e:  # noqa: BLE001 - every failure is reported, then we go on
                failed += 1
                reason = str(e) if isinstance(e, CheckFailed) else "%s: %s" % (
                    type(e).__name__, e)
                print("FAIL %s: %s" % (name, reason.replace("\n", " ")), flush=True)
                if VERBOSE:
                    traceback.print_exc()
            else:
                passed += 1
                print("ok   %s" % name, flush=True)
    except Exception as e:  # noqa: BLE001
        failed += 1
        print("FAIL setup: %s: %s" % (type(e).__name__, e), flush=True)
    finally:
        if failed and server.proc is not None:
            tail = server.log_tail()
            if tail:
                print("--- kassa log (last lines) ---\n" + tail.rstrip(), flush=True)
        for receiver in S.receivers:
            receiver.close()
        server.stop()
    print("python: %d passed, %d failed" % (passed, failed), flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
