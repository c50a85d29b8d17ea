"""The Hugging Face Hub fixture itself (make_hf_hub.py, hf_server.py, hf_testlib.py), checked with
urllib and curl only: every behaviour hubfs' HF tests will lean on (HUB-PROTOCOLS.md §6, §8.6)."""

import hashlib
import json
import math
import os
import re
import shutil
import subprocess
import threading
import time
import urllib.error
import urllib.request
from urllib.parse import parse_qs, quote, urljoin, urlsplit

import pytest

import hf_testlib as lib
from hf_testlib import hf_data, hf_server, hf_server_factory  # noqa: F401 - pytest fixtures

hub = lib.hub


@pytest.fixture(scope="module", autouse=True)
def prerequisites():
    # Replaces conftest.py's session check (hubfs binary, FUSE, node): the fixture needs only
    # curl and libonnx-testdata. Fail, never skip.
    problems = []
    if not shutil.which("curl"):
        problems.append("curl not found (apt-get install curl)")
    if not os.path.isdir(hub.TESTDATA):
        problems.append("libonnx-testdata is not installed (apt-get install libonnx-testdata)")
    if problems:
        pytest.fail("HF fixture tests cannot run:\n  " + "\n  ".join(problems), pytrace=False)


# ------------------------------------------------------------------------------ HTTP helpers

class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # a 3xx comes back as the response itself


# No proxies from the environment: everything is on 127.0.0.1.
OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}), NoRedirect)


class Response:
    def __init__(self, status, headers, body):
        self.status, self.headers, self.body = status, headers, body

    def json(self):
        return json.loads(self.body)

    def __repr__(self):
        return f"<{self.status} {dict(self.headers)} {self.body[:200]!r}>"


def http(url, method="GET", headers=None, data=None, token=None, timeout=10):
    """One request, redirects not followed; errors are returned, not raised."""
    request = urllib.request.Request(url, method=method, headers=headers or {}, data=data)
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with OPENER.open(request, timeout=timeout) as response:
            return Response(response.status, response.headers, response.read())
    except urllib.error.HTTPError as e:
        with e:
            return Response(e.code, e.headers, e.read())


def curl(*args):
    return subprocess.run(["curl", "-s", "--noproxy", "*", "--max-time", "10", *args],
                          capture_output=True, text=True, timeout=20)


def next_link(response):
    match = re.search(r'<([^>]+)>;\s*rel="next"', response.headers.get("Link") or "")
    return match[1] if match else None


def collect_tree(url):
    """All entries of a tree listing, following Link rel="next"; (entries, pages)."""
    entries, pages = [], 0
    while url:
        response = http(url)
        assert response.status == 200, response
        entries += response.json()
        pages += 1
        url = next_link(response)
    return entries, pages


def expected_paths(commit, base, recursive):
    paths = list(commit["files"]) + list(commit["dirs"])
    if recursive:
        return sorted(p for p in paths if not base or p.startswith(base + "/"))
    return sorted(p for p in paths if os.path.dirname(p) == base)


def assert_error(response, status, code, message=None):
    assert response.status == status, response
    assert response.headers.get("X-Error-Code") == code, response
    assert response.headers.get("X-Error-Message"), response
    if response.body:  # not for HEAD
        assert response.json()["error"] == response.headers["X-Error-Message"]
    assert int(response.headers["Content-Length"]) > 0
    if message is not None:
        assert response.headers["X-Error-Message"] == message


def unquote_etag(value):
    return value.removeprefix("W/").strip('"')


def repo(hf_data, repo_id=hub.MNIST):
    return hf_data["repos"][repo_id]


def commits(hf_data):
    """(main, v1.0, refs/pr/1) commit dicts of onnx-test/mnist."""
    r = repo(hf_data)
    return tuple(r["commits"][c] for c in (r["main"], r["tags"][hub.V1_TAG],
                                           r["refs"][hub.PR_REF]))


# ------------------------------------------------------------------------------ data model

