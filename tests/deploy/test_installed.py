"""What the container image does, done for real without Docker: the wheel built from the sources,
installed into a fresh venv by an unprivileged user (as the image's `pip install .` does), then
`factbot socket` and `factbot serve` from that venv, against the Slack stand-ins and a throwaway
PostgreSQL, probed on their health endpoints.

No package index here: the fresh venv gets the wheel with `--no-deps`, and the dependencies from
the development venv through a `.pth` path line (the development venv's own `.pth` files, its
editable install of factbot among them, are not read from there), after a check that every
requirement the wheel declares is installed. The sources come from a copy of the package files
only, so the wheel has to carry everything the bot needs (store/data above all).
"""
from __future__ import annotations

import json
import os
import pwd
import shutil
import signal
import subprocess
import sys
import sysconfig
import tempfile
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.slack_standin import APP_TOKEN, BotProcess, bot_env, copy_seeds, free_port

ROOT = Path(__file__).resolve().parents[2]
PACKAGE_FILES = ("pyproject.toml", "README.md", "bot", "handlers", "store")


def _as_user() -> tuple[list[str], pwd.struct_passwd | None]:
    """The prefix that runs a command as an unprivileged user (as root: `nobody`), and that user."""
    if os.geteuid() != 0:
        return [], None
    user = pwd.getpwnam("nobody")
    if shutil.which("runuser") is None:
        pytest.skip("running as root without runuser: cannot install as an unprivileged user")
    return ["runuser", "-u", user.pw_name, "--"], user


def _world_usable(path: Path) -> bool:
    """Whether any user can run `path`: world-executable, in folders anyone may enter."""
    path = path.resolve()
    return all(p.stat().st_mode & 0o001 for p in (path, *path.parents))


def _python(user) -> str:
    """A Python of this one's version that the unprivileged user may run (as root, this one may
    live under /root: then the system's python3.X)."""
    base = Path(getattr(sys, "_base_executable", sys.executable))
    if user is None or _world_usable(base):
        return str(base)
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    for candidate in (Path("/usr/bin") / version, Path("/usr/local/bin") / version):
        if candidate.exists() and _world_usable(candidate):
            return str(candidate)
    pytest.skip(f"no {version} that the user {user.pw_name} may run")


def _run(argv: list[str], **kw) -> subprocess.CompletedProcess:
    result = subprocess.run(argv, capture_output=True, text=True, timeout=120, **kw)
    assert result.returncode == 0, f"{argv} failed:\n{result.stdout}\n{result.stderr}"
    return result


class Installed(BotProcess):
    """A command of the installed venv, as the unprivileged user; stopped with its process group."""

    def __init__(self, argv: list[str], env: dict, workdir: Path, prefix: list[str]):
        import time

        self.log_path = workdir / f"installed-{argv[1]}-{time.monotonic_ns()}.log"
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(prefix + argv, env=env, cwd=workdir, stdout=self._log, stderr=subprocess.STDOUT,
                                     start_new_session=True)

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=5)
        self._log.close()


def _get(url: str):
    try:
        with urllib.request.urlopen(url, timeout=2) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()
    except OSError:
        return None


