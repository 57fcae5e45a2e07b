#!/usr/bin/env python3
"""Interchangeable API nodes (issue 22): what keeping the state in PostgreSQL and the bytes in
the bucket costs, on a throwaway PostgreSQL cluster and moto's S3 (both started here).

(a) The per-request cost of authentication and the rate limit: authenticated requests that do
    nothing else (GET of a missing item, 404), one after another on one keep-alive connection,
    against a node on the embedded SQLite state and a node on PostgreSQL.
(b) Image upload throughput (12 MP JPEG, each copy distinct, concurrency 4) through two API
    nodes on one PostgreSQL and one bucket, against all of it through one of them. On this
    2-core machine both nodes share the same two cores: the ratio shows the overhead of the
    second node, not the scale-out a second machine gives.
(c) tus chunk throughput: a 50 MB video in 8 MiB chunks, to a node that keeps chunks on its
    disk (embedded) against one that puts each chunk into the bucket.

Needs the release build and benchmarks/.inputs (benchmarks/run.sh makes both). BENCH_REQUESTS
(default 2000) sets the requests in (a), BENCH_UPLOADS (default 24) the uploads in (b).
"""
import concurrent.futures
import http.client
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import serve_bench  # noqa: E402  (Server, distinct_jpeg, KILN, INPUTS)

ROOT = serve_bench.ROOT
REQUESTS = int(os.environ.get("BENCH_REQUESTS", "2000"))
UPLOADS = int(os.environ.get("BENCH_UPLOADS", "24"))


def helper(script):
    """Starts a Tests/Support harness; its JSON line, and the process (it stops when stdin closes)."""
    proc = subprocess.Popen([sys.executable, os.path.join(ROOT, "Tests/Support", script)], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    return json.loads(proc.stdout.readline()), proc


def new_database(url):
    name = f"bench{int(time.time() * 1000)}"
    subprocess.run(["psql", "-q", url, "-c", f"CREATE DATABASE {name}"], check=True)
    return url.rsplit("/", 1)[0] + "/" + name + "?sslmode=disable"


def connection(server):
    host, port = server.url.removeprefix("http://").split(":")
    return http.client.HTTPConnection(host, int(port), timeout=60)


def auth_cost(scratch, shared):
    def per_request(server):
        conn = connection(server)
        path = "/v1/media/" + "0" * 64
        headers = {"Authorization": f"Bearer {server.key}"}
        for _ in range(50):  # warm-up: connections, caches
            conn.request("GET", path, headers=headers)
            conn.getresponse().read()
        times = []
        for _ in range(REQUESTS):
            start = time.perf_counter()
            conn.request("GET", path, headers=headers)
            answer = conn.getresponse()
            answer.read()
            times.append(time.perf_counter() - start)
            if answer.status != 404:
                sys.exit(f"expected 404, got {answer.status}")
        return statistics.median(times), statistics.fmean(times)

    embedded = serve_bench.Server(scratch)
    try:
        local = per_request(embedded)
    finally:
        embedded.stop()
    node = serve_bench.Server(scratch, args=["--database", shared])
    try:
        pg = per_request(node)
    finally:
        node.stop()
    print(f"\n(a) an authenticated, rate-limited request that does nothing else ({REQUESTS} in a row, keep-alive)")
    print(f"  {'embedded SQLite state':<26} median {local[0] * 1000:6.2f} ms   mean {local[1] * 1000:6.2f} ms")
    print(f"  {'PostgreSQL state':<26} median {pg[0] * 1000:6.2f} ms   mean {pg[1] * 1000:6.2f} ms"
          f"   (+{(pg[0] - local[0]) * 1000:.2f} ms a request: the key read and the rate-limit upsert)")


def upload_throughput(scratch, shared, bucket_env):
    args = ["--database", shared, "--storage", "r2"]
    nodes = [serve_bench.Server(scratch, env=bucket_env, args=args)]
    try:
        nodes.append(serve_bench.Server(scratch, env=bucket_env, args=args))
        key = nodes[0].key  # the first node made the first key; the second finds one and makes none
        copies = serve_bench.distinct_jpeg(os.path.join(serve_bench.INPUTS, "12mp.jpg"), tempfile.mkdtemp(dir=scratch),
                                           3 * UPLOADS)

        def run(targets, paths):
            def one(item):
                index, path = item
                server = targets[index % len(targets)]
                code = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "-H",
                                       f"Authorization: Bearer {key}", "-F", f"file=@{path}", server.url + "/v1/media"],
                                      capture_output=True, text=True).stdout
                if code not in ("201", "200"):
                    sys.exit(f"upload answered {code}")
            return serve_bench.timed(one, list(enumerate(paths)), 4)

        run(nodes, copies[:UPLOADS])  # warm-up
        one_node = run(nodes[:1], copies[UPLOADS:2 * UPLOADS])
        two_nodes = run(nodes, copies[2 * UPLOADS:])
    finally:
        for node in nodes:
            node.stop()
    print(f"\n(b) 12 MP JPEG uploads, concurrency 4, PostgreSQL state and the bucket (moto), {UPLOADS} each")
    print(f"  {'one API node':<26} {UPLOADS / one_node:6.2f} uploads/s")
    print(f"  {'two API nodes, alternating':<26} {UPLOADS / two_nodes:6.2f} uploads/s   {one_node / two_nodes:.2f}x"
          "   (one 2-core machine: the overhead of a second node, not the scale of a second machine)")


