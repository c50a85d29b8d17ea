"""One daemon for every user of the machine (docs/operations.md, "One daemon for all users").

root mounts with -o allow_other; an unprivileged user (nobody, through setpriv) reads the
models, and every attempt to change the mount fails with the exact errno the kernel gives for a
read-only mount; the cache folder is root's own (0700), so nobody cannot read or plant cached
blobs. A cache folder that is not private is fixed or refused, and a configuration that holds a
token is refused while other users can read it.
"""

import errno
import hashlib
import json
import os
import shutil
import stat
import tempfile
from pathlib import Path

import pytest

import hubfs_testlib as lib
from hubfs_testlib import HUB

NOBODY = ("nobody", "nogroup")
MODEL = f"{HUB}/vision/resnet50/resnet50-14.onnx"

# Run by /usr/bin/python3 as nobody: tries each operation and reports the errno (or "ok").
AS_USER_SCRIPT = r"""
import errno, hashlib, json, os, sys
args = json.loads(sys.argv[1])
mnt, cache, blob = args["mountpoint"], args["cache_dir"], args["blob"]
folder = os.path.join(mnt, args["folder"])
model = os.path.join(mnt, args["model"])
out = {"uid": os.getuid(), "gid": os.getgid(), "groups": os.getgroups()}

def attempt(name, fn):
    try:
        result = fn()
        if isinstance(result, int):
            os.close(result)
        out[name] = "ok"
    except OSError as e:
        out[name] = errno.errorcode.get(e.errno, str(e.errno))

with open(model, "rb") as f:
    out["sha256"] = hashlib.sha256(f.read()).hexdigest()
out["listing"] = sorted(os.listdir(folder))
out["model_mode"] = oct(os.stat(model).st_mode & 0o7777)
out["folder_mode"] = oct(os.stat(folder).st_mode & 0o7777)
out["xattr_sha256"] = os.getxattr(model, "user.hubfs.sha256").decode()
attempt("open O_WRONLY", lambda: os.open(model, os.O_WRONLY))
attempt("open O_RDWR", lambda: os.open(model, os.O_RDWR))
attempt("create", lambda: os.open(os.path.join(folder, "new.onnx"), os.O_WRONLY | os.O_CREAT, 0o644))
attempt("truncate", lambda: os.truncate(model, 0))
attempt("chmod", lambda: os.chmod(model, 0o666))
attempt("chmod folder", lambda: os.chmod(folder, 0o777))
attempt("chown", lambda: os.chown(model, os.getuid(), os.getgid()))
attempt("unlink", lambda: os.unlink(model))
attempt("unlink symlink", lambda: os.unlink(os.path.join(folder, "model.onnx")))
attempt("mkdir", lambda: os.mkdir(os.path.join(folder, "newdir")))
attempt("mkdir in root", lambda: os.mkdir(os.path.join(mnt, "newdir")))
attempt("rmdir", lambda: os.rmdir(folder))
attempt("rename", lambda: os.rename(model, os.path.join(folder, "renamed.onnx")))
attempt("symlink", lambda: os.symlink("resnet50-14.onnx", os.path.join(folder, "link.onnx")))
attempt("link", lambda: os.link(model, os.path.join(folder, "hard.onnx")))
attempt("utime", lambda: os.utime(model, (0, 0)))
attempt("setxattr", lambda: os.setxattr(model, "user.hubfs.test", b"1"))
attempt("list cache", lambda: os.listdir(cache))
attempt("stat blob", lambda: os.stat(blob))
attempt("open blob", lambda: os.open(blob, os.O_RDONLY))
attempt("create in cache", lambda: os.open(os.path.join(cache, "planted"), os.O_WRONLY | os.O_CREAT, 0o644))
print(json.dumps(out))
"""

# What the kernel answers an unprivileged user on a read-only FUSE mount with
# default_permissions: the read-only check comes first for everything that would change it.
EXPECTED_ERRNOS = {
    "open O_WRONLY": "EROFS",
    "open O_RDWR": "EROFS",
    "create": "EROFS",
    "truncate": "EROFS",
    "chmod": "EROFS",
    "chmod folder": "EROFS",
    "chown": "EROFS",
    "unlink": "EROFS",
    "unlink symlink": "EROFS",
    "mkdir": "EROFS",
    "mkdir in root": "EROFS",
    "rmdir": "EROFS",
    "rename": "EROFS",
    "symlink": "EROFS",
    "link": "EROFS",
    "utime": "EROFS",
    "setxattr": "EROFS",
    # The cache folder is 0700 root: nobody can neither look into it nor reach a blob.
    "list cache": "EACCES",
    "stat blob": "EACCES",
    "open blob": "EACCES",
    "create in cache": "EACCES",
}


