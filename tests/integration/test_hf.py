"""The Hugging Face Hub mounted for real, against tests/fixtures/hf_server.py on 127.0.0.1 (an API
port and a separate CDN port that refuses tokens).

/hf/<org>/<name>[@rev]/…, /hf/datasets/<org>/<name>/…; configured repos are listed, others appear
when looked up. Every test gives hf_cache explicitly (or "") so the machine's own
~/.cache/huggingface is never read, and never a token from the environment.
"""

import errno
import mmap
import os
import struct
import threading
import time
import json
from pathlib import Path

import pytest

import hubfs_testlib as lib
from hf_testlib import hf_data, hf_server, hf_server_factory, hf_cache, hub, TOKEN  # noqa: F401 (fixtures)

HUB = "hf"


def hf_table(server, *, repos=(), token=None, hf_cache="", verification=None):
    table = {"type": "hf", "name": HUB, "endpoint": server.endpoint, "hf_cache": str(hf_cache),
             "repos": list(repos)}
    if token:
        table["token"] = token
    if verification:
        table["verification"] = verification
    return table


def mount_hf(mount_factory, server, **kwargs):
    m = mount_factory()
    m.write_config([hf_table(server, **kwargs)])
    m.config.chmod(0o600)  # it may hold a token
    m.mount()
    return m


def commit_files(hf_data, repo_id, revision="main"):
    repo = hf_data["repos"][repo_id]
    commit = repo["revisions"][revision]
    return repo["commits"][commit]["files"]


def listed_files(root):
    out = {}
    for folder, _, names in os.walk(root):
        for name in names:
            path = Path(folder) / name
            out[str(path.relative_to(root))] = path.stat().st_size
    return out


def test_configured_repo_lists_across_pages_and_reads_byte_exact(mount_factory, hf_server_factory, hf_data):
    server = hf_server_factory(page_size=3)
    m = mount_hf(mount_factory, server, repos=[hub.MNIST])
    files = commit_files(hf_data, hub.MNIST)
    root = m.path(f"{HUB}/{hub.MNIST}")
    assert listed_files(root) == {p: f["size"] for p, f in files.items()}
    tree_pages = [r for r in server.requests(role="api") if "/tree/" in r["path"]]
    assert len(tree_pages) >= 3, f"page size 3 should need several pages: {tree_pages}"
    mark = server.mark()
    for path, f in files.items():
        assert (root / path).read_bytes() == Path(f["bytes_path"]).read_bytes(), path
    cdn = server.requests(mark, role="cdn")
    assert cdn, "LFS files come from the CDN"
    assert all(not r["authorization"] for r in server.requests(role="cdn"))
    assert all(r["status"] in (200, 206) for r in cdn), cdn
    # The sha256 of LFS files is the hub's; regular files are pinned after their git id matched.
    lfs = next(p for p, f in files.items() if f["lfs"])
    assert os.getxattr(root / lfs, "user.hubfs.sha256").decode() == files[lfs]["sha256"]


def test_unconfigured_repos_revisions_and_datasets_appear_on_lookup(mount_factory, hf_server, hf_data):
    m = mount_hf(mount_factory, hf_server)
    assert sorted(os.listdir(m.path(HUB))) == []
    mnist = hf_data["repos"][hub.MNIST]
    main = commit_files(hf_data, hub.MNIST)
    assert (m.path(f"{HUB}/{hub.MNIST}/config.json")).read_bytes() == Path(main["config.json"]["bytes_path"]).read_bytes()
    assert "mnist" in os.listdir(m.path(f"{HUB}/onnx-test")), "a looked-up repo is listed in its folder"
    v1 = commit_files(hf_data, hub.MNIST, hub.V1_TAG)
    v1_root = m.path(f"{HUB}/{hub.MNIST}@{hub.V1_TAG}")
    assert listed_files(v1_root) == {p: f["size"] for p, f in v1.items()}
    assert (v1_root / "config.json").read_bytes() == Path(v1["config.json"]["bytes_path"]).read_bytes()
    pr = commit_files(hf_data, hub.MNIST, hub.PR_REF)
    assert listed_files(m.path(f"{HUB}/{hub.MNIST}@refs%2Fpr%2F1")) == {p: f["size"] for p, f in pr.items()}
    commit = mnist["revisions"]["main"]
    mark = hf_server.mark()
    assert listed_files(m.path(f"{HUB}/{hub.MNIST}@{commit}")) == {p: f["size"] for p, f in main.items()}
    assert not [r for r in hf_server.requests(mark) if "/revision/" in r["path"]], "a commit needs no lookup"
    data = commit_files(hf_data, hub.DATASET)
    data_root = m.path(f"{HUB}/datasets/{hub.DATASET}")
    for path, f in data.items():
        assert (data_root / path).read_bytes() == Path(f["bytes_path"]).read_bytes(), path
    renamed = commit_files(hf_data, hub.RENAMED_NEW)
    assert (m.path(f"{HUB}/{hub.RENAMED_OLD}/config.json")).read_bytes() == \
        Path(renamed["config.json"]["bytes_path"]).read_bytes()
    for missing in (f"{HUB}/{hub.MNIST}@no-such-branch", f"{HUB}/{hub.MNIST}/no-such-file"):
        with pytest.raises(FileNotFoundError):
            os.stat(m.path(missing))
    # Without a token the hub answers 401 for a repo that is missing or private alike: hubfs
    # cannot tell them apart, so it says EACCES and logs both possibilities.
    with pytest.raises(PermissionError):
        os.stat(m.path(f"{HUB}/onnx-test/no-such-model"))


