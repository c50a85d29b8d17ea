"""Reuse of the hubs' own clients' caches: a mount imports what the ONNX hub client
($ONNX_HOME/hub) and the Hugging Face client ($HF_HOME/hub) already downloaded, hashes it before
trusting it, never changes it, and then reads those files without asking the server for them.

The ONNX hub cache is made by Debian's onnx.hub itself (tests/fixtures/onnx_hub_client_cache.py,
pointed at the fixture nginx); the Hugging Face cache is tests/fixtures/make_hf_hub.py's
build_hf_cache, laid out as huggingface_hub leaves it. Every daemon gets HOME, ONNX_HOME,
HF_HOME and XDG_CACHE_HOME inside the test's folder, so the machine's own caches are never read.
"""

import hashlib
import json
import os
import re
import subprocess
import time
from pathlib import Path

import pytest

import hubfs_testlib as lib
from hubfs_testlib import HUB
from hf_testlib import hf_data, hf_server, hf_cache, hub as hf_hub  # noqa: F401 (fixtures)

CLIENT_SCRIPT = lib.SOURCE_DIR / "tests/fixtures/onnx_hub_client_cache.py"
IMPORT_WAIT = 60  # seconds for an import pass (ASan builds hash slowly)


def metrics(mount):
    values = {}
    for line in mount.path(".hubfs/stats").read_text().splitlines():
        m = re.fullmatch(r"([a-z_]+) (\d+)", line)
        if m:
            values[m.group(1)] = int(m.group(2))
    return values


def wait_for_import(mount, passes=1):
    """Waits until `passes` import passes have finished and none runs; returns the metrics."""
    deadline = time.monotonic() + IMPORT_WAIT
    while True:
        values = metrics(mount)
        if values["hubfs_import_passes_total"] >= passes and values["hubfs_import_running"] == 0:
            return values
        assert time.monotonic() < deadline, f"no import pass finished: {values}\n{lib.log_text(mount)[-3000:]}"
        time.sleep(0.05)


@pytest.fixture
def client_env(tmp_path, monkeypatch):
    """The daemon's view of the user's caches: every folder a client might use is in tmp_path."""
    home = tmp_path / "home"
    env = {"HOME": home, "ONNX_HOME": tmp_path / "onnx-home", "HF_HOME": tmp_path / "hf-home",
           "XDG_CACHE_HOME": tmp_path / "xdg-cache"}
    for name, value in env.items():
        value.mkdir(parents=True, exist_ok=True)
        monkeypatch.setenv(name, str(value))
    for name in ("HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE", "HF_TOKEN", "HF_TOKEN_PATH", "HF_ENDPOINT"):
        monkeypatch.delenv(name, raising=False)
    return env


