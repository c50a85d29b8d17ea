"""An ONNX hub mounted for real: namespace, contents, and real consumers (onnx, onnxruntime-node).

The expected namespace is derived from the fixture's manifest, independently of hubfs:
/onnx/<domain>/<model-slug>/{<basename per opset>, <tarball>, model.onnx -> latest, info.json}
and /onnx/tree/<model_path> for every model_path and model_with_data_path.
"""

import errno
import mmap
import os
import random

import numpy as np

import hubfs_testlib as lib
from hubfs_testlib import HUB


def test_version():
    proc = lib.run([lib.hubfs_bin(), "--version"])
    assert proc.returncode == 0, proc.stderr
    assert any(ch.isdigit() for ch in proc.stdout), f"no version number in {proc.stdout!r}"


def test_listing_matches_manifest(onnx_mount, onnx_fixture, nginx):
    # Hidden names at the root are tolerated (room for control files such as a stats file);
    # by-framework is the view of every hub's models (docs/staging.md).
    visible = sorted(n for n in os.listdir(onnx_mount.path()) if not n.startswith("."))
    assert visible == ["by-framework", HUB]
    lib.compare_tree(onnx_mount.path(), onnx_fixture.expected_tree(HUB), only={HUB})
    # Listing is metadata only: the manifest is all that may have been fetched.
    fetched = {r["uri"] for r in nginx.requests()}
    assert fetched == {onnx_fixture.manifest_uri}, f"listing fetched more than the manifest: " \
        f"{fetched}"


def test_every_file_matches_fixture_in_both_views(onnx_mount, onnx_fixture, nginx):
    count = lib.check_all_reads(onnx_mount.path(), onnx_fixture, HUB)
    assert count == 2 * len(onnx_fixture.readable_paths())
    # Model bytes come from media_base; the raw host (LFS pointers) serves only the manifest.
    raw = {r["uri"] for r in nginx.requests(prefix="/raw/")}
    assert raw == {onnx_fixture.manifest_uri}, f"unexpected raw-host requests: {raw}"
    media = {r["uri"] for r in nginx.requests(prefix="/media/")}
    expected = {onnx_fixture.media_uri(p) for p in onnx_fixture.readable_paths()}
    assert media == expected


def test_random_reads_and_mmap_of_big_model(onnx_mount, onnx_fixture):
    path = onnx_fixture.meta["big_model_path"]
    expected = onnx_fixture.media_bytes(path)
    mounted = onnx_mount.path(onnx_fixture.mount_paths(HUB, path)[0])
    rng = random.Random(42)  # fixed seed: a failure reproduces with the same offsets
    with open(mounted, "rb") as f:
        for _ in range(64):
            offset = rng.randrange(len(expected))
            length = rng.randrange(1, 256 << 10)
            assert os.pread(f.fileno(), length, offset) == expected[offset:offset + length], \
                f"pread({length}, {offset}) differs"
        assert os.pread(f.fileno(), 4096, len(expected)) == b"", "read past EOF returned data"
        with mmap.mmap(f.fileno(), 0, prot=mmap.PROT_READ) as view:
            assert len(view) == len(expected)
            assert view[:] == expected


def test_onnx_checker_accepts_mounted_models(onnx_mount, onnx_fixture):
    paths = [onnx_mount.path(rel) for p in onnx_fixture.readable_paths() if p.endswith(".onnx")
             for rel in onnx_fixture.mount_paths(HUB, p)]
    paths += [onnx_mount.path(folder) / "model.onnx" for folder in good_model_folders(onnx_fixture)]
    proc = lib.run(lib.check_model_cmd(paths), timeout=120)
    assert proc.returncode == 0, f"onnx.checker failed:\n{proc.stdout}\n{proc.stderr}"
    assert proc.stdout.count("ok ") == len(paths)


