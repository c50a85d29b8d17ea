"""`hubfs ls`, `hubfs search` and `hubfs info HUB/PATH` on a Hugging Face hub, without a mount,
against tests/fixtures/hf_server.py on 127.0.0.1.

What is checked: one row per repository folder (repo id, commit, file count, total size, the repo
info's tags and library_name, gated), --tag/--framework/search filters, repositories that are not
configured opening on `ls`/`info` as a mount's lookup opens them (Hub::Discover), the token
going to the API (HubTransport, as a mount), the local HF cache listing with no request, error
paths (unknown repo without and with a token, unknown revision and file, private and gated
repos without a token, the server down with and without a cached listing), and a user other
than the owner of cache_dir (nobody, via setpriv) browsing with a cache of their own.

Every config gives endpoint and hf_cache explicitly, and the environment has no HF_* variables,
so the machine's own ~/.cache/huggingface and tokens are never read.
"""

import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

import hubfs_testlib as lib
from hf_testlib import hf_data, hf_server, hf_server_factory, hf_cache, hub, TOKEN  # noqa: F401 (fixtures)

HUB = "hf"
NOBODY = ("nobody", "nogroup")


def clean_env(extra=None):
    env = {k: v for k, v in os.environ.items() if not k.startswith("HF_")}
    env.update(extra or {})
    return env


def hubfs(cwd, *args, env=None):
    """hubfs run from `cwd` (where no folder is named like the hub), without HF_* variables."""
    return subprocess.run([lib.hubfs_bin(), *map(str, args)], capture_output=True, text=True, timeout=120,
                          stdin=subprocess.DEVNULL, cwd=cwd, env=env or clean_env())


def write_config(work, server, *, repos=(), token=None, hf_cache="", metadata_ttl="1h", cache_dir=None):
    table = {"type": "hf", "name": HUB, "endpoint": server.endpoint, "hf_cache": str(hf_cache),
             "repos": list(repos)}
    if token:
        table["token"] = token
    work.write_config([table], metadata_ttl=metadata_ttl, log_level="info", cache_dir=cache_dir)
    work.config.chmod(0o600)  # it may hold a token
    return work.config


@pytest.fixture
def work(tmp_path):
    return lib.HubfsMount(tmp_path, "ls")


def files_of(hf_data, repo_id, revision="main"):
    repo = hf_data["repos"][repo_id]
    commit = repo["revisions"][revision]
    return commit, repo["commits"][commit]["files"]


def ls_json(cwd, config, *args):
    proc = hubfs(cwd, "ls", "--config", config, "--json", *args)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_one_row_per_configured_repository(work, tmp_path, hf_server, hf_data):
    config = write_config(work, hf_server, repos=[hub.MNIST, f"{hub.MNIST}@{hub.V1_TAG}", f"datasets/{hub.DATASET}"])
    rows = {m["path"]: m for m in ls_json(tmp_path, config)}
    assert set(rows) == {hub.MNIST, f"{hub.MNIST}@{hub.V1_TAG}", f"datasets/{hub.DATASET}"}, rows
    for path, revision in ((hub.MNIST, "main"), (f"{hub.MNIST}@{hub.V1_TAG}", hub.V1_TAG)):
        commit, files = files_of(hf_data, hub.MNIST, revision)
        m = rows[path]
        assert m["hub"] == HUB and m["name"] == hub.MNIST
        assert m["version"] == commit, m
        assert m["files"] == len(files) and m["size"] == sum(f["size"] for f in files.values()), m
        assert m["framework"] == "onnx", m  # the repo info's library_name
        assert m["tags"] == hub.MNIST_CARD["tags"], m  # pipeline_tag is one of them already
        assert m["gated"] is False
    commit, files = files_of(hf_data, hub.DATASET)
    data = rows[f"datasets/{hub.DATASET}"]
    assert data["name"] == hub.DATASET and data["version"] == commit and data["framework"] == ""
    assert data["tags"] == hub.DATASET_CARD["tags"] and data["files"] == len(files)

    table = hubfs(tmp_path, "ls", "--config", config, HUB)
    assert table.returncode == 0 and table.stderr == "", table.stderr
    print(table.stdout)
    commit, files = files_of(hf_data, hub.MNIST)
    line = next(line for line in table.stdout.splitlines() if line.startswith(f"{HUB}/{hub.MNIST} "))
    assert line.split()[:4] == [f"{HUB}/{hub.MNIST}", hub.MNIST, commit[:7], "onnx"], line
    assert line.endswith(f" ({len(files)} files)"), line


