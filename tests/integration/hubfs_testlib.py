"""Helpers for hubfs' integration tests: fixture hubs, a real nginx, real FUSE mounts.

Every test mounts for real against nginx on 127.0.0.1 (nothing else is ever contacted). The pieces:

  OnnxFixture   builds a static ONNX hub with tests/fixtures/make_onnx_hub.py and answers
                "what should the mount show" (expected_tree) from its sidecar fixture.json.
  NginxServer   nginx as a child process on a free loopback port, with a JSON access log so tests
                can count requests. stop()/start() keep the port, for "server down" tests.
  HubfsMount    writes a TOML config, runs `hubfs mount`, and always cleans up: fusermount3 -u,
                then umount -l, then kills the daemon. A watchdog kills the daemon if a test runs
                too long, which turns a hung FUSE request into ENOTCONN instead of a hung suite.
  scan_tree / compare_tree / read_errno / ort_run: what the tests assert with.

Environment: HUBFS_BIN (required), HUBFS_SOURCE_DIR (default: this checkout), HUBFS_NODE_MODULES
(default: $HUBFS_SOURCE_DIR/build/node/node_modules). Missing prerequisites fail loudly: a suite
that silently skips on a machine without FUSE tests nothing.
"""

import contextlib
import dataclasses
import errno
import importlib.util
import json
import os
import re
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tarfile
import threading
import time
from pathlib import Path

SOURCE_DIR = Path(os.environ.get("HUBFS_SOURCE_DIR") or Path(__file__).resolve().parents[2])
NODE_MODULES = Path(os.environ.get("HUBFS_NODE_MODULES") or SOURCE_DIR / "build/node/node_modules")
PYTHON = "/usr/bin/python3"  # Debian's python: the one with python3-onnx
ORT_SCRIPT = Path(__file__).resolve().parent / "ort_run.js"
FIXTURE_BUILDER = SOURCE_DIR / "tests/fixtures/make_onnx_hub.py"

HUB = "onnx"            # the ONNX hub's folder name in the tests' mounts
CMD_TIMEOUT = 30        # seconds for any helper command (mount, umount, fusermount3, node ...)
MOUNT_DEADLINE = 120    # seconds a mount may live before the watchdog kills its daemon
FILE_MODE, DIR_MODE = 0o444, 0o555
READ_ONLY_ERRNOS = {errno.EROFS, errno.EACCES}


# ------------------------------------------------------------------------------ prerequisites

def find_program(name):
    """Like shutil.which, but also looks in the sbin dirs a non-root PATH may lack (nginx)."""
    found = shutil.which(name)
    if found:
        return found
    for folder in ("/usr/sbin", "/sbin", "/usr/local/sbin"):
        candidate = os.path.join(folder, name)
        if os.access(candidate, os.X_OK):
            return candidate
    return None


def hubfs_bin():
    return os.environ.get("HUBFS_BIN", "")


def missing_prerequisites():
    """Returns a list of human-readable problems; empty when the suite can run."""
    problems = []
    binary = hubfs_bin()
    if not binary:
        problems.append("HUBFS_BIN is not set (point it at the built hubfs binary, "
                        "e.g. HUBFS_BIN=build/hubfs; ctest sets it)")
    elif not os.access(binary, os.X_OK):
        problems.append(f"HUBFS_BIN={binary} does not exist or is not executable (build it first)")
    if not os.path.exists("/dev/fuse") or not stat.S_ISCHR(os.stat("/dev/fuse").st_mode):
        problems.append("/dev/fuse is missing "
                        "(containers need --device /dev/fuse --cap-add SYS_ADMIN)")
    programs = (("nginx", "nginx-light"), ("fusermount3", "fuse3"), ("node", "nodejs"))
    for program, package in programs:
        if not find_program(program):
            problems.append(f"{program} not found "
                            f"(apt-get install {package}; scripts/install-deps)")
    if not os.access(PYTHON, os.X_OK):
        problems.append(f"{PYTHON} is missing")
    else:
        probe = subprocess.run([PYTHON, "-c", "import onnx, numpy"], capture_output=True,
                               text=True, timeout=CMD_TIMEOUT)
        if probe.returncode != 0:
            problems.append(f"{PYTHON} cannot import onnx/numpy (apt-get install python3-onnx): "
                            f"{probe.stderr.strip().splitlines()[-1:]}")
    if not (NODE_MODULES / "onnxruntime-node/package.json").exists():
        problems.append(f"onnxruntime-node not found in {NODE_MODULES} "
                        "(run scripts/install-deps or set HUBFS_NODE_MODULES)")
    if not os.path.isdir("/usr/share/libonnx-testdata/data"):
        problems.append("libonnx-testdata is not installed (apt-get install libonnx-testdata)")
    return problems


def run(cmd, *, timeout=CMD_TIMEOUT, check=False, **kwargs):
    """subprocess.run with text output captured and a timeout, so no helper can hang a test."""
    return subprocess.run([str(c) for c in cmd], capture_output=True, text=True,
                          timeout=timeout, check=check, **kwargs)


# ------------------------------------------------------------------------------ fixture hub

def slugify(name):
    """The folder name hubfs derives from a manifest model name (mirrors hubfs::Slugify):
    ASCII lower-case, runs outside [a-z0-9._] become one '-', '-' trimmed at both ends."""
    lowered = "".join(c.lower() if "A" <= c <= "Z" else c for c in name)
    return re.sub(r"[^a-z0-9._]+", "-", lowered).strip("-")


@dataclasses.dataclass
class Node:
    """One expected entry of the mount."""
    kind: str                  # "dir", "file" or "symlink"
    size: int = None           # files with known size
    source: str = None         # files: path below the fixture's media root (model bytes)
    target: str = None         # symlinks
    json: object = None        # files whose content is JSON we compare structurally (info.json)


