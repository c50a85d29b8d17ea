"""hubfs status and hubfs info on real mounts: the ONNX fixture hub (published sha256) and a
DIGITS fixture store (sha256 pinned on first use), served by nginx on 127.0.0.1.

Other hubfs mounts of this machine (other test runs) may be listed by `hubfs status` without
--mount; the assertions on them only look for this test's mount. "No mount" is checked in a
private mount namespace whose hubfs mounts are detached."""

import hashlib
import json
import os
import subprocess
import time

import pytest

import hubfs_testlib as lib
from hubfs_testlib import HUB
from test_digits import DigitsFixture, Servers, HUB as DIGITS_HUB


def hubfs(*args, timeout=60):
    return subprocess.run([lib.hubfs_bin(), *map(str, args)], capture_output=True, text=True,
                          timeout=timeout, stdin=subprocess.DEVNULL)


def good_and_bad(fixture):
    """A readable file and an EIO file of the ONNX fixture, as paths below the mount."""
    good = fixture.mount_paths(HUB, fixture.readable_paths()[0])[0]
    bad = fixture.mount_paths(HUB, fixture.meta["eio_paths"][0])[0]
    return good, bad


def read_expect_eio(path):
    with pytest.raises(OSError) as e:
        with open(path, "rb") as f:
            f.read()
    assert e.value.errno == 5, e.value


# ------------------------------------------------------------------------------ hubfs status

def test_status_shows_mount_hubs_counters_and_errors(onnx_mount, onnx_fixture):
    good, bad = good_and_bad(onnx_fixture)
    data = onnx_mount.path(good).read_bytes()
    read_expect_eio(onnx_mount.path(bad))
    mp = str(onnx_mount.path())

    result = hubfs("status", "--mount", mp)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    print(out)
    assert out.startswith(mp + "\n"), out
    assert f"daemon       pid {min(onnx_mount.pids)}" in out or any(
        f"pid {p}," in out for p in onnx_mount.pids), out
    assert f"config       {onnx_mount.config}" in out, out
    assert f"cache        {onnx_mount.cache_dir}:" in out, out
    assert f"hubs         {HUB} (onnx): " in out and " entries, " in out and "listed " in out, out
    assert "stale" not in out, out
    assert "fetches      0 in flight" in out, out
    assert "traffic" in out and "from origin" in out and "reads" in out, out
    assert "errors       " in out and bad.split("/")[-1] in out, out

    result = hubfs("status", "--mount", mp, "--json")
    assert result.returncode == 0, result.stderr
    [status] = json.loads(result.stdout)
    assert status["ok"] and status["mountpoint"] == mp
    assert status["pid"] in onnx_mount.pids
    assert status["config_source"] == str(onnx_mount.config)
    assert status["cache"]["dir"] == str(onnx_mount.cache_dir)
    assert status["cache"]["used_bytes"] >= len(data)
    [hub] = status["hubs"]
    assert hub["name"] == HUB and hub["type"] == "onnx" and not hub["stale"] and not hub["error"]
    assert hub["files"] > 0 and hub["entries"] > hub["files"] and hub["listed_at"] > 0
    c = status["counters"]
    assert c["bytes_from_origin"] >= len(data) and c["bytes_served"] >= len(data)
    assert c["reads"] >= 1 and c["read_hits"] + c["read_misses"] == c["reads"]
    assert status["errors_total"] >= 1
    last = status["errors"][-1]
    assert last["path"] == "/" + bad and last["source"].endswith(onnx_fixture.meta["eio_paths"][0]), last
    assert status["uptime_seconds"] >= 0 and status["fetches_in_flight"] == 0

    # Without --mount: every hubfs mount, ours among them.
    result = hubfs("status", "--json")
    mounts = {s["mountpoint"]: s for s in json.loads(result.stdout)}
    assert mounts[mp]["ok"], result


def test_status_shows_an_open_file_being_downloaded(mount_factory, onnx_fixture):
    origin = lib.GatedOrigin(onnx_fixture.root)
    try:
        mount = mount_factory()
        mount.write_config([lib.HubConfig.onnx(HUB, onnx_fixture, origin.url)])
        mount.mount()
        big = onnx_fixture.meta["big_model_path"]
        uri = onnx_fixture.media_uri(big)
        origin.gate(uri, lib.BLOCK_SIZE)  # the download stalls after its first block
        rel = onnx_fixture.mount_paths(HUB, big)[0]
        reader = subprocess.Popen(["cat", str(mount.path(rel))], stdout=subprocess.DEVNULL)
        try:
            assert origin.wait_gate_reached(uri, 30), "the read never reached the gate"
            result = hubfs("status", "--mount", mount.path(), "--json")
            assert result.returncode == 0, result.stderr
            [status] = json.loads(result.stdout)
            text = hubfs("status", "--mount", mount.path()).stdout
        finally:
            origin.open_gate(uri)
            reader.wait(timeout=60)
        print(text)
        assert status["fetches_in_flight"] >= 1, status
        [d] = status["downloads"]
        size = len(onnx_fixture.media_bytes(big))
        assert d["path"] == "/" + rel and d["size"] == size and d["url"].endswith(uri), d
        assert d["state"] in ("absent", "partial") and d["cached_bytes"] < size and d["readers"] == 1, d
        assert status["open_files"] >= 1
        assert f"/{rel}: " in text, text
    finally:
        origin.stop()


