"""HfServer: the test-only Hugging Face Hub (tests/fixtures/hf_server.py) as a child process, and
pytest fixtures around it.

    from hf_testlib import hf_data, hf_server          # import every fixture you use

    def test_something(hf_server, hf_data):
        repo = hf_data["repos"][hub.MNIST]              # the description (make_hf_hub.py)
        mark = hf_server.mark()
        ...                                             # point a client at hf_server.endpoint
        assert all(not e["authorization"] for e in hf_server.requests(mark, role="cdn"))

Fixtures (each depends only on pytest's own fixtures and hf_data, so importing the ones a test
uses, plus hf_data, is enough):
  hf_data            session: make_hf_hub.build() into a temp dir; the description dict
  hf_server          function: a started HfServer (page size 1000, as the real hub); always
                     stopped at teardown
  hf_server_factory  function: make(page_size=None, start=True) -> HfServer; all stopped at
                     teardown
  hf_cache           function: make_hf_hub.build_hf_cache() into tmp_path/"hf-cache"; its
                     description

`hub` is the imported tests/fixtures/make_hf_hub.py (TOKEN, MNIST, ..., build, build_hf_cache).
Nothing but 127.0.0.1 is ever contacted.
"""

import contextlib
import fcntl
import importlib.util
import json
import os
import select
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

import pytest

SOURCE_DIR = Path(os.environ.get("HUBFS_SOURCE_DIR") or Path(__file__).resolve().parents[2])
SERVER_SCRIPT = SOURCE_DIR / "tests/fixtures/hf_server.py"
BUILDER = SOURCE_DIR / "tests/fixtures/make_hf_hub.py"
PYTHON = "/usr/bin/python3"
START_TIMEOUT = 15  # seconds for the server to print its ports


def load_builder():
    """Imports tests/fixtures/make_hf_hub.py (a script, not a package) once."""
    if "make_hf_hub" not in sys.modules:
        spec = importlib.util.spec_from_file_location("make_hf_hub", BUILDER)
        module = importlib.util.module_from_spec(spec)
        sys.modules["make_hf_hub"] = module
        spec.loader.exec_module(module)
    return sys.modules["make_hf_hub"]


hub = load_builder()
TOKEN = hub.TOKEN