def test_filters_and_search(work, tmp_path, hf_server):
    config = write_config(work, hf_server, repos=[hub.MNIST, f"datasets/{hub.DATASET}", hub.GATED])
    assert [m["path"] for m in ls_json(tmp_path, config, "--tag", "IMAGE-classification")] == [hub.MNIST]
    assert [m["path"] for m in ls_json(tmp_path, config, "--tag", "format:csv", "--tag", "license:mit")] == \
        [hub.MNIST, f"datasets/{hub.DATASET}"]
    assert [m["path"] for m in ls_json(tmp_path, config, "--framework", "ONNX")] == [hub.MNIST]
    found = hubfs(tmp_path, "search", "--config", config, "--json", "DIGITS")
    assert found.returncode == 0, found.stderr
    assert [m["path"] for m in json.loads(found.stdout)] == [f"datasets/{hub.DATASET}"]
    # A path selects the repository that holds it.
    assert [m["path"] for m in ls_json(tmp_path, config, f"{HUB}/{hub.MNIST}/onnx/model.onnx")] == [hub.MNIST]


def test_a_fresh_listing_is_used_without_requests(work, tmp_path, hf_server):
    config = write_config(work, hf_server, repos=[hub.MNIST])
    first = ls_json(tmp_path, config)
    mark = hf_server.mark()
    assert ls_json(tmp_path, config) == first
    assert hf_server.requests(mark) == []


def test_unconfigured_repositories_open_on_ls_and_info(work, tmp_path, hf_server, hf_data):
    config = write_config(work, hf_server)
    empty = hubfs(tmp_path, "ls", "--config", config, HUB)
    assert empty.returncode == 0 and empty.stdout == "", empty
    assert f"hub {HUB} lists the repositories of its repos = [...] only; name another one: hubfs ls {HUB}/ORG/NAME" \
        in empty.stderr

    commit, files = files_of(hf_data, hub.MNIST)
    rows = ls_json(tmp_path, config, f"{HUB}/{hub.MNIST}")
    assert [(m["path"], m["version"], m["files"]) for m in rows] == [(hub.MNIST, commit, len(files))]
    v1_commit, _ = files_of(hf_data, hub.MNIST, hub.V1_TAG)
    rows = ls_json(tmp_path, config, f"{HUB}/{hub.MNIST}@{hub.V1_TAG}/onnx")
    assert [(m["path"], m["version"]) for m in rows] == [(f"{hub.MNIST}@{hub.V1_TAG}", v1_commit)]
    rows = ls_json(tmp_path, config, f"{HUB}/datasets/{hub.DATASET}")
    assert [m["name"] for m in rows] == [hub.DATASET]
    # A renamed repository opens under its old name, as in a mount (the hub redirects).
    assert [m["path"] for m in ls_json(tmp_path, config, f"{HUB}/{hub.RENAMED_OLD}")] == [hub.RENAMED_OLD]

    lfs = files["onnx/model.onnx"]
    path = f"{HUB}/{hub.MNIST}/onnx/model.onnx"
    info = json.loads(hubfs(tmp_path, "info", "--json", "--config", config, path).stdout)
    assert info["hub"] == HUB and info["mountpoint"] is None and info["in_mount"] == path, info
    assert info["source"] == f"{hf_server.endpoint}/{hub.MNIST}/resolve/{commit}/onnx/model.onnx"
    assert info["size"] == lfs["size"] and info["sha256"] == lfs["sha256"], info
    assert info["sha256_origin"] == "published" and info["state"] == "partial" and info["cached_bytes"] == 0
    # A file in git has a git blob id, no published sha256: pinned on its first download.
    plain = json.loads(hubfs(tmp_path, "info", "--json", "--config", config,
                             f"{HUB}/{hub.MNIST}/config.json").stdout)
    assert plain["sha256"] is None and plain["sha256_origin"] == "none", plain
    assert plain["size"] == files["config.json"]["size"]
    folder = json.loads(hubfs(tmp_path, "info", "--json", "--config", config, f"{HUB}/{hub.MNIST}").stdout)
    assert folder["kind"] == "folder" and folder["files"] == len(files), folder
    assert folder["total_bytes"] == sum(f["size"] for f in files.values())
    text = hubfs(tmp_path, "info", "--config", config, path)
    assert text.returncode == 0 and text.stderr == "", text.stderr
    assert text.stdout.startswith(f"{path} (hub {HUB} of {config}, without a mount)\n"), text.stdout


