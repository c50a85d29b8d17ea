"""GitHttpServer: bare git repositories over smart HTTP on 127.0.0.1, next to static files.

One nginx (hubfs_testlib.NginxServer, by composition) serves both:
  {url}/<name>.git/...   git's smart HTTP protocol (and the dumb one), answered by
                         `git http-backend` behind fcgiwrap, for every bare repository below
                         `git_root` (e.g. git_root/mindspore/hub.git -> {url}/mindspore/hub.git)
  {url}/<anything else>  static files below `static_root` (sendfile, Range, ETag, autoindex),
                         e.g. the MindSpore fixture's markdown and asset files

Repositories are built with the helpers below (make_bare_repo, commit_files) through the git CLI,
with no user or system git configuration involved. The server is a context manager:

    with GitHttpServer(tmp_path / "srv", git_root=repos, static_root=assets) as server:
        url = server.repo_url("mindspore/hub.git")
        ...                        # clone/fetch `url`; server.nginx.requests(prefix=...) counts
        server.stop(); ...; server.start()   # "remote down" tests; same port afterwards

Prerequisites (nginx, fcgiwrap, git, git-http-backend) are checked in __init__; a missing one
raises RuntimeError with the package to install: a fixture that silently skips tests nothing.
Nothing but 127.0.0.1 is ever contacted.
"""

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import hubfs_testlib as lib

HTTP_BACKEND_CANDIDATES = ("/usr/lib/git-core/git-http-backend",
                           "/usr/libexec/git-core/git-http-backend")

# The git CLI as the fixture runs it: no system or user configuration, a fixed identity and
# date-independent behaviour, so repositories are reproducible and hermetic.
GIT_ENV = {
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_CONFIG_GLOBAL": "/dev/null",
    "GIT_AUTHOR_NAME": "hubfs fixture",
    "GIT_AUTHOR_EMAIL": "fixture@hubfs.invalid",
    "GIT_COMMITTER_NAME": "hubfs fixture",
    "GIT_COMMITTER_EMAIL": "fixture@hubfs.invalid",
    "GIT_TERMINAL_PROMPT": "0",
}


def git_env():
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(GIT_ENV)
    # Never go through a proxy: everything here is on 127.0.0.1.
    for name in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy",
                 "ALL_PROXY"):
        env.pop(name, None)
    env["no_proxy"] = "*"
    return env


def git(*args, cwd=None, timeout=lib.CMD_TIMEOUT):
    """Runs the git CLI hermetically; returns stdout; raises with git's stderr on failure."""
    result = subprocess.run(["git", *[str(a) for a in args]], cwd=cwd, env=git_env(),
                            capture_output=True, text=True, timeout=timeout)
    if result.returncode != 0:
        raise RuntimeError(f"git {' '.join(map(str, args))} failed ({result.returncode}):\n"
                           f"{result.stderr}")
    return result.stdout


def find_http_backend():
    for candidate in HTTP_BACKEND_CANDIDATES:
        if os.access(candidate, os.X_OK):
            return candidate
    return None


def missing_tools():
    """Human-readable problems; empty when GitHttpServer can run."""
    problems = []
    for program, package in (("nginx", "nginx-light"), ("fcgiwrap", "fcgiwrap"),
                             ("git", "git")):
        if not lib.find_program(program):
            problems.append(f"{program} not found (apt-get install {package})")
    if not find_http_backend():
        problems.append("git-http-backend not found in "
                        f"{' or '.join(HTTP_BACKEND_CANDIDATES)} (apt-get install git)")
    return problems


# ------------------------------------------------------------------------------ repositories

