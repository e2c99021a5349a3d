"""The container recipe, the compose files and the systemd unit, checked against the code they run.

Docker does not run here, so these read the files: every variable they set is a setting that
bot/config.py reads, every command is a factbot command, the health check's path is one that
bot/health.py answers on the port the recipe gives it, and the image holds every package.
What the image then does is run for real in test_installed.py.
"""
from __future__ import annotations

import configparser
import re
import shlex
import tomllib
from pathlib import Path

import pytest
import yaml

from bot.cli import main
from bot.config import Settings
from bot.health import LIVE_PATH, PATHS, READY_PATH

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"


class _Recording(dict):
    """An environment that notes every variable asked for."""

    def __init__(self):
        super().__init__()
        self.asked: set[str] = set()

    def get(self, key, default=None):
        self.asked.add(key)
        return super().get(key, default)

    def __getitem__(self, key):
        self.asked.add(key)
        return super().__getitem__(key)

    def __contains__(self, key):
        self.asked.add(key)
        return super().__contains__(key)


def settings_read() -> set[str]:
    """The environment variables bot/config.py reads (FACTBOT_SEEDS, FACTBOT_DB and PORT among them)."""
    env = _Recording()
    Settings.from_env(env, dotenv=False)
    return env.asked


def dockerfile() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of deploy/Dockerfile, continuation lines joined."""
    text = re.sub(r"\\\n", " ", (DEPLOY / "Dockerfile").read_text("utf-8"))
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            out.append((word.upper(), rest.strip()))
    return out


def docker_env() -> dict[str, str]:
    env = {}
    for word, rest in dockerfile():
        if word == "ENV":
            for item in shlex.split(rest):
                key, _, value = item.partition("=")
                env[key] = value
    return env


def compose(*names: str) -> dict:
    """The compose files merged as `docker compose -f a -f b` does for what is checked here
    (services' keys replaced, YAML anchors and merge keys resolved by the YAML parser)."""
    merged: dict = {"services": {}, "volumes": {}}
    for name in names:
        data = yaml.safe_load((DEPLOY / name).read_text("utf-8"))
        for service, spec in data.get("services", {}).items():
            merged["services"].setdefault(service, {}).update(spec)
        merged["volumes"].update(data.get("volumes") or {})
    return merged


def example_settings() -> set[str]:
    """The variables .env.example lists, set or commented out (`# NAME=value`)."""
    names = set()
    for line in (ROOT / ".env.example").read_text("utf-8").splitlines():
        m = re.match(r"#?\s*([A-Z][A-Z0-9_]+)=", line.strip())
        if m:
            names.add(m.group(1))
    return names


def factbot_command(argv: list[str]) -> str:
    assert Path(argv[0]).name == "factbot", argv
    assert argv[1] in main.commands, f"{argv[1]} is not a factbot command"
    return argv[1]


def test_env_example_and_docs_list_exactly_the_settings_factbot_reads():
    assert example_settings() == settings_read()
    documented = set(re.findall(r"^\| `([A-Z][A-Z0-9_]+)` \|", (ROOT / "docs" / "settings.md").read_text("utf-8"), re.M))
    assert documented == settings_read()


def test_the_image_installs_every_package_runs_as_a_user_and_checks_liveness():
    steps = dockerfile()
    base = next(rest for word, rest in steps if word == "FROM")
    assert re.fullmatch(r"python:3\.1[1-9]-slim", base)
    copied = {source for word, rest in steps if word == "COPY" for source in rest.split()[:-1]}
    project = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))
    packages = {p.split(".")[0] for p in project["tool"]["setuptools"]["packages"]}
    assert packages <= copied and {"pyproject.toml", "README.md"} <= copied  # README: the package's readme
    run = " ".join(rest for word, rest in steps if word == "RUN")
    assert "python -m venv /opt/factbot" in run and "/opt/factbot/bin/pip install -q ." in run
    (user,) = [rest for word, rest in steps if word == "USER"]
    assert user not in ("root", "0")
    env = docker_env()
    assert set(env) - {"PATH", "PYTHONUNBUFFERED", "PYTHONDONTWRITEBYTECODE", "PIP_NO_CACHE_DIR",
                       "PIP_DISABLE_PIP_VERSION_CHECK"} <= settings_read()
    (volumes,) = [yaml.safe_load(rest) for word, rest in steps if word == "VOLUME"]
    assert env["FACTBOT_SEEDS"] in volumes and str(Path(env["FACTBOT_DB"]).parent) in volumes
    (check,) = [rest for word, rest in steps if word == "HEALTHCHECK"]
    url = re.search(r"http://127\.0\.0\.1:(\d+)(/[a-z]+)", check)
    assert url and url.group(2) == LIVE_PATH and url.group(1) == env["FACTBOT_HEALTH_PORT"]
    (cmd,) = [yaml.safe_load(rest) for word, rest in steps if word == "CMD"]
    assert factbot_command(cmd) == "socket"
    ignore = (DEPLOY / "Dockerfile.dockerignore").read_text("utf-8")
    assert all(f"!{p}/**" in ignore for p in packages)