def test_description_hashes_are_git_and_lfs_hashes(hf_data):
    main, v1, pr = commits(hf_data)
    assert main["parent"] == v1["id"] and pr["parent"] == main["id"]
    for commit in (main, v1, pr):
        assert re.fullmatch(r"[0-9a-f]{40}", commit["id"])
        for path, entry in commit["files"].items():
            data = hub.file_bytes(entry)
            assert len(data) == entry["size"] and entry["path"] == path
            assert hashlib.sha256(data).hexdigest() == entry["sha256"]
            git_blob = hub.lfs_pointer(entry["sha256"], entry["size"]) if entry["lfs"] else data
            assert hub.git_blob_sha1(git_blob) == entry["git_sha1"]
            assert entry["etag"] == (entry["sha256"] if entry["lfs"] else entry["git_sha1"])
    lfs = sorted(p for p, e in main["files"].items() if e["lfs"])
    assert lfs == ["model.safetensors", "onnx/model.onnx"]
    assert len(expected_paths(main, "", False)) > 3
    assert "model.safetensors" not in v1["files"]
    assert v1["files"]["config.json"]["git_sha1"] != main["files"]["config.json"]["git_sha1"]
    # The safetensors file is valid: header length, JSON header, offsets covering the data.
    data = hub.file_bytes(main["files"]["model.safetensors"])
    length = int.from_bytes(data[:8], "little")
    header = json.loads(data[8:8 + length])
    tensors = [v for k, v in header.items() if k != "__metadata__"]
    assert len(tensors) == 16 and (8 + length) % 8 == 0
    assert max(t["data_offsets"][1] for t in tensors) == len(data) - 8 - length
    assert 20 << 20 < len(data) < 28 << 20
    # The ONNX model and its test data are Debian's, byte for byte.
    source = os.path.join(hub.TESTDATA, hub.ONNX_SOURCE)
    with open(os.path.join(source, "model.onnx"), "rb") as f:
        assert hub.file_bytes(main["files"]["onnx/model.onnx"]) == f.read()


# ------------------------------------------------------------------------------ listing

def test_tree_pagination_follows_absolute_link_headers(hf_data, hf_server_factory):
    server = hf_server_factory(page_size=3)
    main = commits(hf_data)[0]
    for base, recursive in (("", True), ("", False), ("onnx", True), ("nested/a", False)):
        parts = ["tree", "main"] + ([quote(base, safe="")] if base else [])
        flag = "true" if recursive else "false"
        url = server.api_url(hub.MNIST, *parts) + f"?recursive={flag}&expand=false"
        entries, pages = collect_tree(url)
        wanted = expected_paths(main, base, recursive)
        assert [e["path"] for e in entries] == wanted, (base, recursive)
        assert pages == max(1, math.ceil(len(wanted) / 3)), (base, recursive)
    assert len(expected_paths(main, "", False)) > 3  # the root needs several pages

    first = http(server.api_url(hub.MNIST, "tree", "main") + "?recursive=True&expand=False")
    link = next_link(first)
    split = urlsplit(link)
    assert f"{split.scheme}://{split.netloc}" == server.endpoint  # absolute, the API port
    assert split.path == "/api/models/onnx-test/mnist/tree/main"
    query = parse_qs(split.query)
    assert query["recursive"] == ["True"] and query["expand"] == ["False"] and query["cursor"]


def test_tree_entries_carry_git_and_lfs_ids(hf_data, hf_server):
    main, v1, _ = commits(hf_data)
    entries, _ = collect_tree(hf_server.api_url(hub.MNIST, "tree", "main") + "?recursive=true")
    assert {e["path"] for e in entries} == set(main["files"]) | set(main["dirs"])
    for e in entries:
        assert "lastCommit" not in e
        if e["type"] == "directory":
            assert e["oid"] == main["dirs"][e["path"]]["oid"]
            continue
        f = main["files"][e["path"]]
        assert (e["type"], e["oid"], e["size"]) == ("file", f["git_sha1"], f["size"])
        if f["lfs"]:
            assert e["lfs"] == {"oid": f["sha256"], "size": f["size"],
                                "pointerSize": f["pointer_size"]}
        else:
            assert "lfs" not in e
    expanded, _ = collect_tree(hf_server.api_url(hub.MNIST, "tree", "main") + "?expand=true")
    last = {e["path"]: e["lastCommit"] for e in expanded}
    assert last["README.md"]["id"] == v1["id"]          # unchanged since the first commit
    assert last["config.json"] == {"id": main["id"], "title": main["title"],
                                   "date": main["date"]}
    assert last["nested"]["id"] == main["id"]


