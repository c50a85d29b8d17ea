"""The Debian package (packaging/): built with cpack, installed on this machine, used, purged.

The package comes from $HUBFS_DEB_DIR (ctest's package.deb step runs scripts/build-deb there),
else this module builds it with scripts/build-deb into a temporary folder (minutes).

The module installs it with apt-get (so missing dependencies fail the install), checks what it
installed, validates the systemd unit with systemd-analyze, mounts once through fstab with the
installed mount helper and once the way the unit starts the daemon (Type=notify, stopped with
SIGTERM), and purges the package at the end whatever happened. It refuses to run when hubfs is
already installed or its paths exist, since purging would remove them. Other integration tests
use $HUBFS_BIN, never /usr/bin/hubfs, so they may run meanwhile; two copies of this module wait
for each other (a lock file).
"""

import fcntl
import json
import os
import re
import shlex
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest

import hubfs_testlib as lib
from hubfs_testlib import HUB

INSTALLED = {
    "/usr/bin/hubfs": "file",
    "/sbin/mount.fuse.hubfs": "file",
    "/lib/systemd/system/hubfs@.service": "file",
    "/etc/hubfs/config.toml": "file",
    "/usr/share/man/man1/hubfs.1": "file",
    "/usr/share/doc/hubfs/operations.md": "file",
}
LEFT_BEHIND = [*INSTALLED, "/etc/hubfs", "/usr/share/doc/hubfs"]
LOCK_FILE = "/run/lock/hubfs-test-packaging.lock"
LOCK_WAIT = 900      # seconds to wait for another copy of this module
APT_TIMEOUT = 600
BUILD_TIMEOUT = 1800
MODEL = f"{HUB}/vision/resnet50/resnet50-14.onnx"


def package_state():
    """dpkg's status of the hubfs package: "installed", "config-files", "not-installed", ..."""
    proc = lib.run(["dpkg-query", "-W", "-f=${db:Status-Status}", "hubfs"])
    return proc.stdout.strip() if proc.returncode == 0 else "not-installed"


def find_deb(folder):
    debs = sorted(Path(folder).glob("hubfs_*.deb"))
    assert len(debs) == 1, f"expected one hubfs_*.deb in {folder}, found {debs}"
    return debs[0]


@pytest.fixture(scope="module")
def deb(tmp_path_factory):
    folder = os.environ.get("HUBFS_DEB_DIR")
    if folder:
        return find_deb(folder)
    build = tmp_path_factory.mktemp("deb") / "build"
    proc = lib.run([lib.SOURCE_DIR / "scripts/build-deb", build], timeout=BUILD_TIMEOUT)
    assert proc.returncode == 0, f"scripts/build-deb failed:\n{proc.stderr[-4000:]}"
    return find_deb(build)


@pytest.fixture(scope="module")
def machine_lock():
    """Serialises copies of this module (another checkout's ctest) on this machine."""
    missing = [p for p in ("dpkg-deb", "dpkg-query", "apt-get", "systemd-analyze", "mount",
                           "umount", "ldd", "readelf") if not lib.find_program(p)]
    assert not missing, (f"{missing} not found (scripts/install-deps installs dpkg-dev and "
                         "systemd)")
    assert os.geteuid() == 0, "the packaging test installs a package: it must run as root"
    os.makedirs(os.path.dirname(LOCK_FILE), exist_ok=True)
    with open(LOCK_FILE, "w") as lock:
        deadline = time.monotonic() + LOCK_WAIT
        while True:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                assert time.monotonic() < deadline, f"{LOCK_FILE} stayed locked for {LOCK_WAIT} s"
                time.sleep(1)
        yield
        fcntl.flock(lock, fcntl.LOCK_UN)


def purge():
    """Removes the package and its configuration; returns apt-get's output."""
    proc = lib.run(["apt-get", "purge", "-y", "-o", "DPkg::Lock::Timeout=300", "hubfs"],
                   timeout=APT_TIMEOUT, env=dict(os.environ, DEBIAN_FRONTEND="noninteractive"))
    return proc