def onnx_client_load(nginx, fixture, onnx_home, models):
    """Runs onnx.hub.load() for each (model, opset) with ONNX_HOME=onnx_home; {model_path: file}."""
    env = dict(os.environ, ONNX_HOME=str(onnx_home))
    proc = subprocess.run([lib.PYTHON, str(CLIENT_SCRIPT), nginx.url, fixture.repo,
                           *[f"{m}:{o}" for m, o in models]],
                          capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr
    cached = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    by_key = {(c["model"], c["opset"]): c["path"] for c in cached}
    out = {}
    for entry in fixture.listed_entries():
        key = (entry["model"], entry["opset_version"])
        if key in by_key and os.path.basename(by_key[key]).endswith(os.path.basename(entry["model_path"])):
            out[entry["model_path"]] = Path(by_key[key])
    return out


def place_hf_blob(hf_hub_dir, data):
    """Stores `data` as an LFS blob of a Hugging Face cache repo folder; returns its path."""
    blobs = Path(hf_hub_dir) / "models--fixture--zoo" / "blobs"
    blobs.mkdir(parents=True, exist_ok=True)
    path = blobs / hashlib.sha256(data).hexdigest()
    path.write_bytes(data)
    return path


def file_states(paths):
    """{path: (mtime_ns, size, sha256)}: what must not change."""
    out = {}
    for p in paths:
        st = os.lstat(p)
        out[str(p)] = (st.st_mtime_ns, st.st_size, hashlib.sha256(Path(p).read_bytes()).hexdigest())
    return out


def good_files(fixture):
    """model_path -> (sha256, bytes) of every readable file (models and test-data tarballs)."""
    out = {}
    for entry in fixture.listed_entries():
        meta = entry["metadata"]
        for path, sha in ((entry["model_path"], meta.get("model_sha")),
                          (meta["model_with_data_path"], meta.get("model_with_data_sha"))):
            if path not in fixture.meta["eio_paths"] and sha:
                out[path] = (sha, fixture.media_bytes(path))
    return out


def test_onnx_and_hf_client_caches_are_imported_with_zero_model_requests(
        mount_factory, onnx_fixture, nginx, client_env):
    files = good_files(onnx_fixture)
    # The ONNX hub client downloads every model it can select (model name + opset).
    keys = sorted({(e["model"], e["opset_version"]) for e in onnx_fixture.listed_entries()
                   if e["model_path"] in files})
    from_onnx = onnx_client_load(nginx, onnx_fixture, client_env["ONNX_HOME"], keys)
    assert len(from_onnx) >= 10, from_onnx
    assert all(str(p).startswith(str(client_env["ONNX_HOME"] / "hub")) for p in from_onnx.values())
    # Everything else (the .tar.gz test data, models onnx.hub cannot select) in an HF cache.
    from_hf = {path: place_hf_blob(client_env["HF_HOME"] / "hub", data)
               for path, (_, data) in files.items() if path not in from_onnx}
    assert from_hf, "expected tarballs for the HF cache"
    sources = list(from_onnx.values()) + list(from_hf.values())
    before = file_states(sources)

    mount = mount_factory()
    mount.write_config([lib.HubConfig.onnx(HUB, onnx_fixture, nginx.url)])
    mark = nginx.mark()
    mount.mount()
    values = wait_for_import(mount)
    distinct = dict(files.values())  # sha256 -> bytes: files with the same content are one blob
    assert values["hubfs_imported_files_total"] == len(distinct), values
    assert values["hubfs_imported_bytes_total"] == sum(map(len, distinct.values())), values
    assert values["hubfs_import_rejected_total"] == 0, values
    for path in files:
        for rel in onnx_fixture.mount_paths(HUB, path):
            # Verified by the import, before anyone read it.
            assert os.getxattr(mount.path(rel), "user.hubfs.verified").decode() == "yes", rel
    assert lib.check_all_reads(mount.path(), onnx_fixture, HUB) == 2 * len(files)
    requests = nginx.requests(since=mark)
    assert [r for r in requests if r["uri"].startswith("/media/")] == [], "a cached model was downloaded"
    assert {r["uri"] for r in requests} <= {onnx_fixture.manifest_uri}, requests
    assert metrics(mount)["hubfs_origin_bytes_total"] == 0
    assert file_states(sources) == before, "a client cache file was changed"
    log = lib.log_text(mount)
    assert "import: files of the hubs' clients' caches are imported from" in log
    assert str(client_env["ONNX_HOME"] / "hub") in log and str(client_env["HF_HOME"] / "hub") in log


def test_a_tampered_client_cache_file_is_not_trusted(mount_factory, onnx_fixture, nginx, client_env):
    files = good_files(onnx_fixture)
    (good_path, (good_sha, good_data)), (bad_path, (bad_sha, bad_data)) = list(files.items())[:2]
    hub_dir = client_env["ONNX_HOME"] / "hub"

    def place(model_path, sha, data):
        parts = model_path.split("/")
        target = hub_dir.joinpath(*parts[:-1], f"{sha}_{parts[-1]}")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        return target

    good_file = place(good_path, good_sha, good_data)
    tampered = bytearray(bad_data)
    tampered[len(tampered) // 2] ^= 0x01  # same size, one bit off
    bad_file = place(bad_path, bad_sha, bytes(tampered))
    before = file_states([good_file, bad_file])

    mount = mount_factory()
    mount.write_config([lib.HubConfig.onnx(HUB, onnx_fixture, nginx.url)])
    mount.mount()
    values = wait_for_import(mount)
    assert values["hubfs_imported_files_total"] == 1, values
    assert values["hubfs_import_rejected_total"] == 1, values
    bad_rel = onnx_fixture.mount_paths(HUB, bad_path)[0]
    assert os.getxattr(mount.path(bad_rel), "user.hubfs.verified").decode() == "no"
    assert os.getxattr(mount.path(bad_rel), "user.hubfs.cached_bytes").decode() == "0"
    log = lib.log_text(mount)
    assert re.search(rf"import: {re.escape(str(bad_file))} not imported .*sha256 is "
                     rf"{hashlib.sha256(tampered).hexdigest()}, not {bad_sha}", log), log[-3000:]

    mark = nginx.mark()
    assert mount.path(bad_rel).read_bytes() == bad_data, "the tampered bytes were served"
    assert mount.path(onnx_fixture.mount_paths(HUB, good_path)[0]).read_bytes() == good_data
    uris = [r["uri"] for r in nginx.requests(since=mark)]
    assert uris.count(onnx_fixture.media_uri(bad_path)) >= 1, uris  # downloaded instead
    assert onnx_fixture.media_uri(good_path) not in uris, uris      # imported
    assert file_states([good_file, bad_file]) == before


def test_refresh_imports_what_the_clients_downloaded_since(mount_factory, onnx_fixture, nginx, client_env):
    mount = mount_factory()
    mount.write_config([lib.HubConfig.onnx(HUB, onnx_fixture, nginx.url)])
    mount.mount()
    assert wait_for_import(mount)["hubfs_imported_files_total"] == 0
    entry = next(e for e in onnx_fixture.listed_entries() if e["model"] == "GPT-2")  # 4 MiB: three blocks
    from_onnx = onnx_client_load(nginx, onnx_fixture, client_env["ONNX_HOME"], [(entry["model"], entry["opset_version"])])
    assert list(from_onnx) == [entry["model_path"]]
    result = lib.hubfs_command("refresh", "--mount", mount.path())
    assert result.returncode == 0, result.stderr
    values = wait_for_import(mount, passes=2)
    assert values["hubfs_imported_files_total"] == 1, values
    mark = nginx.mark()
    rel = onnx_fixture.mount_paths(HUB, entry["model_path"])[0]
    assert mount.path(rel).read_bytes() == onnx_fixture.media_bytes(entry["model_path"])
    assert [r for r in nginx.requests(since=mark) if r["uri"].startswith("/media/")] == []


def test_import_caches_false_imports_nothing(mount_factory, onnx_fixture, nginx, client_env):
    entry = onnx_fixture.listed_entries()[0]
    onnx_client_load(nginx, onnx_fixture, client_env["ONNX_HOME"], [(entry["model"], entry["opset_version"])])
    mount = mount_factory()
    mount.write_config([lib.HubConfig.onnx(HUB, onnx_fixture, nginx.url)], extra="import_caches = false")
    mount.mount()
    assert "import_caches = false" in mount.path(".hubfs/config").read_text()
    mark = nginx.mark()
    rel = onnx_fixture.mount_paths(HUB, entry["model_path"])[0]
    assert mount.path(rel).read_bytes() == onnx_fixture.media_bytes(entry["model_path"])
    assert onnx_fixture.media_uri(entry["model_path"]) in [r["uri"] for r in nginx.requests(since=mark)]
    values = metrics(mount)
    assert values["hubfs_import_passes_total"] == 0 and values["hubfs_imported_files_total"] == 0, values


def test_a_huggingface_cache_fills_an_hf_hub_that_does_not_read_it(
        mount_factory, hf_server, hf_data, hf_cache, client_env, tmp_path):
    # The hub itself is told not to read a local cache (hf_cache = ""); the import finds the
    # cache's LFS blobs through import_dirs and fills hubfs' cache from them.
    main = hf_data["repos"][hf_hub.MNIST]["revisions"]["main"]
    files = hf_data["repos"][hf_hub.MNIST]["commits"][main]["files"]
    lfs = {p: f for p, f in files.items() if f["lfs"] and f["etag"] in hf_cache["blobs"]}
    assert lfs, "the HF cache fixture holds LFS files"
    sources = [Path(p) for p in Path(hf_cache["hub"]).rglob("*") if p.is_file() and not p.is_symlink()]
    before = file_states(sources)
    mount = mount_factory()
    table = {"type": "hf", "name": "hf", "endpoint": hf_server.endpoint, "hf_cache": "",
             "repos": [hf_hub.MNIST]}
    mount.write_config([table], extra=f"import_dirs = [{json.dumps(str(hf_cache['hub']))}]")
    mount.mount()
    values = wait_for_import(mount)
    assert values["hubfs_imported_files_total"] == len({f["etag"] for f in lfs.values()}), values
    mark = hf_server.mark()
    root = mount.path(f"hf/{hf_hub.MNIST}")
    for path, f in lfs.items():
        assert (root / path).read_bytes() == Path(f["bytes_path"]).read_bytes(), path
        assert os.getxattr(root / path, "user.hubfs.verified").decode() == "yes", path
    assert hf_server.requests(mark) == [], "an imported file was asked of the hub"
    assert file_states(sources) == before, "the HF cache was changed"
