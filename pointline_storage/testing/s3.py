"""A real S3 endpoint for tests: ``moto_server`` in its own process, and pytest fixtures.

Opt in from a ``conftest.py`` (it is never loaded automatically)::

    pytest_plugins = ["pointline_storage.testing.s3"]

It needs ``pointline-storage[s3-testing]`` (moto's server and boto3). The server runs as a
separate process, not moto's in-process ``ThreadedMotoServer``: engine calls that hold the
GIL can deadlock a server thread in the same interpreter.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from types import TracebackType
from typing import Any

import pytest

#: The bucket the ``s3_bucket`` fixture creates.
TEST_BUCKET = "pointline-test"
#: Credentials moto accepts when it does not check them.
TEST_ACCESS_KEY_ID = "testing-access-key"
TEST_SECRET_ACCESS_KEY = "testing-secret-key"
TEST_REGION = "us-east-1"
STARTUP_TIMEOUT_SECONDS = 60.0


class MotoServer:
    """A ``moto_server`` process on 127.0.0.1, on a free port.

    Args:
        check_credentials: Start with moto's IAM authentication on, and create one user
            whose keys (``access_key_id``, ``secret_access_key``) are the only valid ones.
    """

    def __init__(self, *, check_credentials: bool = False) -> None:
        self.check_credentials = check_credentials
        self.port = _free_port()
        self.endpoint_url = f"http://127.0.0.1:{self.port}"
        self.access_key_id = TEST_ACCESS_KEY_ID
        self.secret_access_key = TEST_SECRET_ACCESS_KEY
        self._process: subprocess.Popen[bytes] | None = None
        self._clients: dict[tuple[str, str, str], Any] = {}
        self._log = tempfile.TemporaryFile()  # noqa: SIM115 (closed with the server object)

    def __repr__(self) -> str:
        return f"MotoServer(endpoint_url={self.endpoint_url!r})"

    def __enter__(self) -> MotoServer:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def start(self) -> None:
        """Start the process and wait until it answers HTTP requests."""
        env = dict(os.environ)
        if self.check_credentials:
            # moto checks credentials after this many requests: the ones creating the user.
            env["INITIAL_NO_AUTH_ACTION_COUNT"] = "3"
        self._process = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
            stdout=subprocess.DEVNULL,
            stderr=self._log,  # a file, not a pipe: a full pipe would block the server
            env=env,
        )
        deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
        while not self._answers():
            if self._process.poll() is not None or time.monotonic() > deadline:
                output = self.log_tail()
                self.stop()
                raise RuntimeError(f"moto_server did not start on {self.endpoint_url}:\n{output}")
            time.sleep(0.1)
        if self.check_credentials:
            self._create_user()

    def stop(self) -> None:
        """Stop the process (a paused one too); state is lost."""
        if self._process is not None and self._process.poll() is None:
            self._process.send_signal(signal.SIGCONT)
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        self._process = None

    def pause(self) -> None:
        """Freeze the process (SIGSTOP): connections are accepted, nothing is answered."""
        assert self._process is not None, "the server is not running"
        self._process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        """Unfreeze a paused process (SIGCONT); its state is intact."""
        assert self._process is not None, "the server is not running"
        self._process.send_signal(signal.SIGCONT)

    def reset(self) -> None:
        """Delete every bucket and object (moto's reset API)."""
        request = urllib.request.Request(f"{self.endpoint_url}/moto-api/reset", method="POST")
        with urllib.request.urlopen(request, timeout=30):
            pass

    def create_bucket(self, name: str) -> str:
        """Create a bucket and return its name."""
        self.client().create_bucket(Bucket=name)
        return name

    def client(self, service: str = "s3") -> Any:
        """A boto3 client for this server with valid credentials.

        One client per service and credentials is kept (boto3 clients are thread-safe):
        building one takes tens of milliseconds, and every test's bucket needs one.
        """
        key = (service, self.access_key_id, self.secret_access_key)
        if key not in self._clients:
            import boto3

            self._clients[key] = boto3.client(
                service,
                endpoint_url=self.endpoint_url,
                aws_access_key_id=self.access_key_id,
                aws_secret_access_key=self.secret_access_key,
                region_name=TEST_REGION,
            )
        return self._clients[key]

    def storage_options(self, **overrides: str) -> dict[str, str]:
        """deltalake storage options reaching this server, with short timeouts."""
        options = {
            "AWS_ENDPOINT_URL": self.endpoint_url,
            "AWS_ACCESS_KEY_ID": self.access_key_id,
            "AWS_SECRET_ACCESS_KEY": self.secret_access_key,
            "AWS_REGION": TEST_REGION,
            "AWS_ALLOW_HTTP": "true",
        }
        options.update(overrides)
        return options

    def log_tail(self, size: int = 4000) -> str:
        """The end of the server's output, for diagnosing a failure."""
        self._log.seek(0, os.SEEK_END)
        self._log.seek(max(0, self._log.tell() - size))
        return self._log.read().decode(errors="replace")

    def _answers(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.endpoint_url}/moto-api/", timeout=2):
                return True
        except (urllib.error.URLError, OSError):
            return False

    def _create_user(self) -> None:
        iam = self.client("iam")
        iam.create_user(UserName="pointline")
        key = iam.create_access_key(UserName="pointline")["AccessKey"]
        allow_all = {"Effect": "Allow", "Action": "*", "Resource": "*"}
        iam.put_user_policy(
            UserName="pointline",
            PolicyName="everything",
            PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [allow_all]}),
        )
        self.access_key_id, self.secret_access_key = key["AccessKeyId"], key["SecretAccessKey"]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture(scope="session")
def moto_server() -> Iterator[MotoServer]:
    """One ``moto_server`` process for the test session."""
    with MotoServer() as server:
        yield server


@pytest.fixture
def s3_bucket(moto_server: MotoServer) -> str:
    """An empty server holding one empty bucket, ``TEST_BUCKET``; returns its name."""
    moto_server.reset()
    return moto_server.create_bucket(TEST_BUCKET)