@pytest.fixture(scope="module")
def installed(deb, machine_lock):
    # Purging removes /etc/hubfs and the binary: never do that to somebody else's install.
    state = package_state()
    assert state == "not-installed", (
        f"the hubfs package is already on this machine ({state}); this test would replace and "
        "then purge it. Remove it (apt-get purge hubfs) or run the test elsewhere.")
    present = [p for p in LEFT_BEHIND if os.path.lexists(p)]
    assert not present, (f"{present} exist; installing and purging the package would replace "
                         "or remove them. Move them away first.")
    try:
        proc = lib.run(["apt-get", "install", "-y", "--no-install-recommends",
                        "-o", "DPkg::Lock::Timeout=300", str(deb)],
                       timeout=APT_TIMEOUT, env=dict(os.environ, DEBIAN_FRONTEND="noninteractive"))
        assert proc.returncode == 0, (f"apt-get install {deb.name} failed (a dependency "
                                      f"missing or not installable?):\n{proc.stdout[-3000:]}\n"
                                      f"{proc.stderr[-3000:]}")
        assert package_state() == "installed"
        yield deb
    finally:
        proc = purge()
        state = package_state()
        left = [p for p in LEFT_BEHIND if os.path.lexists(p)]
        assert proc.returncode == 0 and state == "not-installed" and not left, (
            f"purging hubfs: exit {proc.returncode}, state {state}, left behind {left}:\n"
            f"{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}")


def control_field(deb, field):
    proc = lib.run(["dpkg-deb", "-f", deb, field])
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip()


def depends_packages(depends):
    """{package names} of a Depends field (alternatives and version constraints dropped)."""
    names = set()
    for clause in depends.split(","):
        for alternative in clause.split("|"):
            name = re.sub(r"\(.*?\)", "", alternative).strip().split(":")[0]
            if name:
                names.add(name)
    return names


def owning_package(path):
    """The Debian package that ships the library at `path` (as ldd printed it)."""
    candidates = [path, os.path.realpath(path)]
    for p in list(candidates):
        if p.startswith("/usr/lib/"):
            candidates.append(p[len("/usr"):])
        elif p.startswith("/lib/"):
            candidates.append("/usr" + p)
    for candidate in candidates:
        proc = lib.run(["dpkg-query", "-S", candidate])
        if proc.returncode == 0:
            return proc.stdout.split(":")[0].strip()
    raise AssertionError(f"no package ships {path} (tried {candidates})")


def provided_by(package):
    """The virtual packages `package` provides (libspdlog1.10 provides libspdlog1.10-fmt9)."""
    proc = lib.run(["dpkg-query", "-W", "-f=${Provides}", package])
    return depends_packages(proc.stdout) if proc.returncode == 0 else set()


def test_package_declares_what_the_binary_needs(deb, tmp_path):
    assert control_field(deb, "Package") == "hubfs"
    version = lib.run([lib.hubfs_bin(), "--version"]).stdout.strip().split()[-1]
    assert control_field(deb, "Version").startswith(version + "-"), "the package's version"
    depends = depends_packages(control_field(deb, "Depends"))
    assert "fuse3" in depends, "fusermount3 (hubfs umount, non-root mounts) comes from fuse3"
    # Every shared library of the packaged binary must come from a declared dependency.
    root = tmp_path / "root"
    proc = lib.run(["dpkg-deb", "-x", deb, root])
    assert proc.returncode == 0, proc.stderr
    binary = root / "usr/bin/hubfs"
    ldd = lib.run(["ldd", binary])
    assert ldd.returncode == 0 and "not found" not in ldd.stdout, ldd.stdout
    resolved = dict(re.findall(r"^\s*(\S+)\s*=>\s*(/\S+)", ldd.stdout, re.M))
    dynamic = lib.run(["readelf", "-d", binary])
    assert dynamic.returncode == 0, dynamic.stderr
    sonames = re.findall(r"\(NEEDED\).*\[(.+)\]", dynamic.stdout)
    assert "libfuse3.so.3" in sonames, sonames
    missing = {}
    for soname in sonames:
        package = owning_package(resolved[soname])
        if not ({package} | provided_by(package)) & depends:
            missing[soname] = package
    assert not missing, f"libraries whose packages are not in Depends ({sorted(depends)}): {missing}"
    for expected in ("libfuse3-3", "libcurl4", "liblmdb0", "libssl3", "libgit2-1.5"):
        assert expected in depends, f"{expected} not in Depends: {sorted(depends)}"
    contents = lib.run(["dpkg-deb", "-c", deb]).stdout
    for path in INSTALLED:
        assert re.search(rf" \.{re.escape(path)}$", contents, re.M), f"{path} not in the package"
    conffiles = lib.run(["dpkg-deb", "-I", deb, "conffiles"]).stdout.split()
    assert conffiles == ["/etc/hubfs/config.toml"]