def test_tree_accepts_raw_and_encoded_revision_path_and_booleans(hf_data, hf_server):
    _, _, pr = commits(hf_data)
    tree = hf_server.api_url(hub.MNIST, "tree")
    wanted = expected_paths(pr, "onnx", False)
    assert "onnx/model_strided.onnx" in wanted  # only on refs/pr/1
    for rev in ("refs%2Fpr%2F1", "refs/pr/1", pr["id"]):
        for path in ("onnx", "onnx%2F"):
            for flag in ("false", "False"):
                entries, _ = collect_tree(f"{tree}/{rev}/{path}?recursive={flag}")
                assert [e["path"] for e in entries] == wanted, (rev, path, flag)
    deep = expected_paths(pr, "onnx/test_data_set_0", True)
    for path in ("onnx/test_data_set_0", "onnx%2Ftest_data_set_0"):
        for flag in ("true", "True"):
            entries, _ = collect_tree(f"{tree}/refs%2Fpr%2F1/{path}?recursive={flag}")
            assert [e["path"] for e in entries] == deep
    assert http(f"{tree}/main?recursive=yes").status == 400
    assert_error(http(f"{tree}/no-such-branch"), 404, "RevisionNotFound")
    assert_error(http(f"{tree}/main/no/such/folder"), 404, "EntryNotFound")


def test_info_resolves_branches_tags_commits_and_pr_refs(hf_data, hf_server):
    main, v1, pr = commits(hf_data)
    cases = [(hf_server.api_url(hub.MNIST), main)]
    for rev, commit in (("main", main), ("v1.0", v1), (v1["id"], v1), ("refs%2Fpr%2F1", pr)):
        cases.append((hf_server.api_url(hub.MNIST, "revision", rev), commit))
    for url, commit in cases:
        info = http(url).json()
        assert info["id"] == hub.MNIST and info["sha"] == commit["id"], url
        assert info["private"] is False and info["gated"] is False
        assert [s["rfilename"] for s in info["siblings"]] == sorted(commit["files"])
        assert all(set(s) == {"rfilename"} for s in info["siblings"])
    info = http(hf_server.api_url(hub.MNIST, "revision", "main") + "?blobs=true").json()
    for sibling in info["siblings"]:
        f = main["files"][sibling["rfilename"]]
        assert sibling["size"] == f["size"] and sibling["blobId"] == f["git_sha1"]
        if f["lfs"]:
            assert sibling["lfs"] == {"sha256": f["sha256"], "size": f["size"],
                                      "pointerSize": f["pointer_size"]}
        else:
            assert "lfs" not in sibling
    assert_error(http(hf_server.api_url(hub.MNIST, "revision", "v9")), 404, "RevisionNotFound")


def test_paths_info_returns_exactly_the_existing_paths(hf_data, hf_server):
    _, v1, _ = commits(hf_data)
    form = "paths=config.json&paths=onnx%2Fmodel.onnx&paths=onnx&paths=model.safetensors" \
           "&expand=false"
    response = http(hf_server.api_url(hub.MNIST, "paths-info", "v1.0"), "POST",
                    headers={"Content-Type": "application/x-www-form-urlencoded"},
                    data=form.encode())
    assert response.status == 200, response
    entries = {e["path"]: e for e in response.json()}
    assert set(entries) == {"config.json", "onnx/model.onnx", "onnx"}  # no safetensors in v1.0
    assert entries["config.json"]["oid"] == v1["files"]["config.json"]["git_sha1"]
    assert entries["onnx/model.onnx"]["lfs"]["oid"] == v1["files"]["onnx/model.onnx"]["sha256"]
    assert entries["onnx"] == {"type": "directory", "oid": v1["dirs"]["onnx"]["oid"], "size": 0,
                               "path": "onnx"}


# ------------------------------------------------------------------------------ files

