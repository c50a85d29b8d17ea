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
        listen 127.0.0.1:{port};
        server_name localhost;
        root {root};
        autoindex on;
{extra}
    }}
}}
"""


class NginxServer:
    """nginx serving `root` on 127.0.0.1; `extra` is inserted into the server block (locations
    with limit_rate, return 503, ...)."""

    def __init__(self, root, work, extra=""):
        self.root, self.work, self.extra = Path(root), Path(work), extra
        self.port = None
        self.proc = None
        (self.work / "tmp").mkdir(parents=True, exist_ok=True)
        self.conf = self.work / "nginx.conf"
        self.access_log = self.work / "access.log"
        self.error_log = self.work / "error.log"

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def start(self):
        """Starts nginx (on the same port as before after a stop()); returns self."""
        assert self.proc is None, "nginx already running"
        attempts = 1 if self.port else 5  # a fresh free port can be stolen between probe and bind
        for _ in range(attempts):
            self.port = self.port or free_port()
            self.conf.write_text(NGINX_CONF.format(work=self.work, root=self.root,
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
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
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
        lines = [f"cache_dir = {toml_string(cache_dir or self.cache_dir)}",
                 f"metadata_ttl = {toml_string(metadata_ttl)}",
                 f"log_file = {toml_string(self.log_file)}",
                 f"log_level = {toml_string(log_level)}", extra, ""]
        for hub in hubs:
            lines += ["[[hub]]"] + [f"{k} = {toml_string(v)}"
                                    for k, v in dataclasses.asdict(hub).items()] + [""]
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

@dataclasses.dataclass
class Seen:
    """One entry found in the mount (from lstat; symlinks are not followed)."""
    kind: str
    mode: int
    size: int
    target: str = None


def scan_tree(root):
    """{relative path: Seen} for everything below `root` (the `ls -lR` of the mount)."""
    found = {}
    def walk(rel):
        with os.scandir(os.path.join(root, rel)) as it:
            entries = sorted(it, key=lambda e: e.name)
        for entry in entries:
            path = f"{rel}/{entry.name}" if rel else entry.name
            st = entry.stat(follow_symlinks=False)
            if stat.S_ISDIR(st.st_mode):
                found[path] = Seen("dir", stat.S_IMODE(st.st_mode), st.st_size)
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
