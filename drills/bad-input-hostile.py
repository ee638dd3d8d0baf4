#!/usr/bin/env python3
"""The bad-input drill's hand-written cases: what a generator does not send.

- NUL: a NUL character in every `{id}` path parameter, every query parameter and every
  top-level body field of every operation of /openapi.json. It must be refused (404 for a path,
  400 naming the parameter on the API surfaces), never a 5xx.
- Headers: oversized, duplicated, contradictory and non-UTF-8 headers, sent over a raw socket.
  Each must get a 4xx and leave the server answering.
- URLs: merchant URLs a browser reads differently from a naive parser (international domain
  names, credentials, templates, schemes, IP literals). Each is either refused with
  `url_invalid` naming the parameter, or accepted, and then the hosted page's CSP
  `form-action` names the URL's ASCII origin, so the redirect after payment is not blocked.

Usage: bad-input-hostile.py BASE_URL TEST_KEY SEEDED_JSON
Prints one line per failure and a summary; exits 1 on any failure.
"""

import json
import re
import socket
import sys
import urllib.parse

import requests

FAILURES: list[str] = []
COUNTS = {"nul": 0, "header": 0, "url": 0}


def fail(message: str) -> None:
    FAILURES.append(message)
    print(f"FAIL {message}")


def stripe_shaped(path: str) -> bool:
    """Surfaces whose errors carry a `param` (Loops V1 and V2 errors do not)."""
    return path.startswith("/v1/") or path.startswith("/api/v3/")


def nul_cases(base: str, key: str, ids: dict) -> None:
    """A NUL in each place of each operation: refused, named, never a 5xx."""
    document = requests.get(base + "/openapi.json", timeout=30).json()
    schemas = document["components"]["schemas"]
    api = requests.Session()
    api.headers["Authorization"] = f"Bearer {key}"

    def resolve(schema: dict) -> dict:
        if "$ref" in schema:
            return resolve(schemas[schema["$ref"].rsplit("/", 1)[1]])
        for choice in schema.get("oneOf", []):
            if choice.get("type") != "null":
                return resolve(choice)
        return schema

    def check(method: str, path: str, where: str, response: requests.Response, param: str | None) -> None:
        COUNTS["nul"] += 1
        what = f"NUL in {where} of {method.upper()} {path}: {response.status_code}"
        if response.status_code >= 500:
            fail(f"{what} {response.text[:200]}")
        elif response.status_code < 400:
            fail(f"{what} (accepted)")
        elif param and stripe_shaped(path) and response.status_code == 400:
            try:
                named = response.json().get("error", {}).get("param")
            except ValueError:
                named = f"(not JSON: {response.text[:80]!r})"
            if named != param:
                fail(f"{what}: the error names {named!r}, not {param!r}")

    for path, item in document["paths"].items():
        if path == "/v1/events/stream":
            continue
        for method, operation in item.items():
            concrete = path.replace("{id}", ids.get("session", "x"))
            if "{id}" in path:
                response = api.request(method, base + path.replace("{id}", "cs_%00x"), timeout=30)
                check(method, path, "the path", response, None)
            for parameter in operation.get("parameters", []):
                if parameter["in"] != "query":
                    continue
                name = parameter["name"]
                response = api.request(method, f"{base}{concrete}?{name}=a%00b", timeout=30)
                check(method, path, f"query {name}", response, name)
            content = operation.get("requestBody", {}).get("content", {})
            for media, body in content.items():
                properties = resolve(body.get("schema", {})).get("properties", {})
                for name, schema in properties.items():
                    if "string" not in json.dumps(resolve(schema).get("type", "")):
                        continue
                    if media == "application/json":
                        response = api.request(method, base + concrete, json={name: "a\u0000b"}, timeout=30)
                    else:
                        response = api.request(
                            method, base + concrete, data=f"{urllib.parse.quote(name)}=a%00b",
                            headers={"Content-Type": media}, timeout=30)
                    check(method, path, f"body field {name}", response, name)
                    if media == "application/x-www-form-urlencoded" and path.startswith("/v1/"):
                        # /v1 reads a body without a Content-Type as a form: checked as one.
                        # (requests sets no Content-Type for a body given as bytes.)
                        untyped = api.request(
                            method, base + concrete, data=f"{urllib.parse.quote(name)}=a%00b".encode(),
                            timeout=30)
                        check(method, path, f"untyped body field {name}", untyped, name)