def test_resolve_regular_file_with_ranges(hf_data, hf_server):
    main = commits(hf_data)[0]
    entry = main["files"]["config.json"]
    data = hub.file_bytes(entry)
    url = hf_server.resolve_url(hub.MNIST, "config.json")
    get = http(url)
    assert get.status == 200 and get.body == data
    assert get.headers["ETag"] == f'"{entry["git_sha1"]}"'
    assert hub.git_blob_sha1(get.body) == unquote_etag(get.headers["ETag"])
    assert get.headers["X-Repo-Commit"] == main["id"]
    assert int(get.headers["Content-Length"]) == len(data)
    head = http(url, "HEAD")
    assert head.status == 200 and head.body == b""
    assert int(head.headers["Content-Length"]) == len(data)
    assert head.headers["ETag"] == get.headers["ETag"]

    part = http(url, headers={"Range": "bytes=2-9"})
    assert part.status == 206 and part.body == data[2:10]
    assert part.headers["Content-Range"] == f"bytes 2-9/{len(data)}"
    assert part.headers["X-Repo-Commit"] == main["id"]
    tail = http(url, headers={"Range": "bytes=5-"})
    assert tail.status == 206 and tail.body == data[5:]
    beyond = http(url, headers={"Range": f"bytes={len(data)}-"})
    assert beyond.status == 416 and beyond.headers["Content-Range"] == f"bytes */{len(data)}"

    deep = main["files"]["nested/a/b/deep.txt"]
    for path in ("nested/a/b/deep.txt", "nested%2Fa%2Fb%2Fdeep.txt"):
        response = http(f"{hf_server.endpoint}/{hub.MNIST}/resolve/main/{path}")
        assert response.body == hub.file_bytes(deep)


def test_resolve_pins_tags_commits_and_pr_refs(hf_data, hf_server):
    main, v1, pr = commits(hf_data)
    for rev, commit in (("v1.0", v1), (v1["id"], v1), ("refs/pr/1", pr), ("main", main)):
        for url in (hf_server.resolve_url(hub.MNIST, "config.json", rev),
                    f"{hf_server.endpoint}/{hub.MNIST}/resolve/{rev}/config.json"):
            response = http(url)
            assert response.status == 200, (url, response)
            assert response.body == hub.file_bytes(commit["files"]["config.json"])
            assert response.headers["X-Repo-Commit"] == commit["id"]
    missing = http(hf_server.resolve_url(hub.MNIST, "model.safetensors", "v1.0"), "HEAD")
    assert_error(missing, 404, "EntryNotFound")
    assert missing.headers["X-Repo-Commit"] == v1["id"]
    assert_error(http(hf_server.resolve_url(hub.MNIST, "config.json", "v7")), 404,
                 "RevisionNotFound")


def test_resolve_lfs_file_redirects_to_the_cdn(hf_data, hf_server):
    main = commits(hf_data)[0]
    entry = main["files"]["model.safetensors"]
    url = hf_server.resolve_url(hub.MNIST, "model.safetensors")
    for method in ("HEAD", "GET"):
        response = http(url, method)
        assert response.status == 302, response
        location = response.headers["Location"]
        assert location.startswith(f"{hf_server.cdn_url}/blobs/{entry['sha256']}?")
        assert "Expires=" in location and "Signature=" in location
        assert unquote_etag(response.headers["X-Linked-Etag"]) == entry["sha256"]
        assert unquote_etag(response.headers["ETag"]) not in ("", entry["sha256"])
        assert int(response.headers["X-Linked-Size"]) == entry["size"]
        assert response.headers["X-Repo-Commit"] == main["id"]
        length = int(response.headers["Content-Length"])
        assert 0 < length < 1000  # the redirect's own small body, not the file
        assert len(response.body) == (length if method == "GET" else 0)

    blob = http(location)
    assert blob.status == 200 and "X-Repo-Commit" not in blob.headers
    assert int(blob.headers["Content-Length"]) == entry["size"]
    assert hashlib.sha256(blob.body).hexdigest() == entry["sha256"]
    part = http(location, headers={"Range": "bytes=100-199"})
    assert part.status == 206 and part.body == blob.body[100:200]
    assert part.headers["Content-Range"] == f"bytes 100-199/{entry['size']}"
    assert http(location, "HEAD").headers["Content-Length"] == str(entry["size"])
    assert http(f"{hf_server.cdn_url}/blobs/{'0' * 64}").status == 404


def test_raw_serves_lfs_pointers(hf_data, hf_server):
    main = commits(hf_data)[0]
    entry = main["files"]["model.safetensors"]
    raw = http(hf_server.resolve_url(hub.MNIST, "model.safetensors", kind="raw"))
    assert raw.status == 200
    assert raw.body == (f"version https://git-lfs.github.com/spec/v1\n"
                        f"oid sha256:{entry['sha256']}\nsize {entry['size']}\n").encode()
    assert len(raw.body) == entry["pointer_size"]
    assert hub.git_blob_sha1(raw.body) == entry["git_sha1"]
    config = http(hf_server.resolve_url(hub.MNIST, "config.json", kind="raw"))
    assert config.body == hub.file_bytes(main["files"]["config.json"])


