"""Failure paths: bad checksums, missing files, hostile manifest entries, unreachable manifests,
and `hubfs mount` refusing bad input with a readable message."""

import errno
import os
from pathlib import Path

import pytest

import hubfs_testlib as lib
from hubfs_testlib import HUB

CRASH_SIGNS = ("terminate called", "Segmentation fault", "AddressSanitizer", "Aborted",
               "core dumped")


# ------------------------------------------------------------------------------ reads

def test_wrong_sha_gives_eio_and_caches_nothing(onnx_mount, onnx_fixture, nginx):
    entry = onnx_fixture.meta["bad_sha"][0]
    path = entry["model_path"]
    served = onnx_fixture.media_bytes(path)  # intact bytes; the manifest's sha256 is what's wrong
    for rel in onnx_fixture.mount_paths(HUB, path):
        for length in (16, -1):  # strict verification: not even the first bytes are served
            data, err = lib.read_errno(onnx_mount.path(rel), length)
            assert err == errno.EIO, f"{rel}: expected EIO, got {describe(data, err)}"
    assert nginx.requests(uri=onnx_fixture.media_uri(path)), "the file was never fetched"
    assert lib.files_containing(onnx_mount.cache_dir, served) == [], \
        "bytes that failed verification were kept in the cache"
    # The same entry's tarball has a correct sha256 and must still read fine.
    tarball = entry["metadata"]["model_with_data_path"]
    data, err = lib.read_errno(onnx_mount.path(onnx_fixture.mount_paths(HUB, tarball)[0]))
    assert err is None and data == onnx_fixture.media_bytes(tarball)


def test_wrong_sha_is_not_served_after_remount(mount_factory, onnx_fixture, nginx):
    mount = mount_factory()
    mount.write_config([lib.HubConfig.onnx(HUB, onnx_fixture, nginx.url)])
    mount.mount()
    rel = onnx_fixture.mount_paths(HUB, onnx_fixture.meta["bad_sha"][0]["model_path"])[0]
    assert lib.read_errno(mount.path(rel))[1] == errno.EIO
    mount.umount()
    nginx.stop()  # nothing was cached, so with the server gone there is nothing to serve
    mount.mount()
    data, err = lib.read_errno(mount.path(rel))
    assert err == errno.EIO, f"expected EIO, got {describe(data, err)}"


def test_missing_file_gives_eio(onnx_mount, onnx_fixture, nginx):
    entry = onnx_fixture.meta["missing"][0]
    for rel in onnx_fixture.mount_paths(HUB, entry["model_path"]):
        for _ in range(2):  # and again: a failure must not turn into an empty or stale file
            data, err = lib.read_errno(onnx_mount.path(rel))
            assert err == errno.EIO, f"{rel}: expected EIO, got {describe(data, err)}"
    requests = nginx.requests(uri=onnx_fixture.media_uri(entry["model_path"]))
    statuses = {r["status"] for r in requests}
    assert statuses == {404}


# ------------------------------------------------------------------------------ hostile manifest

def test_hostile_entries_are_skipped(onnx_mount, onnx_fixture, tmp_path):
    outside = [Path("/etc/passwd.onnx"), Path("/tmp/escape.tar.gz")]
    existed = {p for p in outside if p.exists()}
    hostile_names = hostile_components(onnx_fixture)
    seen = lib.scan_tree(onnx_mount.path())
    leaked = sorted(p for p in seen if set(p.split("/")) & hostile_names)
    assert not leaked, f"hostile entries visible in the mount: {leaked}"
    # Looking names up directly must not find them either (lookup and readdir can disagree).
    for rel in (f"{HUB}/vision/slash-name", f"{HUB}/vision/evil-name", f"{HUB}/vision/bell-name",
                f"{HUB}/vision/path-escape", f"{HUB}/vision/tar-escape",
                f"{HUB}/vision/long-component", f"{HUB}/etc/passwd.onnx",
                f"{HUB}/tree/validated/vision/classification/slash_name",
                f"{HUB}/tree/validated/vision/classification/tar_escape"):
        assert not os.path.lexists(onnx_mount.path(rel)), f"{rel} exists"
    # The rest of the manifest is intact (hostile entries sit between good ones).
    lib.compare_tree(onnx_mount.path(), onnx_fixture.expected_tree(HUB), only={HUB})
    # Nothing was written outside the mount's cache dir by following a hostile path.
    for path in outside:
        assert path.exists() == (path in existed), f"{path} was created"
    strays = [os.path.join(d, n) for d, _, names in os.walk(tmp_path) for n in names
              if n in ("passwd.onnx", "escape.tar.gz")]
    assert not strays, f"files named after hostile paths: {strays}"


def hostile_components(fixture):
    """Every path component that only a hostile entry could produce in the mount."""
    names = set()
    for entry in fixture.meta["hostile"]:
        names.add(lib.slugify(entry["model"]))
        for path in (entry["model_path"], entry["metadata"]["model_with_data_path"]):
            names.add(os.path.basename(path))
            names.add(path.split("/")[-3])  # the model's folder in the zoo layout
    return names - {"", "vision", "classification", "validated", ".."}


# ------------------------------------------------------------------------------ manifest fails