def load_builder():
    """Imports tests/fixtures/make_onnx_hub.py (it is a script, not a package)."""
    spec = importlib.util.spec_from_file_location("make_onnx_hub", FIXTURE_BUILDER)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class OnnxFixture:
    """A built ONNX hub fixture directory plus its sidecar (fixture.json)."""

    def __init__(self, root):
        self.root = Path(root)
        with open(self.root / "fixture.json") as f:
            self.meta = json.load(f)
        with open(self.root / self.meta["manifest"]) as f:
            self.manifest = json.load(f)

    @classmethod
    def build(cls, root, **kwargs):
        load_builder().build(str(root), **kwargs)
        return cls(root)

    @property
    def repo(self):
        return f"{self.meta['owner']}/{self.meta['name']}:{self.meta['ref']}"

    @property
    def manifest_uri(self):
        return "/" + self.meta["manifest"]

    def media_uri(self, path):
        return f"/{self.meta['media_root']}/{path}"

    def listed_entries(self):
        """Manifest entries hubfs must show: everything but the hostile ones, in manifest order."""
        hostile = {json.dumps(e, sort_keys=True) for e in self.meta["hostile"]}
        return [e for e in self.manifest if json.dumps(e, sort_keys=True) not in hostile]

    def media_bytes(self, path):
        return (self.root / self.meta["media_root"] / path).read_bytes()

    def readable_paths(self):
        """model_path / model_with_data_path values whose reads must succeed."""
        eio = set(self.meta["eio_paths"])
        paths = []
        for entry in self.listed_entries():
            for path in (entry["model_path"], entry["metadata"]["model_with_data_path"]):
                if path not in eio:
                    paths.append(path)
        return paths

    def expected_tree(self, hub):
        """{relative path below the mount: Node} for an ONNX hub mounted as folder `hub`."""
        entries = self.listed_entries()
        tree = {hub: Node("dir")}
        models = {}  # model folder -> its entries
        for entry in entries:
            parts = entry["model_path"].split("/")
            folder = f"{hub}/{parts[1]}/{slugify(entry['model'])}"  # parts[0] is the top folder
            models.setdefault(folder, []).append(entry)
            meta = entry["metadata"]
            for path, size in ((entry["model_path"], meta["model_bytes"]),
                               (meta["model_with_data_path"], meta["model_with_data_bytes"])):
                add_node(tree, f"{folder}/{os.path.basename(path)}", Node("file", size, path))
                add_node(tree, f"{hub}/tree/{path}", Node("file", size, path))
            # The bundle's unpacked folder (not entered by scan_tree).
            stem = os.path.basename(meta["model_with_data_path"])[:-len(".tar.gz")]
            add_node(tree, f"{folder}/{stem}", Node("dir"))
            add_node(tree, f"{hub}/tree/{os.path.dirname(meta['model_with_data_path'])}/{stem}", Node("dir"))
        for folder, group in models.items():
            # max() keeps the first of equal opsets, as onnx.hub's stable sort does.
            latest = max(group, key=lambda e: e["opset_version"])
            add_node(tree, f"{folder}/model.onnx",
                     Node("symlink", target=os.path.basename(latest["model_path"])))
            add_node(tree, f"{folder}/info.json", Node("file", json=group))
        return tree

    def mount_paths(self, hub, model_path):
        """Both mounted paths of a manifest file: the model folder view and the tree mirror."""
        for entry in self.listed_entries():
            if model_path in (entry["model_path"], entry["metadata"]["model_with_data_path"]):
                domain = entry["model_path"].split("/")[1]
                return (f"{hub}/{domain}/{slugify(entry['model'])}/{os.path.basename(model_path)}",
                        f"{hub}/tree/{model_path}")
        raise KeyError(model_path)


def add_node(tree, path, node):
    """Adds `node` at `path` and its parent directories; duplicates are a fixture bug."""
    assert path not in tree, f"fixture produces {path} twice"
    tree[path] = node
    parent = os.path.dirname(path)
    while parent and parent not in tree:
        tree[parent] = Node("dir")
        parent = os.path.dirname(parent)


# ------------------------------------------------------------------------------ nginx

def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


NGINX_CONF = """\
# Generated by hubfs_testlib.py. One process, no daemon: the test owns its lifetime.
daemon off;
master_process off;
worker_processes 1;
pid {work}/nginx.pid;
error_log {work}/error.log info;
events {{ worker_connections 512; }}
http {{
    # One JSON object per request; the access log is unbuffered (no buffer= parameter), so a line
    # is on disk when the response is complete.
    log_format hubfs escape=json '{{"msec":$msec,"method":"$request_method","uri":"$uri",'
        '"request":"$request","status":$status,"bytes_sent":$bytes_sent,'
        '"body_bytes_sent":$body_bytes_sent,"range":"$http_range",'
        '"if_none_match":"$http_if_none_match","completion":"$request_completion"}}';
    access_log {work}/access.log hubfs;
    client_body_temp_path {work}/tmp/client_body;
    proxy_temp_path {work}/tmp/proxy;
    fastcgi_temp_path {work}/tmp/fastcgi;
    uwsgi_temp_path {work}/tmp/uwsgi;
    scgi_temp_path {work}/tmp/scgi;
    default_type application/octet-stream;
    types {{ application/json json; application/gzip gz; }}
    sendfile on;
    etag on;
    keepalive_timeout 30s;
    server {{
        listen {host}:{port};
        server_name localhost;
        root {root};
        autoindex on;
{extra}
    }}
}}
"""


