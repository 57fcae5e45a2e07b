#!/usr/bin/env python3
"""Names the tests a stopped `swift test` run had started and not ended.

Reads Swift Testing's event stream (`--event-stream-output-path FILE --event-stream-version 0`,
one JSON record a line, written as the run goes): when the run is stopped by `make test`'s
time limit, this says which tests were still running (a hang) and for how long.
"""
import json
import sys


def main(path: str) -> int:
    started: dict[str, tuple[float, str]] = {}
    last = 0.0
    try:
        lines = open(path, encoding="utf-8", errors="replace").read().splitlines()
    except OSError as error:
        print(f"no test events to read ({error})")
        return 0
    for line in lines:
        try:
            record = json.loads(line)
        except ValueError:
            continue  # the last line of a stopped run may be cut short
        if record.get("kind") != "event":
            continue
        event = record.get("payload", {})
        kind, test = event.get("kind"), event.get("testID")
        when = event.get("instant", {}).get("absolute", 0.0)
        last = max(last, when)
        if test is None:
            continue
        case = (event.get("_testCase") or {}).get("id", "")
        key = test + "\u0000" + case
        if kind in ("testStarted", "testCaseStarted"):
            text = " ".join(m.get("text", "") for m in event.get("messages", []))
            if not text.startswith("Suite "):  # a suite runs while its tests do: they are named
                started[key] = (when, text or test)
        elif kind in ("testEnded", "testCaseEnded", "testSkipped"):
            started.pop(key, None)
    if not started:
        print("every test that started has ended")
        return 0
    print(f"still running when the run was stopped ({len(started)}):")
    for when, text in sorted(started.values()):
        print(f"  {last - when:7.1f} s  {text}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