def tus_throughput(scratch, shared, bucket_env):
    video = os.path.join(serve_bench.INPUTS, "h264-40mbps-reel.mp4")
    size = os.path.getsize(video)
    chunk = 8 << 20

    def upload(server):
        conn = connection(server)
        headers = {"Authorization": f"Bearer {server.key}", "Tus-Resumable": "1.0.0", "Upload-Length": str(size),
                   "Upload-Metadata": "filename cmVlbC5tcDQ=,preset ZGVmYXVsdA=="}
        conn.request("POST", "/v1/uploads", headers=headers)
        created = conn.getresponse()
        created.read()
        location = created.getheader("Location")
        start = time.perf_counter()
        with open(video, "rb") as f:
            offset = 0
            while offset < size:
                body = f.read(chunk)
                conn.request("PATCH", location, body=body, headers={
                    "Authorization": f"Bearer {server.key}", "Tus-Resumable": "1.0.0", "Upload-Offset": str(offset),
                    "Content-Type": "application/offset+octet-stream"})
                answer = conn.getresponse()
                answer.read()
                if answer.status != 204:
                    sys.exit(f"a chunk answered {answer.status}")
                offset += len(body)
        return size / (time.perf_counter() - start) / 1e6

    results = {}
    for label, env, args in (("chunks on the node's disk", None, []),
                             ("chunks in the bucket", bucket_env, ["--database", shared, "--storage", "r2"])):
        server = serve_bench.Server(scratch, env=env, args=args)
        try:
            upload(server)  # warm-up
            results[label] = statistics.median(upload(server) for _ in range(3))
        finally:
            server.stop()
    print(f"\n(c) tus: a {size / 1e6:.0f} MB video in 8 MiB chunks (median of 3; the last chunk queues its job)")
    disk, bucket = results["chunks on the node's disk"], results["chunks in the bucket"]
    print(f"  {'chunks on the node disk':<26} {disk:7.1f} MB/s")
    print(f"  {'chunks in the bucket (moto)':<26} {bucket:7.1f} MB/s   {bucket / disk:.2f}x")


def main():
    scratch = tempfile.mkdtemp(prefix="kiln-scale-bench-")
    cluster, cluster_proc = helper("postgres_cluster.py")
    moto, moto_proc = helper("moto_s3.py")
    bucket_env = {"KILN_R2_ENDPOINT": moto["endpoint"], "KILN_R2_BUCKET": moto["bucket"],
                  "KILN_R2_ACCESS_KEY_ID": moto["access_key_id"], "KILN_R2_SECRET_ACCESS_KEY": moto["secret_access_key"]}
    try:
        auth_cost(scratch, new_database(cluster["url"]))
        upload_throughput(scratch, new_database(cluster["url"]), bucket_env)
        tus_throughput(scratch, new_database(cluster["url"]), bucket_env)
    finally:
        for proc in (cluster_proc, moto_proc):
            proc.stdin.close()
            proc.wait(timeout=60)


if __name__ == "__main__":
    main()