class NginxServer:
    """nginx serving `root` on 127.0.0.1 (or another loopback address `host`, for "another
    host" tests); `extra` is inserted into the server block (locations with limit_rate, return
    503, ...)."""

    def __init__(self, root, work, extra="", host="127.0.0.1"):
        assert host.startswith("127."), f"{host}: tests only ever use loopback addresses"
        self.root, self.work, self.extra, self.host = Path(root), Path(work), extra, host
        self.port = None
        self.proc = None
        (self.work / "tmp").mkdir(parents=True, exist_ok=True)
        self.conf = self.work / "nginx.conf"
        self.access_log = self.work / "access.log"
        self.error_log = self.work / "error.log"

    @property
    def url(self):
        return f"http://{self.host}:{self.port}"

    def start(self):
        """Starts nginx (on the same port as before after a stop()); returns self."""
        assert self.proc is None, "nginx already running"
        attempts = 1 if self.port else 5  # a fresh free port can be stolen between probe and bind
        for _ in range(attempts):
            self.port = self.port or free_port()
            self.conf.write_text(NGINX_CONF.format(work=self.work, root=self.root, host=self.host,
                                                   port=self.port, extra=self.extra))
            self.proc = subprocess.Popen(
                [find_program("nginx"), "-p", f"{self.work}/", "-c", str(self.conf),
                 "-e", str(self.error_log)],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            if self._wait_ready():
                return self
            self.proc = None
            self.port = self.port if attempts == 1 else None
        raise RuntimeError(f"nginx did not start; error.log:\n{self.error_tail()}")

    def _wait_ready(self, timeout=10):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return False
            try:
                with socket.create_connection((self.host, self.port), timeout=0.5):
                    return True
            except OSError:
                time.sleep(0.02)
        self._terminate()
        return False

    def stop(self):
        """Stops nginx now (SIGTERM = fast shutdown; open connections are dropped)."""
        if self.proc is not None:
            self._terminate()
            self.proc = None

    def _terminate(self):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)

    @property
    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def error_tail(self, lines=20):
        try:
            return "\n".join(self.error_log.read_text().splitlines()[-lines:])
        except FileNotFoundError:
            return "(no error.log)"

    def log(self):
        """All access log entries so far, oldest first."""
        try:
            text = self.access_log.read_text()
        except FileNotFoundError:
            return []
        return [json.loads(line) for line in text.splitlines() if line.strip()]

    def mark(self):
        """A position in the access log; pass it to requests(since=...)."""
        self.settle()
        return len(self.log())

    def requests(self, since=0, uri=None, prefix=None):
        """Access log entries after `since`, optionally filtered by exact uri or uri prefix."""
        self.settle()
        entries = self.log()[since:]
        if uri is not None:
            entries = [e for e in entries if e["uri"] == uri]
        if prefix is not None:
            entries = [e for e in entries if e["uri"].startswith(prefix)]
        return entries

    def settle(self, quiet=0.15, timeout=5):
        """Waits until the access log stops growing. nginx logs a request right after sending its
        last byte, so a client can see a response a moment before its log line exists."""
        deadline = time.monotonic() + timeout
        last = -1
        while time.monotonic() < deadline:
            size = self.access_log.stat().st_size if self.access_log.exists() else 0
            if size == last:
                return
            last = size
            time.sleep(quiet)


# ------------------------------------------------------------------------------ hubfs mounts

@dataclasses.dataclass
class HubConfig:
    """One [[hub]] table of hubfs' TOML config."""
    name: str
    repo: str
    raw_base: str
    media_base: str
    type: str = "onnx"

    @classmethod
    def onnx(cls, name, fixture, base_url):
        return cls(name, fixture.repo, f"{base_url}/raw", f"{base_url}/media")


def toml_string(value):
    # A JSON string literal is a valid TOML basic string for everything we write.
    return json.dumps(str(value))


def toml_value(value):
    """A TOML value: lists and tuples become arrays (of strings, or nested arrays), dicts inline
    tables, everything else a string as toml_string writes it."""
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):  # an inline table (the dms hub's models)
        return "{ " + ", ".join(f"{toml_string(k)} = {toml_value(v)}" for k, v in value.items()) + " }"
    return toml_string(value)


def hub_table(hub):
    """The lines of one [[hub]] table: `hub` is a HubConfig (or another dataclass) or a dict
    such as {"type": "digits", "name": "digits", "urls": [...], "names": [...]}; None values are
    left out."""
    items = hub.items() if isinstance(hub, dict) else dataclasses.asdict(hub).items()
    return ["[[hub]]"] + [f"{k} = {toml_value(v)}" for k, v in items if v is not None]


def mountinfo_targets():
    """Mount points of this mount namespace, from /proc/self/mountinfo (octal escapes decoded).

    os.path.ismount is not used: it stats the path, and the stat of a FUSE mount whose daemon died
    fails with ENOTCONN, which ismount reports as "not a mount point"."""
    targets = set()
    with open("/proc/self/mountinfo") as f:
        for line in f:
            field = line.split(" ")[4]
            targets.add(re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), field))
    return targets


def is_mounted(path):
    return os.path.realpath(path) in mountinfo_targets()


def pid_alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ")[-1][:1] != "Z"  # a zombie has already exited
    except FileNotFoundError:
        return False