def test_missing_private_and_gated_repositories(work, tmp_path, hf_server, hf_data):
    anonymous = write_config(work, hf_server)
    # Without a token the hub answers 401 for a missing and a private repository alike.
    for repo in ("onnx-test/no-such-model", hub.PRIVATE):
        for cmd in (["ls"], ["info"]):
            proc = hubfs(tmp_path, *cmd, "--config", anonymous, f"{HUB}/{repo}")
            assert proc.returncode == 1 and proc.stdout == "", proc
            assert f"{repo}: the server refused access" in proc.stderr, proc.stderr
            assert "private or gated (or does not exist)" in proc.stderr and "set a token" in proc.stderr
            assert len(proc.stderr.splitlines()) == 1, "said once, and no log line"
    # Missing revisions and files are 404s: no such path (exit 2).
    for path in (f"{hub.MNIST}@no-such-branch", f"{hub.MNIST}/no-such-file", f"{hub.MNIST}/onnx/nope.onnx"):
        proc = hubfs(tmp_path, "ls", "--config", anonymous, f"{HUB}/{path}")
        assert proc.returncode == 2, proc
        assert proc.stderr.endswith(f"hubfs ls: {HUB}/{path}: no such folder or file in hub '{HUB}'\n"), proc.stderr
        proc = hubfs(tmp_path, "info", "--config", anonymous, f"{HUB}/{path}")
        assert proc.returncode == 2, proc
        assert f"{HUB}/{path}: no such file or folder in hub '{HUB}'" in proc.stderr, proc.stderr
    # A gated repository lists without a token; reading needs one, and both commands say so.
    gated = hubfs(tmp_path, "ls", "--config", anonymous, "--json", f"{HUB}/{hub.GATED}")
    assert gated.returncode == 0, gated.stderr
    assert json.loads(gated.stdout)[0]["gated"] is True
    note = f"note: hub {HUB}: {hub.GATED} is gated: reading its files needs a token with access"
    assert note in gated.stderr, gated.stderr
    weights = next(p for p, f in files_of(hf_data, hub.GATED)[1].items() if f["lfs"])
    info = hubfs(tmp_path, "info", "--config", anonymous, f"{HUB}/{hub.GATED}/{weights}")
    assert info.returncode == 0 and note in info.stderr, info

    # With the token: it goes to the API (as a mount sends it), private repositories list, a
    # missing one is a 404 (exit 2), and the gated note is gone.
    authorized = write_config(lib.HubfsMount(tmp_path, "token"), hf_server, token=TOKEN)
    mark = hf_server.mark()
    private = ls_json(tmp_path, authorized, f"{HUB}/{hub.PRIVATE}")
    assert [m["files"] for m in private] == [len(files_of(hf_data, hub.PRIVATE)[1])]
    api = hf_server.requests(mark, role="api")
    assert api and all(r["authorization"] for r in api), api
    missing = hubfs(tmp_path, "ls", "--config", authorized, f"{HUB}/onnx-test/no-such-model")
    assert missing.returncode == 2, missing
    assert f"{HUB}/onnx-test/no-such-model: no such folder or file in hub '{HUB}'" in missing.stderr
    gated = hubfs(tmp_path, "ls", "--config", authorized, f"{HUB}/{hub.GATED}")
    assert gated.returncode == 0 and gated.stderr == "", gated.stderr
    for proc in (gated, missing):
        assert TOKEN not in proc.stdout + proc.stderr