def test_status_without_mount_or_with_dead_daemon(mount_factory, onnx_fixture, nginx):
    result = hubfs("status", "--mount", "/")
    assert result.returncode == 2 and "not a hubfs mount point" in result.stderr, result
    # No hubfs mount at all: in a private mount namespace, detach every hubfs mount first.
    script = (f"for m in $(findmnt -rn -t fuse.hubfs -o TARGET); do umount -l \"$m\"; done; "
              f"exec {lib.hubfs_bin()} status")
    result = subprocess.run(["unshare", "-m", "sh", "-c", script], capture_output=True, text=True,
                            timeout=60, stdin=subprocess.DEVNULL)
    assert result.returncode == 2, result
    assert "no hubfs mount is running" in result.stderr, result

    mount = mount_factory()
    mount.write_config([lib.HubConfig.onnx(HUB, onnx_fixture, nginx.url)])
    mount.mount()
    mount._kill(9)  # the daemon dies; the mount stays (ENOTCONN) until unmounted
    deadline = time.monotonic() + 10
    while any(lib.pid_alive(p) for p in mount.pids):
        assert time.monotonic() < deadline, "the daemon survived SIGKILL"
        time.sleep(0.02)
    assert lib.is_mounted(mount.path())
    result = hubfs("status", "--mount", mount.path())
    assert result.returncode == 1, result
    assert "not answering" in result.stdout and "not answering" in result.stderr, result
    result = hubfs("status", "--mount", mount.path(), "--json")
    assert result.returncode == 1
    [status] = json.loads(result.stdout)
    assert status["ok"] is False and status["error"], status


# ------------------------------------------------------------------------------ hubfs info

def test_info_of_a_read_file_says_published_and_verified(onnx_mount, onnx_fixture):
    good, _ = good_and_bad(onnx_fixture)
    data = onnx_mount.path(good).read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    result = hubfs("info", onnx_mount.path(good))
    assert result.returncode == 0, result.stderr
    out = result.stdout
    print(out)
    assert out.startswith(f"{good} (in the hubfs mount {onnx_mount.path()})\n"), out
    assert f"sha256       {digest} (published by the hub)" in out, out
    assert f"({len(data)} bytes)" in out and "(100%), verified" in out, out
    assert "pinned       no" in out and f"cache dir    {onnx_mount.cache_dir}" in out, out

    info = json.loads(hubfs("info", "--json", onnx_mount.path(good)).stdout)
    assert info["kind"] == "file" and info["in_mount"] == good
    assert info["sha256"] == digest and info["sha256_origin"] == "published"
    assert info["cached_bytes"] == info["size"] == len(data)
    assert info["state"] == "verified" and info["pinned"] is False
    assert info["cache_key"] == f"sha256:{digest}" and info["source"].endswith(onnx_fixture.readable_paths()[0])

    # A generated file and a folder.
    folder = os.path.dirname(good)
    generated = json.loads(hubfs("info", "--json", onnx_mount.path(f"{folder}/info.json")).stdout)
    assert generated["kind"] == "generated", generated
    result = hubfs("info", "--json", onnx_mount.path(folder))
    assert result.returncode == 0, result.stderr
    folder_info = json.loads(result.stdout)
    files = [p for p in os.listdir(onnx_mount.path(folder))
             if os.path.isfile(onnx_mount.path(f"{folder}/{p}")) and not os.path.islink(onnx_mount.path(f"{folder}/{p}"))
             and p != "info.json"]
    assert folder_info["kind"] == "folder" and folder_info["files"] == len(files), folder_info
    assert folder_info["total_bytes"] == sum(os.path.getsize(onnx_mount.path(f"{folder}/{p}")) for p in files)
    assert folder_info["cached_bytes"] >= len(data) and folder_info["verified_files"] >= 1
    assert folder_info["generated"] >= 2  # info.json and the model.onnx link
    text = hubfs("info", onnx_mount.path(folder)).stdout
    assert f"files        {len(files)} with remote content" in text, text


