#!/usr/bin/env python3
"""Starts moto's S3 server for Kiln's storage tests, with signature checking switched on.

Runs `python3 -m moto.server -H 127.0.0.1 -p PORT` on a free loopback port, waits (bounded)
until it answers, creates an IAM user with an access key allowed s3:* and a bucket, and
prints one JSON line: {"endpoint", "bucket", "access_key_id", "secret_access_key", "pid"}.
From then on every request must be signed by that key (INITIAL_NO_AUTH_ACTION_COUNT covers
exactly the set-up calls). The server stops when this script's standard input closes.
"""
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request

import boto3

SETUP_CALLS = 4  # CreateUser, CreateAccessKey, PutUserPolicy, CreateBucket
BUCKET = "kiln-test"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_ready(endpoint, seconds=30):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(endpoint + "/moto-api/", timeout=1).read()
            return
        except Exception:
            time.sleep(0.05)
    sys.exit(f"moto did not answer on {endpoint} within {seconds} s")


def main():
    port = free_port()
    env = dict(os.environ, INITIAL_NO_AUTH_ACTION_COUNT=str(SETUP_CALLS))
    server = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        endpoint = f"http://127.0.0.1:{port}"
        wait_ready(endpoint)
        setup = dict(endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="setup",
                     aws_secret_access_key="setup")
        iam = boto3.client("iam", **setup)
        iam.create_user(UserName="kiln")
        key = iam.create_access_key(UserName="kiln")["AccessKey"]
        iam.put_user_policy(UserName="kiln", PolicyName="s3", PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}))
        boto3.client("s3", **setup).create_bucket(Bucket=BUCKET)
        print(json.dumps({"endpoint": endpoint, "bucket": BUCKET, "access_key_id": key["AccessKeyId"],
                          "secret_access_key": key["SecretAccessKey"], "pid": server.pid}), flush=True)
        sys.stdin.read()  # until the test closes our input
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()


if __name__ == "__main__":
    main()