def raw(base: str, request: bytes) -> str:
    """Sends `request` as is and returns the status line of the answer ('' if none)."""
    host, port = urllib.parse.urlsplit(base).netloc.rsplit(":", 1)
    # Connection: close, so that the server closes once it has answered. (Closing the
    # sending half instead would tell the server the client is gone before its answer.)
    line, rest = request.split(b"\r\n", 1)
    request = line + b"\r\nConnection: close\r\n" + rest
    with socket.create_connection((host, int(port)), timeout=10) as connection:
        connection.sendall(request)
        answer = b""
        try:
            while len(answer) < 65536:
                chunk = connection.recv(65536)
                if not chunk:
                    break
                answer += chunk
        except OSError:
            pass
    return answer.split(b"\r\n", 1)[0].decode("latin-1")


def header_cases(base: str, key: str) -> None:
    """Malformed and hostile headers: a 4xx, and the server still answers afterwards."""
    auth = f"Authorization: Bearer {key}\r\n".encode()
    host = f"Host: {urllib.parse.urlsplit(base).netloc}\r\n".encode()
    cases = {
        "a 64 KiB header": b"GET /v1/products HTTP/1.1\r\n" + host + auth + b"X-Big: " + b"a" * 65536 + b"\r\n\r\n",
        "200 headers": b"GET /v1/products HTTP/1.1\r\n" + host + auth
        + b"".join(b"X-%d: 1\r\n" % i for i in range(200)) + b"\r\n",
        "two different Content-Lengths": b"POST /v1/products HTTP/1.1\r\n" + host + auth
        + b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 6\r\nContent-Length: 9\r\n\r\nname=a",
        "Content-Length and chunked": b"POST /v1/products HTTP/1.1\r\n" + host + auth
        + b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 6\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n6\r\nname=a\r\n0\r\n\r\n",
        "a negative Content-Length": b"POST /v1/products HTTP/1.1\r\n" + host + auth
        + b"Content-Length: -1\r\n\r\n",
        "a NUL in a header": b"GET /v1/products HTTP/1.1\r\n" + host + auth + b"X-Nul: a\x00b\r\n\r\n",
        "a non-UTF-8 key": b"GET /v1/products HTTP/1.1\r\n" + host + b"Authorization: Bearer sk_test_\xff\xfe\r\n\r\n",
        "a non-UTF-8 Idempotency-Key": b"POST /v1/customers HTTP/1.1\r\n" + host + auth
        + b"Idempotency-Key: \xff\xfe\r\nContent-Length: 0\r\n\r\n",
        "a 300-character Idempotency-Key": b"POST /v1/customers HTTP/1.1\r\n" + host + auth
        + b"Idempotency-Key: " + b"k" * 300 + b"\r\nContent-Length: 0\r\n\r\n",
        "an unknown Content-Type": b"POST /v1/customers HTTP/1.1\r\n" + host + auth
        + b"Content-Type: text/x-unknown\r\nContent-Length: 6\r\n\r\nname=a",
        "a multipart body": b"POST /v1/customers HTTP/1.1\r\n" + host + auth
        + b"Content-Type: multipart/form-data; boundary=x\r\nContent-Length: 6\r\n\r\nname=a",
        "a JSON body declared as a form": b"POST /v1/customers HTTP/1.1\r\n" + host + auth
        + b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 2\r\n\r\n{}",
        "no Host on HTTP/1.1": b"GET /healthz HTTP/1.1\r\n\r\n",
        "a request line of 20 KiB": b"GET /v1/products?" + b"a" * 20480 + b" HTTP/1.1\r\n" + host + auth + b"\r\n",
        "an obsolete line folding": b"GET /v1/products HTTP/1.1\r\n" + host + auth + b"X-Fold: a\r\n b\r\n\r\n",
    }
    for name, request in cases.items():
        COUNTS["header"] += 1
        status_line = raw(base, request)
        parts = status_line.split(" ")
        status = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0
        # Both may be answered, never with a server error: a request without Host, and one
        # with both framings, which is read as chunked (RFC 9112 §6.3: Transfer-Encoding
        # overrides Content-Length) and its connection closed after the answer.
        lenient = ("no Host on HTTP/1.1", "Content-Length and chunked")
        allowed = range(200, 500) if name in lenient else range(400, 500)
        if status not in allowed:
            fail(f"header case {name}: {status_line or 'no answer'}")
        health = requests.get(base + "/healthz", timeout=5)
        if health.status_code != 200:
            fail(f"header case {name}: /healthz then answered {health.status_code}")


