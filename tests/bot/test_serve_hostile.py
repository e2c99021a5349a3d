"""`factbot serve` under hostile traffic: malformed and unsigned bodies, huge bodies, slow and idle connections.

One bot process for the module (a 64 KB body cap and a 3 s read timeout, so the tests stay short); every
socket is bounded by a timeout and closed by the test that opened it.
"""
from __future__ import annotations

import json
import re
import socket
import threading
import time
import urllib.parse

import psutil
import pytest

from tests.slack_standin import HttpBot, bot_env, copy_seeds, event_callback, mention, signed_headers, slash_command

CAP_KB = 64
READ_TIMEOUT = 3.0
HUGE = 300 * 1024 * 1024  # what the attacker claims or sends
SENT_BOUND = 32 * 1024 * 1024  # the most a cut-off client may push before the server hangs up (cap + kernel buffers)

MALFORMED = [
    (b"{not json", "application/json"),
    (b"\xff\xfe\x00 not utf-8 \xc3\x28", "application/json"),
    (b"[]", "application/json"),
    (b'"x"', "application/json"),
    (b"payload=%7Bbad", "application/x-www-form-urlencoded"),
    (b"payload=%5B%5D", "application/x-www-form-urlencoded"),
    (b"\xff\xfe=\xc3\x28", "application/x-www-form-urlencoded"),
]

# signed, well-formed JSON, but fields Bolt reads of a type Slack never sends (each was a 500 and a traceback)
SHAPELESS = [
    (b'{"type": "event_callback", "event": "x"}', "application/json"),
    (b'{"type": "event_callback", "event": []}', "application/json"),
    (b'{"type": "event_callback", "event": {"type": 5}}', "application/json"),
    (b'{"type": "block_actions", "actions": "x", "user": 3}', "application/json"),
    (b"payload=" + urllib.parse.quote(json.dumps({"type": "block_actions", "actions": 5})).encode(),
     "application/x-www-form-urlencoded"),
    (b'{"team_id": 5, "authorizations": "x", "event": {"type": "app_mention", "text": 5, "channel": []}}',
     "application/json"),
]


@pytest.fixture(scope="module")
def bot(slack, tmp_path_factory):
    work = tmp_path_factory.mktemp("hostile")
    env = bot_env(slack, work / "factbot.db", copy_seeds(work / "seeds"), FACTBOT_MAX_REQUEST_KB=str(CAP_KB),
                  FACTBOT_READ_TIMEOUT=str(READ_TIMEOUT), FACTBOT_LOG_LEVEL="INFO")
    proc = HttpBot(env, work)
    proc.started = time.monotonic()
    yield proc
    proc.stop()


def _connect(bot, timeout: float = 10.0) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", bot.port), timeout=timeout)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def _status(sock: socket.socket) -> int:
    """The status code of the response on `sock` (reads until the status line is in)."""
    data = b""
    while b"\r\n" not in data:
        chunk = sock.recv(4096)
        if not chunk:
            raise AssertionError(f"connection closed before a status line: {data!r}")
        data += chunk
    return int(data.split(b" ", 2)[1])


def _closed_by_server(sock: socket.socket, deadline: float) -> bool:
    """True once the server has closed `sock` (EOF or reset), reading and discarding what it sends; False at `deadline`."""
    while time.monotonic() < deadline:
        sock.settimeout(max(0.01, min(0.2, deadline - time.monotonic())))
        try:
            if not sock.recv(65536):
                return True
        except TimeoutError:
            continue
        except (ConnectionResetError, BrokenPipeError):
            return True
    return False


def _push(sock: socket.socket, chunks, limit: int = HUGE, seconds: float = 15.0) -> tuple[int, bool]:
    """Send `chunks` (an iterator of bytes) until the server hangs up, `limit` bytes went or `seconds` passed:
    (bytes sent, whether the server hung up)."""
    sent, deadline = 0, time.monotonic() + seconds
    sock.settimeout(1.0)
    try:
        for chunk in chunks:
            if sent >= limit or time.monotonic() > deadline:
                return sent, False
            sock.sendall(chunk)
            sent += len(chunk)
    except (BrokenPipeError, ConnectionResetError, TimeoutError):
        return sent, True
    return sent, False


def _garbage(size: int = 64 * 1024):
    block = b"A" * size
    while True:
        yield block


