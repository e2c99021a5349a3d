"""Liveness (/healthz), readiness (/readyz, with its reasons) and the health port (FACTBOT_HEALTH_PORT)."""
from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request

import pytest

from bot.health import Endpoints, Health
from store import Index
from tests.generated import corpus
from tests.slack_standin import APP_TOKEN, BotProcess, bot_env, copy_seeds, free_port


def _get(url: str) -> tuple[int, dict | str] | None:
    try:
        with urllib.request.urlopen(url, timeout=2) as resp:
            data = resp.read().decode()
            status = resp.status
    except urllib.error.HTTPError as exc:
        data, status = exc.read().decode(), exc.code
    except OSError:
        return None
    try:
        return status, json.loads(data)
    except ValueError:
        return status, data


def _call(endpoints: Endpoints, path: str) -> tuple[str, dict]:
    out = {}

    def start_response(status, headers):
        out["status"], out["headers"] = status, dict(headers)

    body = b"".join(endpoints({"PATH_INFO": path, "REQUEST_METHOD": "GET"}, start_response))
    return out["status"], json.loads(body)


@pytest.fixture(scope="module")
def generated_index(tmp_path_factory):
    folder = tmp_path_factory.mktemp("health")
    corpus(folder / "seeds", 600, seed=5)
    index = Index.open(folder / "factbot.db", seeds=folder / "seeds", semantic=True)
    yield index
    index.close()


def test_not_ready_until_the_index_is_attached_alive_all_along(generated_index):
    health = Health(reason="opening the index")
    endpoints = Endpoints(health)
    assert _call(endpoints, "/healthz")[0] == "200 OK"
    status, body = _call(endpoints, "/readyz")
    assert status.startswith("503") and body == {"ok": False, "ready": False, "version": None,
                                                  "reason": "opening the index"}
    health.attach(generated_index)  # semantic not asked for: ready at once
    status, body = _call(endpoints, "/readyz")
    assert status == "200 OK" and body["ready"] is True and body["semantic"] == "off"
    assert (body["articles"], body["facts"]) == generated_index.counts() and body["facts"] >= 600


def test_not_ready_while_the_semantic_model_loads(generated_index, monkeypatch):
    from store.semantic import Reranker

    gate = threading.Event()
    real = Reranker.model

    def held_model(self):  # the real model, once the test lets it load
        gate.wait(30)
        return real(self)

    monkeypatch.setattr(Reranker, "model", held_model)
    health = Health(generated_index, semantic=True)
    status, body = _call(Endpoints(health), "/readyz")
    assert status.startswith("503") and body["reason"] == "loading the semantic model"
    assert body["semantic"] == "loading" and body["facts"] >= 600
    gate.set()
    deadline = threading.Event()
    for _ in range(300):
        status, body = _call(Endpoints(health), "/readyz")
        if status == "200 OK":
            break
        deadline.wait(0.05)
    assert status == "200 OK" and body["semantic"] == "loaded"


def test_a_replica_is_ready_once_it_caught_up_with_the_corpus(database_url, tmp_path):
    from store.corpus import publish
    from store.index import SeedFolder
    from store.replica import Replica
    from store.state import State

    seeds = copy_seeds(tmp_path / "seeds")
    state = State.open(database_url)
    try:
        state.prepare()
        publish(state, SeedFolder(seeds), "cli")  # corpus version 1
        Index.open(tmp_path / "factbot.db", seeds=seeds).close()  # an index from before, at no known version
        replica = Replica(Index(tmp_path / "factbot.db", seeds=seeds), state, seeds)  # not following yet
        health = Health(replica)
        status, body = _call(Endpoints(health), "/readyz")
        assert status.startswith("503")
        assert body["reason"] == "catching up with the corpus: the index is at version None, the corpus at 1"
        replica.sync()
        status, body = _call(Endpoints(health), "/readyz")
        assert status == "200 OK" and body["version"] == 1
    finally:
        state.close()


def test_socket_mode_answers_health_on_its_port_from_before_the_index_is_built(
        slack_api, socket_mode_server, tmp_path):
    from filelock import FileLock

    slack_api.ws_url = socket_mode_server.url
    port = free_port()
    db = tmp_path / "factbot.db"
    env = bot_env(slack_api, db, copy_seeds(tmp_path / "seeds"), SLACK_APP_TOKEN=APP_TOKEN, SLACK_SIGNING_SECRET="",
                  FACTBOT_HEALTH_PORT=str(port), FACTBOT_HEALTH_HOST="127.0.0.1")
    base = f"http://127.0.0.1:{port}"
    lock = FileLock(str(db) + ".lock")
    lock.acquire()  # the first build waits for the reload lock: the index cannot be built meanwhile
    proc = BotProcess(["socket"], env, tmp_path)
    try:
        proc.wait_until(lambda: _get(base + "/healthz") is not None)
        assert _get(base + "/healthz")[0] == 200
        status, body = _get(base + "/readyz")
        assert status == 503 and body["ready"] is False
        assert body["reason"] == "opening the index (building it from the seeds when it is new)"
        assert not db.exists() and not socket_mode_server.connected.is_set()
        lock.release()
        proc.wait_until(lambda: _get(base + "/readyz")[0] == 200, timeout=30)
        status, body = _get(base + "/readyz")
        assert body["facts"] == 31 and body["semantic"] == "loaded"
        proc.wait_until(socket_mode_server.connected.is_set)
        status, text = _get(base + "/metrics")
        assert status == 200 and "factbot_facts_indexed 31.0" in text
        assert _get(base + "/nothing")[0] == 404
    finally:
        if lock.is_locked:
            lock.release()
        proc.stop()


def test_a_health_port_in_use_is_a_one_line_error(slack_api, tmp_path):
    import socket
    import subprocess

    from tests.slack_standin import factbot_argv

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = bot_env(slack_api, tmp_path / "factbot.db", copy_seeds(tmp_path / "seeds"), SLACK_APP_TOKEN=APP_TOKEN,
                      FACTBOT_HEALTH_PORT=str(port), FACTBOT_HEALTH_HOST="127.0.0.1")
        result = subprocess.run(factbot_argv("socket"), env=env, cwd=tmp_path, capture_output=True, text=True,
                                timeout=60)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stderr.startswith(f"Error: cannot listen on FACTBOT_HEALTH_PORT {port} (127.0.0.1):")
    env["FACTBOT_HEALTH_PORT"] = "99999"
    result = subprocess.run(factbot_argv("socket"), env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert result.stderr.strip() == "Error: FACTBOT_HEALTH_PORT must be a port number from 1 to 65535, got '99999'"
