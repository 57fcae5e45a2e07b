#!/usr/bin/env python3
"""Runs `swift test` under a time limit, and leaves nothing running behind it.

    run_tests.py SECONDS EVENTS -- swift test --skip-build ...

The command runs in a session of its own, its output written a line at a time (stdbuf), with
Swift Testing's event stream going to EVENTS. If it is not done in SECONDS, the tests still
running are named (a hang says where it is) and the run fails. Either way every process left
in the session is then killed: the test binary (`swift test` starts it in a process group of
its own, so killing `swift test` alone leaves it running) and any helper server a test
started and did not stop.
"""
import os
import signal
import subprocess
import sys
import time

import unfinished_tests


def session_members(sid: int) -> list[int]:
    members = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                # pid (comm) state ppid pgrp session ...: comm may hold spaces, so split after it.
                fields = stat.read().rsplit(")", 1)[1].split()
            if int(fields[3]) == sid:
                members.append(int(entry))
        except (OSError, IndexError, ValueError):
            continue
    return members


def kill_session(sid: int) -> int:
    members = session_members(sid)
    for pid in members:
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
    return len(members)


def main() -> int:
    seconds, events = float(sys.argv[1]), sys.argv[2]
    command = sys.argv[sys.argv.index("--") + 1:]
    command = ["stdbuf", "-oL", "-eL"] + command + [
        "--event-stream-output-path", events, "--event-stream-version", "0"]
    if os.path.exists(events):
        os.remove(events)
    started = time.monotonic()
    child = subprocess.Popen(command, start_new_session=True)
    try:
        status = child.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        print(f"\nthe tests did not finish within {seconds:.0f} s", flush=True)
        unfinished_tests.main(events)
        kill_session(child.pid)
        child.wait()
        return 124
    # Helpers stop once their input closes (the test process has exited): a few seconds for
    # them to clean up (a PostgreSQL cluster removes its folder), then whatever is left is killed.
    deadline = time.monotonic() + 15
    while session_members(child.pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    left = kill_session(child.pid)
    if left:
        print(f"stopped {left} process(es) the tests left running", flush=True)
    if status != 0:
        unfinished_tests.main(events)
    print(f"tests ran {time.monotonic() - started:.0f} s", flush=True)
    return status


if __name__ == "__main__":
    sys.exit(main())
