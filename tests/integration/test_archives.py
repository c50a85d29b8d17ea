"""Archives as folders: model-server archives (type = "dms"), the ONNX bundles' unpacked folders,
and hostile archives, on a real mount.

Every unpacked folder is compared byte for byte with what unzip / tar extract from the same file;
hostile members must be absent (and logged), a bomb must not be unpacked, and members unpacked
into the cache must be re-created from the archive after eviction, not downloaded again.
"""

import hashlib
import json
import os
import subprocess
from pathlib import Path

import numpy as np
import pytest

import hubfs_testlib as lib
from hubfs_testlib import HUB

BUILDER = lib.SOURCE_DIR / "tests/fixtures/make_archives.py"
DMS = "dms"


@pytest.fixture(scope="module")
def archives(tmp_path_factory):
    root = tmp_path_factory.mktemp("archives")
    subprocess.run(["/usr/bin/python3", BUILDER, root], check=True, timeout=300)
    return root, json.loads((root / "archives.json").read_text())


def dms_hub(base_url, archives, keys, name=DMS):
    root, meta = archives
    models = {}
    for key in keys:
        path = meta[key]["path"]
        models[key] = str(root / path) if key == "local" else f"{base_url}/{path}"
    return {"type": "dms", "name": name, "models": models}


@pytest.fixture
def dms_mount(mount_factory, nginx_factory, archives):
    server = nginx_factory(archives[0])
    mount = mount_factory()
    mount.write_config([dms_hub(server.url, archives, ["model", "dms", "nested", "mar", "tgz", "local"])],
                       extra="[archives]\nmax_ratio = 100")
    mount.mount()
    return mount, server


def extracted(archive, work):
    """{relative path: bytes} of what unzip / tar extract, one top folder stripped like hubfs."""
    out = Path(work) / (archive.name + ".x")
    out.mkdir(parents=True)
    if archive.suffix in (".model", ".mar", ".zip"):
        proc = subprocess.run(["unzip", "-q", "-o", archive, "-d", out], capture_output=True, text=True)
    else:
        proc = subprocess.run(["tar", "-xzf", archive, "-C", out], capture_output=True, text=True)
    assert proc.returncode in (0, 1), proc.stderr  # unzip: 1 = warnings (hostile names)
    files = {}
    for folder, _, names in os.walk(out):
        for name in names:
            full = Path(folder) / name
            if not full.is_symlink():
                files[str(full.relative_to(out))] = full.read_bytes()
    tops = {p.split("/")[0] for p in files}
    if len(tops) == 1 and all("/" in p for p in files):
        files = {p.split("/", 1)[1]: d for p, d in files.items()}
    return files


def mounted_files(folder):
    files = {}
    for dirpath, _, names in os.walk(folder):
        for name in names:
            full = Path(dirpath) / name
            if not full.is_symlink():
                files[str(full.relative_to(folder))] = full.read_bytes()
    return files


def xattr(path, name):
    return os.getxattr(path, f"user.hubfs.{name}").decode()


def test_model_archives_unpack_exactly_like_unzip_and_tar(dms_mount, archives, tmp_path):
    mount, _ = dms_mount
    root, meta = archives
    assert sorted(os.listdir(mount.path(DMS))) == sorted(
        ["dms", "dms.model", "local", "local.model", "mar", "mar.mar", "model", "model.model",
         "nested", "nested.model", "tgz", "tgz.tar.gz"])
    for key in ("model", "dms", "nested", "mar", "tgz", "local"):
        archive = root / meta[key]["path"]
        suffix = "".join(archive.suffixes[-2:]) if archive.name.endswith(".tar.gz") else archive.suffix
        assert mount.path(f"{DMS}/{key}{suffix}").read_bytes() == archive.read_bytes(), key
        expected = extracted(archive, tmp_path)
        got = mounted_files(mount.path(f"{DMS}/{key}"))
        assert sorted(got) == sorted(expected), key
        for member, data in expected.items():
            assert got[member] == data, f"{key}: {member} differs from unzip/tar"
            assert hashlib.sha256(data).hexdigest() == meta[key]["safe"][member]
    # The exact member lists the server would extract.
    assert sorted(os.listdir(mount.path(f"{DMS}/mar"))) == [
        "MAR-INF", "mxnet_vision_service.py", "signature.json", "squeezenet_v1.1-0000.params",
        "squeezenet_v1.1-symbol.json", "synset.txt"]
    assert "MANIFEST.json" not in os.listdir(mount.path(f"{DMS}/dms"))
    assert "MANIFEST.json" in os.listdir(mount.path(f"{DMS}/nested"))  # the extra parent is gone


def test_stored_members_come_from_the_archive_blob_and_others_from_derived_blobs(dms_mount):
    mount, _ = dms_mount
    archive = mount.path(f"{DMS}/model.model")
    params = mount.path(f"{DMS}/model/squeezenet_v1.1-0000.params")
    signature = mount.path(f"{DMS}/model/signature.json")
    params.read_bytes(), signature.read_bytes()
    assert xattr(params, "source") == xattr(archive, "source") + "#squeezenet_v1.1-0000.params"
    assert xattr(params, "cache_key") == xattr(archive, "cache_key")  # no copy of stored bytes
    assert xattr(signature, "cache_key") != xattr(archive, "cache_key")
    assert xattr(signature, "verified") == "yes"
    assert xattr(signature, "sha256") == hashlib.sha256(signature.read_bytes()).hexdigest()
    assert os.getxattr(mount.path(f"{DMS}/model"), "user.hubfs.archive").decode() == xattr(archive, "source")


