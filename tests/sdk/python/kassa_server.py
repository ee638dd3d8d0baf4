"""One `kassa serve` on a fresh database with one account's keys, for the Python suites."""

import json
import os
import queue
import re
import shutil
import subprocess
import tempfile
import threading
import time

KASSA_BIN = os.environ.get("KASSA_BIN") or os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "target", "debug", "kassa")

LISTEN_RE = re.compile(r"kassa is listening on (http://\S+)")


class Kassa:
    """One kassa process on a fresh database, with one account's test key."""

    def __init__(self):
        self.tmp = tempfile.mkdtemp(prefix="kassa-python-")
        self.db_url = os.environ.get("KASSA_TEST_DATABASE_URL") or (
            "sqlite://" + os.path.join(self.tmp, "kassa.db")
        )
        self.proc = None
        self.log_path = os.path.join(self.tmp, "kassa.log")
        self.base = None
        self.key = None
        self.live_key = None

    def start(self):
        out = subprocess.run(
            [KASSA_BIN, "account", "create", "--name", "SDK test", "--json",
             "--database-url", self.db_url],
            capture_output=True, text=True, timeout=120,
        )
        if out.returncode != 0:
            raise RuntimeError("kassa account create failed: %s" % out.stderr.strip())
        account = json.loads(out.stdout.strip().splitlines()[-1])
        self.key = account["test_secret_key"]
        self.live_key = account["live_secret_key"]

        log = open(self.log_path, "w")
        self.proc = subprocess.Popen(
            [KASSA_BIN, "serve", "--addr", "127.0.0.1:0", "--database-url", self.db_url],
            stdout=subprocess.PIPE, stderr=log, text=True, bufsize=1,
        )
        lines = queue.Queue()

        def pump():
            # Keep draining stdout so the server never blocks on a full pipe.
            for line in self.proc.stdout:
                lines.put(line)
            lines.put(None)

        threading.Thread(target=pump, daemon=True).start()
        deadline = time.monotonic() + 60
        while self.base is None:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise RuntimeError("kassa did not report its address within 60 s")
            try:
                line = lines.get(timeout=remaining)
            except queue.Empty:
                continue
            if line is None:
                raise RuntimeError("kassa serve exited early:\n" + self.log_tail())
            m = LISTEN_RE.search(line)
            if m:
                self.base = m.group(1).rstrip("/")

    def log_tail(self, n=40):
        try:
            with open(self.log_path) as f:
                return re.sub(r"\x1b\[[0-9;]*m", "", "".join(f.readlines()[-n:]))
        except OSError:
            return ""

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        shutil.rmtree(self.tmp, ignore_errors=True)
