"""A detached mount logs to syslog: the test binds its own datagram socket (as rsyslog or journald
bind /dev/log), points `syslog_socket` at it, makes a read fail (the file's server answers 500)
and checks the datagram: priority <27> (facility daemon, severity err), tag hubfs[<daemon pid>],
one line naming the path, the URL and the reason. Also: without the socket, the log goes to
<cache_dir>/hubfs.log as before, and log_target = "syslog" without a socket is refused."""

import errno
import re
import socket
import threading
import time

import hubfs_testlib as lib
from hubfs_testlib import HUB

LINE = re.compile(r"<(\d+)>([A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d) hubfs\[(\d+)\]: (.*)")


class SyslogReceiver:
    """A datagram socket bound at `path`, read continuously by a thread as a log daemon reads
    /dev/log (the kernel queues only net.unix.max_dgram_qlen datagrams, often 10; hubfs drops
    lines rather than wait). .received: the datagrams so far."""

    def __init__(self, path):
        self.path = str(path)
        assert len(self.path) < 108, f"{self.path}: too long for a unix socket"
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)
        self.sock.settimeout(0.1)
        self.received = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        while not self._stop.is_set():
            try:
                text = self.sock.recv(65536).decode(errors="replace")
            except socket.timeout:
                continue
            except OSError:
                return
            with self._lock:
                self.received.append(text)

    def wait_for(self, predicate, timeout=30):
        """The first received datagram for which predicate(text) holds, waiting up to `timeout`."""
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                found = [t for t in self.received if predicate(t)]
                seen = list(self.received)
            if found:
                return found[0]
            assert time.monotonic() < deadline, "no such syslog line; got:\n" + "\n".join(seen)
            time.sleep(0.05)

    def close(self):
        self._stop.set()
        self._thread.join(timeout=10)
        self.sock.close()


def write_config(mount, hub, extra):
    """Like HubfsMount.write_config, but without log_file (which would win over syslog)."""
    lines = [f"cache_dir = {lib.toml_string(mount.cache_dir)}", 'metadata_ttl = "10m"',
             'log_level = "info"', *extra, "", *lib.hub_table(hub), ""]
    mount.config.write_text("\n".join(lines))


def test_detached_mount_logs_a_failed_read_to_syslog(mount_factory, onnx_fixture, nginx_factory, tmp_path):
    model = onnx_fixture.readable_paths()[0]
    uri = onnx_fixture.media_uri(model)
    server = nginx_factory(onnx_fixture.root, f"        location = {uri} {{ return 500; }}")
    receiver = SyslogReceiver(tmp_path / "log.sock")
    try:
        mount = mount_factory()
        write_config(mount, lib.HubConfig.onnx(HUB, onnx_fixture, server.url),
                     [f"syslog_socket = {lib.toml_string(receiver.path)}"])
        mount.mount()
        rel = onnx_fixture.mount_paths(HUB, model)[0]
        _, err, _ = lib.read_errno_timeout(mount.path(rel))
        assert err == errno.EIO

        url = server.url + uri
        failure = receiver.wait_for(lambda t: f"/{rel}" in t and "500" in t)
        print(failure)
        m = LINE.fullmatch(failure)
        assert m, failure
        priority, _, pid, message = m.groups()
        assert priority == "27", failure  # daemon (3) * 8 + err (3)
        assert int(pid) in mount.pids, (pid, mount.pids)
        assert url in message and "HTTP 500" in message, message
        assert "\n" not in failure

        started = receiver.wait_for(lambda t: "mounting 1 hub(s)" in t)
        m = LINE.fullmatch(started)
        assert m and m.group(1) == "30" and int(m.group(3)) in mount.pids, started  # info (6)
        assert not (mount.cache_dir / "hubfs.log").exists(), "logged to the file as well"
        # The effective configuration says where the log goes.
        config = mount.path(".hubfs/config").read_text()
        assert 'log_target = "auto"' in config and f'syslog_socket = "{receiver.path}"' in config
        # Lines the socket could not take are counted (and announced by the next line that gets
        # through); with a reader this fast there should be none, but the count is what matters.
        dropped = re.search(r"^hubfs_log_lines_dropped_total (\d+)$", mount.path(".hubfs/stats").read_text(), re.M)
        assert dropped, "no hubfs_log_lines_dropped_total in .hubfs/stats"
        if int(dropped.group(1)):
            receiver.wait_for(lambda t: "log line(s) were dropped: the syslog socket" in t)
    finally:
        receiver.close()


def test_without_the_socket_a_detached_mount_logs_to_the_cache_folder(mount_factory, onnx_fixture, nginx,
                                                                      tmp_path):
    mount = mount_factory()
    write_config(mount, lib.HubConfig.onnx(HUB, onnx_fixture, nginx.url),
                 [f"syslog_socket = {lib.toml_string(tmp_path / 'no-such.sock')}"])
    mount.mount()
    log = mount.cache_dir / "hubfs.log"
    deadline = time.monotonic() + 10
    while "mounted at" not in (log.read_text() if log.exists() else ""):
        assert time.monotonic() < deadline, "nothing logged to <cache_dir>/hubfs.log"
        time.sleep(0.05)


def test_syslog_target_without_a_socket_is_refused(mount_factory, onnx_fixture, nginx, tmp_path):
    mount = mount_factory()
    missing = tmp_path / "no-such.sock"
    write_config(mount, lib.HubConfig.onnx(HUB, onnx_fixture, nginx.url),
                 ['log_target = "syslog"', f"syslog_socket = {lib.toml_string(missing)}"])
    proc = mount.mount(check=False)
    assert proc.returncode == 1, proc
    assert f"syslog socket {missing}" in proc.stderr, proc.stderr
    assert not lib.is_mounted(mount.path())