@pytest.mark.parametrize("files", [("compose.yaml",), ("compose.yaml", "compose.http.yaml")])
def test_compose_sets_only_settings_and_waits_for_a_healthy_postgresql(files):
    data = compose(*files)
    services = data["services"]
    pg = services["postgres"]
    assert pg["image"].split(":")[0] == "postgres"  # the official image
    assert "pg_isready" in " ".join(pg["healthcheck"]["test"])
    (pg_volume,) = pg["volumes"]
    assert pg_volume.split(":")[0] in data["volumes"] and pg_volume.endswith(":/var/lib/postgresql/data")
    replicas = [name for name in services if name.startswith("factbot")]
    assert len(replicas) == 2
    env = docker_env()
    watching = []
    for name in replicas:
        spec = services[name]
        assert spec["depends_on"]["postgres"]["condition"] == "service_healthy"
        assert spec["env_file"] == ["factbot.env"]  # the tokens, from a file (.env.example's copy)
        assert spec["build"]["dockerfile"] == "deploy/Dockerfile" and (DEPLOY / spec["build"]["context"]).resolve() == ROOT
        assert set(spec["environment"]) <= settings_read()
        assert spec["environment"]["DATABASE_URL"].startswith("postgresql://factbot:") \
            and spec["environment"]["DATABASE_URL"].endswith("@postgres:5432/factbot")
        assert not {"SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "SLACK_SIGNING_SECRET"} & set(spec["environment"])
        command = factbot_command(spec["command"])
        assert command == ("serve" if "compose.http.yaml" in files else "socket")
        mounts = {v.split(":")[1]: v.split(":")[0] for v in spec["volumes"] if not v.startswith("$")}
        data_volume = mounts[str(Path(spec["environment"]["FACTBOT_DB"]).parent)]
        assert data_volume in data["volumes"]  # a named volume per replica: the index is local
        assert any(v.endswith(":" + spec["environment"]["FACTBOT_SEEDS"]) for v in spec["volumes"])
        health = spec["environment"]["FACTBOT_HEALTH_PORT"]
        assert health == env["FACTBOT_HEALTH_PORT"]  # the port the image's HEALTHCHECK probes
        assert all(p.endswith(":" + health) for p in spec.get("ports", []))
        watching.append(spec["environment"].get("FACTBOT_WATCH", "on") != "off")
    assert watching.count(True) == 1
    seeds_mounts = {next(v.split(":")[0] for v in services[n]["volumes"] if v.endswith(":/seeds")) for n in replicas}
    if len(seeds_mounts) == 1:  # one seeds folder for both: one identity in the corpus, or a reload
        ids = {services[n]["environment"].get("FACTBOT_SEEDS_ID") for n in replicas}  # on one would not
        assert len(ids) == 1 and None not in ids  # remove what the other put there
    datas = [services[n]["volumes"][1] for n in replicas]
    assert len(set(datas)) == 2  # each replica its own index


def test_the_tls_proxy_forwards_only_slack_events_to_ready_replicas():
    caddy = (DEPLOY / "Caddyfile").read_text("utf-8")
    assert "handle /slack/events" in caddy and "respond 404" in caddy
    (health,) = re.findall(r"health_uri (\S+)", caddy)
    assert health == READY_PATH
    upstreams = re.findall(r"(factbot-\d):(\d+)", caddy)
    data = compose("compose.yaml", "compose.http.yaml")
    assert {u for u, _ in upstreams} == {n for n in data["services"] if n.startswith("factbot")}
    assert {int(p) for _, p in upstreams} == {Settings.from_env({}, dotenv=False).port}
    from bot.serve import EVENTS_PATH

    assert EVENTS_PATH == "/slack/events"


def test_the_systemd_unit_runs_factbot_as_a_user_with_settings_only():
    unit = configparser.ConfigParser(strict=False, interpolation=None)
    unit.optionxform = str
    unit.read_string((DEPLOY / "factbot.service").read_text("utf-8"))
    service = unit["Service"]
    assert service["User"] not in ("root", "0") and service["Restart"] == "on-failure"
    assert factbot_command(shlex.split(service["ExecStart"])) == "socket"
    env = dict(item.split("=", 1) for item in shlex.split(service["Environment"]))
    assert set(env) <= settings_read()
    assert env["FACTBOT_DB"].startswith(service["ReadWritePaths"]) and env["FACTBOT_SEEDS"].startswith(service["ReadWritePaths"])
    assert unit["Install"]["WantedBy"] == "multi-user.target"
    assert set(PATHS) == {"/healthz", "/readyz", "/metrics"}