def _chunked(size: int = 64 * 1024):
    block = b"%x\r\n" % size + b"A" * size + b"\r\n"
    while True:
        yield block


def _command(bot, slack, name: str) -> tuple[int, float]:
    body = urllib.parse.urlencode(slash_command("/factbot", "seres ipo", slack.response_url(name))).encode()
    started = time.monotonic()
    status, _ = bot.post(body, signed_headers(body))
    return status, time.monotonic() - started


# --- item 1: the signature is checked on the raw bytes first ------------------------------


def test_unsigned_or_wrongly_signed_malformed_bodies_are_401_without_a_traceback(bot):
    for body, content_type in MALFORMED:
        assert bot.post(body, {"Content-Type": content_type})[0] == 401, body
        forged = signed_headers(body, content_type=content_type, secret="not-the-secret")
        assert bot.post(body, forged)[0] == 401, body
        stale = signed_headers(body, content_type=content_type, timestamp=int(time.time()) - 3600)
        assert bot.post(body, stale)[0] == 401, body
    assert bot.post(b"x", {"Content-Type": "text/plain", "X-Slack-Signature": "v0=zz",
                             "X-Slack-Request-Timestamp": "soon"})[0] == 401
    output = bot.output()
    assert "Traceback" not in output and "Exception" not in output
    assert bot.health()["ok"] is True


def test_signed_malformed_bodies_are_400_without_a_traceback(bot):
    for body, content_type in MALFORMED + SHAPELESS:
        status, answer = bot.post(body, signed_headers(body, content_type=content_type))
        assert status == 400, (body, answer)
    output = bot.output()
    assert "Traceback" not in output and "Exception" not in output


def test_signed_well_formed_requests_still_reach_the_bot(bot, slack):
    status, _ = _command(bot, slack, "hostile-ok")
    assert status == 200
    (reply,) = slack.wait_for("response/hostile-ok")
    assert "seres" in reply.all_text().lower()
    challenge = json.dumps({"token": "t", "challenge": "ch4ll3nge", "type": "url_verification"}).encode()
    status, answer = bot.post(challenge, signed_headers(challenge, content_type="application/json"))
    assert status == 200 and "ch4ll3nge" in answer


def test_rejections_are_logged_one_line_each_at_a_bounded_rate(bot):
    for _ in range(60):
        assert bot.post(b"{not json", {"Content-Type": "application/json"})[0] == 401
    lines = [line for line in bot.output().splitlines() if "factbot.serve" in line and "rejected" in line]
    assert lines, "a rejected request is logged"
    assert all("{not json" not in line for line in lines)  # what the body said is never logged
    # a burst of 10 lines, then one per 6 s (bot/serve.py LogLimiter), whatever ran before in this module
    allowed = 10 + (time.monotonic() - bot.started) / 6 + 1
    assert len(lines) <= allowed, lines


def test_log_limiter_allows_a_burst_then_a_steady_rate_and_counts_what_it_dropped():
    from bot.serve import LogLimiter

    now = [0.0]
    limiter = LogLimiter(burst=3, every=6.0, clock=lambda: now[0])
    assert [limiter.allow() for _ in range(5)] == [0, 0, 0, None, None]  # None: drop; n: emit, n dropped before
    now[0] = 5.9
    assert limiter.allow() is None
    now[0] = 6.0
    assert limiter.allow() == 3  # one token back after 6 s; three lines were dropped meanwhile
    now[0] = 60.0
    assert [limiter.allow() for _ in range(4)] == [0, 0, 0, None]  # the burst refills, never beyond itself


# --- item 2: request bodies are capped ----------------------------------------------------


def test_a_body_over_the_cap_is_answered_413_from_its_content_length_before_it_is_sent(bot):
    with _connect(bot, timeout=5) as sock:
        sock.sendall(b"POST /slack/events HTTP/1.1\r\nHost: factbot\r\nContent-Type: application/json\r\n"
                     b"Content-Length: %d\r\n\r\n" % HUGE)
        assert _status(sock) == 413  # not one byte of the body was sent