def test_cdn_rejects_any_authorization_header(hf_data, hf_server):
    location = http(hf_server.resolve_url(hub.MNIST, "onnx/model.onnx"), "HEAD",
                    token=lib.TOKEN).headers["Location"]
    mark = hf_server.mark()
    assert http(location, token=lib.TOKEN).status == 401
    assert http(location, headers={"Authorization": "Basic eDp5"}).status == 401
    assert http(location).status == 200
    log = hf_server.requests(mark, role="cdn")
    assert [(e["authorization"], e["status"]) for e in log] == [(True, 401), (True, 401),
                                                                (False, 200)]
    assert lib.TOKEN not in hf_server.log_path.read_text()  # never the value


# ------------------------------------------------------------------------------ access control

def test_gated_repo_lists_for_everyone_but_downloads_need_the_token(hf_data, hf_server):
    gated = repo(hf_data, hub.GATED)
    info = http(hf_server.api_url(hub.GATED)).json()
    assert info["gated"] == "manual" and info["sha"] == gated["main"]
    entries, _ = collect_tree(hf_server.api_url(hub.GATED, "tree", "main"))
    assert {e["path"] for e in entries} == {"config.json", "weights.bin"}
    for path in ("config.json", "weights.bin"):
        for kind in ("resolve", "raw"):
            denied = http(hf_server.resolve_url(hub.GATED, path, kind=kind), "HEAD")
            assert_error(denied, 403, "GatedRepo")
    config = http(hf_server.resolve_url(hub.GATED, "config.json"), token=lib.TOKEN)
    assert config.status == 200
    weights = gated["commits"][gated["main"]]["files"]["weights.bin"]
    redirect = http(hf_server.resolve_url(hub.GATED, "weights.bin"), "HEAD", token=lib.TOKEN)
    assert redirect.status == 302
    assert unquote_etag(redirect.headers["X-Linked-Etag"]) == weights["sha256"]
    blob = http(redirect.headers["Location"])  # signed URL: no token needed on the CDN
    assert hashlib.sha256(blob.body).hexdigest() == weights["sha256"]


def test_private_repo_needs_the_token_everywhere(hf_data, hf_server):
    urls = [hf_server.api_url(hub.PRIVATE), hf_server.api_url(hub.PRIVATE, "tree", "main"),
            hf_server.api_url(hub.PRIVATE, "revision", "main"),
            hf_server.resolve_url(hub.PRIVATE, "config.json"),
            hf_server.resolve_url(hub.PRIVATE, "config.json", kind="raw")]
    for url in urls:
        assert_error(http(url), 401, "RepoNotFound")
        assert http(url, token=lib.TOKEN).status == 200, url
    paths_info = hf_server.api_url(hub.PRIVATE, "paths-info", "main")
    assert_error(http(paths_info, "POST", data=b"paths=config.json"), 401, "RepoNotFound")
    allowed = http(paths_info, "POST", data=b"paths=config.json", token=lib.TOKEN)
    assert [e["path"] for e in allowed.json()] == ["config.json"]
    assert http(hf_server.api_url(hub.PRIVATE), token=lib.TOKEN).json()["private"] is True


def test_unknown_repo_and_invalid_token(hf_server):
    for url in (hf_server.api_url("nobody/nothing"),
                hf_server.api_url("nobody/nothing", "tree", "main"),
                hf_server.resolve_url("nobody/nothing", "config.json")):
        assert_error(http(url), 401, "RepoNotFound")
        assert_error(http(url, token=lib.TOKEN), 404, "RepoNotFound")
    for url in (hf_server.api_url(hub.MNIST), hf_server.resolve_url(hub.MNIST, "config.json")):
        bad = http(url, token="hf_not_the_token")
        assert bad.status == 401 and "X-Error-Code" not in bad.headers
        assert bad.headers["X-Error-Message"] == "Invalid credentials in Authorization header"


# ------------------------------------------------------------------------------ datasets, renames