def run_as_nobody(args):
    """Runs AS_USER_SCRIPT as nobody:nogroup with no supplementary groups; returns its report."""
    setpriv = lib.find_program("setpriv")
    assert setpriv, "setpriv not found (apt-get install util-linux)"
    env = {"PATH": "/usr/bin:/bin", "HOME": "/nonexistent", "LANG": "C.UTF-8",
           "PYTHONDONTWRITEBYTECODE": "1"}
    proc = lib.run([setpriv, f"--reuid={NOBODY[0]}", f"--regid={NOBODY[1]}", "--clear-groups",
                    lib.PYTHON, "-c", AS_USER_SCRIPT, json.dumps(args)], env=env, cwd="/")
    assert proc.returncode == 0, f"the script run as nobody failed:\n{proc.stderr}"
    return json.loads(proc.stdout)


def mount_options(mountpoint):
    """(fstype, mount options, super options) of the mount at `mountpoint`."""
    with open("/proc/self/mountinfo") as f:
        for line in f:
            fields = line.split()
            if fields[4] == str(mountpoint):
                tail = fields[fields.index("-") + 1:]
                return tail[0], fields[5].split(","), tail[2].split(",")
    raise AssertionError(f"{mountpoint} is not in /proc/self/mountinfo")


@pytest.fixture
def world_work():
    """A work folder every user may traverse (pytest's tmp_path is 0700 root): the mount point
    and the cache's parent live here, so only the cache folder's own mode keeps nobody out."""
    base = Path(tempfile.mkdtemp(prefix="hubfs-multiuser-"))
    base.chmod(0o755)
    yield base
    shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def world_mounts(world_work):
    with lib.mounts_in(world_work) as make:
        yield make


def test_other_users_read_but_change_nothing(world_mounts, onnx_fixture, nginx):
    mount = world_mounts()
    mount.write_config([lib.HubConfig.onnx(HUB, onnx_fixture, nginx.url)])
    mount.mount("-o", "allow_other")

    fstype, options, super_options = mount_options(mount.mountpoint)
    assert fstype == "fuse.hubfs"
    assert "ro" in options, options
    # hubfs adds default_permissions itself: the kernel checks the 0444/0555 modes.
    assert {"ro", "allow_other", "default_permissions"} <= set(super_options), super_options

    expected = None
    for entry in onnx_fixture.listed_entries():
        if entry["model_path"].endswith("/resnet50-14.onnx"):
            expected = onnx_fixture.media_bytes(entry["model_path"])
    assert expected is not None, "the fixture has no resnet50-14.onnx"
    sha = hashlib.sha256(expected).hexdigest()
    blob = lib.blob_path(mount.cache_dir, sha)

    report = run_as_nobody({"mountpoint": str(mount.mountpoint), "cache_dir": str(mount.cache_dir),
                            "blob": str(blob), "folder": f"{HUB}/vision/resnet50",
                            "model": MODEL})
    assert report["uid"] == 65534 and report["gid"] == 65534 and report["groups"] == [], report
    assert report["sha256"] == sha, "nobody read other bytes than the fixture's"
    assert "resnet50-14.onnx" in report["listing"] and "model.onnx" in report["listing"]
    assert report["model_mode"] == oct(lib.FILE_MODE) and report["folder_mode"] == oct(lib.DIR_MODE)
    assert report["xattr_sha256"] == sha
    got = {name: report[name] for name in EXPECTED_ERRNOS}
    wrong = {name: f"{got[name]}, expected {want}" for name, want in EXPECTED_ERRNOS.items()
             if got[name] != want}
    assert not wrong, f"as nobody: {json.dumps(wrong, indent=1)}"

    # What nobody read is in root's private cache, unchanged.
    st = os.stat(mount.cache_dir)
    assert stat.S_IMODE(st.st_mode) == 0o700 and st.st_uid == 0, oct(st.st_mode)
    assert blob.is_file(), f"{blob} was not cached"
    assert not (mount.cache_dir / "planted").exists()
    assert (mount.mountpoint / MODEL).read_bytes() == expected
    mount.umount()