def make_bare_repo(path, branches, *, initial="master"):
    """Creates a bare repository at `path` with one commit per entry of `branches`:
    {branch: {relative path: bytes or str}}. Each branch starts from `initial`'s first commit
    when it is not `initial` itself (so branches share history, like real release branches).
    Returns {branch: commit id}."""
    path = Path(path)
    work = path.with_name(path.name + ".work")
    shutil.rmtree(work, ignore_errors=True)
    git("init", "-q", "-b", initial, work)
    tips = {}
    order = [initial] + [b for b in branches if b != initial]
    for i, branch in enumerate(order):
        if i > 0:
            git("checkout", "-q", "-b", branch, order[0], cwd=work)
        tips[branch] = commit_files(work, branches.get(branch, {}), f"fixture: {branch}")
    git("clone", "-q", "--bare", work, path)
    git("update-server-info", cwd=path)  # for dumb-HTTP clients too
    shutil.rmtree(work)
    return tips


def commit_files(work_tree, files, message):
    """Writes {relative path: bytes or str} into a non-bare `work_tree`, commits them all and
    returns the new commit id."""
    work_tree = Path(work_tree)
    for rel, content in files.items():
        target = work_tree / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, str):
            content = content.encode()
        target.write_bytes(content)
    git("add", "-A", cwd=work_tree)
    git("commit", "-q", "--allow-empty", "-m", message, cwd=work_tree)
    return git("rev-parse", "HEAD", cwd=work_tree).strip()


def push_commit(bare_repo, branch, files, message="fixture: update"):
    """Adds one commit with `files` on top of `branch` of `bare_repo` (clone, commit, push).
    Returns the new commit id. For "the remote moved on" tests."""
    bare_repo = Path(bare_repo)
    work = bare_repo.with_name(bare_repo.name + ".push")
    shutil.rmtree(work, ignore_errors=True)
    git("clone", "-q", "-b", branch, bare_repo, work)
    tip = commit_files(work, files, message)
    git("push", "-q", "origin", f"HEAD:refs/heads/{branch}", cwd=work)
    git("update-server-info", cwd=bare_repo)
    shutil.rmtree(work)
    return tip


# ------------------------------------------------------------------------------ the server

GIT_LOCATION = """\
        # Smart (and dumb) git HTTP for every bare repository below {git_root}.
        location ~ ^/.+\\.git(/.*)?$ {{
            client_max_body_size 0;
            fastcgi_pass unix:{socket};
            fastcgi_param SCRIPT_FILENAME {backend};
            fastcgi_param GIT_PROJECT_ROOT {git_root};
            fastcgi_param GIT_HTTP_EXPORT_ALL "";
            fastcgi_param GIT_CONFIG_NOSYSTEM 1;
            fastcgi_param GIT_CONFIG_GLOBAL /dev/null;
            fastcgi_param HOME {work};
            fastcgi_param PATH /usr/bin:/bin;
            fastcgi_param PATH_INFO $uri;
            fastcgi_param QUERY_STRING $query_string;
            fastcgi_param REQUEST_METHOD $request_method;
            fastcgi_param CONTENT_TYPE $content_type;
            fastcgi_param CONTENT_LENGTH $content_length;
            fastcgi_param REQUEST_URI $request_uri;
            fastcgi_param SERVER_PROTOCOL $server_protocol;
            fastcgi_param REMOTE_ADDR $remote_addr;
            fastcgi_param HTTP_GIT_PROTOCOL $http_git_protocol;
            fastcgi_read_timeout 60s;
        }}
"""


