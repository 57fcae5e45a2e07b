#!/usr/bin/env python3
"""Starts a throwaway PostgreSQL cluster for Kiln's queue tests.

`initdb` (as the `postgres` user when run as root, which initdb refuses) into a temporary
directory, then `postgres` on a free loopback port with its socket in that directory, with a
password for user `kiln` and a database `kiln`. Waits (bounded) until it accepts
connections, then prints one JSON line: {"url", "port", "pid"}. When this script's standard
input closes, the cluster stops (immediate shutdown) and its directory is removed.
"""
import glob
import json
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
import time

# Debian's server binaries (not on PATH): the newest version installed.
BIN = max(glob.glob("/usr/lib/postgresql/*/bin") or ["/usr/lib/postgresql/15/bin"],
          key=lambda path: int(path.split("/")[-2]))
PASSWORD = "kiln-test"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def as_postgres(arguments, **kwargs):
    if os.geteuid() == 0:
        arguments = ["runuser", "-u", "postgres", "--"] + arguments
    return subprocess.run(arguments, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, **kwargs)


def main():
    root = tempfile.mkdtemp(prefix="kiln-pg-")
    data = os.path.join(root, "data")
    if os.geteuid() == 0:
        user = pwd.getpwnam("postgres")
        os.chown(root, user.pw_uid, user.pw_gid)
    server = None
    try:
        with tempfile.NamedTemporaryFile("w", dir=root, delete=False) as secret:
            secret.write(PASSWORD)
        os.chmod(secret.name, 0o644)
        as_postgres([BIN + "/initdb", "-D", data, "-U", "kiln", "--pwfile", secret.name, "-A", "scram-sha-256",
                     "--no-sync", "-E", "UTF8", "--locale", "C"])
        port = free_port()
        command = [BIN + "/postgres", "-D", data, "-p", str(port), "-k", root, "-c", "listen_addresses=127.0.0.1",
                   "-c", "fsync=off", "-c", "max_connections=200", "-c", "shared_buffers=32MB"]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--"] + command
        server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while subprocess.run([BIN + "/pg_isready", "-q", "-h", "127.0.0.1", "-p", str(port)]).returncode != 0:
            if time.monotonic() > deadline or server.poll() is not None:
                sys.exit("postgres did not accept connections within 60 s")
            time.sleep(0.05)
        env = dict(os.environ, PGPASSWORD=PASSWORD)
        subprocess.run(["psql", "-q", "-h", "127.0.0.1",
                        "-p", str(port), "-U", "kiln", "-d", "postgres", "-c", "CREATE DATABASE kiln"],
                       check=True, env=env, stdout=subprocess.DEVNULL)
        # The postmaster's pid (runuser forks it), for tests that kill the server.
        with open(os.path.join(data, "postmaster.pid")) as pidfile:
            pid = int(pidfile.readline())
        print(json.dumps({"url": f"postgres://kiln:{PASSWORD}@127.0.0.1:{port}/kiln", "port": port, "pid": pid}),
              flush=True)
        sys.stdin.read()  # until the test closes our input
    finally:
        if server is not None:
            try:
                as_postgres([BIN + "/pg_ctl", "-D", data, "-m", "immediate", "-w", "-t", "30", "stop"])
            except Exception:
                server.kill()
            server.wait(timeout=30)
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
