"""A real S3-compatible server for the tests and benchmarks: moto's server mode, in a
process of its own on 127.0.0.1, with credentials checked.

moto checks signatures only after its first `INITIAL_NO_AUTH_ACTION_COUNT` requests,
and only for keys its IAM knows: the first requests make a user allowed everything on
S3, its access key and the bucket; from then on a wrong key or secret is refused as
AWS refuses it (403 InvalidAccessKeyId / SignatureDoesNotMatch).

moto's checking mode cannot read a presigned URL (it looks for an Authorization
header and fails with 500), so a server that checks keys serves no links: the tests
of links use one that does not (`check_keys=False`, the default), where any key is
taken, as moto always does without IAM.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from typing import Any

BUCKET = "podops-test"
SETUP_REQUESTS = 7  # CreateUser, PutUserPolicy, CreateAccessKey (twice), CreateBucket
REGION = "us-east-1"


@dataclass(frozen=True)
class S3Keys:
    access_key_id: str
    secret_access_key: str


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_listening(port: int, process: subprocess.Popen[bytes], timeout_s: float = 30) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("the S3 server (moto) exited at start-up")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("the S3 server (moto) did not start listening")


class S3Server:
    """`with S3Server() as s3:` gives `s3.endpoint`, `s3.keys` and the bucket `BUCKET`."""

    def __init__(self, bucket: str = BUCKET, *, check_keys: bool = False) -> None:
        self.bucket = bucket
        self.check_keys = check_keys
        self.port = _free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.keys = S3Keys("", "")
        self.reader_keys = S3Keys("", "")
        """With `check_keys`: keys that may list and read the bucket, not write it."""
        self._process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> S3Server:
        env = dict(os.environ)
        if self.check_keys:
            env["INITIAL_NO_AUTH_ACTION_COUNT"] = str(SETUP_REQUESTS)
        self._process = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=None if os.environ.get("PODOPS_S3_DEBUG") else subprocess.DEVNULL,
        )
        try:
            _wait_listening(self.port, self._process)
            self.keys = self._set_up()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()

    def _set_up(self) -> S3Keys:
        import boto3  # moto's own dependency: the server's administration only

        admin = {
            "endpoint_url": self.endpoint,
            "region_name": REGION,
            "aws_access_key_id": "setup",
            "aws_secret_access_key": "setup",
        }
        if not self.check_keys:
            boto3.client("s3", **admin).create_bucket(Bucket=self.bucket)
            return S3Keys("podops-test-key", "podops-test-secret")
        iam = boto3.client("iam", **admin)
        iam.create_user(UserName="podops")
        policy = {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}],
        }
        iam.put_user_policy(UserName="podops", PolicyName="s3", PolicyDocument=json.dumps(policy))
        key = iam.create_access_key(UserName="podops")["AccessKey"]
        self.reader_keys = self._reader(iam)
        boto3.client("s3", **admin).create_bucket(Bucket=self.bucket)
        return S3Keys(key["AccessKeyId"], key["SecretAccessKey"])

    def _reader(self, iam: Any) -> S3Keys:
        """A user allowed to list and read the bucket, whose writes are refused (403)."""
        iam.create_user(UserName="reader")
        policy = {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Action": ["s3:ListBucket", "s3:GetObject"], "Resource": "*"}
            ],
        }
        iam.put_user_policy(UserName="reader", PolicyName="s3", PolicyDocument=json.dumps(policy))
        key = iam.create_access_key(UserName="reader")["AccessKey"]
        return S3Keys(key["AccessKeyId"], key["SecretAccessKey"])