class GitHttpServer:
    """nginx + fcgiwrap + git http-backend on a free 127.0.0.1 port (see the module docstring).

    `git_root` holds bare repositories (default: work/git); `static_root` the static files
    (default: `git_root`). `extra` is more nginx server-block configuration (limit_rate, return
    503, ...); regex locations in it are tried in order after the git one.
    """

    def __init__(self, work, *, git_root=None, static_root=None, extra=""):
        problems = missing_tools()
        if problems:
            raise RuntimeError("GitHttpServer cannot run:\n  " + "\n  ".join(problems))
        self.work = Path(work)
        self.work.mkdir(parents=True, exist_ok=True)
        self.git_root = Path(git_root or self.work / "git").resolve()
        self.git_root.mkdir(parents=True, exist_ok=True)
        self.static_root = Path(static_root or self.git_root).resolve()
        # Unix socket paths are limited to 107 bytes; keep it short and private to this server.
        self._socket_dir = Path(os.environ.get("XDG_RUNTIME_DIR") or "/tmp")
        self.socket = None
        self.fcgiwrap = None
        self._extra = extra
        self.nginx = None

    # -- life cycle

    def start(self):
        """Starts fcgiwrap and nginx (nginx keeps its port across stop()/start()); returns self."""
        assert self.fcgiwrap is None, "already running"
        self._start_fcgiwrap()
        if self.nginx is None:
            location = GIT_LOCATION.format(socket=self.socket, backend=find_http_backend(),
                                           git_root=self.git_root, work=self.work)
            self.nginx = lib.NginxServer(self.static_root, self.work / "nginx",
                                         location + self._extra)
        try:
            self.nginx.start()
        except Exception:
            self._stop_fcgiwrap()
            raise
        return self

    def stop(self):
        """Stops nginx and fcgiwrap: connections are refused until start()."""
        if self.nginx is not None:
            self.nginx.stop()
        self._stop_fcgiwrap()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        if self.socket is not None:
            shutil.rmtree(Path(self.socket).parent, ignore_errors=True)

    # -- addresses

    @property
    def url(self):
        return self.nginx.url

    def repo_url(self, name):
        """URL of the bare repository git_root/<name> (e.g. "mindspore/hub.git")."""
        return f"{self.url}/{name.strip('/')}"

    def repo_path(self, name):
        return self.git_root / name.strip("/")

    def static_url(self, rel):
        return f"{self.url}/{rel.lstrip('/')}"

    # -- fcgiwrap

    def _start_fcgiwrap(self):
        if self.socket is None:
            folder = tempfile.mkdtemp(prefix="hubfs-git-", dir=self._socket_dir)
            self.socket = f"{folder}/fcgiwrap.sock"
        if os.path.exists(self.socket):
            os.unlink(self.socket)
        log = open(self.work / "fcgiwrap.log", "ab")
        try:
            self.fcgiwrap = subprocess.Popen(
                [lib.find_program("fcgiwrap"), "-f", "-c", "4", "-s", f"unix:{self.socket}"],
                stdin=subprocess.DEVNULL, stdout=log, stderr=log, env=git_env(),
                start_new_session=True)  # its own group: stop() ends the preforked children too
        finally:
            log.close()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.fcgiwrap.poll() is not None:
                raise RuntimeError(f"fcgiwrap exited ({self.fcgiwrap.returncode}):\n"
                                   f"{self.fcgiwrap_log()}")
            if os.path.exists(self.socket):
                with socket.socket(socket.AF_UNIX) as probe:
                    try:
                        probe.connect(self.socket)
                        return
                    except OSError:
                        pass
            time.sleep(0.02)
        self._stop_fcgiwrap()
        raise RuntimeError(f"fcgiwrap did not start:\n{self.fcgiwrap_log()}")

    def _stop_fcgiwrap(self):
        if self.fcgiwrap is None:
            return
        group = self.fcgiwrap.pid  # start_new_session: the group id is fcgiwrap's pid
        for sig in (signal.SIGTERM, signal.SIGKILL):
            try:
                os.killpg(group, sig)
            except ProcessLookupError:
                break
            try:
                self.fcgiwrap.wait(timeout=10)
                break
            except subprocess.TimeoutExpired:
                continue
        try:  # preforked children that outlived the parent
            os.killpg(group, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.fcgiwrap = None

    def fcgiwrap_log(self, lines=20):
        try:
            text = (self.work / "fcgiwrap.log").read_text(errors="replace")
        except FileNotFoundError:
            return "(no fcgiwrap.log)"
        return "\n".join(text.splitlines()[-lines:])
