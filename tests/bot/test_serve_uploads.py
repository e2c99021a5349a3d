"""Exports added by DM (or a mention carrying a file), through `factbot serve` and the Slack stand-in."""
from __future__ import annotations

import json

import pytest

from tests.slack_standin import (
    BOT_USER_ID, HttpBot, block_action, bot_env, copy_seeds, direct_message, event_callback, home_action, home_opened,
    mention, reload_count,
)

ADMIN = "U0ADMIN"
MEMBER = "U0MEMBER"

EXPORT = """Search documents
宁德时代匈牙利工厂
Cai Lian She· 2025-11-21 09:30
Core Insights - Contemporary Amperex expands its Hungarian battery plant in Debrecen to serve European carmakers [1][2]. - The Debrecen factory starts production next year [3].
"""
EXPORT_V2 = """Search documents
宁德时代匈牙利工厂
Cai Lian She· 2025-11-22 10:00
Core Insights - Contemporary Amperex delays the Debrecen ramp to the third quarter [1]. - Zwickau remains its only other European site [2]. - Local suppliers sign long-term contracts [3].
"""
# the second article has no source line: its title line is where the parser stops
BROKEN = """Search documents
宁德时代匈牙利工厂
Cai Lian She· 2025-11-23 10:00
Core Insights - Contemporary Amperex quietly revises the Debrecen plan [1].
第二篇文章
Core Insights - This article has no source and date line [1].
"""


@pytest.fixture(scope="module")
def bot(slack, tmp_path_factory):
    work = tmp_path_factory.mktemp("uploads")
    seeds = copy_seeds(work / "seeds")
    env = bot_env(slack, work / "factbot.db", seeds, FACTBOT_ADMIN_USERS=ADMIN, FACTBOT_MAX_UPLOAD_MB="0.01")
    proc = HttpBot(env, work)
    proc.db, proc.seeds = work / "factbot.db", seeds
    yield proc
    proc.stop()


_n = [0]


def share(bot, slack, name: str, content: bytes, user: str = ADMIN, text: str = "", **file_options) -> str:
    """`user` shares a file in a DM with the bot; the DM's channel (one per call)."""
    _n[0] += 1
    info = slack.add_file(f"F0UP{_n[0]:04d}", name, content, user=user, **file_options)
    channel = f"D0UP{_n[0]:04d}"
    event = direct_message(text, ts=f"1700004000.{_n[0]:06d}", user=user, channel=channel, subtype="file_share",
                           files=[{k: info[k] for k in ("id", "name", "mimetype", "filetype")}])
    assert bot.event(event_callback(event))[0] == 200
    return channel


def ask(bot, slack, query: str, name: str) -> str:
    bot.command("/factbot", query, slack.response_url(name))
    (call,) = slack.wait_for(f"response/{name}")
    return call.all_text()


def test_an_admins_export_is_added_and_answerable_after_the_reply(bot, slack):
    before = bot.health()
    slack.slow("files.info", 2.0)  # the work after the ack cannot finish before files.info answers
    channel = share(bot, slack, "030_catl.txt", EXPORT.encode())
    assert slack.calls_to("chat.postMessage", channel=channel) == []  # acknowledged before the work is done
    (reply,) = slack.wait_for("chat.postMessage", channel=channel)
    text = reply.all_text()
    assert "Added `030_catl.txt`:* 1 article, 2 facts." in text
    after = bot.health()
    assert after["articles"] == before["articles"] + 1 and after["facts"] == before["facts"] + 2
    assert f"{after['articles']} articles and {after['facts']} facts" in text  # the reload's report
    row = stored(bot, "030_catl.txt")  # kept in the corpus of record as an upload, not in the seeds folder
    assert (row["origin"], row["added_by"], row["facts"]) == ("upload", f"slack:{ADMIN}", 2)
    assert not (bot.seeds / "030_catl.txt").exists()
    assert "Debrecen factory starts production" in ask(bot, slack, "debrecen factory", "after-add")
    (download,) = slack.calls_to("download/F0UP0001")
    assert download.headers["authorization"].startswith("Bearer xoxb-")
    from store import Index

    index = Index(bot.db)
    assert index.reloads(limit=1)[0]["actor"] == f"slack:{ADMIN}"  # the normal reload, audited
    index.close()


