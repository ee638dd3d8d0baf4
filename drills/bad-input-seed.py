#!/usr/bin/env python3
"""Seeds a fresh kassa server for the bad-input drill and writes the schemathesis config.

Creates a product with a price, a second price, a payment link, checkout sessions, a customer
and a webhook endpoint through the API, signs in to the dashboard, and writes a
schemathesis.toml that sends the test key and the dashboard cookie with every request and pins
each `{id}` path parameter to a real object, so the fuzzer reaches the code behind the lookups
instead of answering 404 to random ids.

Usage: bad-input-seed.py BASE_URL TEST_KEY DASHBOARD_EMAIL DASHBOARD_PASSWORD OUT_TOML
"""

import json
import re
import sys

import requests


def main(base: str, key: str, email: str, password: str, out: str) -> None:
    api = requests.Session()
    api.headers["Authorization"] = f"Bearer {key}"

    def call(method: str, path: str, **kwargs) -> dict:
        response = api.request(method, base + path, timeout=30, **kwargs)
        if response.status_code >= 300:
            raise SystemExit(f"seeding failed: {method} {path}: {response.status_code} {response.text}")
        return response.json()

    product = call("POST", "/api/v3/products", json={
        "name": "Drill product", "amountType": "FIXED", "priceAmount": "19.99", "priceCurrency": "usd",
        "metadata": {"drill": "bad-input"},
    })
    price = call("POST", "/v1/prices", data={
        "product": product["id"], "currency": "eur", "unit_amount": "2500", "nickname": "drill",
    })
    link = call("POST", "/api/v3/payment-links", json={
        "line_items": [{"price": product["default_price"], "quantity": 1}],
    })
    session = call("POST", "/api/v3/checkout/sessions", json={
        "line_items": [{"price": price["id"], "quantity": 2}],
        "success_url": "https://example.com/success", "cancel_url": "https://example.com/cancel",
    })
    loops_session = call("POST", "/api/v2/checkout/sessions", json={
        "productId": product["id"], "successUrl": "https://example.com/success",
    })
    customer = call("POST", "/v1/customers", data={"email": "drill@example.com", "name": "Drill"})
    endpoint = call("POST", "/api/v3/webhook-endpoints", json={
        "url": "http://127.0.0.1:9/drill", "enabled_events": ["*"],
    })
    events = call("GET", "/v1/events?limit=1")
    event = events["data"][0]["id"]

    # The sign-in form's CSRF token comes with the form (and its cookie, kept by the session).
    browser = requests.Session()
    form = browser.get(base + "/dashboard/sign-in", timeout=30)
    token = re.search(r'name="csrf" value="([^"]+)"', form.text)
    if not token:
        raise SystemExit(f"no CSRF token on the sign-in form: {form.status_code}")
    signed = browser.post(base + "/dashboard/sign-in",
                          data={"csrf": token.group(1), "email": email, "password": password},
                          allow_redirects=False, timeout=30)
    cookie = signed.cookies.get("kassa_dashboard")
    if signed.status_code != 303 or not cookie:
        raise SystemExit(f"dashboard sign-in failed: {signed.status_code}")

    ids = {
        "session": session["id"],
        "loops_session": loops_session["id"],
        "product": product["id"],
        "price": price["id"],
        "link": link["id"],
        "customer": customer["id"],
        "endpoint": endpoint["id"],
        "event": event,
    }
    # Path templates (regular expressions) and the object their {id} names.
    pins = [
        (r"^/api/v[12]/checkout/sessions/\{id\}", "loops_session"),
        (r"^/api/v3/checkout/sessions/\{id\}", "session"),
        (r"^/v1/checkout/sessions/\{id\}", "session"),
        (r"^/checkout/\{id\}", "session"),
        (r"^/dashboard/sessions/\{id\}", "session"),
        (r"^/api/v[23]/products/\{id\}", "product"),
        (r"^/v1/products/\{id\}", "product"),
        (r"^/dashboard/products/\{id\}", "product"),
        (r"^/v1/prices/\{id\}", "price"),
        (r"^/api/v3/payment-links/\{id\}", "link"),
        (r"^/v1/payment_links/\{id\}", "link"),
        (r"^/l/\{id\}", "link"),
        (r"^/dashboard/links/\{id\}", "link"),
        (r"^/v1/customers/\{id\}", "customer"),
        (r"^/api/v3/webhook-endpoints/\{id\}", "endpoint"),
        (r"^/v1/webhook_endpoints/\{id\}", "endpoint"),
        (r"^/dashboard/webhooks/\{id\}", "endpoint"),
        (r"^/api/v3/events/\{id\}", "event"),
        (r"^/v1/events/\{id\}", "event"),
    ]
    lines = [
        "# Written by drills/bad-input-seed.py for one drill run.",
        "[headers]",
        f'Authorization = "Bearer {key}"',
        f'Cookie = "kassa_dashboard={cookie}"',
        "",
    ]
    for pattern, name in pins:
        lines += [
            "[[operations]]",
            f"include-path-regex = {json.dumps(pattern)}",
            f'parameters = {{ "path.id" = {json.dumps(ids[name])} }}',
            "",
        ]
    with open(out, "w", encoding="utf-8") as config:
        config.write("\n".join(lines))
    print(json.dumps(ids))


if __name__ == "__main__":
    if len(sys.argv) != 6:
        raise SystemExit(__doc__)
    main(*sys.argv[1:])