class HubfsMount:
    """One hubfs mount owned by one test: its config, cache dir, mountpoint and log file."""

    def __init__(self, work, name="m"):
        self.work = Path(work) / name
        self.mountpoint = self.work / "mnt"
        self.cache_dir = self.work / "cache"
        self.config = self.work / "hubfs.toml"
        self.log_file = self.work / "hubfs.log"
        self.mountpoint.mkdir(parents=True, exist_ok=True)
        self.pids = set()         # hubfs processes serving this mountpoint
        self.fg_proc = None       # the --foreground process, when used
        self._watchdog = None

    def path(self, rel=""):
        return self.mountpoint / rel if rel else self.mountpoint

    def _env(self):
        """The daemon's environment: sanitizer reports go to files in the work dir, because a
        detached daemon's stderr is /dev/null; cleanup() turns any report into a test failure."""
        env = dict(os.environ)
        report = f"log_path={self.work / 'sanitizer'}"
        for var in ("ASAN_OPTIONS", "UBSAN_OPTIONS"):
            env[var] = f"{env[var]}:{report}" if env.get(var) else report
        return env

    def sanitizer_reports(self):
        return sorted(self.work.glob("sanitizer.*"))

    def write_config(self, hubs, metadata_ttl="10m", log_level="debug", cache_dir=None, extra=""):
        """Writes the TOML config; `hubs` are HubConfig objects or dicts (see hub_table), `extra`
        top-level lines (e.g. 'cache_size = "6M"')."""
        lines = [f"cache_dir = {toml_string(cache_dir or self.cache_dir)}",
                 f"metadata_ttl = {toml_string(metadata_ttl)}",
                 f"log_file = {toml_string(self.log_file)}",
                 f"log_level = {toml_string(log_level)}", extra, ""]
        for hub in hubs:
            lines += hub_table(hub) + [""]
        self.config.write_text("\n".join(lines))
        return self.config

    def mount(self, *args, check=True):
        """`hubfs mount --config CONFIG ARGS MOUNTPOINT`; with check, asserts exit 0 and that the
        mount is ready when the command returns. Returns the CompletedProcess."""
        # stdout/stderr go to files, not pipes: a daemon that kept inherited pipes open would make
        # subprocess wait for EOF until the timeout.
        out, err = self.work / "mount.out", self.work / "mount.err"
        with open(out, "w") as fo, open(err, "w") as fe:
            proc = subprocess.run([hubfs_bin(), "mount", "--config", str(self.config),
                                   *map(str, args), str(self.mountpoint)],
                                  stdin=subprocess.DEVNULL, stdout=fo, stderr=fe,
                                  timeout=CMD_TIMEOUT, env=self._env())
        proc.stdout, proc.stderr = out.read_text(), err.read_text()
        self._track_daemon()
        if check:
            assert proc.returncode == 0, (f"hubfs mount failed ({proc.returncode}): {proc.stderr}"
                                          f"\n{self.log_tail()}")
            assert is_mounted(self.mountpoint), "hubfs mount returned 0 but nothing is mounted"
            assert self.pids, ("cannot find the hubfs daemon: expected a process running "
                               f"{hubfs_bin()} with {self.mountpoint} in its argv")
        return proc

    def mount_foreground(self, *args, timeout=CMD_TIMEOUT):
        """Starts `hubfs mount --foreground` as a child and waits until the mount appears."""
        with open(self.work / "fg.out", "w") as out, open(self.work / "fg.err", "w") as err:
            self.fg_proc = subprocess.Popen(
                [hubfs_bin(), "mount", "--config", str(self.config), "--foreground",
                 *map(str, args), str(self.mountpoint)],
                stdin=subprocess.DEVNULL, stdout=out, stderr=err, env=self._env())
        self.pids.add(self.fg_proc.pid)
        self._start_watchdog()
        deadline = time.monotonic() + timeout
        while not is_mounted(self.mountpoint):
            assert self.fg_proc.poll() is None, (
                f"hubfs --foreground exited with {self.fg_proc.returncode}: "
                f"{(self.work / 'fg.err').read_text()}")
            assert time.monotonic() < deadline, "hubfs --foreground did not mount in time"
            time.sleep(0.02)
        return self.fg_proc

    def umount(self):
        """`hubfs umount MOUNTPOINT`; asserts success and that the daemon exits."""
        proc = run([hubfs_bin(), "umount", self.mountpoint])
        assert proc.returncode == 0, f"hubfs umount failed ({proc.returncode}): {proc.stderr}"
        assert not is_mounted(self.mountpoint), "hubfs umount returned 0 but it is still mounted"
        self._wait_daemon_exit()
        return proc

    def _wait_daemon_exit(self, timeout=10):
        deadline = time.monotonic() + timeout
        while any(pid_alive(p) for p in self.pids) and time.monotonic() < deadline:
            if self.fg_proc is not None:
                self.fg_proc.poll()  # reap, so the child does not linger as a zombie
            time.sleep(0.02)
        alive = [p for p in self.pids if pid_alive(p)]
        assert not alive, f"hubfs daemon {alive} still running {timeout}s after unmount"
        self._stop_watchdog()

    def _track_daemon(self):
        """Finds the daemon(s) serving our mountpoint. The daemon forked away from the process we
        started, so look for hubfs processes whose command line names our (unique) mountpoint."""
        binary = os.path.realpath(hubfs_bin())
        target = str(self.mountpoint)
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                exe = os.readlink(f"/proc/{entry}/exe")
                with open(f"/proc/{entry}/cmdline", "rb") as f:
                    argv = f.read().split(b"\0")
            except OSError:
                continue
            # startswith: a binary rebuilt while mounted shows as "<path> (deleted)".
            if exe.startswith(binary) and target.encode() in argv:
                self.pids.add(int(entry))
        if self.pids:
            self._start_watchdog()

    def _start_watchdog(self):
        if self._watchdog is None:
            self._watchdog = threading.Timer(MOUNT_DEADLINE, self._abort)
            self._watchdog.daemon = True
            self._watchdog.start()

    def _stop_watchdog(self):
        if self._watchdog is not None:
            self._watchdog.cancel()
            self._watchdog = None

    def _abort(self):
        # Killing the daemon aborts the FUSE connection: blocked syscalls in the test return
        # ENOTCONN and the test fails instead of hanging until ctest's timeout.
        print(f"WATCHDOG: mount {self.mountpoint} alive for {MOUNT_DEADLINE}s, killing hubfs",
              file=sys.stderr)
        self._kill(signal.SIGKILL)

    def _kill(self, sig):
        for pid in self.pids:
            if pid_alive(pid):
                try:
                    os.kill(pid, sig)
                except ProcessLookupError:
                    pass

    def cleanup(self):
        """Unmounts and stops the daemon whatever state things are in; returns problems found."""
        self._stop_watchdog()
        problems = []
        if is_mounted(self.mountpoint):
            run(["fusermount3", "-u", self.mountpoint])
        if is_mounted(self.mountpoint):
            run(["umount", "-l", self.mountpoint])
        for sig, wait in ((None, 5), (signal.SIGTERM, 5), (signal.SIGKILL, 5)):
            if sig is not None and any(pid_alive(p) for p in self.pids):
                problems.append(f"hubfs daemon {sorted(self.pids)} needed {sig.name}")
                self._kill(sig)
            deadline = time.monotonic() + wait
            while any(pid_alive(p) for p in self.pids) and time.monotonic() < deadline:
                if self.fg_proc is not None:
                    self.fg_proc.poll()
                time.sleep(0.02)
        if is_mounted(self.mountpoint):  # the daemon is gone: a lazy unmount always works now
            run(["fusermount3", "-u", "-z", self.mountpoint])
        if is_mounted(self.mountpoint):
            problems.append(f"{self.mountpoint} is still mounted after cleanup")
        if any(pid_alive(p) for p in self.pids):
            problems.append(f"hubfs daemon {sorted(self.pids)} survived SIGKILL")
        for report in self.sanitizer_reports():
            problems.append(f"sanitizer report from hubfs ({report.name}):\n"
                            + report.read_text(errors="replace")[:4000])
        return problems

    def log_tail(self, lines=40):
        try:
            text = self.log_file.read_text(errors="replace").splitlines()[-lines:]
            return "hubfs log (tail):\n" + "\n".join(text)
        except FileNotFoundError:
            return "(no hubfs log file)"