def test_installed_files(installed):
    for path, kind in INSTALLED.items():
        assert os.path.isfile(path), f"{path} is not installed"
    version = lib.run(["/usr/bin/hubfs", "--version"])
    assert version.returncode == 0
    assert version.stdout.strip() == lib.run([lib.hubfs_bin(), "--version"]).stdout.strip()
    assert os.access("/sbin/mount.fuse.hubfs", os.X_OK)
    config = Path("/etc/hubfs/config.toml")
    assert oct(config.stat().st_mode & 0o777) == oct(0o644), "the default holds no token"
    check = lib.run(["/usr/bin/hubfs", "config", "check", config])
    assert check.returncode == 0, check.stderr
    conffiles = lib.run(["dpkg-query", "-W", "-f=${Conffiles}", "hubfs"]).stdout
    assert "/etc/hubfs/config.toml" in conffiles
    man = lib.run(["man", "-w", "hubfs"]) if lib.find_program("man") else None
    if man is not None:
        assert man.stdout.strip() == "/usr/share/man/man1/hubfs.1", man.stdout + man.stderr


def test_unit_is_valid(installed):
    proc = lib.run(["systemd-analyze", "verify", "hubfs@models.service"], timeout=120)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, f"systemd-analyze verify failed:\n{output}"
    assert "hubfs" not in output, f"systemd-analyze has remarks about the unit:\n{output}"


@pytest.mark.parametrize("source, options, expected", [
    ("default", "rw,allow_other,_netdev,nofail,x-systemd.automount,cache_size=20G,"
                "verification=lazy,noatime",
     "--config /etc/hubfs/config.toml --cache-size 20G --verification lazy "
     "-o allow_other,noatime /models"),
    ("hubfs", "ro,defaults", "--config /etc/hubfs/config.toml /models"),
    ("team", "allow_other,cache_dir=/srv/cache", "--config /etc/hubfs/team.toml "
                                                 "--cache-dir /srv/cache -o allow_other /models"),
    ("hubfs#team", "allow_other", "--config /etc/hubfs/team.toml -o allow_other /models"),
    ("/srv/hubfs.toml", "config=/etc/hubfs/other.toml,nosuid,nodev",
     "--config /etc/hubfs/other.toml -o nosuid,nodev /models"),
])
def test_mount_helper_maps_fstab_options(installed, source, options, expected):
    proc = lib.run(["/sbin/mount.fuse.hubfs", source, "/models", "-o", options, "-f", "-v"])
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == f"mount.fuse.hubfs: /usr/bin/hubfs mount {expected}\n"


@pytest.mark.parametrize("source, options, message", [
    ("a/b", "allow_other", "source 'a/b': use default, a name (/etc/hubfs/NAME.toml) or an "
                           "absolute path"),
    ("default", "setuid=nobody", "setuid=nobody is not supported: hubfs runs as the user who "
                                 "mounts (root from fstab)"),
])
def test_mount_helper_refuses(installed, source, options, message):
    proc = lib.run(["/sbin/mount.fuse.hubfs", source, "/models", "-o", options, "-f"])
    assert proc.returncode == 1
    assert proc.stderr == f"mount.fuse.hubfs: {message}\n"


@pytest.fixture
def installed_mounts(mount_factory, monkeypatch):
    """HubfsMount objects whose daemon is the installed /usr/bin/hubfs."""
    monkeypatch.setenv("HUBFS_BIN", "/usr/bin/hubfs")
    return mount_factory


def expected_model(fixture):
    for entry in fixture.listed_entries():
        if entry["model_path"].endswith("/resnet50-14.onnx"):
            return fixture.media_bytes(entry["model_path"])
    raise AssertionError("the fixture has no resnet50-14.onnx")


def super_options(mountpoint):
    with open("/proc/self/mountinfo") as f:
        for line in f:
            fields = line.split()
            if fields[4] == str(mountpoint):
                tail = fields[fields.index("-") + 1:]
                return tail[0], set(tail[2].split(","))
    return None, set()


