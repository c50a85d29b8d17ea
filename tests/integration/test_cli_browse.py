"""`hubfs ls`, `hubfs search` and `hubfs config check`: browsing the configured hubs without a
mount, against the ONNX fixture hub and the DIGITS fixture stores served by nginx on 127.0.0.1.

What is checked: the table and --json output (names, opsets, tags, sizes from the manifest,
DIGITS framework and dataset), tag any-match and framework filters, HUB/PATH selection, unknown
hub and bad path (exit 2), that a fresh cached index is used without any request, a server that
is down (a cached copy: exit 0 and a note on stderr; nothing cached: exit 1 with the reason), and
`config check` on a good file, with DIGITS_MODEL_STORE_URL, and on a file with a bad line.
"""

import importlib.util
import json
import os
import subprocess

import pytest

import hubfs_testlib as lib

DIGITS_BUILDER = lib.SOURCE_DIR / "tests/fixtures/make_digits_store.py"


def hubfs(*args, env_extra=None):
    env = dict(os.environ)
    env.update(env_extra or {})
    env.pop("DIGITS_MODEL_STORE_URL", None) if not env_extra else None
    return subprocess.run([lib.hubfs_bin(), *map(str, args)], capture_output=True, text=True,
                          timeout=60, stdin=subprocess.DEVNULL, env=env)


@pytest.fixture(scope="session")
def digits_root(tmp_path_factory):
    spec = importlib.util.spec_from_file_location("make_digits_store", DIGITS_BUILDER)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    root = tmp_path_factory.mktemp("digits-stores")
    module.build(str(root))
    return root


@pytest.fixture
def digits_server(nginx_factory, digits_root):
    # storeA: master.json; storeB: only an HTML index page; storeC answers 500 (never cached).
    return nginx_factory(digits_root, "        location /storeB/ { autoindex off; index index.html; }\n"
                                      "        location /storeC/ { return 500; }")


@pytest.fixture
def config(tmp_path, onnx_fixture, nginx, digits_server):
    """A config with the ONNX hub `onnx` and the DIGITS hub `digits` (stores A and B)."""
    work = lib.HubfsMount(tmp_path, "ls")
    digits = {"type": "digits", "name": "digits",
              "urls": [f"{digits_server.url}/storeA/", f"{digits_server.url}/storeB/"]}
    work.write_config([lib.HubConfig.onnx(lib.HUB, onnx_fixture, nginx.url), digits],
                      metadata_ttl="1h", log_level="info")
    return work


def onnx_models(fixture):
    """{folder below the hub: [entries]} as hubfs groups the manifest."""
    models = {}
    for entry in fixture.listed_entries():
        folder = f"{entry['model_path'].split('/')[1]}/{lib.slugify(entry['model'])}"
        models.setdefault(folder, []).append(entry)
    return models


def ls_json(config, *args):
    proc = hubfs("ls", "--config", config.config, "--json", *args)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_ls_json_matches_the_manifest_and_the_stores(config, onnx_fixture):
    listed = ls_json(config)
    onnx = {m["path"]: m for m in listed if m["hub"] == "onnx"}
    expected = onnx_models(onnx_fixture)
    assert set(onnx) == set(expected)
    for folder, entries in expected.items():
        m = onnx[folder]
        latest = max(entries, key=lambda e: e["opset_version"])
        assert m["name"] == entries[0]["model"]
        assert m["opsets"] == sorted({e["opset_version"] for e in entries})
        assert m["framework"] == "onnx"
        assert m["size"] == latest["metadata"]["model_bytes"]
        assert set(m["tags"]) == {t for e in entries for t in e["metadata"]["tags"]}
    digits = {m["path"]: m for m in listed if m["hub"] == "digits"}
    assert digits["storeA/lenet"]["name"] == "LeNet on MNIST"
    assert digits["storeA/lenet"]["framework"] == "caffe"
    assert digits["storeA/lenet"]["version"] == "0.15.13"
    assert digits["storeA/lenet"]["tags"] == ["MNIST"]
    assert digits["storeA/lenet"]["size"] is None
    assert {"storeB/lenet", "storeB/alexnet", "storeA/untrained"} <= set(digits)
    assert "storeA/noinfo" not in digits  # a folder without info.json is not a model