def test_info_outside_a_mount_or_missing_is_a_usage_error(onnx_mount, tmp_path):
    result = hubfs("info", tmp_path)
    assert result.returncode == 2 and "is not in a hubfs mount" in result.stderr, result
    result = hubfs("info", onnx_mount.path(f"{HUB}/no-such-file"))
    assert result.returncode == 2 and "no such file or folder" in result.stderr, result
    result = hubfs("info", "--json", tmp_path / "nope")
    assert result.returncode == 2 and result.stdout == "", result


@pytest.fixture
def digits_stores(tmp_path_factory):
    return DigitsFixture.build(tmp_path_factory.mktemp("digits-stores"))


def test_info_of_a_digits_file_says_pinned_on_first_use(mount_factory, digits_stores, tmp_path):
    servers = Servers(digits_stores, tmp_path / "servers")
    try:
        mount = mount_factory()
        mount.write_config([servers.hub(stores=("storeA",))], metadata_ttl="1h")
        mount.mount()
        rel = "storeA/lenet/deploy.prototxt"
        path = mount.path(f"{DIGITS_HUB}/{rel}")
        before = json.loads(hubfs("info", "--json", path).stdout)
        assert before["sha256"] is None and before["sha256_origin"] == "none", before
        assert "none yet" in hubfs("info", path).stdout

        data = path.read_bytes()
        digest = hashlib.sha256(data).hexdigest()
        assert digest == digits_stores.expected[rel]["sha256"]
        result = hubfs("info", path)
        assert result.returncode == 0, result.stderr
        print(result.stdout)
        assert f"sha256       {digest} (pinned on first use, " in result.stdout, result.stdout
        info = json.loads(hubfs("info", "--json", path).stdout)
        assert info["sha256_origin"] == "pinned" and info["pinned_at"] > 0
        assert info["cached_bytes"] == info["size"] == len(data) and info["state"] == "verified"
        assert info["cache_key"].startswith("url:"), info
    finally:
        servers.stop()


# ------------------------------------------------------------------------------ hubfs info HUB/PATH

def hubfs_in(cwd, *args):
    """hubfs run from `cwd`, where no folder named like a hub exists."""
    return subprocess.run([lib.hubfs_bin(), *map(str, args)], capture_output=True, text=True, timeout=60,
                          stdin=subprocess.DEVNULL, cwd=cwd)


def test_info_of_a_hub_path_without_a_mount(mount_factory, onnx_fixture, nginx, tmp_path):
    mount = mount_factory()
    config = mount.write_config([lib.HubConfig.onnx(HUB, onnx_fixture, nginx.url)])
    model = onnx_fixture.readable_paths()[0]
    rel = onnx_fixture.mount_paths(HUB, model)[0]
    data = onnx_fixture.media_bytes(model)
    digest = hashlib.sha256(data).hexdigest()

    # Nothing mounted, nothing read yet: the listing says where it comes from, the cache has none.
    result = hubfs_in(tmp_path, "info", "--config", config, rel)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    print(out)
    assert out.startswith(f"{rel} (hub {HUB} of {config}, without a mount)\n"), out
    assert f"source       {nginx.url}{onnx_fixture.media_uri(model)}\n" in out, out
    assert f"sha256       {digest} (published by the hub)" in out, out
    assert f"({len(data)} bytes)" in out and "(0%), not cached" in out, out
    assert f"cache dir    {mount.cache_dir}" in out, out
    info = json.loads(hubfs_in(tmp_path, "info", "--json", "--config", config, rel).stdout)
    assert info["mountpoint"] is None and info["hub"] == HUB and info["config"] == str(config), info
    assert info["kind"] == "file" and info["in_mount"] == rel and info["size"] == len(data)
    assert info["sha256"] == digest and info["sha256_origin"] == "published"
    assert info["cached_bytes"] == 0 and info["state"] == "partial" and info["pinned"] is False
    assert info["cache_key"] == f"sha256:{digest}"

    # Read through a mount of the same cache; afterwards, without the mount, the cache knows it.
    mount.mount()
    assert mount.path(rel).read_bytes() == data
    assert lib.hubfs_command("pin", mount.path(rel)).returncode == 0
    mount.umount()
    info = json.loads(hubfs_in(tmp_path, "info", "--json", "--config", config, rel).stdout)
    assert info["cached_bytes"] == len(data) and info["state"] == "verified" and info["pinned"] is True, info
    text = hubfs_in(tmp_path, "info", "--config", config, rel).stdout
    assert "(100%), verified" in text and "pinned       yes" in text, text

    # model.onnx shows the file it points to, as in a mount; info.json is generated.
    folder = os.path.dirname(rel)
    link = json.loads(hubfs_in(tmp_path, "info", "--json", "--config", config, f"{folder}/model.onnx").stdout)
    assert link["kind"] == "file" and link["in_mount"].startswith(folder + "/"), link
    assert link["in_mount"] != f"{folder}/model.onnx"
    generated = json.loads(hubfs_in(tmp_path, "info", "--json", "--config", config, f"{folder}/info.json").stdout)
    assert generated["kind"] == "generated" and generated["size"] > 0, generated

    # A folder: its files, their sizes from the manifest and what is cached.
    result = hubfs_in(tmp_path, "info", "--json", "--config", config, folder + "/")
    assert result.returncode == 0, result.stderr
    folder_info = json.loads(result.stdout)
    entries = [e for e in onnx_fixture.listed_entries()
               if onnx_fixture.mount_paths(HUB, e["model_path"])[0].startswith(folder + "/")]
    assert folder_info["kind"] == "folder" and folder_info["files"] == 2 * len(entries), folder_info
    assert folder_info["total_bytes"] == sum(e["metadata"]["model_bytes"] + e["metadata"]["model_with_data_bytes"]
                                             for e in entries)
    assert folder_info["cached_bytes"] == len(data) and folder_info["verified_files"] == 1
    assert folder_info["generated"] == 2 and folder_info["unknown_sizes"] == 0  # info.json, model.onnx


