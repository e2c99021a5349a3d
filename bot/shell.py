"""The shell run mode: the same bot in a terminal, with no Slack at all (like Hubot's shell adapter).

Type `/ipo seres`, `@factbot what about fairwater?`, or plain text (answered like a DM); the
answer is the Block Kit message Slack would get, rendered as text. `more` shows the next page.
Lines can come from a pipe: each is answered, and the shell exits at end of input.

A session is one thread (docs/threads.md): a question that names no company leans on what the
session was asked before, as in a Slack thread (slash commands are read on their own, as in
Slack); `new` starts a new thread. Its turns are kept in memory only.

`/factbot reload` is allowed here because the local user owns the seed files. The shell is its
own local process: it builds no Bolt app, opens no socket and never reads anything from Slack,
so it is no way around the admin check of the Slack run modes.
"""
from __future__ import annotations

import sys
import time
from typing import TextIO

from handlers.core import Factbot, clean_text, parse_intent, strip_shell_mention
from handlers.render import MAIN_COMMAND, MORE_ACTION, Message, blocks_to_text, decode_value, escape, render_notice

PROMPT = "factbot> "
BYE = ("exit", "quit", ":q")
NEW_THREAD = "A new thread: the next question is read on its own."


class Shell:
    def __init__(self, bot: Factbot, out: TextIO = sys.stdout, bold: tuple[str, str] = ("", "")):
        self.bot = bot
        self.out = out
        self.bold = bold
        self.next_page: tuple[str, int] | None = None
        self.thread = None
        self.page_thread = None  # the thread of the answer `more` pages on
        self.new_thread()

    def new_thread(self) -> None:
        """The session's next questions in a thread of their own (none without a thread store)."""
        from store.threads import ThreadKey

        self.thread = ThreadKey("shell", "shell", f"{time.time():.6f}") if self.bot.threads is not None else None
        self.next_page = None

    def show(self, message: Message) -> None:
        text = blocks_to_text(message.blocks, self.bold) if message.blocks else message.text
        self.out.write(text.rstrip("\n") + "\n\n")
        self.out.flush()
        self.next_page = None
        for block in message.blocks:
            for element in block.get("elements", []) if block.get("type") == "actions" else []:
                if element.get("action_id") == MORE_ACTION:
                    self.next_page = decode_value(element.get("value"))
        if self.next_page is not None:
            self.out.write("(type `more` for the next page)\n\n")
            self.out.flush()

    def handle(self, line: str) -> bool:
        """Answer one line; False when the user asked to leave."""
        line = line.strip()
        if not line:
            return True
        if line.lower() in BYE:
            return False
        if line.lower() == "new":
            self.new_thread()
            self.show(render_notice(NEW_THREAD))
            return True
        if line.lower() == "more":
            if self.next_page is None:
                self.show(render_notice("Nothing more to show. Ask a question first, or a new one."))
            else:
                query, offset = self.next_page
                self.show(self.bot.answer(query, offset, share=False, more=True, thread=self.page_thread))
            return True
        if line.startswith("/"):
            name, _, rest = line.partition(" ")
            if name not in self.bot.commands:
                known = ", ".join(self.bot.commands)
                self.show(render_notice(escape(f"Unknown command {name}. Known: {known}")))
                return True
            intent = parse_intent(clean_text(rest), command=name)
            thread = None  # a slash command is read on its own, as in Slack
        else:
            intent = parse_intent(clean_text(strip_shell_mention(line) if line.startswith("@") else line))
            thread = self.thread
        if intent.kind == "reload":
            for message in self.bot.reload_messages(actor="shell", wait=True):
                self.show(message)
            return True
        message = self.bot.respond_to(intent, share=False, more=True, **({"thread": thread} if intent.kind == "search" else {}))
        self.show(message)
        self.page_thread = thread
        return True


def run(bot: Factbot, stdin: TextIO = sys.stdin, out: TextIO = sys.stdout) -> int:
    interactive = stdin.isatty() and out.isatty()
    shell = Shell(bot, out, bold=("\033[1m", "\033[0m") if out.isatty() else ("", ""))
    if interactive:
        articles, facts = bot.index.counts()
        out.write(f"factbot shell: {articles} articles, {facts} facts. Try `{MAIN_COMMAND} help`, "
                  f"`{bot.commands[-1]} ...` or `@factbot <question>`; `exit` or Ctrl-D to leave.\n\n")
    while True:
        if interactive:
            out.write(PROMPT)
            out.flush()
        line = stdin.readline()
        if not line:
            if interactive:
                out.write("\n")
            return 0
        try:
            if not shell.handle(line):
                return 0
        except KeyboardInterrupt:
            return 130