# ------------------------------------------------------------------------------ assertions

@contextlib.contextmanager
def mounts_in(work):
    """Yields a factory of HubfsMount objects below `work`. At exit every mount is cleaned up
    (always unmounted), its log printed (pytest shows it when the test failed), and any teardown
    problem fails the test."""
    mounts = []

    def make():
        mount = HubfsMount(work, f"m{len(mounts)}")
        mounts.append(mount)
        return mount

    try:
        yield make
    finally:
        problems = []
        for mount in mounts:
            problems += mount.cleanup()
            print(mount.log_tail())
    assert not problems, "teardown: " + "; ".join(problems)


@dataclasses.dataclass
class Seen:
    """One entry found in the mount (from lstat; symlinks are not followed)."""
    kind: str
    mode: int
    size: int
    target: str = None


def is_archive_folder(path):
    """True for an archive's unpacked folder (it carries user.hubfs.archive)."""
    try:
        os.getxattr(path, "user.hubfs.archive", follow_symlinks=False)
        return True
    except OSError:
        return False


def scan_tree(root, into_archives=False):
    """{relative path: Seen} for everything below `root` (the `ls -lR` of the mount). Archives'
    unpacked folders are listed but not entered (that would download every archive) unless
    `into_archives`."""
    found = {}
    def walk(rel):
        with os.scandir(os.path.join(root, rel)) as it:
            entries = sorted(it, key=lambda e: e.name)
        for entry in entries:
            path = f"{rel}/{entry.name}" if rel else entry.name
            st = entry.stat(follow_symlinks=False)
            if stat.S_ISDIR(st.st_mode):
                found[path] = Seen("dir", stat.S_IMODE(st.st_mode), st.st_size)
                if into_archives or not is_archive_folder(os.path.join(root, path)):
                    walk(path)
            elif stat.S_ISLNK(st.st_mode):
                found[path] = Seen("symlink", stat.S_IMODE(st.st_mode), st.st_size,
                                   os.readlink(os.path.join(root, path)))
            elif stat.S_ISREG(st.st_mode):
                found[path] = Seen("file", stat.S_IMODE(st.st_mode), st.st_size)
            else:
                found[path] = Seen(f"mode {st.st_mode:o}", stat.S_IMODE(st.st_mode), st.st_size)
    walk("")
    return found


def compare_tree(mount_root, expected, only=None):
    """Asserts that the mount (below the top-level names in `only`, or all of it) is exactly
    `expected`: names, kinds, modes, sizes, symlink targets and info.json contents."""
    seen = scan_tree(mount_root)
    if only is not None:
        seen = {p: s for p, s in seen.items() if p.split("/")[0] in only}
    missing = sorted(set(expected) - set(seen))
    extra = sorted(set(seen) - set(expected))
    assert not missing and not extra, f"mount differs.\nmissing: {missing}\nunexpected: {extra}"
    problems = []
    for path, node in sorted(expected.items()):
        problems += node_problems(mount_root, path, node, seen[path])
    assert not problems, "mount differs:\n" + "\n".join(problems)


def node_problems(mount_root, path, node, got):
    if got.kind != node.kind:
        return [f"{path}: is a {got.kind}, expected a {node.kind}"]
    problems = []
    if node.kind == "dir" and got.mode != DIR_MODE:
        problems.append(f"{path}: mode {got.mode:o}, expected {DIR_MODE:o}")
    if node.kind == "symlink" and got.target != node.target:
        problems.append(f"{path}: -> {got.target}, expected -> {node.target}")
    if node.kind == "file":
        if got.mode != FILE_MODE:
            problems.append(f"{path}: mode {got.mode:o}, expected {FILE_MODE:o}")
        if node.size is not None and got.size != node.size:
            problems.append(f"{path}: size {got.size}, expected {node.size}")
        if node.json is not None:
            data = (Path(mount_root) / path).read_bytes()
            if len(data) != got.size:
                problems.append(f"{path}: st_size {got.size} but {len(data)} bytes readable")
            elif json.loads(data) != node.json:
                problems.append(f"{path}: JSON differs from the manifest entries:\n"
                                f"{data.decode(errors='replace')}")
    return problems


