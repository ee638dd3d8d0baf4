#!/usr/bin/env python3
"""A client generated from kassa's own /openapi.json runs a whole checkout.

Starts `kassa serve` on a fresh database, validates its /openapi.json with
openapi-spec-validator, generates a Python client from it with openapi-python-client, checks
generated_checkout.py against the generated package with `mypy --strict` (typed fields, not
dictionaries), then runs that checkout through the V3 JSON surface. Prints one line per check
(`ok`/`FAIL`), then `generated: N passed, N failed`, and exits non-zero when any check failed.

Environment:
  KASSA_BIN                 the kassa binary (default target/debug/kassa)
  KASSA_TEST_DATABASE_URL   database URL to use instead of a fresh SQLite file (must be empty)
"""

import importlib
import json
import os
import subprocess
import sys
import tempfile
import urllib.request

from openapi_spec_validator import validate

from kassa_server import Kassa  # beside this file

HERE = os.path.dirname(os.path.abspath(__file__))
BIN = os.path.dirname(sys.executable)


def run(command: list[str], what: str) -> None:
    out = subprocess.run(command, capture_output=True, text=True, timeout=600)
    if out.returncode != 0:
        raise RuntimeError(f"{what} failed:\n{out.stdout}{out.stderr}")


def generate(base: str, work: str) -> None:
    """Fetches and validates the document, then generates `kassa_client` into `work`."""
    with urllib.request.urlopen(base + "/openapi.json", timeout=30) as answer:
        document = json.load(answer)
    validate(document)
    path = os.path.join(work, "openapi.json")
    with open(path, "w") as f:
        json.dump(document, f)
    run([os.path.join(BIN, "openapi-python-client"), "generate", "--path", path, "--meta", "none",
         "--output-path", os.path.join(work, "kassa_client")], "openapi-python-client")


def type_check(work: str) -> None:
    """`mypy --strict` on the checkout, with the generated package's types (its own code is
    the generator's, so only the checkout's errors count)."""
    env = dict(os.environ, MYPYPATH=work)
    out = subprocess.run(
        [os.path.join(BIN, "mypy"), "--strict", "--follow-imports=silent", "--no-incremental",
         os.path.join(HERE, "generated_checkout.py")],
        capture_output=True, text=True, timeout=600, env=env)
    if out.returncode != 0:
        raise RuntimeError("mypy --strict found errors:\n" + out.stdout + out.stderr)


def main() -> int:
    server = Kassa()
    passed = failed = 0
    work = tempfile.mkdtemp(prefix="kassa-generated-")

    def report(name: str, error: Exception | None) -> None:
        nonlocal passed, failed
        if error is None:
            passed += 1
            print("ok   %s" % name, flush=True)
        else:
            failed += 1
            print("FAIL %s: %s" % (name, str(error).replace("\n", " | ")), flush=True)

    try:
        server.start()
        print("kassa listening on %s" % server.base, flush=True)
        for name, step in [("document_validates_and_generates", lambda: generate(server.base, work)),
                           ("checkout_type_checks_with_mypy_strict", lambda: type_check(work))]:
            try:
                step()
                report(name, None)
            except Exception as e:  # noqa: BLE001 - every failure is reported
                report(name, e)
        if failed == 0:
            sys.path.insert(0, work)
            from kassa_client import AuthenticatedClient
            checkout = importlib.import_module("generated_checkout")
            client = AuthenticatedClient(base_url=server.base, token=server.key,
                                         raise_on_unexpected_status=True)
            for name, check in checkout.checks(client, server.base):
                try:
                    check()
                    report(name, None)
                except Exception as e:  # noqa: BLE001
                    report(name, e)
    except Exception as e:  # noqa: BLE001
        report("setup", e)
    finally:
        if failed and server.proc is not None:
            print("--- kassa log (last lines) ---\n" + server.log_tail().rstrip(), flush=True)
        server.stop()
    print("generated: %d passed, %d failed" % (passed, failed), flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