def test_ls_table_has_one_aligned_line_per_model(config):
    proc = hubfs("ls", "--config", config.config)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert len(lines) == len(ls_json(config))
    resnet = next(line for line in lines if line.startswith("onnx/vision/resnet50 "))
    assert resnet.split()[:2] == ["onnx/vision/resnet50", "ResNet50"]
    assert " opset " in resnet and "  onnx  " in resnet
    lenet = next(line for line in lines if line.startswith("digits/storeA/lenet "))
    assert "  LeNet on MNIST  " in lenet and "  caffe  " in lenet and lenet.endswith("  -")
    # Columns are aligned: every line's name starts at the same offset.
    offsets = {line.index("  ") + len(line[line.index("  "):]) - len(line[line.index("  "):].lstrip())
               for line in lines}
    assert len(offsets) == 1


def test_filters(config, onnx_fixture):
    vision = ls_json(config, "--tag", "VISION")
    assert vision and all("vision" in m["tags"] for m in vision)
    either = ls_json(config, "--tag", "vision", "--tag", "Machine Comprehension")
    assert {m["path"].split("/")[0] for m in either} == {"vision", "text"}
    assert all(m["hub"] == "onnx" for m in either)
    assert {m["path"] for m in ls_json(config, "--tag", "mnist")} == {"storeA/lenet", "storeB/lenet"}
    caffe = ls_json(config, "--framework", "Caffe")
    assert caffe and {m["hub"] for m in caffe} == {"digits"}
    assert {m["hub"] for m in ls_json(config, "--framework", "onnx")} == {"onnx"}
    assert ls_json(config, "--framework", "torch") == []


def test_hub_and_path_selection(config, onnx_fixture):
    assert {m["hub"] for m in ls_json(config, "digits")} == {"digits"}
    text = ls_json(config, "onnx/text")
    assert text and all(m["path"].startswith("text/") for m in text)
    inside = ls_json(config, "onnx/vision/resnet50/info.json")
    assert [m["path"] for m in inside] == ["vision/resnet50"]
    assert [m["path"] for m in ls_json(config, "digits/storeB/lenet/")] == ["storeB/lenet"]

    unknown = hubfs("ls", "--config", config.config, "nohub")
    assert unknown.returncode == 2
    assert "no hub named 'nohub'" in unknown.stderr and "onnx, digits" in unknown.stderr
    bad = hubfs("ls", "--config", config.config, "onnx/vision/no-such-model")
    assert bad.returncode == 2
    assert "onnx/vision/no-such-model: no such folder or file" in bad.stderr


def test_ls_shows_digits_sizes_once_the_cache_learned_them(mount_factory, digits_server):
    mount = mount_factory()
    mount.write_config([{"type": "digits", "name": "digits", "urls": [f"{digits_server.url}/storeA/"]}],
                       metadata_ttl="1h", log_level="info")
    before = {m["path"]: m for m in ls_json(mount, "digits")}
    assert before["storeA/lenet"]["size"] is None and before["storeA/alexnet"]["size"] is None

    # A mount learns each file's size (HEAD) when it is looked up, and remembers it in the cache.
    mount.mount()
    lenet = mount.path("digits/storeA/lenet")
    remote = [p for p in lenet.iterdir() if "user.hubfs.source" in os.listxattr(p, follow_symlinks=False)]
    assert len(remote) >= 2
    total = sum(p.stat().st_size for p in remote)
    alexnet = mount.path("digits/storeA/alexnet")
    one = next(p for p in alexnet.iterdir() if "user.hubfs.source" in os.listxattr(p, follow_symlinks=False))
    one.stat()  # one file of alexnet: its other files' sizes stay unknown
    mount.umount()

    after = {m["path"]: m for m in ls_json(mount, "digits")}
    assert after["storeA/lenet"]["size"] == total, after["storeA/lenet"]
    assert after["storeA/alexnet"]["size"] is None, after["storeA/alexnet"]
    table = hubfs("ls", "--config", mount.config, "digits/storeA/lenet")
    assert table.returncode == 0, table.stderr
    assert not table.stdout.rstrip().endswith("  -"), table.stdout