def read_errno(path, length=-1):
    """Reads a file; returns (bytes, None) on success or (None, errno) when open or read fails."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError as e:
        return None, e.errno
    try:
        chunks = []
        while length < 0 or sum(map(len, chunks)) < length:
            chunk = os.read(fd, 1 << 20 if length < 0 else length)
            if not chunk:
                break
            chunks.append(chunk)
        return b"".join(chunks), None
    except OSError as e:
        return None, e.errno
    finally:
        os.close(fd)


def files_containing(root, needle, limit=64 << 20):
    """Files below `root` whose content contains `needle` (to prove unverified bytes were not
    kept). Sparse blob files are read whole; anything above `limit` bytes is skipped."""
    hits = []
    for folder, _, names in os.walk(root):
        for name in names:
            path = os.path.join(folder, name)
            try:
                if os.path.getsize(path) <= limit and needle in Path(path).read_bytes():
                    hits.append(path)
            except OSError:
                pass
    return hits


# ------------------------------------------------------------------------------ onnx consumers

ORT_TYPES = {"float32": "float32", "float64": "float64", "int64": "int64", "int32": "int32",
             "int8": "int8", "uint8": "uint8", "int16": "int16", "uint16": "uint16", "bool": "bool"}


def tensor_json(name, array):
    """A numpy array as ort_run.js expects it: {name, type, dims, data}."""
    dtype = str(array.dtype)
    assert dtype in ORT_TYPES, f"{name}: dtype {dtype} not supported by ort_run.js"
    return {"name": name, "type": ORT_TYPES[dtype], "dims": list(array.shape),
            "data": array.ravel().tolist()}


def tarball_test_data(tar_path):
    """{"input_0.pb": TensorProto bytes, ...} from test_data_set_0 of a model's .tar.gz."""
    data = {}
    with tarfile.open(tar_path, "r:gz") as tar:
        for member in tar.getmembers():
            parts = member.name.split("/")
            if member.isfile() and len(parts) == 3 and parts[1] == "test_data_set_0":
                data[parts[2]] = tar.extractfile(member).read()
    return data


def ort_case(model_path, tar_path):
    """Builds one ort_run.js case from a (mounted) model and its (mounted) tarball.

    Returns (case, expected outputs as [(name, numpy array)]). Input i of the test data feeds the
    i-th graph input that is not an initializer (the ONNX backend-test convention)."""
    import onnx
    from onnx import numpy_helper
    model = onnx.load(str(model_path))
    initializers = {i.name for i in model.graph.initializer}
    input_names = [v.name for v in model.graph.input if v.name not in initializers]
    output_names = [v.name for v in model.graph.output]
    data = tarball_test_data(tar_path)
    def tensors(prefix, names):
        out = []
        for i, name in enumerate(names):
            blob = data.get(f"{prefix}_{i}.pb")
            if blob is not None:
                out.append((name, numpy_helper.to_array(onnx.load_tensor_from_string(blob))))
        return out
    inputs = tensors("input", input_names)
    assert inputs, f"{tar_path}: no test inputs"
    case = {"model": str(model_path), "inputs": [tensor_json(n, a) for n, a in inputs]}
    return case, tensors("output", output_names)


def ort_run(cases, work):
    """Runs cases through onnxruntime-node (one node process); returns its result list."""
    cases_file = Path(work) / "ort_cases.json"
    cases_file.write_text(json.dumps(cases, allow_nan=False))
    env = dict(os.environ, NODE_PATH=str(NODE_MODULES))
    proc = run(["node", ORT_SCRIPT, cases_file], timeout=120, env=env)
    assert proc.returncode == 0, f"ort_run.js failed ({proc.returncode}):\n{proc.stderr}"
    results = json.loads(proc.stdout)
    assert len(results) == len(cases)
    return results


def check_model_cmd(paths):
    """A /usr/bin/python3 command that runs onnx.checker on every path (one process for all)."""
    code = ("import sys, onnx\n"
            "for p in sys.argv[1:]:\n"
            "    onnx.checker.check_model(onnx.load(p))\n"
            "    print('ok', p)\n")
    return [PYTHON, "-c", code, *map(str, paths)]


def check_all_reads(mount_root, fixture, hub):
    """Reads every readable manifest file through both views and compares it with the fixture
    bytes; returns how many files were read."""
    problems, count = [], 0
    for path in fixture.readable_paths():
        expected = fixture.media_bytes(path)
        for rel in fixture.mount_paths(hub, path):
            data, err = read_errno(Path(mount_root) / rel)
            count += 1
            if err is not None:
                problems.append(f"{rel}: {errno.errorcode.get(err, err)}")
            elif data != expected:
                problems.append(f"{rel}: {len(data)} bytes differ from the fixture's "
                                f"{len(expected)}")
    assert not problems, "reads through the mount failed:\n" + "\n".join(problems)
    return count


# ------------------------------------------------------------------------------ read path
# Helpers for the block cache tests (test_read_path, test_cache_repair, test_cache_limits,
# test_crash_safety): multi-block fixture files, cache-folder inspection, a gated origin.

BLOCK_SIZE = 2 * 1024 * 1024   # the cache's kBlockSize


def build_big_fixture(root, big_sizes):
    """An ONNX hub fixture with extra "Big N" entries of random bytes (make_onnx_hub.py
    --big-sizes); big_sizes like ["6M", "24M", "6M!"] ("!" = the manifest's sha256 is wrong)."""
    return OnnxFixture.build(root, big_sizes=list(big_sizes))


def big_files(fixture):
    """The fixture's "Big N" files: [{model, model_path, size, sha256, published_sha, wrong_sha,
    data_path}], in --big-sizes order."""
    return fixture.meta.get("big", [])


def big_rel(fixture, big, hub=HUB, view=0):
    """A big file's path below the mount (view 0: the model folder, 1: the tree mirror)."""
    return fixture.mount_paths(hub, big["model_path"])[view]


def write_read_config(mount, hubs, *, top=None, per_hub=None, metadata_ttl="10m", cache_dir=None,
                      log_level="debug"):
    """Like HubfsMount.write_config, plus the read-path keys: `top` ({key: value}) goes to the
    top level (verification, cache_size, read_timeout), per_hub (a list aligned with `hubs`, of
    {key: value} or None) into the [[hub]] tables. Values are written as TOML strings; None values are left out."""
    def lines(options):
        return [f"{k} = {toml_string(v)}" for k, v in (options or {}).items() if v is not None]
    text = [f"cache_dir = {toml_string(cache_dir or mount.cache_dir)}",
            f"metadata_ttl = {toml_string(metadata_ttl)}",
            f"log_file = {toml_string(mount.log_file)}",
            f"log_level = {toml_string(log_level)}", *lines(top), ""]
    for i, hub in enumerate(hubs):
        text += ["[[hub]]"] + [f"{k} = {toml_string(v)}"
                               for k, v in dataclasses.asdict(hub).items()]
        text += lines(per_hub[i] if per_hub and i < len(per_hub) else None) + [""]
    mount.config.write_text("\n".join(text))
    return mount.config