def test_a_readable_cache_folder_is_made_private(world_mounts, onnx_fixture, nginx):
    mount = world_mounts()
    mount.write_config([lib.HubConfig.onnx(HUB, onnx_fixture, nginx.url)])
    mount.cache_dir.mkdir()
    mount.cache_dir.chmod(0o755)
    proc = mount.mount("-o", "allow_other")
    assert (f"hubfs mount: cache folder {mount.cache_dir} was readable by other users "
            "(mode 0755); it is now 0700") in proc.stderr
    assert stat.S_IMODE(os.stat(mount.cache_dir).st_mode) == 0o700
    mount.umount()


@pytest.mark.parametrize("mode", [0o777, 0o1777, 0o775])
def test_a_cache_folder_others_can_write_is_refused(world_mounts, mode):
    mount = world_mounts()
    mount.write_config([])
    mount.cache_dir.mkdir()
    mount.cache_dir.chmod(mode)
    proc = mount.mount(check=False)
    assert proc.returncode == 1
    assert proc.stderr == (
        f"hubfs mount: cache folder {mount.cache_dir} is writable by other users "
        f"(mode {mode:04o}), so what it holds cannot be trusted; check or empty it "
        f"(hubfs cache clear --cache-dir {mount.cache_dir}), then chmod 700 {mount.cache_dir}\n")
    assert not lib.is_mounted(mount.mountpoint)
    assert stat.S_IMODE(os.stat(mount.cache_dir).st_mode) == mode, "a refused folder is left alone"


def test_a_cache_folder_of_another_user_is_refused(world_mounts):
    mount = world_mounts()
    mount.write_config([])
    mount.cache_dir.mkdir(mode=0o700)
    os.chown(mount.cache_dir, 65534, 65534)
    proc = mount.mount(check=False)
    assert proc.returncode == 1
    assert proc.stderr == (
        f"hubfs mount: cache folder {mount.cache_dir} belongs to uid 65534 (nobody), but hubfs "
        "runs as uid 0 (root); the cache must be the daemon's own: chown it, or use another "
        "cache_dir (--cache-dir)\n")
    assert not lib.is_mounted(mount.mountpoint)


def write_token_config(mount, mode):
    mount.write_config([lib.HubConfig("onnx", "acme/models:main", "http://127.0.0.1:9/raw",
                                      "http://127.0.0.1:9/media")])
    text = mount.config.read_text().rstrip("\n") + '\ntoken = "hf_not_a_real_token"\n'
    mount.config.write_text(text)
    mount.config.chmod(mode)
    return text.count("\n")  # the token's line is the last one


@pytest.mark.parametrize("mode, who", [(0o644, "every user"), (0o640, "its group"),
                                       (0o604, "every user")])
def test_a_readable_configuration_with_a_token_is_refused(world_mounts, mode, who):
    mount = world_mounts()
    line = write_token_config(mount, mode)
    message = (f"{mount.config}:{line}: holds a token, but the file is readable by {who} "
               f"(mode {mode:04o}); make it private to the daemon's user: chmod 600 {mount.config}")
    proc = mount.mount(check=False)
    assert proc.returncode == 1
    assert proc.stderr == f"hubfs mount: {message}\n"
    assert not lib.is_mounted(mount.mountpoint)
    assert not mount.cache_dir.exists(), "nothing may happen before the configuration is accepted"
    check = lib.hubfs_command("config", "check", mount.config)
    assert check.returncode == 1
    assert message in check.stderr + check.stdout


def test_a_private_configuration_with_a_token_passes_the_check(world_mounts):
    mount = world_mounts()
    write_token_config(mount, 0o600)
    check = lib.hubfs_command("config", "check", mount.config)
    # Today no onnx hub takes a token, so the parser may still refuse the key; the permission
    # check must not be what refuses it.
    assert "chmod 600" not in check.stderr + check.stdout, check.stderr


def test_rw_is_refused(world_mounts):
    mount = world_mounts()
    mount.write_config([])
    proc = mount.mount("-o", "allow_other,rw", check=False)
    assert proc.returncode == 1
    assert proc.stderr == "hubfs mount: -o rw: hubfs mounts are always read-only\n"
    assert not lib.is_mounted(mount.mountpoint)