def test_server_down_with_and_without_a_cached_listing(work, tmp_path, hf_server, hf_data):
    config = write_config(work, hf_server, repos=[hub.MNIST], metadata_ttl="0s")
    before = ls_json(tmp_path, config)
    discovered = ls_json(tmp_path, config, f"{HUB}/{hub.MNIST}@{hub.V1_TAG}")
    hf_server.stop()
    after = hubfs(tmp_path, "ls", "--config", config, "--json")
    assert after.returncode == 0, after.stderr
    assert json.loads(after.stdout) == before
    # One note for the repo info and the tree page read from the cache.
    assert after.stderr.startswith(f"hubfs ls: note: hub {HUB}: using the copies of 2 documents (the oldest "
                                   "fetched "), after.stderr
    assert f"which may be stale: GET {hf_server.endpoint}/api/models/{hub.MNIST}: " in after.stderr
    assert len(after.stderr.splitlines()) == 1, after.stderr
    # A repository that is not configured opens from the cached copies too.
    again = hubfs(tmp_path, "ls", "--config", config, "--json", f"{HUB}/{hub.MNIST}@{hub.V1_TAG}")
    assert again.returncode == 0 and json.loads(again.stdout) == discovered, again.stderr
    info = hubfs(tmp_path, "info", "--config", config, f"{HUB}/{hub.MNIST}@{hub.V1_TAG}/config.json")
    assert info.returncode == 0 and "may be stale" in info.stderr, info

    # A new cache folder: nothing to fall back on (exit 1, with the reason).
    empty = write_config(work, hf_server, repos=[hub.MNIST], cache_dir=tmp_path / "empty-cache")
    down = hubfs(tmp_path, "ls", "--config", empty)
    assert down.returncode == 1 and down.stdout == "", down
    assert f"hubfs ls: hub {HUB}: {hub.MNIST}: GET {hf_server.endpoint}/api/models/{hub.MNIST}" in down.stderr
    assert "(nothing usable is cached)" in down.stderr
    for cmd in ("ls", "info"):
        proc = hubfs(tmp_path, cmd, "--config", empty, f"{HUB}/onnx-test/other")
        assert proc.returncode == 1 and proc.stdout == "", proc
        assert f"onnx-test/other: GET {hf_server.endpoint}/api/models/onnx-test/other" in proc.stderr, proc.stderr
    # info names only the repository that holds the path.
    proc = hubfs(tmp_path, "info", "--config", empty, f"{HUB}/{hub.MNIST}/config.json")
    assert proc.returncode == 1 and proc.stdout == "", proc
    assert proc.stderr.startswith(f"hubfs info: {HUB}/{hub.MNIST}/config.json: hubfs could not list {hub.MNIST}: "
                                  f"GET {hf_server.endpoint}/api/models/{hub.MNIST}: "), proc.stderr
    assert proc.stderr.endswith(" (nothing usable is cached)\n") and len(proc.stderr.splitlines()) == 1