def blob_path(cache_dir, sha_hex):
    """<cache_dir>/blobs/<first 2 hex>/sha256-<64 hex>: where a verified blob lives."""
    return Path(cache_dir) / "blobs" / sha_hex[:2] / f"sha256-{sha_hex}"


def allocated_bytes(path):
    """Bytes the filesystem allocated (st_blocks * 512) for a file, or for all regular files
    below a folder (folders themselves are not counted); 0 for what does not exist. Holes of
    sparse files cost nothing, which is how the cache's size is defined."""
    return sum(allocated_by_file(path).values())


def allocated_by_file(path):
    """{file path: allocated bytes} for a file or the regular files below a folder."""
    path = Path(path)
    try:
        st = path.lstat()
    except FileNotFoundError:
        return {}
    if stat.S_ISREG(st.st_mode):
        return {str(path): st.st_blocks * 512}
    found = {}
    for folder, _, names in os.walk(path):
        for name in names:
            full = os.path.join(folder, name)
            try:
                st = os.lstat(full)
            except FileNotFoundError:  # evicted while we walked
                continue
            if stat.S_ISREG(st.st_mode):
                found[full] = st.st_blocks * 512
    return found


class AllocationSampler:
    """Polls allocated_bytes(folder) in a thread while a `with` block runs; .max is the largest
    value seen (also sampled once at entry and at exit), .samples how many samples were taken,
    .at_max() describes the files at that moment."""

    def __init__(self, folder, interval=0.01):
        self.folder, self.interval = Path(folder), interval
        self.max, self.samples = 0, 0
        self.max_files = {}
        self._stop = threading.Event()
        self._thread = None

    def sample(self):
        files = allocated_by_file(self.folder)
        value = sum(files.values())
        if value > self.max:
            self.max, self.max_files = value, files
        self.samples += 1
        return value

    def at_max(self):
        return ", ".join(f"{os.path.basename(p)[:20]}…: {mib(n)}"
                         for p, n in sorted(self.max_files.items(), key=lambda i: -i[1]) if n)

    def _run(self):
        while not self._stop.is_set():
            self.sample()
            self._stop.wait(self.interval)

    def __enter__(self):
        self.sample()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join(timeout=10)
        self.sample()
        return False


def mib(n_bytes):
    return f"{n_bytes / (1 << 20):.2f} MiB"


def flip_bytes(path, offset, length=16):
    """XORs `length` bytes of a file at `offset` with 0xFF (a cache file damaged on disk)."""
    with open(path, "r+b") as f:
        f.seek(offset)
        data = f.read(length)
        assert len(data) == length, f"{path}: only {len(data)} bytes at offset {offset}"
        f.seek(offset)
        f.write(bytes(b ^ 0xFF for b in data))


def punch_hole(path, offset, length):
    """Deallocates a range of a file (it then reads as zeros), with util-linux fallocate."""
    proc = run(["fallocate", "--punch-hole", "--keep-size", "--offset", offset,
                "--length", length, path])
    assert proc.returncode == 0, f"fallocate --punch-hole failed: {proc.stderr}"


def pread_all(fd, offset, length):
    """os.pread until `length` bytes or EOF (a FUSE read may return short)."""
    chunks, done = [], 0
    while done < length:
        chunk = os.pread(fd, length - done, offset + done)
        if not chunk:
            break
        chunks.append(chunk)
        done += len(chunk)
    return b"".join(chunks)


def call_with_timeout(fn, timeout, *args):
    """Runs fn(*args) in a daemon thread. Returns (finished, result, exception, seconds); a call
    still blocked after `timeout` is left running (the mount's watchdog or teardown ends it), so a
    hung read fails the test instead of hanging it."""
    box = {}
    start = time.monotonic()

    def target():
        try:
            box["result"] = fn(*args)
        except BaseException as e:  # noqa: BLE001 - handed to the test
            box["error"] = e
        box["seconds"] = time.monotonic() - start

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(timeout)
    if thread.is_alive():
        return False, None, None, time.monotonic() - start
    return True, box.get("result"), box.get("error"), box["seconds"]


def read_errno_timeout(path, length=-1, timeout=30):
    """read_errno with a bound: (bytes, errno, seconds); asserts the read did not hang."""
    finished, result, error, seconds = call_with_timeout(read_errno, timeout, path, length)
    assert finished, f"reading {path} did not finish within {timeout} s (hung)"
    if error is not None:
        raise error
    return result[0], result[1], seconds


def errno_name(err):
    return errno.errorcode.get(err, str(err)) if err is not None else "no error"


def hubfs_command(*args, timeout=CMD_TIMEOUT):
    """Runs `hubfs ARGS...` (pin, unpin, ...) and returns the CompletedProcess."""
    return run([hubfs_bin(), *args], timeout=timeout)


def kill_daemon(mount, timeout=10):
    """SIGKILLs the mount's daemon(s), waits until they are gone, then lazily unmounts (the
    kernel answers ENOTCONN meanwhile) so that the mountpoint is free again."""
    for pid in mount.pids:
        if pid_alive(pid):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
    deadline = time.monotonic() + timeout
    while any(pid_alive(p) for p in mount.pids) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not any(pid_alive(p) for p in mount.pids), f"hubfs {sorted(mount.pids)} survived SIGKILL"
    mount._stop_watchdog()
    if is_mounted(mount.mountpoint):
        run(["fusermount3", "-u", "-z", mount.mountpoint])
    if is_mounted(mount.mountpoint):
        run(["umount", "-l", mount.mountpoint])
    assert not is_mounted(mount.mountpoint), f"{mount.mountpoint} still mounted after kill"