@pytest.fixture(scope="module")
def venv():
    prefix, user = _as_user()
    # a folder of its own in /tmp (pytest's are private to the user running the tests), as tests/pg.py does
    work = Path(tempfile.mkdtemp(prefix="factbot-installed-"))
    try:
        yield _install(work, prefix, user)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _install(work: Path, prefix: list[str], user) -> dict:
    src = work / "src"
    src.mkdir()
    for name in PACKAGE_FILES:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, src / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy(source, src / name)
    _run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "--no-index",
          "-w", str(work / "dist"), str(src)], cwd=work)
    (wheel,) = (work / "dist").glob("factbot-*.whl")
    home = work / "home"
    home.mkdir()
    if user is not None:
        for path in (work, home, wheel.parent, wheel):
            os.chown(path, user.pw_uid, user.pw_gid)
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home)}
    fresh = work / "venv"
    _run(prefix + [_python(user), "-m", "venv", "--without-pip", str(fresh)], env=env, cwd=work)
    purelib = Path(_run([str(fresh / "bin" / "python"), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                        env=env).stdout.strip())
    dev = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    (purelib / "_factbot_test_dependencies.pth").write_text("\n".join(sorted(dev)) + "\n", "utf-8")
    # pip itself comes from the development venv too (the .pth line); it installs into the fresh one
    _run(prefix + [str(fresh / "bin" / "python"), "-m", "pip", "install", "-q", "--no-deps", "--no-index",
                   "--no-cache-dir", "--disable-pip-version-check", str(wheel)], env=env, cwd=work)
    return {"bin": fresh / "bin", "work": work, "prefix": prefix, "user": user, "env": env, "purelib": purelib}


def test_the_wheel_holds_the_bot_and_its_data_and_declares_what_it_imports(venv):
    probe = (
        "import importlib.metadata as m, json, re, bot, store, handlers, store.lexicon\n"
        "missing = []\n"
        "for req in m.requires('factbot') or []:\n"
        "    if 'extra ==' in req: continue\n"
        "    name = re.split(r'[\\s<>=!~;\\[]', req, 1)[0]\n"
        "    try: m.version(name)\n"
        "    except m.PackageNotFoundError: missing.append(name)\n"
        "files = [str(f) for f in m.files('factbot')]\n"
        "print(json.dumps({'bot': bot.__file__, 'missing': missing, 'files': files}))\n"
    )
    out = json.loads(_run(venv["prefix"] + [str(venv["bin"] / "python"), "-c", probe], env=venv["env"],
                          cwd=venv["work"]).stdout)
    assert out["bot"].startswith(str(venv["purelib"]))  # the installed copy, not the source tree
    assert out["missing"] == []
    data = {Path(f).name for f in out["files"] if f.startswith("store/data/")}
    shipped = {p.name for p in (ROOT / "store" / "data").glob("*.txt")}
    assert shipped and shipped <= data
    assert (venv["bin"] / "factbot").exists()


def test_installed_socket_and_serve_start_against_postgresql_and_answer_their_health_checks(
        venv, slack_api, socket_mode_server, database_url):
    slack_api.ws_url = socket_mode_server.url
    work = venv["work"] / "run"
    work.mkdir()
    seeds = copy_seeds(work / "seeds")
    (work / "a").mkdir()
    (work / "b").mkdir()
    if venv["user"] is not None:
        for path in [work, work / "a", work / "b", *seeds.rglob("*"), seeds]:
            os.chown(path, venv["user"].pw_uid, venv["user"].pw_gid)
    health, http = free_port(), free_port()
    common = dict(DATABASE_URL=database_url, HOME=venv["env"]["HOME"], PYTHONPATH=None, FACTBOT_WATCH="off")
    socket_env = bot_env(slack_api, work / "a" / "factbot.db", seeds, SLACK_APP_TOKEN=APP_TOKEN,
                         FACTBOT_HEALTH_PORT=str(health), FACTBOT_HEALTH_HOST="127.0.0.1", **common)
    serve_env = bot_env(slack_api, work / "b" / "factbot.db", seeds, PORT=str(http), **common)
    socket_env.pop("PYTHONPATH", None), serve_env.pop("PYTHONPATH", None)
    factbot = str(venv["bin"] / "factbot")
    procs = [Installed([factbot, "socket"], socket_env, work, venv["prefix"]),
             Installed([factbot, "serve", "--host", "127.0.0.1"], serve_env, work, venv["prefix"])]
    try:
        for proc, base in zip(procs, (f"http://127.0.0.1:{health}", f"http://127.0.0.1:{http}")):
            proc.wait_until(lambda: (_get(base + "/readyz") or (0,))[0] == 200, timeout=60)
            assert _get(base + "/healthz")[0] == 200
            body = json.loads(_get(base + "/readyz")[1])
            assert body["ready"] is True and body["version"] == 1 and body["facts"] == 31
            assert "factbot_corpus_version 1.0" in _get(base + "/metrics")[1]
        procs[0].wait_until(socket_mode_server.connected.is_set)
        if venv["user"] is not None:  # the index was written by the unprivileged user
            assert (work / "a" / "factbot.db").stat().st_uid == venv["user"].pw_uid
        # the image's HEALTHCHECK command itself, with this venv's python and this health port
        check = _healthcheck(venv["bin"] / "python", health)
        assert subprocess.run(check, capture_output=True, timeout=30).returncode == 0
    finally:
        for proc in procs:
            proc.stop()
    assert subprocess.run(check, capture_output=True, timeout=30).returncode != 0  # and it fails once it is gone


def _healthcheck(python: Path, port: int) -> list[str]:
    """deploy/Dockerfile's HEALTHCHECK CMD (an exec-form JSON array), for this venv and port."""
    import re

    text = re.sub(r"\\\n", " ", (ROOT / "deploy" / "Dockerfile").read_text("utf-8"))
    (line,) = [ln for ln in text.splitlines() if ln.startswith("HEALTHCHECK")]
    argv = json.loads(line[line.index(" CMD ") + len(" CMD "):])
    assert argv[0] == "/opt/factbot/bin/python"
    return [str(python)] + [arg.replace("127.0.0.1:8080", f"127.0.0.1:{port}") for arg in argv[1:]]