def test_search_is_a_case_insensitive_substring_of_names(config, onnx_fixture):
    proc = hubfs("search", "--config", config.config, "--json", "NET")
    assert proc.returncode == 0, proc.stderr
    found = json.loads(proc.stdout)
    names = {m["name"] for m in found}
    expected = {e["model"] for e in onnx_fixture.listed_entries() if "net" in e["model"].lower()}
    assert expected <= names and "LeNet on MNIST" in names and "AlexNet" in names
    assert all("net" in n.lower() for n in names)
    table = hubfs("search", "--config", config.config, "resnet")
    assert table.returncode == 0 and table.stdout.startswith("onnx/vision/resnet50 ")
    assert hubfs("search", "--config", config.config, "zzz-nothing").stdout == ""


def test_fresh_index_is_used_without_requests(config, nginx, digits_server):
    assert hubfs("ls", "--config", config.config).returncode == 0
    marks = nginx.mark(), digits_server.mark()
    again = hubfs("ls", "--config", config.config)
    assert again.returncode == 0 and again.stderr == ""
    assert nginx.requests(marks[0]) == [] and digits_server.requests(marks[1]) == []


def test_server_down_uses_the_cached_copy_or_fails(tmp_path, config, nginx, digits_server,
                                                   onnx_fixture):
    text = config.config.read_text().replace('metadata_ttl = "1h"', 'metadata_ttl = "0s"')
    config.config.write_text(text)
    before = hubfs("ls", "--config", config.config, "--json")
    assert before.returncode == 0, before.stderr
    nginx.stop()
    digits_server.stop()
    after = hubfs("ls", "--config", config.config, "--json")
    assert after.returncode == 0, after.stderr
    assert json.loads(after.stdout) == json.loads(before.stdout)
    assert "note: hub onnx: using the copy of" in after.stderr
    assert "may be stale" in after.stderr and "note: hub digits:" in after.stderr

    # A new cache: nothing to fall back on.
    empty = tmp_path / "empty-cache"
    config.config.write_text(text.replace(str(config.cache_dir), str(empty)))
    down = hubfs("ls", "--config", config.config)
    assert down.returncode == 1
    assert "hub onnx: GET " in down.stderr and "nothing usable is cached" in down.stderr
    assert "hub digits: store storeA:" in down.stderr
    assert down.stdout == ""


def test_config_check_ok_and_digits_environment(config, digits_server):
    proc = hubfs("config", "check", config.config)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith(f"{config.config}: ok (2 hubs: onnx, digits)\n")
    assert "metadata_ttl  3600s" in proc.stdout
    assert "archives      unpacked folders beside archives; refused beyond 100000 members" in proc.stdout
    assert f"store storeA  {digits_server.url}/storeA/\n" in proc.stdout

    extra = f"{digits_server.url}/storeC/"
    env = hubfs("config", "check", config.config, env_extra={"DIGITS_MODEL_STORE_URL": extra})
    assert env.returncode == 0, env.stderr
    assert f"store storeC  {extra}  (from DIGITS_MODEL_STORE_URL)" in env.stdout
    assert "DIGITS_MODEL_STORE_URL adds 1 store URL(s)\n" in env.stdout

    bad_env = hubfs("config", "check", config.config, env_extra={"DIGITS_MODEL_STORE_URL": "store.test/x"})
    assert bad_env.returncode == 1 and "DIGITS_MODEL_STORE_URL" in bad_env.stderr


def test_config_check_names_the_bad_line_and_key(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('metadata_ttl = "10m"\n\n[[hub]]\ntype = "onnx"\nrepo = "a/b"\nrwa_base = "x"\n')
    proc = hubfs("config", "check", bad)
    assert proc.returncode == 1
    assert proc.stdout == ""
    assert f"{bad}:6: unknown key 'rwa_base'" in proc.stderr
    typed = tmp_path / "typed.toml"
    typed.write_text('metadata_ttl = "soon"\n')
    proc = hubfs("config", "check", typed)
    assert proc.returncode == 1 and f"{typed}:1: 'metadata_ttl'" in proc.stderr