def test_the_largest_body_slack_sends_fits_under_the_default_cap():
    """A message shortcut on a 40,000-character message (Slack's limit), all of it Chinese, with the
    rich_text blocks Slack adds, JSON-escaped and form-encoded as Slack sends interactivity."""
    from bot.config import Settings
    from tests.slack_standin import message_shortcut, rich_text_blocks

    text = "宁德时代" * 10_000
    payload = message_shortcut("factbot_ask", text, "https://hooks.slack.com/actions/T/1/x")
    payload["message"]["blocks"] = rich_text_blocks(text)
    body = urllib.parse.urlencode({"payload": json.dumps(payload)})  # json.dumps escapes to \uXXXX
    assert 600_000 < len(body) < Settings().max_request_kb * 1024


def test_a_chunked_body_is_cut_off_at_the_cap(bot):
    with _connect(bot) as sock:
        sock.sendall(b"POST /slack/events HTTP/1.1\r\nHost: factbot\r\nContent-Type: application/json\r\n"
                     b"Transfer-Encoding: chunked\r\n\r\n")
        sent, hung_up = _push(sock, _chunked())
        assert hung_up or _closed_by_server(sock, time.monotonic() + 5)
        assert sent < SENT_BOUND


def test_a_body_longer_than_its_content_length_is_cut_off(bot):
    with _connect(bot) as sock:
        sock.sendall(b"POST /slack/events HTTP/1.1\r\nHost: factbot\r\nContent-Type: application/json\r\n"
                     b"Content-Length: 100\r\n\r\n")
        sent, hung_up = _push(sock, _garbage())
        assert hung_up or _closed_by_server(sock, time.monotonic() + 5)
        assert sent < SENT_BOUND


def test_twenty_huge_bodies_at_once_leave_the_memory_flat(bot, slack):
    """10 clients claim 300 MB in Content-Length and send it anyway, 10 send 300 MB chunked, each starting
    again once cut off, for a second; the bot's resident memory, sampled every 10 ms while they run, stays
    within 40 MiB of what it was before."""
    process = psutil.Process(bot.proc.pid)
    baseline = process.memory_info().rss
    results: list[tuple[int, bool]] = []
    lock = threading.Lock()
    started = time.monotonic()

    def client(chunked: bool) -> None:
        while time.monotonic() - started < 1.0:
            with _connect(bot) as sock:
                head = (b"Transfer-Encoding: chunked\r\n" if chunked else b"Content-Length: %d\r\n" % HUGE)
                sock.sendall(b"POST /slack/events HTTP/1.1\r\nHost: factbot\r\nContent-Type: application/json\r\n"
                             + head + b"\r\n")
                sent, hung_up = _push(sock, _chunked() if chunked else _garbage())
                hung_up = hung_up or _closed_by_server(sock, time.monotonic() + 5)
            with lock:
                results.append((sent, hung_up))

    threads = [threading.Thread(target=client, args=(i % 2 == 0,), daemon=True) for i in range(20)]
    for t in threads:
        t.start()
    peak = baseline
    while any(t.is_alive() for t in threads):
        peak = max(peak, process.memory_info().rss)
        time.sleep(0.01)
    for t in threads:
        t.join(timeout=30)
    assert len(results) >= 20 and all(hung_up for _, hung_up in results)
    assert max(sent for sent, _ in results) < SENT_BOUND
    assert peak - baseline < 40 * 1024 * 1024, f"grew {(peak - baseline) / 2**20:.1f} MiB"
    assert _command(bot, slack, "after-huge")[0] == 200


# --- item 3: slow and idle connections cannot starve Slack --------------------------------


def test_a_signed_command_is_acked_within_a_second_while_200_half_requests_are_held(bot, slack):
    held: list[socket.socket] = []
    try:
        for _ in range(200):
            sock = _connect(bot, timeout=5)
            sock.sendall(b"POST /slack/events HTTP/1.1\r\nHost: factbot\r\nContent-Type: application/json\r\n"
                         b"Content-Length: 1000\r\n\r\n{\"half\": ")
            held.append(sock)
        status, took = _command(bot, slack, "held-200")
        assert status == 200 and took < 1.0, f"{status} after {took:.2f}s"
        # they were all still held while the command went through...
        for sock in held:
            sock.setblocking(False)
            with pytest.raises(BlockingIOError):
                sock.recv(1)
        # ...and the server lets go of them after its read timeout
        deadline = time.monotonic() + READ_TIMEOUT + 5
        assert all(_closed_by_server(sock, deadline) for sock in held)
    finally:
        for sock in held:
            sock.close()
    slack.wait_for("response/held-200")