def test_dataset_repo_uses_dataset_urls(hf_data, hf_server):
    data = repo(hf_data, hub.DATASET)
    files = data["commits"][data["main"]]["files"]
    entries, _ = collect_tree(hf_server.api_url(hub.DATASET, "tree", "main", repo_type="dataset")
                              + "?recursive=true")
    assert [e["path"] for e in entries] == ["data", "data/big.bin", "data/train.csv"]
    info = http(hf_server.api_url(hub.DATASET, repo_type="dataset")).json()
    assert info["sha"] == data["main"]
    csv = http(hf_server.resolve_url(hub.DATASET, "data/train.csv", repo_type="dataset"))
    assert csv.status == 200 and csv.body == hub.file_bytes(files["data/train.csv"])
    assert urlsplit(hf_server.resolve_url(hub.DATASET, "x", repo_type="dataset")).path \
        .startswith("/datasets/onnx-test/digits-data/resolve/")
    big = http(hf_server.resolve_url(hub.DATASET, "data/big.bin", repo_type="dataset"), "HEAD")
    assert big.status == 302
    blob = http(big.headers["Location"])
    assert hashlib.sha256(blob.body).hexdigest() == files["data/big.bin"]["sha256"]
    # The same id as a model does not exist.
    assert_error(http(hf_server.api_url(hub.DATASET)), 401, "RepoNotFound")
    assert_error(http(hf_server.resolve_url(hub.DATASET, "data/train.csv")), 401, "RepoNotFound")


def test_renamed_repo_redirects_relatively(hf_data, hf_server):
    new = repo(hf_data, hub.RENAMED_NEW)
    config = hub.file_bytes(new["commits"][new["main"]]["files"]["config.json"])
    for method in ("HEAD", "GET"):
        moved = http(f"{hf_server.endpoint}/{hub.RENAMED_OLD}/resolve/main/config.json", method)
        assert moved.status == 307
        assert moved.headers["Location"] == f"/{hub.RENAMED_NEW}/resolve/main/config.json"
        assert int(moved.headers["Content-Length"]) == (len(moved.body) if method == "GET"
                                                        else int(moved.headers["Content-Length"]))
    followed = http(urljoin(hf_server.endpoint + "/", moved.headers["Location"]))
    assert followed.body == config and followed.headers["X-Repo-Commit"] == new["main"]
    api = http(hf_server.api_url(hub.RENAMED_OLD, "tree", "main") + "?recursive=true")
    assert api.status == 307
    assert api.headers["Location"] == f"/api/models/{hub.RENAMED_NEW}/tree/main?recursive=true"
    entries = http(urljoin(hf_server.endpoint, api.headers["Location"])).json()
    assert [e["path"] for e in entries] == ["config.json"]
    info = http(hf_server.api_url(hub.RENAMED_OLD))
    assert info.status == 307 and info.headers["Location"] == f"/api/models/{hub.RENAMED_NEW}"


# ------------------------------------------------------------------------------ faults

def test_rate_limit_counts_down_per_role(hf_server):
    hf_server.set_faults({"rate_limit": {"remaining": 2, "retry_after": 7, "roles": ["api"]}})
    url = hf_server.api_url(hub.MNIST)
    location = None
    first = http(url)
    assert first.status == 429 and first.headers["Retry-After"] == "7"
    assert hf_server.faults()["rate_limit"]["remaining"] == 1
    hf_server.clear_faults()
    location = http(hf_server.resolve_url(hub.MNIST, "onnx/model.onnx"), "HEAD") \
        .headers["Location"]
    hf_server.set_faults({"rate_limit": {"remaining": 1, "retry_after": 7, "roles": ["api"]}})
    mark = hf_server.mark()
    assert http(location).status == 200  # the CDN role is not limited
    second = http(url)
    assert second.status == 429 and second.headers["Retry-After"] == "7"
    assert http(url).status == 200
    assert hf_server.faults()["rate_limit"]["remaining"] == 0
    log = hf_server.requests(mark)
    assert [(e["role"], e["status"], e["fault"]) for e in log] == [
        ("cdn", 200, None), ("api", 429, "rate_limit"), ("api", 200, None)]