def test_fstab_mount_and_umount(installed, installed_mounts, onnx_fixture, nginx, tmp_path):
    mount = installed_mounts()
    mount.write_config([lib.HubConfig.onnx(HUB, onnx_fixture, nginx.url)])
    fstab = tmp_path / "fstab"
    fstab.write_text(f"{mount.config} {mount.mountpoint} fuse.hubfs "
                     f"allow_other,_netdev,nofail,cache_dir={tmp_path / 'fstab-cache'} 0 0\n")
    proc = lib.run(["mount", "--fstab", fstab, mount.mountpoint], timeout=60)
    mount._track_daemon()
    assert proc.returncode == 0, f"mount --fstab failed:\n{proc.stderr}\n{mount.log_tail()}"
    fstype, options = super_options(mount.mountpoint)
    assert fstype == "fuse.hubfs"
    assert {"ro", "allow_other", "default_permissions"} <= options, options
    assert mount.pids, "no /usr/bin/hubfs daemon serves the fstab mount"
    assert (mount.mountpoint / MODEL).read_bytes() == expected_model(onnx_fixture)
    assert os.stat(tmp_path / "fstab-cache").st_mode & 0o777 == 0o700
    proc = lib.run(["umount", mount.mountpoint])
    assert proc.returncode == 0, proc.stderr
    assert not lib.is_mounted(mount.mountpoint)
    mount._wait_daemon_exit()


def unit_command(mountpoint, config):
    """The installed unit's ExecStart for the instance whose mount point is `mountpoint`, with
    HUBFS_CONFIG set to `config` (as a drop-in would) and the unit's own HUBFS_ARGS: %f is the
    mount point, ${VAR} one word, $VAR split on white space (systemd.service(5))."""
    env, exec_start = {}, None
    for line in Path("/lib/systemd/system/hubfs@.service").read_text().splitlines():
        if line.startswith("Environment="):
            for assignment in shlex.split(line[len("Environment="):]):
                key, _, value = assignment.partition("=")
                env[key] = value
        elif line.startswith("ExecStart="):
            exec_start = line[len("ExecStart="):]
    assert exec_start and "HUBFS_ARGS" in env, "the unit has no ExecStart or HUBFS_ARGS"
    env["HUBFS_CONFIG"] = str(config)
    argv = []
    for word in exec_start.split():
        if word == "%f":
            argv.append(str(mountpoint))
        elif re.fullmatch(r"\$\{\w+\}", word):
            argv.append(env[word[2:-1]])
        elif re.fullmatch(r"\$\w+", word):
            argv += env[word[1:]].split()
        else:
            assert "%" not in word and "$" not in word, f"unexpected ExecStart word {word}"
            argv.append(word)
    return argv


def test_service_start_ready_and_stop(installed, installed_mounts, onnx_fixture, nginx, tmp_path):
    mount = installed_mounts()
    mount.write_config([lib.HubConfig.onnx(HUB, onnx_fixture, nginx.url)])
    argv = unit_command(mount.mountpoint, mount.config)
    assert argv[:4] == ["/usr/bin/hubfs", "mount", "--foreground", "--config"], argv
    notify_path = tmp_path / "notify"
    notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    notify.bind(str(notify_path))
    notify.settimeout(60)
    messages = []
    with open(tmp_path / "service.err", "w") as err:
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=err, env=dict(os.environ, NOTIFY_SOCKET=str(notify_path)))
    mount.fg_proc = proc
    mount.pids.add(proc.pid)
    try:
        messages.append(notify.recv(4096).decode())
        assert messages[0] == f"READY=1\nSTATUS=mounted at {mount.mountpoint}"
        assert lib.is_mounted(mount.mountpoint), "READY=1 before the mount was there"
        _, options = super_options(mount.mountpoint)
        assert {"allow_other", "default_permissions"} <= options, options
        assert (mount.mountpoint / MODEL).read_bytes() == expected_model(onnx_fixture)
        proc.send_signal(signal.SIGTERM)  # systemctl stop
        assert proc.wait(timeout=30) == 0, (tmp_path / "service.err").read_text()
        messages.append(notify.recv(4096).decode())
        assert messages[1] == "STOPPING=1"
        assert not lib.is_mounted(mount.mountpoint), "the daemon exited but left its mount"
    finally:
        notify.close()
    print(json.dumps(messages))