@pytest.mark.parametrize("failure", ["connection-refused", "http-404"])
def test_unfetchable_manifest_gives_error_txt(failure, mount_factory, onnx_fixture, nginx):
    if failure == "connection-refused":
        meta = onnx_fixture.meta
        base, repo = f"http://127.0.0.1:{lib.free_port()}", onnx_fixture.repo
        owner_name_ref = f"{meta['owner']}/{meta['name']}/{meta['ref']}"
    else:
        base, repo, owner_name_ref = nginx.url, "nobody/nothing:main", "nobody/nothing/main"
    manifest_url = f"{base}/raw/{owner_name_ref}/ONNX_HUB_MANIFEST.json"
    mount = mount_factory()
    mount.write_config([lib.HubConfig("broken", repo, f"{base}/raw", f"{base}/media"),
                        lib.HubConfig.onnx(HUB, onnx_fixture, nginx.url)])
    mount.mount()
    assert sorted(os.listdir(mount.path("broken"))) == ["ERROR.txt"]
    error_txt = mount.path("broken/ERROR.txt")
    assert os.stat(error_txt).st_mode & 0o777 == lib.FILE_MODE
    text = error_txt.read_text()
    assert manifest_url in text, f"ERROR.txt does not name the manifest URL:\n{text}"
    if failure == "http-404":
        assert "404" in text, f"ERROR.txt does not give the HTTP status:\n{text}"
    # The working hub is unaffected.
    lib.compare_tree(mount.path(), onnx_fixture.expected_tree(HUB), only={HUB})
    lib.check_all_reads(mount.path(), onnx_fixture, HUB)


# ------------------------------------------------------------------------------ mount CLI errors

def unreachable_hub():
    """A syntactically fine hub; mount errors must be reported before it is ever contacted."""
    base = f"http://127.0.0.1:{lib.free_port()}"
    return lib.HubConfig(HUB, "onnx/models:main", f"{base}/raw", f"{base}/media")


def assert_refused(mount, proc, *mentions):
    """A failed `hubfs mount`: non-zero exit (not a crash), a readable message naming one of
    `mentions`, and nothing mounted or left running."""
    assert proc.returncode > 0, \
        f"expected a clean failure, got exit {proc.returncode}: {proc.stderr}"
    message = proc.stderr.strip()
    assert message, "no error message on stderr"
    assert not any(sign in proc.stderr for sign in CRASH_SIGNS), f"crashed: {proc.stderr}"
    assert any(m.lower() in message.lower() for m in mentions), \
        f"message does not mention any of {mentions}: {message!r}"
    assert not lib.is_mounted(mount.mountpoint)


def test_mount_fails_without_mountpoint(mount_factory):
    mount = mount_factory()
    mount.write_config([unreachable_hub()])
    mount.mountpoint.rmdir()
    proc = mount.mount(check=False)
    assert_refused(mount, proc, str(mount.mountpoint))


BAD_CONFIGS = {
    "toml-syntax": 'metadata_ttl = "10m"\n[[hub]\ntype = "onnx"\n',
    "unknown-hub-type": '[[hub]]\ntype = "nope"\nname = "x"\nrepo = "a/b:main"\n',
    "missing-repo": ('[[hub]]\ntype = "onnx"\nname = "onnx"\n'
                     'raw_base = "http://127.0.0.1:9/raw"\n'
                     'media_base = "http://127.0.0.1:9/media"\n'),
    "bad-ttl": ('metadata_ttl = "soon"\n[[hub]]\ntype = "onnx"\nname = "onnx"\nrepo = "a/b:main"\n'
                'raw_base = "http://127.0.0.1:9/raw"\nmedia_base = "http://127.0.0.1:9/media"\n'),
    "hub-name-with-slash": ('[[hub]]\ntype = "onnx"\nname = "a/b"\nrepo = "a/b:main"\n'
                            'raw_base = "http://127.0.0.1:9/raw"\n'
                            'media_base = "http://127.0.0.1:9/media"\n'),
    "duplicate-hub-name": 2 * ('[[hub]]\ntype = "onnx"\nname = "onnx"\nrepo = "a/b:main"\n'
                               'raw_base = "http://127.0.0.1:9/raw"\n'
                               'media_base = "http://127.0.0.1:9/media"\n'),
}


@pytest.mark.parametrize("case", sorted(BAD_CONFIGS))
def test_mount_fails_with_bad_config(case, mount_factory):
    mount = mount_factory()
    # Port 9 (discard) on loopback: never contacted, since the config must be rejected first.
    mount.config.write_text(f'cache_dir = "{mount.cache_dir}"\n' + BAD_CONFIGS[case])
    proc = mount.mount(check=False)
    assert_refused(mount, proc, str(mount.config), "config")


def test_mount_fails_with_missing_config(mount_factory):
    mount = mount_factory()
    proc = mount.mount(check=False)  # write_config was never called
    assert_refused(mount, proc, str(mount.config))


def test_mount_fails_when_already_mounted(onnx_mount):
    proc = onnx_mount.mount(check=False)
    assert proc.returncode > 0, f"second mount on the same mountpoint exited {proc.returncode}"
    assert proc.stderr.strip(), "no error message on stderr"
    assert any(m in proc.stderr.lower() for m in (str(onnx_mount.mountpoint).lower(), "mounted")), \
        f"message does not say what is wrong: {proc.stderr!r}"
    assert os.listdir(onnx_mount.path(HUB)), "the first mount stopped working"


def test_foreground_mount_and_umount(mount_factory, onnx_fixture, nginx):
    mount = mount_factory()
    mount.write_config([lib.HubConfig.onnx(HUB, onnx_fixture, nginx.url)])
    proc = mount.mount_foreground()
    lib.compare_tree(mount.path(), onnx_fixture.expected_tree(HUB), only={HUB})
    mount.umount()
    assert proc.wait(timeout=lib.CMD_TIMEOUT) == 0, "hubfs --foreground did not exit 0 after umount"


def describe(data, err):
    return errno.errorcode.get(err, str(err)) if err is not None else f"{len(data)} bytes"