def test_info_names_the_hubs_when_a_path_is_neither_mounted_nor_a_hub_path(mount_factory, onnx_fixture, nginx,
                                                                           tmp_path):
    mount = mount_factory()
    config = mount.write_config([lib.HubConfig.onnx(HUB, onnx_fixture, nginx.url)])
    result = hubfs_in(tmp_path, "info", "--config", config, "nohub/vision/x.onnx")
    assert result.returncode == 2 and result.stdout == "", result
    assert "nohub/vision/x.onnx: no such file or folder, nor a hub path HUB/PATH ('nohub' is no hub)" in result.stderr
    assert f"(hubs in {config}: {HUB})" in result.stderr, result.stderr
    result = hubfs_in(tmp_path, "info", "--config", config, f"{HUB}/vision/no-such-model")
    assert result.returncode == 2, result
    assert f"{HUB}/vision/no-such-model: no such file or folder in hub '{HUB}'" in result.stderr, result.stderr
    result = hubfs_in(tmp_path, "info", "--config", config, tmp_path)
    assert result.returncode == 2, result
    assert f"{tmp_path} is not in a hubfs mount, nor a hub path HUB/PATH (hubs in {config}: {HUB})" \
        in result.stderr, result.stderr
    # Nothing cached (a new cache folder) and the server down: the hub cannot be listed (exit 1,
    # with the reason).
    config = mount.write_config([lib.HubConfig.onnx(HUB, onnx_fixture, nginx.url)], cache_dir=tmp_path / "empty")
    nginx.stop()
    result = hubfs_in(tmp_path, "info", "--config", config, f"{HUB}/vision")
    assert result.returncode == 1, result
    assert f"hub {HUB}: GET " in result.stderr and "nothing usable is cached" in result.stderr, result.stderr


def test_info_of_a_digits_hub_path_shows_the_pinned_sha256_and_learned_size(mount_factory, digits_stores,
                                                                            tmp_path):
    servers = Servers(digits_stores, tmp_path / "servers")
    try:
        mount = mount_factory()
        config = mount.write_config([servers.hub(stores=("storeA",))], metadata_ttl="1h")
        rel = "storeA/lenet/deploy.prototxt"
        path = f"{DIGITS_HUB}/{rel}"
        before = json.loads(hubfs_in(tmp_path, "info", "--json", "--config", config, path).stdout)
        assert before["sha256"] is None and before["sha256_origin"] == "none", before
        assert before["size"] == 0 and before["cache_key"].startswith("url:"), before  # stores publish no sizes
        assert "not known yet" in hubfs_in(tmp_path, "info", "--config", config, path).stdout

        mount.mount()
        data = mount.path(path).read_bytes()
        mount.umount()
        digest = hashlib.sha256(data).hexdigest()
        result = hubfs_in(tmp_path, "info", "--config", config, path)
        assert result.returncode == 0, result.stderr
        print(result.stdout)
        assert f"sha256       {digest} (pinned on first use, " in result.stdout, result.stdout
        after = json.loads(hubfs_in(tmp_path, "info", "--json", "--config", config, path).stdout)
        assert after["sha256_origin"] == "pinned" and after["pinned_at"] > 0
        assert after["size"] == after["cached_bytes"] == len(data) and after["state"] == "verified", after
    finally:
        servers.stop()
