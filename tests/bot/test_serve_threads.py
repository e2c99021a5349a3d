"""Follow-ups in threads through `factbot serve` (Slack stood in), over a generated corpus of
companies whose facts say the same things (benchmarks/followups.py): a channel thread, the agent
view's threads, a new thread and a message outside any, Chinese follow-ups, and two replicas
sharing PostgreSQL, where a follow-up reaching replica B uses what A answered."""
from __future__ import annotations

import pytest

from tests.generated import followups
from tests.slack_standin import BOT_USER_ID, TEAM_ID, HttpBot, bot_env, event_callback, mention

COMPANIES = 8


def _corpus(seeds):
    return followups().write_corpus(seeds, COMPANIES, seed=1)


@pytest.fixture(scope="module")
def bot(slack, tmp_path_factory):
    work = tmp_path_factory.mktemp("threads")
    made = _corpus(work / "seeds")
    proc = HttpBot(bot_env(slack, work / "factbot.db", work / "seeds", FACTBOT_AGENT_VIEW="assistant"), work)
    proc.made, proc.work = made, work
    yield proc
    proc.stop()


def _cn(made, company: str) -> str:
    return next(c["cn"] for c in made.companies if c["en"] == company)


def _sections(call) -> list[str]:
    return [b["text"]["text"] for b in call.blocks if b["type"] == "section"]


def _top_title(call) -> str:
    """The first fact's context line (source, date, the article's title)."""
    return next(b for b in call.blocks if b["type"] == "context")["elements"][0]["text"]


def _ask(bot, slack, text: str, channel: str, ts: str, thread_ts: str | None = None, n: int = 1):
    assert bot.event(event_callback(mention(f"<@{BOT_USER_ID}> {text}", ts=ts, thread_ts=thread_ts,
                                            channel=channel)))[0] == 200
    return slack.wait_for("chat.postMessage", count=n, channel=channel)[n - 1]


def test_follow_ups_in_a_channel_thread_lean_on_the_thread_and_switch_when_another_company_is_named(bot, slack):
    made, channel, root = bot.made, "C0THREAD", "1700030000.000001"
    first = _ask(bot, slack, "quuxly net profit", channel, root)
    assert "In this thread" not in _sections(first)[0]
    assert first.params["thread_ts"] == root
    second = _ask(bot, slack, "and its valuation?", channel, "1700030000.000002", root, n=2)
    head = _sections(second)[0]
    assert "_In this thread: Quuxly._" in head and "In this thread: Quuxly" in second.text
    assert _cn(made, "Quuxly") in _top_title(second) and second.params["thread_ts"] == root
    switched = _ask(bot, slack, "what about brimco?", channel, "1700030000.000003", root, n=3)
    assert "In this thread" not in _sections(switched)[0]
    assert "Brimco" in _sections(switched)[1].replace("*", "")
    after = _ask(bot, slack, "and the net profit?", channel, "1700030000.000004", root, n=4)
    assert "_In this thread: Brimco._" in _sections(after)[0]
    assert _cn(made, "Brimco") in _top_title(after) and "net profit" in _sections(after)[1].replace("*", "").lower()


def test_a_new_thread_and_a_message_outside_any_thread_start_fresh(bot, slack):
    from store import Index

    made, channel = bot.made, "C0FRESH"
    _ask(bot, slack, "kelvo ipo", channel, "1700031000.000001")
    # the same follow-up at the top of the channel: a thread of its own, read on its own
    alone = _ask(bot, slack, "and the net profit?", channel, "1700031000.000002", n=2)
    assert "In this thread" not in _sections(alone)[0]
    index = Index(bot.work / "factbot.db", bot.work / "seeds", semantic=False)
    try:
        expected = index.search("and the net profit?", limit=5).hits[0]
    finally:
        index.close()
    assert expected.article.title in _top_title(alone)
    assert made.owner.get(expected.article.title) != "Kelvo"
    # a reply in that new thread leans on nothing either: its thread was about no company
    reply = _ask(bot, slack, "and the net profit?", channel, "1700031000.000003", "1700031000.000002", n=3)
    assert "In this thread: Kelvo" not in _sections(reply)[0]


