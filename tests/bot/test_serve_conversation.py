"""The way people ask in Slack, end to end through `factbot serve` (Slack stood in): greetings, emoji,
mentions and links in rich_text, words no fact holds, Chinese and traditional characters, a DM
with a file, and the issue's table of examples, each answered like its plain form."""
from __future__ import annotations

import pytest

import subprocess

from tests.slack_standin import (
    BOT_USER_ID,
    HttpBot,
    bot_env,
    copy_seeds,
    direct_message,
    event_callback,
    factbot_argv,
    free_port,
    mention,
    with_rich_text,
)

# (typed, the fact the top answer must be): the table of examples people type
TABLE = [
    (f"<@{BOT_USER_ID}> hello, seres ipo", "Seres Automotive raised 14 billion HKD"),
    ("hiya, seres ipo", "Seres Automotive raised 14 billion HKD"),
    ("sorry to bother, nadella chips", "Satya Nadella discusses the company's AI strategy, self-developed chips"),
    (f"<@{BOT_USER_ID}> fairwater :eyes:", "Fairwater 2 data center"),
    ("seres click here ipo", "Seres Automotive raised 14 billion HKD"),
    ("赛力斯 募资", "Seres Automotive raised 14 billion HKD"),
    ("赛力斯 营收", "revenue growth"),
    ("微软 利润率", "profit margins"),
    ("微軟 Azure", "Azure"),
    ("賽力斯 募資", "Seres Automotive raised 14 billion HKD"),
    ("how much cash did seres get from going public", "Seres Automotive raised 14 billion HKD"),
]


@pytest.fixture(scope="module")
def bot(slack, tmp_path_factory):
    work = tmp_path_factory.mktemp("serve-talk")
    proc = HttpBot(bot_env(slack, work / "factbot.db", copy_seeds(work / "seeds")), work)
    yield proc
    proc.stop()


def _sections(call) -> list[str]:
    return [b["text"]["text"] for b in call.blocks if b["type"] == "section"]


def _ask_by_mention(bot, slack, text: str, n: int) -> object:
    channel = f"C0TALK{n}"
    status, _ = bot.event(event_callback(with_rich_text(mention(text, ts=f"1700002000.{n:06d}", channel=channel))))
    assert status == 200
    (call,) = slack.wait_for("chat.postMessage", channel=channel)
    return call


@pytest.mark.parametrize("n, typed, expected", [(n, t, e) for n, (t, e) in enumerate(TABLE)],
                         ids=[t for t, _ in TABLE])
def test_the_table_of_examples_in_slack(bot, slack, n, typed, expected):
    call = _ask_by_mention(bot, slack, typed, n)
    sections = _sections(call)
    assert "from the digests" in sections[0], sections[0]
    assert expected.replace(" ", "").lower() in sections[1].replace("*", "").replace(" ", "").lower(), sections[1]


def test_a_word_no_fact_holds_is_named_above_the_answers(bot, slack):
    call = _ask_by_mention(bot, slack, f"<@{BOT_USER_ID}> seres flotation", 50)
    head = _sections(call)[0]
    assert "No fact mentions *flotation*." in head and head.index("No fact mentions") < head.index("from the digests")
    # a name no fact holds beside a common word: no confident match, the name said
    call = _ask_by_mention(bot, slack, f"<@{BOT_USER_ID}> xiaomi ipo", 53)
    head = _sections(call)[0]
    assert "couldn't find a confident match" in head and "No fact mentions *xiaomi*." in head
    call = _ask_by_mention(bot, slack, f"<@{BOT_USER_ID}> bitcoin etf flows", 51)
    assert "couldn't find a confident match" in _sections(call)[0]


def test_mentions_channels_and_links_in_rich_text_are_not_query_words(bot, slack):
    text = f"<@{BOT_USER_ID}> <#C0GENERAL|general> fairwater <https://example.com|xiaomi> <!here> :rocket: 2"
    call = _ask_by_mention(bot, slack, text, 52)
    head = _sections(call)[0]
    assert head.startswith("*You asked:* fairwater 2") and "No fact mentions" not in head


def test_a_dm_with_a_file_and_a_question_is_answered(bot, slack):
    files = [{"id": "F0FILE", "name": "export.txt", "mimetype": "text/plain"}]
    blank = direct_message("", ts="1700002100.000001", channel="D0FILE", subtype="file_share", files=files)
    assert bot.event(event_callback(with_rich_text(blank)))[0] == 200
    asked = direct_message("thanks! seres net profit?", ts="1700002100.000002", channel="D0FILE",
                           subtype="file_share", files=files)
    assert bot.event(event_callback(with_rich_text(asked)))[0] == 200
    (call,) = slack.wait_for("chat.postMessage", channel="D0FILE")
    assert "net profit" in _sections(call)[1]  # the one answer is the question's: the file alone got none
    assert _sections(call)[0].startswith("*You asked:* thanks! seres net profit?")


def test_the_table_of_examples_in_the_shell(tmp_path):
    seeds = copy_seeds(tmp_path / "seeds")
    env = bot_env(None, tmp_path / "unused.db", seeds, SLACK_BOT_TOKEN="", SLACK_SIGNING_SECRET="",
                  SLACK_API_URL=f"http://127.0.0.1:{free_port()}/api/")
    lines = [typed.replace(f"<@{BOT_USER_ID}>", "@factbot") for typed, _ in TABLE] + ["seres flotation"]
    argv = factbot_argv("shell", "--seeds", str(seeds), "--db", str(tmp_path / "shell.db"))
    out = subprocess.run(argv, input="\n".join(lines) + "\n", env=env, cwd=tmp_path, capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    answers = out.stdout.split("You asked: ")[1:]
    assert len(answers) == len(lines)
    for (typed, expected), answer in zip(TABLE, answers):
        shown = answer.split("\n")
        first_fact = next(shown[i + 1] for i, line in enumerate(shown) if "from the digests" in line)
        assert expected.replace(" ", "").lower() in first_fact.replace(" ", "").lower(), (typed, first_fact)
    assert answers[-1].split("\n")[1] == "No fact mentions flotation."