def log_text(mount):
    try:
        return mount.log_file.read_text(errors="replace")
    except FileNotFoundError:
        return ""


def origin_body_bytes(server, uri):
    """Body bytes an origin (NginxServer or GatedOrigin) sent for `uri`, Range requests
    included."""
    return sum(r["body_bytes_sent"] for r in server.requests(uri=uri))


class GatedOrigin:
    """A small HTTP/1.1 origin running in the test process (threads) that serves a fixture tree
    like nginx (GET/HEAD, single byte ranges, 206/416, ETag), and can hold back the bytes of one
    file from some offset on until open_gate(): a transfer that reaches the gate stops sending,
    without closing, until the gate opens. Tests use it to prove what a reader may see before a
    blob is complete, without depending on timing.

    Its access log has the fields of NginxServer's (uri, range, status, body_bytes_sent,
    method) plus "complete" (False: the client went away or the transfer was dropped).
    throttle() slows chosen files down smoothly."""

    GATE_WAIT = 60  # seconds a held transfer waits at most; then the connection is dropped

    def __init__(self, root):
        import http.server
        self.root = Path(root).resolve()
        self._gates = {}       # uri -> [offset, opened Event, reached Event]
        self._throttles = []   # [(compiled regex on the uri, bytes per second per response)]
        self._log = []
        self._lock = threading.Lock()
        self._closing = threading.Event()
        origin = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # quiet
                pass

            def do_HEAD(self):
                origin._serve(self, head=True)

            def do_GET(self):
                origin._serve(self, head=False)

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def gate(self, uri, offset):
        """From now on, bytes of `uri` at file offsets >= `offset` wait for open_gate()."""
        with self._lock:
            self._gates[uri] = [offset, threading.Event(), threading.Event()]

    def throttle(self, uri_regex, rate):
        """Bodies of URIs matching `uri_regex` (re.search) are sent at `rate` bytes/s per
        response, smoothly (nginx's limit_rate lets the first second's worth through at once,
        which makes a 2 MiB block request instant)."""
        with self._lock:
            self._throttles.append((re.compile(uri_regex), rate))

    def open_gate(self, uri):
        with self._lock:
            self._gates[uri][1].set()

    def wait_gate_reached(self, uri, timeout):
        """True once some transfer of `uri` is held at the gate."""
        return self._gates[uri][2].wait(timeout)

    def requests(self, since=0, uri=None):
        with self._lock:
            entries = list(self._log[since:])
        return [e for e in entries if uri is None or e["uri"] == uri]

    def mark(self):
        with self._lock:
            return len(self._log)

    def stop(self):
        if self._closing.is_set():
            return
        self._closing.set()
        with self._lock:
            for gate in self._gates.values():
                gate[1].set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)

    def _serve(self, handler, head):
        import urllib.parse
        uri = urllib.parse.unquote(urllib.parse.urlsplit(handler.path).path)
        entry = {"method": handler.command, "uri": uri, "range": handler.headers.get("Range", ""),
                 "status": 0, "body_bytes_sent": 0, "complete": False}
        try:
            self._respond(handler, head, uri, entry)
        except (BrokenPipeError, ConnectionResetError, TimeoutError):
            handler.close_connection = True
        finally:
            with self._lock:
                self._log.append(entry)

    def _respond(self, handler, head, uri, entry):
        path = (self.root / uri.lstrip("/")).resolve()
        if not str(path).startswith(str(self.root) + os.sep) or not path.is_file():
            self._send_simple(handler, 404, entry)
            return
        size = path.stat().st_size
        start, end, status = 0, size - 1, 200
        spec = entry["range"]
        match = re.fullmatch(r"bytes=(\d*)-(\d*)", spec.strip()) if spec else None
        if match and (match.group(1) or match.group(2)):
            if match.group(1):
                start = int(match.group(1))
                end = min(int(match.group(2)), size - 1) if match.group(2) else size - 1
            else:  # suffix range: the last N bytes
                start, end = max(0, size - int(match.group(2))), size - 1
            if start >= size or start > end:
                handler.send_response(416)
                handler.send_header("Content-Range", f"bytes */{size}")
                handler.send_header("Content-Length", "0")
                handler.end_headers()
                entry["status"], entry["complete"] = 416, True
                return
            status = 206
        length = end - start + 1 if size else 0
        handler.send_response(status)
        handler.send_header("Content-Type", "application/octet-stream")
        handler.send_header("Content-Length", str(length))
        handler.send_header("Accept-Ranges", "bytes")
        handler.send_header("ETag", f'"{int(path.stat().st_mtime):x}-{size:x}"')
        if status == 206:
            handler.send_header("Content-Range", f"bytes {start}-{end}/{size}")
        handler.end_headers()
        entry["status"] = status
        if head:
            entry["complete"] = True
            return
        with self._lock:
            gate = self._gates.get(uri)
            rate = next((r for regex, r in self._throttles if regex.search(uri)), None)
        began = time.monotonic()
        with open(path, "rb") as f:
            f.seek(start)
            pos, stop = start, start + length
            while pos < stop:
                if rate:
                    ahead = began + entry["body_bytes_sent"] / rate - time.monotonic()
                    if ahead > 0:
                        time.sleep(ahead)
                limit = stop
                if gate is not None and not gate[1].is_set():
                    if pos >= gate[0]:
                        gate[2].set()
                        handler.wfile.flush()
                        if not gate[1].wait(self.GATE_WAIT) or self._closing.is_set():
                            handler.close_connection = True
                            return
                        continue
                    limit = min(stop, gate[0])
                chunk = f.read(min(1 << 15 if rate else 1 << 16, limit - pos))
                handler.wfile.write(chunk)
                pos += len(chunk)
                entry["body_bytes_sent"] += len(chunk)
        handler.wfile.flush()
        entry["complete"] = True

    def _send_simple(self, handler, status, entry):
        handler.send_response(status)
        handler.send_header("Content-Length", "0")
        handler.end_headers()
        entry["status"], entry["complete"] = status, True