def url_cases(base: str, key: str, ids: dict) -> None:
    """Merchant URLs: refused with url_invalid, or accepted with a CSP that lets them through."""
    api = requests.Session()
    api.headers["Authorization"] = f"Bearer {key}"
    urls = [
        "https://bücher.example/ok",
        "https://xn--bcher-kva.example/ok",
        "https://user:secret@shop.example/ok",
        "https://shop.example:8443/ok?session={CHECKOUT_SESSION_ID}",
        "https://shop.example/ok?s=%7BCHECKOUT_SESSION_ID%7D",
        "https://[2001:db8::1]/ok",
        "https://192.0.2.7/ok",
        "https://SHOP.Example./ok",
        "https://shop.example/ok#fragment",
        "https://shop.example/ä ö",
        "https://shop .example/ok",
        "https://shop.example:99999/ok",
        "https://*.example/ok",
        "https://shop;example/ok",
        "javascript:alert(1)",
        "data:text/html,hi",
        "ftp://shop.example/ok",
        "//shop.example/ok",
        "/ok",
        "https://",
        "https://" + "a" * 5000 + ".example/ok",
    ]
    for url in urls:
        for param in ("success_url", "cancel_url"):
            COUNTS["url"] += 1
            response = api.post(base + "/v1/checkout/sessions", timeout=30, data={
                "mode": "payment", "line_items[0][price]": ids["price"], "line_items[0][quantity]": "1",
                param: url,
            })
            what = f"{param}={url[:60]!r}: {response.status_code}"
            if response.status_code == 400:
                error = response.json()["error"]
                if error.get("code") != "url_invalid" or error.get("param") != param:
                    fail(f"{what}: refused with {error.get('code')}/{error.get('param')}, not url_invalid/{param}")
                continue
            if response.status_code != 200:
                fail(f"{what} {response.text[:200]}")
                continue
            session = response.json()
            page = requests.get(session["url"], timeout=30)
            policy = page.headers.get("Content-Security-Policy", "")
            form_action = re.search(r"form-action ([^;]*)", policy)
            sources = form_action.group(1).split() if form_action else []
            parsed = urllib.parse.urlsplit(url.replace("{CHECKOUT_SESSION_ID}", "cs"))
            try:
                host = parsed.hostname.encode("idna").decode() if parsed.hostname else ""
            except UnicodeError:
                fail(f"{what}: accepted, but its host has no ASCII form")
                continue
            if not any(host.rstrip(".") in source for source in sources):
                fail(f"{what}: the page's form-action {sources} does not name {host}")


def main(base: str, key: str, seeded: str) -> None:
    with open(seeded, encoding="utf-8") as file:
        ids = json.load(file)
    nul_cases(base, key, ids)
    header_cases(base, key)
    url_cases(base, key, ids)
    print(f"hand-written cases: {COUNTS['nul']} NUL, {COUNTS['header']} header, {COUNTS['url']} URL; "
          f"failed: {len(FAILURES)}")
    sys.exit(1 if FAILURES else 0)


if __name__ == "__main__":
    if len(sys.argv) != 4:
        raise SystemExit(__doc__)
    main(*sys.argv[1:])