def test_evicted_members_are_unpacked_again_not_downloaded(dms_mount, archives):
    mount, server = dms_mount
    root, meta = archives
    folder = mount.path(f"{DMS}/tgz")
    before = mounted_files(folder)
    archive_uri = "/" + meta["tgz"]["path"]
    gets = len([r for r in server.requests(uri=archive_uri) if r["method"] == "GET"])
    assert gets >= 1
    pin = lib.hubfs_command("pin", mount.path(f"{DMS}/tgz.tar.gz"))
    assert pin.returncode == 0, pin.stderr
    mount.umount()
    gc = lib.hubfs_command("cache", "gc", "--to", "1M", "--config", mount.config, timeout=120)
    assert gc.returncode in (0, 1), gc.stdout + gc.stderr
    assert "hubfs-archive:" in gc.stdout, gc.stdout  # the derived blobs were evicted
    mark = server.mark()
    mount.mount()
    assert mounted_files(folder) == before
    again = [r for r in server.requests(since=mark, uri=archive_uri) if r["method"] == "GET"]
    assert again == [], again
    assert lib.log_text(mount).count("unpacking squeezenet_v1.1-0000.params") >= 2


def test_hostile_archives_are_contained(mount_factory, nginx_factory, archives):
    server = nginx_factory(archives[0])
    mount = mount_factory()
    mount.write_config([dms_hub(server.url, archives, ["slip", "links", "bomb"])],
                       extra="[archives]\nmax_ratio = 100")
    mount.mount()
    _, meta = archives
    slip = mount.path(f"{DMS}/slip")
    # Only ok/model.onnx is left, so its one top folder is stripped like any other.
    assert sorted(os.listdir(slip)) == ["model.onnx"]
    assert hashlib.sha256((slip / "model.onnx").read_bytes()).hexdigest() == meta["slip"]["safe"]["ok/model.onnx"]
    links = mount.path(f"{DMS}/links")
    assert sorted(os.listdir(links)) == ["dup.txt", "good.txt", "link-in"]
    assert os.readlink(links / "link-in") == "good.txt"
    assert (links / "link-in").read_bytes() == b"good\n"
    assert (links / "dup.txt").read_bytes() == b"first\n"
    bomb = mount.path(f"{DMS}/bomb")
    assert os.listdir(bomb) == ["ERROR.txt"]
    assert "times its size" in (bomb / "ERROR.txt").read_text()
    log = lib.log_text(mount)
    for reason in ("../../evil.txt: '..' in the path", "/abs.txt: absolute path",
                   "link-out: link target '../../../../etc/passwd' leaves the folder",
                   "link-abs: link target '/etc/passwd' leaves the folder",
                   "dup.txt: the name appears twice", "not unpacked: unpacks to"):
        assert reason in log, reason
    # Nothing escaped anywhere near the mount.
    for name in ("evil.txt", "abs.txt", "b.txt"):
        assert not (mount.path(DMS) / name).exists()
        assert not (mount.path() / name).exists()


def test_archive_views_can_be_switched_off(mount_factory, nginx_factory, archives):
    server = nginx_factory(archives[0])
    mount = mount_factory()
    mount.write_config([dms_hub(server.url, archives, ["model"])], extra="[archives]\nviews = false")
    mount.mount()
    assert os.listdir(mount.path(DMS)) == ["model.model"]
    check = lib.hubfs_command("config", "check", mount.config)
    assert check.returncode == 0, check.stderr
    assert "archives      off (archives are files only)\n" in check.stdout
    assert f"  model.model  {server.url}/{archives[1]['model']['path']}\n" in check.stdout


def test_onnx_bundles_run_through_their_unpacked_folders(onnx_mount, onnx_fixture, tmp_path):
    cases, expectations, labels = [], [], []
    for entry in onnx_fixture.listed_entries():
        data_path = entry["metadata"]["model_with_data_path"]
        if data_path in onnx_fixture.meta["eio_paths"] or entry["model_path"] in onnx_fixture.meta["eio_paths"]:
            continue
        tar_rel = onnx_fixture.mount_paths(HUB, data_path)[0]
        folder = onnx_mount.path(tar_rel[:-len(".tar.gz")])
        tarball = onnx_fixture.root / onnx_fixture.meta["media_root"] / data_path
        expected = extracted(tarball, tmp_path / "x" / str(len(labels)))
        got = mounted_files(folder)
        assert got == expected, f"{folder} differs from tar -xzf"
        case, outputs = lib.ort_case(folder / "model.onnx", onnx_mount.path(tar_rel))
        cases.append(case)
        expectations.append(outputs)
        labels.append(str(folder))
    assert cases
    results = lib.ort_run(cases, tmp_path)
    problems = []
    for label, result, outputs in zip(labels, results, expectations):
        if "error" in result:
            problems.append(f"{label}: {result['error']}")
            continue
        for name, want in outputs:
            got = result["outputs"].get(name)
            actual = np.array(got["data"], dtype=want.dtype).reshape(got["dims"])
            if actual.shape != want.shape or not np.allclose(actual, want, rtol=1e-3, atol=1e-5):
                problems.append(f"{label}: output {name!r} differs")
    assert not problems, "\n".join(problems)