def test_flaky_blob_truncates_then_resumes(hf_data, hf_server, tmp_path):
    data = repo(hf_data, hub.DATASET)
    entry = data["commits"][data["main"]]["files"]["data/big.bin"]
    location = http(hf_server.resolve_url(hub.DATASET, "data/big.bin", repo_type="dataset"),
                    "HEAD").headers["Location"]
    hf_server.set_faults({"flaky": {"sha256": entry["sha256"], "after_bytes": 100000,
                                    "remaining": 1}})
    out = tmp_path / "big.bin"
    cut = curl("-o", str(out), "-w", "%{http_code} %{size_download}", location)
    assert cut.returncode == 18, cut  # CURLE_PARTIAL_FILE: fewer bytes than Content-Length
    assert cut.stdout == "200 100000"
    assert out.read_bytes() == hub.file_bytes(entry)[:100000]
    assert hf_server.faults()["flaky"]["remaining"] == 0
    mark = hf_server.mark()
    resumed = curl("-C", "-", "-o", str(out), "-w", "%{http_code}", location)
    assert resumed.returncode == 0 and resumed.stdout == "206", resumed
    assert hashlib.sha256(out.read_bytes()).hexdigest() == entry["sha256"]
    (log,) = hf_server.requests(mark)
    assert log["range"] == "bytes=100000-" and log["status"] == 206 and log["fault"] is None


def test_fail_latency_and_down(hf_server):
    url = hf_server.resolve_url(hub.MNIST, "config.json")
    hf_server.set_faults({"fail": {"status": 503, "path_contains": "/resolve/", "remaining": 1}})
    assert http(hf_server.api_url(hub.MNIST)).status == 200  # path filter
    assert http(url).status == 503
    assert http(url).status == 200  # used up

    # A slow HEAD (above a client's etag timeout) while other requests are answered at once.
    hf_server.set_faults({"latency": {"seconds": 1.5, "path_contains": "config.json",
                                      "method": "HEAD"}})
    slow = {}
    thread = threading.Thread(target=lambda: slow.update(r=http(url, "HEAD")))
    started = time.monotonic()
    thread.start()
    assert http(url).status == 200  # GET: not delayed, and served in parallel
    assert thread.is_alive()
    with pytest.raises(OSError):  # TimeoutError / URLError: no answer within 0.3 s
        http(url, "HEAD", timeout=0.3)
    thread.join()
    assert slow["r"].status == 200 and time.monotonic() - started >= 1.5

    hf_server.set_faults({"down": True})
    mark = hf_server.mark()
    down = curl("-o", "/dev/null", url)
    assert down.returncode == 52, down  # CURLE_GOT_NOTHING: closed without an answer
    (log,) = hf_server.requests(mark)
    assert log["status"] is None and log["fault"] == "down"
    hf_server.clear_faults()
    assert http(url).status == 200


# ------------------------------------------------------------------------------ HTTP details

def test_keep_alive_and_content_length_on_every_reply(hf_server):
    urls = [hf_server.resolve_url(hub.MNIST, "config.json"),
            hf_server.resolve_url(hub.MNIST, "missing.txt"),                 # 404 + body
            hf_server.resolve_url(hub.MNIST, "onnx/model.onnx"),             # 302 + body
            hf_server.api_url(hub.MNIST, "tree", "main")]
    for extra in ([], ["-I"]):
        args = extra + ["-w", "%{http_code} %{num_connects}\n"]
        for url in urls:
            args += ["-o", "/dev/null", url]
        result = curl(*args)
        assert result.returncode == 0, result
        lines = result.stdout.splitlines()
        assert [line.split()[0] for line in lines] == ["200", "404", "302", "200"]
        assert [line.split()[1] for line in lines] == ["1", "0", "0", "0"], extra  # one connection


def test_request_log_records_every_request(hf_server):
    mark = hf_server.mark()
    path = "/onnx-test/mnist/resolve/main/config.json?download=true"
    http(hf_server.endpoint + path, headers={"Range": "bytes=0-3"}, token=lib.TOKEN)
    (entry,) = hf_server.requests(mark)
    assert entry["role"] == "api" and entry["method"] == "GET" and entry["path"] == path
    assert entry["range"] == "bytes=0-3" and entry["authorization"] is True
    assert entry["status"] == 206 and entry["fault"] is None
    assert abs(entry["t"] - time.time()) < 60
    assert hf_server.requests(mark, role="cdn") == []


