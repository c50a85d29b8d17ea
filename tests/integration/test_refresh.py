"""hubfs refresh and the periodic re-listing: a running mount shows a changed manifest without a
remount; unchanged files keep their inode numbers; a failing hub keeps its last listing."""

import json
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

import hubfs_testlib as lib
from hubfs_testlib import HUB


@pytest.fixture
def own_fixture(tmp_path):
    """A fixture of this test's own: the tests edit its manifest."""
    return lib.OnnxFixture.build(tmp_path / "hub", models=3)


def refresh(*args):
    return subprocess.run([lib.hubfs_bin(), "refresh", *map(str, args)], capture_output=True,
                          text=True, timeout=60, stdin=subprocess.DEVNULL)


def rewrite_manifest(fixture, edit):
    path = fixture.root / fixture.meta["manifest"]
    entries = json.loads(path.read_text())
    entries = edit(entries)
    path.write_text(json.dumps(entries, indent=2))
    # Servers send a new ETag when size or mtime change; make sure the mtime moves.
    later = time.time() + 2
    os.utime(path, (later, later))


def model_folder(fixture, entry):
    return f"{HUB}/{entry['model_path'].split('/')[1]}/{lib.slugify(entry['model'])}"


def renamed_copy(entry, name):
    copy = json.loads(json.dumps(entry))
    copy["model"] = name
    return copy


def test_refresh_shows_changes_and_keeps_unchanged_inodes(mount_factory, own_fixture, nginx_factory):
    server = nginx_factory(own_fixture.root)
    mount = mount_factory()
    mount.write_config([lib.HubConfig.onnx(HUB, own_fixture, server.url)], metadata_ttl="1h")
    mount.mount()
    entries = own_fixture.listed_entries()
    kept, dropped = entries[0], entries[1]
    kept_file = mount.path(f"{model_folder(own_fixture, kept)}/{os.path.basename(kept['model_path'])}")
    kept_ino = kept_file.stat().st_ino
    kept_bytes = kept_file.read_bytes()
    assert mount.path(model_folder(own_fixture, dropped)).is_dir()
    added = renamed_copy(kept, "Refreshed Newcomer")
    assert not mount.path(model_folder(own_fixture, added)).exists()  # the kernel remembers absence

    rewrite_manifest(own_fixture, lambda es: [e for e in es if e != dropped] + [added])
    # metadata_ttl is an hour: without a refresh the mount keeps what it listed.
    assert mount.path(model_folder(own_fixture, dropped)).is_dir()

    result = refresh("--mount", mount.path(), HUB)  # other tests may have mounts of their own
    assert result.returncode == 0, result.stderr
    assert "added" in result.stdout and "removed" in result.stdout, result.stdout

    assert mount.path(model_folder(own_fixture, added)).is_dir(), "new model not shown after refresh"
    assert not mount.path(model_folder(own_fixture, dropped)).exists(), "removed model still shown"
    assert kept_file.stat().st_ino == kept_ino, "an unchanged file must keep its inode number"
    assert kept_file.read_bytes() == kept_bytes
    new_file = mount.path(f"{model_folder(own_fixture, added)}/{os.path.basename(added['model_path'])}")
    assert new_file.read_bytes() == kept_bytes


def test_refresh_of_unknown_hub_or_without_mount_fails_clearly(mount_factory, own_fixture, nginx_factory):
    result = refresh("--mount", "/")
    assert result.returncode == 2 and "not a hubfs mount point" in result.stderr, result
    server = nginx_factory(own_fixture.root)
    mount = mount_factory()
    mount.write_config([lib.HubConfig.onnx(HUB, own_fixture, server.url)])
    mount.mount()
    result = refresh("--mount", mount.path(), "no-such-hub")
    assert result.returncode == 1
    assert f"no hub named 'no-such-hub' (hubs: {HUB})" in result.stderr, result.stderr


def test_refresh_with_server_down_keeps_the_listing(mount_factory, own_fixture, nginx_factory):
    server = nginx_factory(own_fixture.root)
    mount = mount_factory()
    mount.write_config([lib.HubConfig.onnx(HUB, own_fixture, server.url)])
    mount.mount()
    before = lib.scan_tree(mount.path(HUB))
    server.stop()
    result = refresh("--mount", mount.path())
    # The cached manifest stands in for the server (stale), so the listing is unchanged.
    assert lib.scan_tree(mount.path(HUB)) == before
    assert result.returncode in (0, 1), result


def test_listing_older_than_metadata_ttl_is_refreshed_while_mounted(mount_factory, own_fixture,
                                                                   nginx_factory):
    server = nginx_factory(own_fixture.root)
    mount = mount_factory()
    mount.write_config([lib.HubConfig.onnx(HUB, own_fixture, server.url)], metadata_ttl="5s")
    mount.mount()
    entry = own_fixture.listed_entries()[0]
    added = renamed_copy(entry, "Periodic Newcomer")
    folder = mount.path(model_folder(own_fixture, added))
    assert not folder.exists()
    rewrite_manifest(own_fixture, lambda es: es + [added])
    deadline = time.monotonic() + 30
    while not folder.exists():
        assert time.monotonic() < deadline, "the mount did not pick up the new manifest within 30 s"
        time.sleep(0.5)


def test_other_users_commands_do_not_ask_this_mount(mount_factory, own_fixture, nginx_factory):
    """Without --mount, refresh and status visit only the caller's own mounts (root: all)."""
    server = nginx_factory(own_fixture.root)
    mount = mount_factory()
    mount.write_config([lib.HubConfig.onnx(HUB, own_fixture, server.url)])
    mount.mount()
    assert refresh("--mount", mount.path()).returncode == 0
    # nobody must be able to run the binary: the build folder may sit below a private one.
    public = Path(tempfile.mkdtemp(prefix="hubfs-bin-", dir="/tmp"))
    try:
        public.chmod(0o755)
        binary = public / "hubfs"
        shutil.copy2(lib.hubfs_bin(), binary)
        for cmd in (["refresh"], ["status"]):
            result = subprocess.run(["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups",
                                     str(binary), *cmd], capture_output=True, text=True, timeout=60,
                                    stdin=subprocess.DEVNULL, cwd="/")
            assert result.returncode == 2, (cmd, result)
            assert "no hubfs mount" in result.stderr, (cmd, result.stderr)
    finally:
        shutil.rmtree(public, ignore_errors=True)
