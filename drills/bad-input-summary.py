#!/usr/bin/env python3
"""Summarizes a schemathesis ndjson report for the bad-input drill.

Prints the number of requests, operations and failures, and one line per distinct failure
(check, operation, title and the first lines of its message). Exits 1 when any check failed
or any operation errored, 0 otherwise.
"""

import collections
import json
import sys


def main(path: str) -> int:
    requests = 0
    operations = set()
    selected = 0
    failures = collections.OrderedDict()
    errors = []
    statuses = collections.Counter()
    with open(path, encoding="utf-8") as report:
        for line in report:
            event = json.loads(line)
            if "LoadingFinished" in event:
                selected = event["LoadingFinished"]["statistic"]["operations"]["selected"]
            elif "ScenarioFinished" in event:
                scenario = event["ScenarioFinished"]
                recorder = scenario.get("recorder") or {}
                label = recorder.get("label")
                if label:
                    operations.add(label)
                for interaction in (recorder.get("interactions") or {}).values():
                    response = interaction.get("response")
                    requests += 1
                    if response:
                        statuses[response["status_code"]] += 1
                for case_id, checks in (recorder.get("checks") or {}).items():
                    for check in checks:
                        if check.get("status") != "failure":
                            continue
                        info = (check.get("failure_info") or {}).get("failure") or {}
                        message = (info.get("message") or "").strip().splitlines()
                        key = (check["name"], label, info.get("title"), " | ".join(message[:3])[:300])
                        if key not in failures:
                            case = (recorder.get("cases") or {}).get(case_id, {}).get("value", {})
                            failures[key] = [0, case]
                        failures[key][0] += 1
            elif "NonFatalError" in event:
                error = event["NonFatalError"]
                errors.append((error.get("label"), (error.get("info") or {}).get("title"), str(error.get("value"))[:300]))
            elif "FatalError" in event:
                errors.append(("fatal", "", str(event["FatalError"])[:500]))
    print(f"requests:   {requests}")
    print(f"operations: {selected}")
    print("statuses:   " + ", ".join(f"{code}: {count}" for code, count in sorted(statuses.items())))
    print(f"failures:   {len(failures)} distinct ({sum(n for n, _ in failures.values())} failing checks)")
    print(f"errors:     {len(errors)}")
    server_errors = sum(count for code, count in statuses.items() if code >= 500)
    print(f"5xx:        {server_errors}")
    for (check, label, title, message), (count, case) in failures.items():
        print(f"  FAIL {check}  {label}  {title}  x{count}")
        if message:
            print(f"       {message}")
        if "-v" in sys.argv:
            shown = {k: case.get(k) for k in ("path_parameters", "query", "body", "headers", "media_type") if case.get(k)}
            print(f"       case: {json.dumps(shown)[:600]}")
    for label, title, value in errors:
        print(f"  ERROR {label}  {title}  {value}")
    return 1 if failures or errors or server_errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