def test_a_broken_export_names_its_line_and_changes_nothing(bot, slack):
    before, reloads = bot.health(), reload_count(bot.db)
    channel = share(bot, slack, "031_broken.txt", BROKEN.encode())
    (reply,) = slack.wait_for("chat.postMessage", channel=channel)
    text = reply.all_text()
    assert "`031_broken.txt` was not added:*" in text and "Nothing was added and the index is unchanged" in text
    assert "031_broken.txt:5:" in text  # the article without a source line
    assert not (bot.seeds / "031_broken.txt").exists()
    assert bot.health() == before and reload_count(bot.db) == reloads


def stored(bot, name: str) -> dict | None:
    from store.corpus import stored_file
    from store.state import State, state_url

    state = State.open(state_url(None, bot.db))
    try:
        return stored_file(state, name)
    finally:
        state.close()


def click(bot, slack, reply, action_id: str, name: str, user: str = ADMIN):
    """`user` clicks the button `action_id` of `reply`; the answer on its response_url."""
    (value,) = [e["value"] for b in reply.blocks if b.get("type") == "actions" for e in b["elements"]
                if e["action_id"] == action_id]
    bot.action(block_action(action_id, value, slack.response_url(name), user=user, channel="D0UPCLICK",
                            ephemeral=False))
    (answer,) = slack.wait_for(f"response/{name}", timeout=30)
    return answer


def test_a_file_of_the_same_name_replaces_it_only_when_it_parses_and_the_uploader_says_so(bot, slack):
    channel = share(bot, slack, "037_catl.txt", EXPORT.replace("Debrecen factory", "Szeged factory").encode())
    assert "Added `037_catl.txt`" in slack.wait_for("chat.postMessage", channel=channel)[0].all_text()
    channel = share(bot, slack, "037_catl.txt", BROKEN.encode())
    (refused,) = slack.wait_for("chat.postMessage", channel=channel)
    assert "was not added" in refused.text
    assert "Szeged factory starts production" in ask(bot, slack, "szeged factory", "kept")
    v2 = EXPORT_V2.replace("Zwickau", "Erfurt").encode()
    channel = share(bot, slack, "037_catl.txt", v2)
    (question,) = slack.wait_for("chat.postMessage", channel=channel)
    assert "`037_catl.txt` is stored already*" in question.all_text() and "Keep both" in json.dumps(question.blocks)
    assert "Szeged factory starts production" in ask(bot, slack, "szeged factory", "not-yet")  # nothing changed yet
    cancelled = click(bot, slack, question, "factbot_upload_cancel", "up-cancel")
    assert "Cancelled" in cancelled.text and "Erfurt" not in ask(bot, slack, "erfurt", "cancelled")
    # Keep both: stored under a new name beside the old one
    (question,) = slack.wait_for("chat.postMessage", channel=share(bot, slack, "037_catl.txt", v2))
    kept = click(bot, slack, question, "factbot_upload_keep", "up-keep")
    assert "Added `037_catl (2).txt`:* 1 article, 3 facts." in kept.all_text()
    assert stored(bot, "037_catl (2).txt")["origin"] == "upload"
    # Replace: the old content goes to the history (factbot restore)
    (question,) = slack.wait_for("chat.postMessage", channel=share(bot, slack, "037_catl.txt", v2))
    replaced = click(bot, slack, question, "factbot_upload_replace", "up-replace")
    assert "Replaced `037_catl.txt`:* 1 article, 3 facts." in replaced.all_text()
    assert "Erfurt remains its only other European site" in ask(bot, slack, "erfurt", "replaced")
    assert "Szeged factory starts production" not in ask(bot, slack, "szeged factory production", "old-gone")
    assert click(bot, slack, question, "factbot_upload_replace", "up-again").text.startswith("That upload is no longer")


def test_a_file_named_as_a_seed_file_asks_first_and_replaces_it_only_when_told(bot, slack):
    (seed,) = [p.name for p in bot.seeds.iterdir() if p.name.startswith("000_")]
    before = bot.health()
    channel = share(bot, slack, seed, EXPORT_V2.replace("Zwickau", "Halle").encode())
    (question,) = slack.wait_for("chat.postMessage", channel=channel)
    assert f"`{seed}` is stored already* (a file of the seeds folder)" in question.all_text()
    assert bot.health() == before and "Halle" not in ask(bot, slack, "halle", "seed-kept")
    assert "Cancelled" in click(bot, slack, question, "factbot_upload_cancel", "seed-cancel").text
    assert bot.health() == before
    # nor does /factbot remove take a seed file: the folder's files are the folder's
    bot.command("/factbot", f"remove {seed}", slack.response_url("seed-remove"), user=ADMIN)
    (answer,) = slack.wait_for("response/seed-remove")
    assert "is a file of the seeds folder: delete it there" in answer.text and "factbot_remove" not in json.dumps(answer.blocks)