def test_onnxruntime_node_runs_mounted_models(onnx_mount, onnx_fixture, tmp_path):
    # Each good entry through its own file, and each model folder through model.onnx (the
    # symlink to the latest opset), with inputs and expected outputs from the mounted tarball.
    cases, expectations, labels = [], [], []
    for entry in onnx_fixture.listed_entries():
        if entry["model_path"] in onnx_fixture.meta["eio_paths"]:
            continue
        model_rel = onnx_fixture.mount_paths(HUB, entry["model_path"])[0]
        tar_rel = onnx_fixture.mount_paths(HUB, entry["metadata"]["model_with_data_path"])[0]
        targets = [model_rel]
        if is_latest(onnx_fixture, entry):
            targets.append(os.path.join(os.path.dirname(model_rel), "model.onnx"))
        for rel in targets:
            case, outputs = lib.ort_case(onnx_mount.path(rel), onnx_mount.path(tar_rel))
            cases.append(case)
            expectations.append(outputs)
            labels.append(rel)
    results = lib.ort_run(cases, tmp_path)
    problems = []
    for label, result, outputs in zip(labels, results, expectations):
        problems += ort_problems(label, result, outputs)
    assert not problems, "onnxruntime-node results differ:\n" + "\n".join(problems)


def test_mount_is_read_only(onnx_mount):
    folder = onnx_mount.path(f"{HUB}/vision/resnet50")
    model = folder / "resnet50-14.onnx"
    before = model.read_bytes()
    attempts = {
        "open O_WRONLY": lambda: os.open(model, os.O_WRONLY),
        "open O_RDWR|O_APPEND": lambda: os.open(model, os.O_RDWR | os.O_APPEND),
        "create": lambda: os.open(folder / "new.onnx", os.O_WRONLY | os.O_CREAT, 0o644),
        "truncate": lambda: os.truncate(model, 0),
        "mkdir": lambda: os.mkdir(folder / "newdir"),
        "rmdir": lambda: os.rmdir(onnx_mount.path(f"{HUB}/text/gpt-2")),
        "unlink": lambda: os.unlink(model),
        "unlink symlink": lambda: os.unlink(folder / "model.onnx"),
        "rename": lambda: os.rename(model, folder / "renamed.onnx"),
        "symlink": lambda: os.symlink("resnet50-14.onnx", folder / "link.onnx"),
        "link": lambda: os.link(model, folder / "hard.onnx"),
        "chmod": lambda: os.chmod(model, 0o644),
        "utime": lambda: os.utime(model, (0, 0)),
        "setxattr": lambda: os.setxattr(model, "user.hubfs.test", b"1"),
    }
    problems = []
    for name, attempt in attempts.items():
        try:
            result = attempt()
        except OSError as e:
            if e.errno not in lib.READ_ONLY_ERRNOS:
                problems.append(f"{name}: {errno.errorcode.get(e.errno, e.errno)}, "
                                "expected EROFS or EACCES")
            continue
        if isinstance(result, int):
            os.close(result)
        problems.append(f"{name}: succeeded on a read-only mount")
    assert not problems, "\n".join(problems)
    assert model.read_bytes() == before
    assert sorted(os.listdir(folder)) == sorted(
        ["info.json", "model.onnx"] + [f"resnet50-{o}{ext}" for o in (6, 12, 14)
                                       for ext in (".onnx", ".tar.gz", "")])  # "": unpacked


# ------------------------------------------------------------------------------ helpers

def good_model_folders(fixture):
    """Mount-relative model folders whose model.onnx target is readable."""
    eio = set(fixture.meta["eio_paths"])
    folders = set()
    for entry in fixture.listed_entries():
        if is_latest(fixture, entry) and entry["model_path"] not in eio:
            folders.add(os.path.dirname(fixture.mount_paths(HUB, entry["model_path"])[0]))
    return sorted(folders)


def is_latest(fixture, entry):
    """True when `entry` is the one model.onnx points to (largest opset of its model name)."""
    group = [e for e in fixture.listed_entries() if e["model"] == entry["model"]]
    return max(group, key=lambda e: e["opset_version"]) is entry


def ort_problems(label, result, outputs):
    if "error" in result:
        return [f"{label}: {result['error']}"]
    problems = []
    for name, expected in outputs:
        got = result["outputs"].get(name)
        if got is None:
            problems.append(f"{label}: no output {name!r}")
            continue
        actual = np.array(got["data"], dtype=expected.dtype).reshape(got["dims"])
        if actual.shape != expected.shape or not np.allclose(actual, expected, rtol=1e-3,
                                                             atol=1e-5):
            problems.append(f"{label}: output {name!r} differs from the test data")
    return problems