class HfServer:
    """hf_server.py serving a make_hf_hub build (`data_root`), with its request log, faults file
    and stderr in `work`.

    start() picks two free ports (the OS chooses them) on the first start and reuses them on
    later starts, so a client configured with `endpoint` keeps working across stop()/start()
    ("hub down" tests; faults {"down": true} are the other way). stop() always kills the process
    and may be called any number of times; the object is also a context manager. The request
    log survives restarts, so marks stay valid."""

    def __init__(self, data_root, work, page_size=None):
        self.data_root = Path(data_root)
        self.work = Path(work)
        self.work.mkdir(parents=True, exist_ok=True)
        self.page_size = page_size
        self.log_path = self.work / "requests.log"
        self.faults_path = self.work / "faults.json"
        self.stderr_path = self.work / "server.stderr"
        self.api_port = self.cdn_port = None
        self.proc = None
        self.token = TOKEN

    # -- lifecycle

    def start(self):
        """Starts the server and waits for its ready line; returns self. Raises RuntimeError
        with the server's stderr when it exits or stays silent for START_TIMEOUT seconds."""
        assert self.proc is None, "hf_server already running"
        cmd = [PYTHON, str(SERVER_SCRIPT), "--data", str(self.data_root),
               "--log", str(self.log_path), "--faults", str(self.faults_path)]
        if self.page_size:
            cmd += ["--page-size", str(self.page_size)]
        if self.api_port:
            cmd += ["--api-port", str(self.api_port), "--cdn-port", str(self.cdn_port)]
        with open(self.stderr_path, "ab") as stderr:
            self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                         stderr=stderr)
        line = self._ready_line()
        if line is None:
            self.stop()
            raise RuntimeError(f"hf_server.py did not start ({' '.join(cmd)}); stderr:\n"
                               f"{self.stderr_tail()}")
        ports = json.loads(line)
        self.api_port, self.cdn_port = ports["api"], ports["cdn"]
        return self

    def _ready_line(self):
        """The server's first stdout line, or None when it exited or timed out."""
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            ready, _, _ = select.select([self.proc.stdout], [], [], 0.1)
            if ready:
                line = self.proc.stdout.readline()
                return line.decode() if line.strip() else None
            if self.proc.poll() is not None:
                return None
        return None

    def stop(self):
        """Kills the server (SIGKILL: open connections just drop). Idempotent."""
        if self.proc is None:
            return
        with contextlib.suppress(ProcessLookupError):
            self.proc.kill()
        self.proc.wait(timeout=10)
        self.proc.stdout.close()
        self.proc = None

    def __enter__(self):
        return self if self.running else self.start()

    def __exit__(self, *exc):
        self.stop()

    @property
    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def stderr_tail(self, lines=30):
        try:
            return "\n".join(self.stderr_path.read_text(errors="replace").splitlines()[-lines:])
        except FileNotFoundError:
            return "(no stderr)"

    # -- addresses

    @property
    def endpoint(self):
        """HF_ENDPOINT for clients: the API (huggingface.co) role."""
        return f"http://127.0.0.1:{self.api_port}"

    @property
    def cdn_url(self):
        """Where LFS resolves redirect to (another port, so another host for the client)."""
        return f"http://127.0.0.1:{self.cdn_port}"

    def api_url(self, repo_id, *parts, repo_type="model"):
        """{endpoint}/api/{type}s/{repo_id}[/part...]; parts are used as given (pre-encoded)."""
        return "/".join([f"{self.endpoint}/api/{repo_type}s/{repo_id}", *parts])

    def resolve_url(self, repo_id, path, revision="main", repo_type="model", kind="resolve"):
        """A file URL as huggingface_hub builds it: revision encoded with no safe characters,
        path with '/' kept. kind: "resolve" or "raw"."""
        prefix = "" if repo_type == "model" else f"{repo_type}s/"
        return (f"{self.endpoint}/{prefix}{repo_id}/{kind}/{quote(revision, safe='')}/"
                f"{quote(path)}")

    # -- request log

    def log(self):
        """Every logged request so far (both roles, across restarts), oldest first."""
        try:
            text = self.log_path.read_text()
        except FileNotFoundError:
            return []
        return [json.loads(line) for line in text.splitlines() if line.strip()]

    def mark(self):
        """A position in the request log; pass it to requests(since=...). The server logs a
        request before answering it, so no settling is needed."""
        return len(self.log())

    def requests(self, since=0, role=None):
        """Log entries after `since`, optionally of one role ("api" or "cdn"). Each is
        {"t", "role", "method", "path", "range", "authorization", "status", "fault"}."""
        entries = self.log()[since:]
        return [e for e in entries if role is None or e["role"] == role]

    # -- faults

    def set_faults(self, faults):
        """Replaces the faults file (atomically, under the server's flock, so a request counting
        down cannot write the old faults back); the next request sees it. See hf_server.py."""
        tmp = self.faults_path.with_suffix(".tmp")
        tmp.write_text(json.dumps(faults))
        with open(f"{self.faults_path}.lock", "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            os.replace(tmp, self.faults_path)

    def clear_faults(self):
        self.set_faults({})

    def faults(self):
        """The faults file as it is now (the server counts "remaining" down in it)."""
        try:
            text = self.faults_path.read_text()
        except FileNotFoundError:
            return {}
        return json.loads(text) if text.strip() else {}


# ------------------------------------------------------------------------------ pytest fixtures

@pytest.fixture(scope="session")
def hf_data(tmp_path_factory):
    return hub.build(tmp_path_factory.mktemp("hf-hub"))


@contextlib.contextmanager
def _servers(hf_data, tmp_path):
    """A factory of HfServers that are all stopped when the block ends."""
    servers = []

    def make(page_size=None, start=True):
        server = HfServer(hf_data["root"], tmp_path / f"hf-server{len(servers)}", page_size)
        servers.append(server)
        return server.start() if start else server

    try:
        yield make
    finally:
        for server in servers:
            server.stop()
            print(f"hf_server {server.endpoint} stderr (tail):\n{server.stderr_tail()}")


@pytest.fixture
def hf_server_factory(hf_data, tmp_path):
    with _servers(hf_data, tmp_path) as make:
        yield make


@pytest.fixture
def hf_server(hf_data, tmp_path):
    with _servers(hf_data, tmp_path) as make:
        yield make()


@pytest.fixture
def hf_cache(hf_data, tmp_path):
    return hub.build_hf_cache(hf_data, tmp_path / "hf-cache")