def test_the_local_hf_cache_lists_without_requests(work, tmp_path, hf_server, hf_data, hf_cache):
    config = write_config(work, hf_server, repos=[hub.MNIST], hf_cache=hf_cache["hub"])
    mark = hf_server.mark()
    commit, files = files_of(hf_data, hub.MNIST)
    rows = ls_json(tmp_path, config)
    assert hf_server.requests(mark) == [], "the HF cache's fresh ref and tree listing were enough"
    assert [(m["path"], m["files"], m["framework"]) for m in rows] == [(hub.MNIST, len(files), "onnx")]
    assert rows[0]["tags"] == []  # no repo info was read, so no tags: the framework is guessed
    info = json.loads(hubfs(tmp_path, "info", "--json", "--config", config,
                            f"{HUB}/{hub.MNIST}/model.safetensors").stdout)
    assert info["source"].startswith("file://" + hf_cache["hub"]), info
    assert info["sha256"] == files["model.safetensors"]["sha256"]
    assert hf_server.requests(mark) == []


@pytest.fixture
def world_work():
    """A folder every user may traverse (pytest's tmp_path is 0700 root)."""
    base = Path(tempfile.mkdtemp(prefix="hubfs-browse-"))
    base.chmod(0o755)
    yield base
    shutil.rmtree(base, ignore_errors=True)


def as_nobody(cwd, *args, xdg=None):
    setpriv = lib.find_program("setpriv")
    assert setpriv, "setpriv not found (apt-get install util-linux)"
    env = {"PATH": "/usr/bin:/bin", "HOME": "/nonexistent", "LANG": "C.UTF-8"}
    if xdg:
        env["XDG_CACHE_HOME"] = str(xdg)
    for var in ("ASAN_OPTIONS", "UBSAN_OPTIONS"):
        if var in os.environ:
            env[var] = os.environ[var]
    return subprocess.run([setpriv, f"--reuid={NOBODY[0]}", f"--regid={NOBODY[1]}", "--clear-groups",
                           lib.hubfs_bin(), *map(str, args)], capture_output=True, text=True, timeout=120,
                          stdin=subprocess.DEVNULL, cwd=cwd, env=env)


def test_another_user_browses_with_a_cache_of_their_own(world_work, hf_server, hf_data):
    # As /etc/hubfs/config.toml: readable by everyone, its cache_dir root's own and private.
    work = lib.HubfsMount(world_work, "system")
    config = write_config(work, hf_server, repos=[hub.MNIST])
    config.chmod(0o644)
    work.cache_dir.mkdir(mode=0o700)
    assert ls_json(world_work, config)  # root fills its own cache
    root_files = sorted(p for p in work.cache_dir.rglob("*"))

    home = world_work / "nobody-cache"
    home.mkdir()
    os.chown(home, 65534, 65534)
    proc = as_nobody(world_work, "ls", "--config", config, "--json", xdg=home)
    assert proc.returncode == 0, proc.stderr
    assert [m["path"] for m in json.loads(proc.stdout)] == [hub.MNIST]
    assert (f"hubfs ls: note: the cache folder {work.cache_dir} is not yours (it belongs to uid 0 (root), "
            f"not to uid 65534 (nobody)): listings are cached in your own {home}/hubfs\n") in proc.stderr, proc.stderr
    own = home / "hubfs"
    assert own.is_dir() and os.stat(own).st_uid == 65534 and (os.stat(own).st_mode & 0o777) == 0o700
    info = as_nobody(world_work, "info", "--config", config, f"{HUB}/{hub.MNIST}/config.json", xdg=home)
    assert info.returncode == 0, info.stderr
    assert f"cache dir    {own}" in info.stdout and "what is cached is of that folder" in info.stderr, info
    assert sorted(p for p in work.cache_dir.rglob("*")) == root_files, "root's cache is left alone"

    # No folder of their own either: say what to do (exit 1).
    proc = as_nobody(world_work, "ls", "--config", config)
    assert proc.returncode == 1 and proc.stdout == "", proc
    assert (f"hubfs ls: cannot use the cache folder {work.cache_dir} (it belongs to uid 0 (root), not to "
            f"uid 65534 (nobody)), nor your own /nonexistent/.cache/hubfs (") in proc.stderr, proc.stderr
    assert proc.stderr.endswith("); set XDG_CACHE_HOME to a folder you can write\n"), proc.stderr