def test_a_members_file_is_refused_and_never_downloaded_and_the_question_answered(bot, slack):
    before = bot.health()
    channel = share(bot, slack, "032_member.txt", EXPORT_V2.encode(), user=MEMBER)
    (refusal,) = slack.wait_for("chat.postMessage", channel=channel)
    assert "only factbot's admins can add exports" in refusal.text
    channel = share(bot, slack, "033_member.txt", EXPORT_V2.encode(), user=MEMBER, text="ipo seres")
    (answer,) = slack.wait_for("chat.postMessage", channel=channel)  # a question: answered as one
    assert "*You asked:* ipo seres" in answer.all_text()
    # a refusal would have been posted before the answer, by the same listener: there is none
    assert len(slack.calls_to("chat.postMessage", channel=channel)) == 1
    member_files = [f"F0UP{_n[0] - i:04d}" for i in range(2)]
    assert not [c for c in slack.calls_to("*") if c.method.startswith("download/") and c.method[9:] in member_files]
    assert not [c for c in slack.calls_to("files.info") if c.params.get("file") in member_files]
    assert bot.health() == before and not (bot.seeds / "032_member.txt").exists()


def test_too_large_and_not_text_files_are_refused_before_downloading(bot, slack):
    before = bot.health()
    big = share(bot, slack, "034_big.txt", EXPORT.encode() * 50)  # over FACTBOT_MAX_UPLOAD_MB=0.01
    (reply,) = slack.wait_for("chat.postMessage", channel=big)
    assert "the limit is 0.01 MB" in reply.text and "Nothing was added" in reply.text
    pdf = share(bot, slack, "035_digest.pdf", b"%PDF-1.7", mimetype="application/pdf", filetype="pdf")
    (reply,) = slack.wait_for("chat.postMessage", channel=pdf)
    assert "is not a text export (it is application/pdf)" in reply.text
    downloads = {c.method for c in slack.calls_to("*") if c.method.startswith("download/")}
    assert not downloads & {f"download/F0UP{_n[0] - 1:04d}", f"download/F0UP{_n[0]:04d}"}
    assert bot.health() == before


def test_an_export_shared_in_a_thread_with_a_mention(bot, slack):
    info = slack.add_file("F0THREAD1", "036_thread.txt", EXPORT_V2.replace("Zwickau", "Arnstadt").encode(), user=ADMIN)
    event = mention(f"<@{BOT_USER_ID}>", ts="1700004100.000002", thread_ts="1700004100.000001", user=ADMIN,
                    channel="C0UPLOAD")
    event["files"] = [{"id": info["id"], "name": info["name"]}]
    bot.event(event_callback(event))
    (reply,) = slack.wait_for("chat.postMessage", channel="C0UPLOAD")
    assert reply.params["thread_ts"] == "1700004100.000001"
    assert "Added `036_thread.txt`:* 1 article, 3 facts." in reply.all_text()
    assert "Arnstadt" in ask(bot, slack, "arnstadt", "thread-added")
    assert json.loads(json.dumps(reply.blocks))  # valid Block Kit went out


def test_with_replicas_an_export_added_on_one_reaches_the_other(slack_api, database_url, tmp_path):
    """Two `factbot serve` replicas on one PostgreSQL: the export is stored in the shared corpus."""
    bots = []
    try:
        for name in ("a", "b"):
            env = bot_env(slack_api, tmp_path / name / "factbot.db", copy_seeds(tmp_path / name / "seeds"),
                          DATABASE_URL=database_url, FACTBOT_ADMIN_USERS=ADMIN)
            bots.append(HttpBot(env, tmp_path))
        a, b = bots
        b.wait_until(lambda: (b.health() or {}).get("ready") is True)
        info = slack_api.add_file("F0REPLICA1", "030_catl.txt", EXPORT.encode(), user=ADMIN)
        event = direct_message("", ts="1700004200.000001", user=ADMIN, channel="D0REPLICA", subtype="file_share",
                               files=[{"id": info["id"], "name": info["name"]}])
        a.event(event_callback(event))
        (reply,) = slack_api.wait_for("chat.postMessage", channel="D0REPLICA", timeout=30)
        assert "Added `030_catl.txt`:* 1 article, 2 facts." in reply.all_text()
        for n in range(200):  # B follows the corpus version (bounded: 200 asks)
            if "Debrecen factory starts production" in ask(b, slack_api, "debrecen factory", f"replica-{n}"):
                break
        else:
            raise AssertionError("the other replica never answered the added export")
        assert a.health()["version"] == b.health()["version"]
    finally:
        for bot in bots:
            bot.stop()