def test_chinese_follow_ups_in_an_agent_view_thread(bot, slack):
    made, channel, root = bot.made, "D0THREADS", "1726133698.000001"

    def ask(text: str, ts: str, n: int):
        message = {"user": "W222", "type": "message", "ts": ts, "text": text, "team": TEAM_ID,
                   "user_team": TEAM_ID, "source_team": TEAM_ID, "user_profile": {}, "thread_ts": root,
                   "parent_user_id": "W222", "channel": channel, "event_ts": ts, "channel_type": "im"}
        assert bot.event(event_callback(message))[0] == 200
        return slack.wait_for("chat.postMessage", count=n, channel=channel)[n - 1]

    first = ask(f"{_cn(made, 'Kelvo')} 估值", "1726133698.000002", 1)
    assert first.params["thread_ts"] == root and "In this thread" not in _sections(first)[0]
    follow = ask("那净利润呢?", "1726133698.000003", 2)
    assert "_In this thread: Kelvo._" in _sections(follow)[0]
    assert _cn(made, "Kelvo") in _top_title(follow) and "net profit" in _sections(follow)[1].replace("*", "").lower()
    switched = ask(f"那{_cn(made, 'Brimco')}呢?", "1726133698.000004", 3)
    assert "In this thread" not in _sections(switched)[0] and _cn(made, "Brimco") in _top_title(switched)
    after = ask("它的估值呢?", "1726133698.000005", 4)
    assert "_In this thread: Brimco._" in _sections(after)[0] and _cn(made, "Brimco") in _top_title(after)


def test_more_results_of_a_follow_up_page_on_within_the_thread(bot, slack):
    from handlers.render import MORE_ACTION
    from tests.slack_standin import block_action

    made, channel, root = bot.made, "C0PAGES", "1700033000.000001"
    _ask(bot, slack, "quuxly ipo", channel, root)
    follow = _ask(bot, slack, "what about the valuation?", channel, "1700033000.000002", root, n=2)
    assert "_In this thread: Quuxly._" in _sections(follow)[0]
    (more,) = [e for b in follow.blocks if b["type"] == "actions" for e in b["elements"]
               if e.get("action_id") == MORE_ACTION]
    message = {"type": "message", "ts": "1700033000.000003", "thread_ts": root}
    assert bot.action(block_action(MORE_ACTION, more["value"], "http://unused", channel=channel,
                                   ephemeral=False, message=message))[0] == 200
    page = slack.wait_for("chat.postMessage", count=3, channel=channel)[2]
    assert page.params["thread_ts"] == root and "Fact 6" in _sections(page)[0]
    assert "_In this thread: Quuxly._" in _sections(page)[0]
    titles = [e["text"] for b in page.blocks if b["type"] == "context" for e in b["elements"]
              if "·" in e.get("text", "")]
    assert titles and all(_cn(made, "Quuxly") in t for t in titles), titles
    first_page = set(_sections(follow)[1:])
    assert not first_page & set(_sections(page)[1:]), "no fact of the first page again"


# --------------------------------------------------------------------------- two replicas

@pytest.fixture(scope="module")
def replicas(slack, pg_cluster, tmp_path_factory):
    from concurrent.futures import ThreadPoolExecutor

    database_url = pg_cluster.create_database()
    work = tmp_path_factory.mktemp("thread-replicas")

    def start(name: str) -> HttpBot:
        folder = work / name
        made = _corpus(folder / "seeds")
        proc = HttpBot(bot_env(slack, folder / "factbot.db", folder / "seeds", DATABASE_URL=database_url), work)
        proc.made = made
        return proc

    with ThreadPoolExecutor(2) as pool:
        a, b = pool.map(start, ("a", "b"))
    yield a, b
    a.stop()
    b.stop()


def test_a_follow_up_reaching_replica_b_uses_what_a_answered(replicas, slack):
    a, b = replicas
    channel, root = "C0REPLICAS", "1700032000.000001"
    _ask(a, slack, "quuxly ipo", channel, root)
    follow = _ask(b, slack, "and the net profit?", channel, "1700032000.000002", root, n=2)
    assert "_In this thread: Quuxly._" in _sections(follow)[0]
    assert _cn(b.made, "Quuxly") in _top_title(follow)
    # and back: A reads the turn B recorded (the thread is still about Quuxly)
    again = _ask(a, slack, "它的估值呢?", channel, "1700032000.000003", root, n=3)
    assert "_In this thread: Quuxly._" in _sections(again)[0]
