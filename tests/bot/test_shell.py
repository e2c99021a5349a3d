"""`factbot shell`: the same answers in a terminal, no Slack; through a pipe it answers each line and exits at EOF."""
from __future__ import annotations

import io
import subprocess

from tests.slack_standin import bot_env, copy_seeds, factbot_argv, free_port


def _shell(tmp_path, stdin: str, *args: str, **env_extra: str) -> subprocess.CompletedProcess:
    seeds = tmp_path / "seeds"
    if not seeds.exists():
        copy_seeds(seeds)
    # no Slack settings at all, and a Web API URL where nothing listens: the shell must not need either
    env = bot_env(None, tmp_path / "unused.db", seeds, SLACK_BOT_TOKEN="", SLACK_SIGNING_SECRET="",
                  SLACK_API_URL=f"http://127.0.0.1:{free_port()}/api/", **env_extra)
    argv = factbot_argv("shell", "--seeds", str(seeds), "--db", str(tmp_path / "shell.db"), *args)
    return subprocess.run(argv, input=stdin, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=30)


def test_shell_answers_piped_lines_and_exits_at_eof(tmp_path):
    result = _shell(tmp_path, "/ipo seres\n@factbot fairwater 2\n")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    ipo, fairwater = out.split("You asked: ")[1:]
    assert ipo.startswith("ipo seres") and "赛力斯为何突然暴跌?" in ipo and "[1]" in ipo
    assert "Seres Automotive raised 14 billion HKD" in ipo and "[More results]" in ipo
    assert fairwater.startswith("fairwater 2") and "微软CEO深度访谈" in fairwater and "[5][13]" in fairwater
    assert "Fairwater 2 Data Center" in fairwater
    assert "*" not in out and "&lt;" not in out and "\x1b[" not in out  # readable text, not mrkdwn
    assert (tmp_path / "shell.db").exists()  # built from the seeds on first use


def test_shell_plain_text_help_sources_more_and_unknown_commands(tmp_path):
    lines = "azure margins\n/factbot help\n/factbot sources\n/ipo seres\nmore\nzzqqxx\n/nope x\nexit\n/ipo never\n"
    result = _shell(tmp_path, lines)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "You asked: azure margins" in out
    assert "/factbot <question>" in out and "/ipo <text>" in out
    assert "Indexed: 2 articles, 31 facts" in out and "16 facts" in out
    assert "Facts 6–" in out
    assert "I couldn't find a confident match for “zzqqxx”." in out and "Try asking about:" in out
    assert "Unknown command /nope" in out
    assert "ipo never" not in out  # `exit` ended the session


def test_shell_may_reload(tmp_path):
    result = _shell(tmp_path, "/factbot reload\n")
    assert result.returncode == 0, result.stderr
    assert "Reload finished" in result.stdout and "2 articles and 31 facts" in result.stdout


def test_shell_renders_the_same_blocks_slack_gets(tmp_path):
    from bot.config import Settings
    from bot.shell import Shell
    from handlers.core import Factbot
    from handlers.render import blocks_to_text
    from store import Index

    index = Index.open(tmp_path / "s.db", seeds=copy_seeds(tmp_path / "seeds"))
    bot = Factbot(index, Settings())
    out = io.StringIO()
    Shell(bot, out).handle("/ipo seres")
    slack_message = bot.answer("ipo seres", share=False, more=True)
    assert out.getvalue().startswith(blocks_to_text(slack_message.blocks))


def test_a_shell_session_is_a_thread_and_new_starts_another(tmp_path):
    from tests.generated import followups

    followups().write_corpus(tmp_path / "seeds", 6, seed=1)
    result = _shell(tmp_path, "quuxly ipo\nand the net profit?\nnew\nand the net profit?\n/factbot and the net profit?\n")
    assert result.returncode == 0, result.stderr
    first, follow, fresh, command = result.stdout.split("You asked: ")[1:]
    assert "In this thread" not in first
    assert "In this thread: Quuxly." in follow and "库克斯利" in follow.split("from the digests:")[1].split("\n\n")[0]
    assert "A new thread: the next question is read on its own." in follow
    assert "In this thread" not in fresh and "In this thread" not in command