def test_gated_and_private_repos_need_the_token_which_never_reaches_the_cdn(mount_factory, hf_server, hf_data):
    gated = commit_files(hf_data, hub.GATED)
    weights = next(p for p, f in gated.items() if f["lfs"])
    anonymous = mount_hf(mount_factory, hf_server)
    _, err = lib.read_errno(anonymous.path(f"{HUB}/{hub.GATED}/{weights}"))
    assert err == errno.EACCES
    with pytest.raises(PermissionError):
        os.listdir(anonymous.path(f"{HUB}/{hub.PRIVATE}"))
    assert "token" in anonymous.log_file.read_text(), "the log says to set a token"
    assert TOKEN not in anonymous.log_file.read_text()

    mark = hf_server.mark()
    authorized = mount_hf(mount_factory, hf_server, token=TOKEN)
    assert authorized.path(f"{HUB}/{hub.GATED}/{weights}").read_bytes() == \
        Path(gated[weights]["bytes_path"]).read_bytes()
    private = commit_files(hf_data, hub.PRIVATE)
    for path, f in private.items():
        assert authorized.path(f"{HUB}/{hub.PRIVATE}/{path}").read_bytes() == Path(f["bytes_path"]).read_bytes()
    with pytest.raises(FileNotFoundError):  # with a token, the hub says 404 for what is missing
        os.stat(authorized.path(f"{HUB}/onnx-test/no-such-model"))
    api = hf_server.requests(mark, role="api")
    assert api and all(r["authorization"] for r in api), "every API request carries the token"
    cdn = hf_server.requests(mark, role="cdn")
    assert cdn and not any(r["authorization"] for r in cdn), "the token never goes to the CDN"
    for m in (anonymous, authorized):
        assert TOKEN not in m.log_file.read_text()
        assert TOKEN not in m.path(".hubfs/config").read_text()


def test_a_token_file_others_can_read_is_used_and_warned_about(mount_factory, hf_server, hf_data, tmp_path,
                                                             monkeypatch):
    gated = commit_files(hf_data, hub.GATED)
    weights = next(p for p, f in gated.items() if f["lfs"])
    token_file = tmp_path / "token"
    token_file.write_text(TOKEN + "\n")
    monkeypatch.setenv("HF_TOKEN_PATH", str(token_file))
    monkeypatch.delenv("HF_TOKEN", raising=False)
    for mode, warned in ((0o644, True), (0o600, False)):
        token_file.chmod(mode)
        m = mount_hf(mount_factory, hf_server)
        assert m.path(f"{HUB}/{hub.GATED}/{weights}").read_bytes() == Path(gated[weights]["bytes_path"]).read_bytes()
        log = m.log_file.read_text()
        assert (f"the token file {token_file} can be read by other users; chmod 600" in log) == warned, log
        assert TOKEN not in log
        m.umount()


def test_rate_limit_storm_fails_reads_in_bounded_time_then_recovers(mount_factory, hf_server, hf_data):
    files = commit_files(hf_data, hub.MNIST)
    lfs = next(p for p, f in files.items() if f["lfs"])
    m = mount_hf(mount_factory, hf_server, repos=[hub.MNIST])
    hf_server.set_faults({"rate_limit": {"remaining": 100000, "retry_after": 1, "roles": ["cdn"]}})
    # Bounded, not fast: 3 attempts with 1 s Retry-After per block, read_timeout 10 s; on a loaded
    # 2-core CI box that can take a while, but never hangs.
    _, err, seconds = lib.read_errno_timeout(m.path(f"{HUB}/{hub.MNIST}/{lfs}"), timeout=120)
    assert err == errno.EIO, f"read gave errno {err} after {seconds:.1f} s"
    assert [r for r in hf_server.requests(role="cdn") if r["status"] == 429]
    hf_server.clear_faults()
    # Failures are remembered for 3 s (the kernel retries a failed read at once); retries still
    # in flight may fail a read or two more after the storm ends.
    expected = Path(files[lfs]["bytes_path"]).read_bytes()
    deadline = time.monotonic() + 60
    while True:
        time.sleep(3.5)
        data, err = lib.read_errno(m.path(f"{HUB}/{hub.MNIST}/{lfs}"))
        if data is not None or time.monotonic() > deadline:
            break
    assert data == expected, f"no recovery after the storm (errno {err})"