def test_wrapper_restarts_on_the_same_ports_and_fails_loudly(hf_data, tmp_path):
    server = lib.HfServer(hf_data["root"], tmp_path / "srv")
    with server:
        ports = (server.api_port, server.cdn_port)
        assert server.api_port != server.cdn_port
        assert http(server.api_url(hub.MNIST)).status == 200
    assert not server.running
    server.stop()  # idempotent
    with pytest.raises(OSError):
        http(server.api_url(hub.MNIST), timeout=2)
    with server:
        assert (server.api_port, server.cdn_port) == ports
        assert http(server.api_url(hub.MNIST)).status == 200
    assert len(server.requests()) == 2  # the log survives restarts
    broken = lib.HfServer(tmp_path / "no-data", tmp_path / "broken")
    with pytest.raises(RuntimeError, match="spec.json"):
        broken.start()
    assert not broken.running


# ------------------------------------------------------------------------------ HF cache

def test_hf_cache_layout(hf_data, tmp_path):
    cache = hub.build_hf_cache(hf_data, tmp_path / "cache")
    main, v1, pr = commits(hf_data)
    hub_dir, repo_dir = cache["hub"], cache["repo_dir"]
    assert repo_dir == os.path.join(hub_dir, "models--onnx-test--mnist")
    with open(os.path.join(hub_dir, "CACHEDIR.TAG")) as f:
        assert f.readline() == "Signature: 8a477f597d28d172789f06886806bc55\n"
    assert os.path.isdir(os.path.join(hub_dir, ".locks", "models--onnx-test--mnist"))
    for name, commit in (("main", main), ("v1.0", v1), ("refs/pr/1", pr)):
        with open(os.path.join(repo_dir, "refs", name)) as f:
            assert f.read() == commit["id"]  # no newline

    snapshot = os.path.join(repo_dir, "snapshots", main["id"])
    for path, entry in main["files"].items():
        full = os.path.join(snapshot, path)
        assert hub.file_bytes(entry) == open(full, "rb").read(), path
        if path == "nested/a/b/deep.txt":
            assert full == cache["copy"] and not os.path.islink(full) and os.path.isfile(full)
            continue
        assert os.readlink(full) == "../" * (path.count("/") + 2) + "blobs/" + entry["etag"]
        assert os.path.realpath(full) == os.path.join(os.path.realpath(repo_dir), "blobs",
                                                      entry["etag"])

    blobs = os.path.join(repo_dir, "blobs")
    names = sorted(os.listdir(blobs))
    complete = [n for n in names if not n.endswith(".incomplete")]
    assert set(complete) == set(cache["blobs"])
    for name in complete:
        with open(os.path.join(blobs, name), "rb") as f:
            data = f.read()
        digest = (hashlib.sha256(data).hexdigest() if len(name) == 64
                  else hub.git_blob_sha1(data))
        assert digest == name
    (partial,) = cache["incomplete"]
    assert os.path.basename(partial["path"]) in names
    strided = pr["files"]["onnx/model_strided.onnx"]
    assert os.path.basename(partial["path"]) == strided["sha256"] + ".incomplete"
    assert open(partial["path"], "rb").read() == hub.file_bytes(strided)[:partial["size"]]
    assert partial["size"] < partial["full_size"] == strided["size"]
    assert not os.path.exists(os.path.join(repo_dir, "snapshots", pr["id"]))

    old = os.path.join(repo_dir, "snapshots", v1["id"])
    assert open(os.path.join(old, "config.json"), "rb").read() == \
        hub.file_bytes(v1["files"]["config.json"])
    assert os.path.realpath(os.path.join(old, "config.json")) != \
        os.path.realpath(os.path.join(snapshot, "config.json"))
    shared_a, shared_b = cache["shared"]["paths"]
    assert os.path.samefile(shared_a, shared_b)  # two snapshots, one README blob
    assert cache["dangling"] == os.path.join(old, "old_notes.txt")
    assert os.path.islink(cache["dangling"]) and not os.path.exists(cache["dangling"])

    no_exist = os.path.join(repo_dir, ".no_exist", main["id"], "tokenizer.json")
    assert os.path.isfile(no_exist) and os.path.getsize(no_exist) == 0
    with open(os.path.join(repo_dir, "trees", f"{main['id']}.json")) as f:
        tree = json.load(f)
    assert tree["format_version"] == 1 and set(tree["files"]) == set(main["files"])
    for path, item in tree["files"].items():
        entry = main["files"][path]
        assert item["size"] == entry["size"] and item["blob_id"] == entry["git_sha1"]
        if entry["lfs"]:
            assert (item["lfs_sha256"], item["lfs_size"]) == (entry["sha256"], entry["size"])
        else:
            assert set(item) == {"size", "blob_id"}