def test_factbot_remove_and_restore_on_the_command_line(tmp_path):
    import subprocess

    from store import Index
    from store.corpus import audit, store_upload
    from store.state import State, state_url
    from tests.slack_standin import factbot_argv

    seeds = copy_seeds(tmp_path / "seeds")
    db = tmp_path / "factbot.db"
    env = bot_env(None, db, seeds, FACTBOT_SEMANTIC="off")
    state = State.open(state_url(None, db))
    try:
        store_upload(state, "030_catl.txt", EXPORT.encode(), "slack:U0ADMIN")
        store_upload(state, "030_catl.txt", EXPORT_V2.encode(), "slack:U0ADMIN", replace=True)
    finally:
        state.close()
    Index(db, seeds=seeds).reload("startup")

    def factbot(*args):
        return subprocess.run(factbot_argv(*args), env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60)

    def files():
        index = Index(db)
        try:
            return {a.file for a in index.sources()}
        finally:
            index.close()

    assert "030_catl.txt" in files()
    result = factbot("remove", "--yes", "030_catl.txt")
    assert result.returncode == 0, result.stderr
    assert "removed 030_catl.txt" in result.stdout and "030_catl.txt" not in files()
    assert factbot("remove", "--yes", "030_catl.txt").stderr.strip() == "Error: no file named 030_catl.txt in the corpus"
    listing = factbot("restore", "--list", "030_catl.txt")
    assert listing.stdout.count("version ") == 2 and "removed by cli" in listing.stdout
    assert factbot("restore", "030_catl.txt", "--version", "1").returncode == 0  # the first upload
    index = Index(db)
    try:
        texts = " ".join(h.text for h in index.search("debrecen factory production").hits)
    finally:
        index.close()
    assert "starts production next year" in texts and "030_catl.txt" in files()
    state = State.open(state_url(None, db))
    try:
        assert [r["action"] for r in audit(state)][:2] == ["restored", "removed"]
    finally:
        state.close()


def _home(bot, slack, user: str, after: int) -> dict:
    """`user`'s Home tab once it was published more than `after` times."""
    slack.wait_for("views.publish", count=after + 1, timeout=30, user_id=user)
    return slack.views[user]


def _remove_buttons(view: dict) -> dict[str, dict]:
    return {b["accessory"]["value"]: b["accessory"] for b in view["blocks"]
            if b.get("type") == "section" and (b.get("accessory") or {}).get("action_id") == "factbot_home_remove"}


def test_an_admins_home_lists_the_uploads_each_with_a_remove_button_that_only_an_admin_can_use(bot, slack):
    channel = share(bot, slack, "038_home.txt", EXPORT.replace("Debrecen factory", "Pecs factory").encode())
    assert "Added `038_home.txt`" in slack.wait_for("chat.postMessage", channel=channel)[0].all_text()
    n = len(slack.calls_to("views.publish", user_id=ADMIN))
    bot.event(event_callback(home_opened(ADMIN)))
    buttons = _remove_buttons(_home(bot, slack, ADMIN, n))
    assert buttons["038_home.txt"]["confirm"]["confirm"]["text"] == "Remove"  # Slack asks before the click counts
    m = len(slack.calls_to("views.publish", user_id=MEMBER))
    bot.event(event_callback(home_opened(MEMBER)))
    assert _remove_buttons(_home(bot, slack, MEMBER, m)) == {}  # not drawn for anyone else
    bot.action(home_action("factbot_home_remove", "038_home.txt", user=MEMBER))  # a forged click
    assert "only factbot's admins" in json.dumps(_home(bot, slack, MEMBER, m + 1)["blocks"])
    assert stored(bot, "038_home.txt") is not None and "Pecs factory" in ask(bot, slack, "pecs factory", "home-kept")
    n = len(slack.calls_to("views.publish", user_id=ADMIN))
    bot.action(home_action("factbot_home_remove", "038_home.txt", user=ADMIN))
    view = _home(bot, slack, ADMIN, n)
    assert "Removed `038_home.txt`." in json.dumps(view["blocks"]) and "038_home.txt" not in _remove_buttons(view)
    assert stored(bot, "038_home.txt") is None and "Pecs factory" not in ask(bot, slack, "pecs factory", "home-gone")
    from store.corpus import audit
    from store.state import State, state_url

    state = State.open(state_url(None, bot.db))
    try:
        removal = next(r for r in audit(state) if r["action"] == "removed" and r["name"] == "038_home.txt")
        assert removal["actor"] == f"slack:{ADMIN}"
    finally:
        state.close()