def test_existing_hf_cache_is_served_with_zero_requests(mount_factory, hf_server, hf_data, hf_cache):
    main = hf_data["repos"][hub.MNIST]["revisions"]["main"]
    held = {p: s for p, s in hf_cache["snapshots"][main].items() if s["kind"] in ("symlink", "copy")}
    assert held, hf_cache
    before = [(p, os.lstat(p).st_mtime_ns) for p in Path(hf_cache["hub"]).rglob("*")]
    mark = hf_server.mark()
    m = mount_hf(mount_factory, hf_server, repos=[hub.MNIST], hf_cache=hf_cache["hub"])
    files = commit_files(hf_data, hub.MNIST)
    root = m.path(f"{HUB}/{hub.MNIST}")
    assert listed_files(root) == {p: f["size"] for p, f in files.items()}
    for path in held:
        assert (root / path).read_bytes() == Path(files[path]["bytes_path"]).read_bytes(), path
        assert os.getxattr(root / path, "user.hubfs.verified").decode() == "yes", path
    assert hf_server.requests(mark) == [], "the HF cache held all of it"
    after = [(p, os.lstat(p).st_mtime_ns) for p in Path(hf_cache["hub"]).rglob("*")]
    assert before == after, "the HF cache is never modified"


def test_onnxruntime_runs_a_model_read_through_the_mount(mount_factory, hf_server, hf_data):
    import onnx
    from onnx import numpy_helper
    m = mount_hf(mount_factory, hf_server)
    root = m.path(f"{HUB}/{hub.MNIST}/onnx")
    model = onnx.load(str(root / "model.onnx"))
    initializers = {i.name for i in model.graph.initializer}
    input_name = next(v.name for v in model.graph.input if v.name not in initializers)
    tensor = numpy_helper.to_array(onnx.load_tensor_from_string((root / "test_data_set_0/input_0.pb").read_bytes()))
    expected = numpy_helper.to_array(onnx.load_tensor_from_string((root / "test_data_set_0/output_0.pb").read_bytes()))
    results = lib.ort_run([{"model": str(root / "model.onnx"), "inputs": [lib.tensor_json(input_name, tensor)]}],
                          m.work)
    import numpy
    assert "outputs" in results[0], results[0]
    (output,) = results[0]["outputs"].values()
    got = numpy.array(output["data"], dtype=numpy.float32).reshape(expected.shape)
    assert numpy.allclose(got, expected, rtol=1e-3, atol=1e-4)


@pytest.mark.parametrize("verification", ["strict", "lazy"])
def test_safetensors_mmap_with_8_threads_is_byte_exact(mount_factory, hf_server, hf_data, verification):
    files = commit_files(hf_data, hub.MNIST)
    source = Path(files["model.safetensors"]["bytes_path"]).read_bytes()
    m = mount_hf(mount_factory, hf_server, repos=[hub.MNIST], verification=verification)
    path = m.path(f"{HUB}/{hub.MNIST}/model.safetensors")
    with open(path, "rb") as f, mmap.mmap(f.fileno(), 0, prot=mmap.PROT_READ) as mapped:
        header_len = struct.unpack("<Q", mapped[:8])[0]
        header = json.loads(mapped[8:8 + header_len])
        base = 8 + header_len
        tensors = [(k, v["data_offsets"]) for k, v in header.items() if k != "__metadata__"]
        assert len(tensors) >= 8
        failures = []

        def load(share):
            try:
                for name, (a, b) in reversed(share):  # scattered: from the end backwards
                    if mapped[base + a:base + b] != source[base + a:base + b]:
                        failures.append(name)
            except Exception as e:  # noqa: BLE001 - reported below
                failures.append(repr(e))

        threads = [threading.Thread(target=load, args=(tensors[i::8],), daemon=True) for i in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
        assert not any(t.is_alive() for t in threads), "mmap readers hung"
        assert failures == []