def test_slow_connections_are_closed_after_the_read_timeout(bot):
    """Silent, trickling headers, trickling body: each closed within the read timeout (+ the 1 s sweep)."""
    socks = {name: _connect(bot) for name in ("silent", "headers", "body")}
    socks["body"].sendall(b"POST /slack/events HTTP/1.1\r\nHost: factbot\r\nContent-Length: 10000\r\n\r\n")
    trickle = {"headers": b"POST /slack/events HTTP/1.1\r\nX-Pad: " + b"a" * 100, "body": b"{" + b"a" * 100}
    opened = time.monotonic()
    closed_at: dict[str, float] = {}
    try:
        position = 0
        while len(closed_at) < 3 and time.monotonic() - opened < READ_TIMEOUT + 6:
            for name, sock in socks.items():
                if name in closed_at:
                    continue
                try:
                    if name in trickle:  # one byte every 0.25 s: never idle, never done
                        sock.send(trickle[name][position % len(trickle[name]):][:1])
                    sock.settimeout(0.0)
                    if sock.recv(4096) == b"":
                        closed_at[name] = time.monotonic() - opened
                except BlockingIOError:
                    pass
                except (BrokenPipeError, ConnectionResetError):
                    closed_at[name] = time.monotonic() - opened
            position += 1
            time.sleep(0.25)
    finally:
        for sock in socks.values():
            sock.close()
    assert set(closed_at) == {"silent", "headers", "body"}, closed_at
    # the sweep runs once a second, when waitress' loop wakes (at least every second): 2 s late at most, +1 s of slack
    assert all(READ_TIMEOUT - 0.5 <= t <= READ_TIMEOUT + 3.0 for t in closed_at.values()), closed_at


def test_a_command_is_acked_within_a_second_while_slack_is_slow_to_take_20_answers(bot, slack):
    """Slack's API slow (or rate limiting) holds the answers' threads; the acks must not wait for them."""
    assert _command(bot, slack, "slow-warm")[0] == 200
    slack.wait_for("response/slow-warm")
    slack.slow("response/slow-slack", 5.0, times=20)
    senders = [threading.Thread(target=_command, args=(bot, slack, "slow-slack"), daemon=True) for _ in range(20)]
    for t in senders:
        t.start()
    try:
        deadline = time.monotonic() + 4.0  # all 20 answers are being held by the stand-in
        while len(slack.calls_to("response/slow-slack")) < 20:
            assert time.monotonic() < deadline, f"{len(slack.calls_to('response/slow-slack'))} answers under way"
            time.sleep(0.02)
        status, took = _command(bot, slack, "while-slow")
        assert status == 200 and took < 1.0, f"{status} after {took:.2f}s"
    finally:
        for t in senders:
            t.join(timeout=15)
    slack.wait_for("response/while-slow")


def test_the_log_has_no_traceback_after_all_that(bot):
    output = bot.output()
    assert "Traceback" not in output
    assert not re.search(r"Exception (while|when)", output)


def test_the_limits_are_settings_with_one_line_errors():
    from bot.config import ConfigError, Settings
    from bot.serve import Limits

    settings = Settings.from_env({"FACTBOT_MAX_REQUEST_KB": "2048", "FACTBOT_READ_TIMEOUT": "2.5",
                                  "FACTBOT_MAX_CONNECTIONS": "300", "FACTBOT_SOCKET_CONNECTIONS": "4"}, dotenv=False)
    assert Limits.from_settings(settings) == Limits(max_body=2048 * 1024, read_timeout=2.5, max_connections=300)
    assert settings.socket_connections == 4
    for name, value in (("FACTBOT_MAX_REQUEST_KB", "0"), ("FACTBOT_READ_TIMEOUT", "0.1"),
                        ("FACTBOT_MAX_CONNECTIONS", "5"), ("FACTBOT_SOCKET_CONNECTIONS", "11"),
                        ("FACTBOT_SOCKET_CONNECTIONS", "0"), ("FACTBOT_READ_TIMEOUT", "soon")):
        with pytest.raises(ConfigError, match=name):
            Settings.from_env({name: value}, dotenv=False)
