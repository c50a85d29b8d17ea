"""The GitHttpServer fixture itself: a bare repository served over smart HTTP next to static
files, cloned and fetched with the git CLI. (LibGit2Repository over this server is covered by
the MindSpore integration tests, which need the hubfs binary.)"""

import subprocess
import urllib.request

import pytest

import git_http


@pytest.fixture(scope="module", autouse=True)
def prerequisites():
    # Replaces conftest.py's session check (hubfs binary, FUSE, node): this file needs only the
    # fixture's tools. Fail, never skip.
    problems = git_http.missing_tools()
    if problems:
        pytest.fail("git HTTP fixture cannot run:\n  " + "\n  ".join(problems), pytrace=False)


@pytest.fixture
def served(tmp_path):
    repos = tmp_path / "repos"
    tips = git_http.make_bare_repo(repos / "mindspore/hub.git", {
        "master": {"mshub_res/assets/mindspore/1.6/alexnet_cifar10.md": "---\nmodel: alexnet\n---\n",
                   "README.md": "# hub\n"},
        "r1.3": {"mshub_res/assets/mindspore/ascend/0.7/googlenet_v1_cifar10.md": "old\n"},
    })
    (repos / "models/r1.10").mkdir(parents=True)
    (repos / "models/r1.10/alexnet.ckpt").write_bytes(bytes(range(256)) * 8)
    with git_http.GitHttpServer(tmp_path / "srv", git_root=repos) as server:
        yield server, tips


def clone(url, dest, *args):
    return git_http.git("clone", "-q", *args, url, dest)


def test_clone_over_smart_http(served, tmp_path):
    server, tips = served
    url = server.repo_url("mindspore/hub.git")
    clone(url, tmp_path / "c1")
    assert (tmp_path / "c1/README.md").read_text() == "# hub\n"
    assert (tmp_path / "c1/mshub_res/assets/mindspore/1.6/alexnet_cifar10.md").exists()
    remote_heads = git_http.git("ls-remote", "--heads", url)
    assert f"{tips['master']}\trefs/heads/master" in remote_heads
    assert f"{tips['r1.3']}\trefs/heads/r1.3" in remote_heads

    clone(url, tmp_path / "c2", "-b", "r1.3", "--single-branch")
    assert (tmp_path / "c2/mshub_res/assets/mindspore/ascend/0.7/googlenet_v1_cifar10.md"
            ).read_text() == "old\n"

    # It was the smart protocol (POST git-upload-pack), not static files.
    posts = [e for e in server.nginx.requests(prefix="/mindspore/hub.git/")
             if e["method"] == "POST"]
    assert posts and all(e["status"] == 200 for e in posts)
    assert any(e["uri"].endswith("/git-upload-pack") for e in posts)


def test_fetch_sees_pushed_commits(served, tmp_path):
    server, tips = served
    url = server.repo_url("mindspore/hub.git")
    clone(url, tmp_path / "c")
    new_tip = git_http.push_commit(server.repo_path("mindspore/hub.git"), "master",
                                   {"mshub_res/assets/mindspore/1.6/lenet_mnist.md": "lenet\n"})
    assert new_tip != tips["master"]
    git_http.git("fetch", "-q", "origin", cwd=tmp_path / "c")
    assert git_http.git("rev-parse", "origin/master", cwd=tmp_path / "c").strip() == new_tip


def test_static_files_next_to_the_repository(served):
    server, _ = served
    with urllib.request.urlopen(server.static_url("models/r1.10/alexnet.ckpt"), timeout=10) as r:
        assert r.read() == bytes(range(256)) * 8
    request = urllib.request.Request(server.static_url("models/r1.10/alexnet.ckpt"),
                                     headers={"Range": "bytes=0-3"})
    with urllib.request.urlopen(request, timeout=10) as r:
        assert r.status == 206 and r.read() == bytes([0, 1, 2, 3])


def test_stopped_server_refuses_then_comes_back(served, tmp_path):
    server, _ = served
    url = server.repo_url("mindspore/hub.git")
    port = server.nginx.port
    server.stop()
    with pytest.raises(RuntimeError):
        git_http.git("ls-remote", url, timeout=30)
    server.start()
    assert server.nginx.port == port
    assert "refs/heads/master" in git_http.git("ls-remote", url)


def test_unknown_repository_is_404(served):
    server, _ = served
    result = subprocess.run(["git", "ls-remote", server.repo_url("nope/missing.git")],
                            env=git_http.git_env(), capture_output=True, text=True, timeout=30)
    assert result.returncode != 0
    assert any(e["status"] == 404 for e in server.nginx.requests(prefix="/nope/missing.git/"))
