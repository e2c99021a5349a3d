"""Answers as Block Kit (slack_sdk.models.blocks), and the same blocks as terminal text.

Everything that comes from a seed file or from a user passes through `escape` before it is put
into mrkdwn or plain_text, so nothing indexed can ping @channel, mention someone or disguise a link.
Slack's limits are kept here: at most 50 blocks, 3000 characters a section text, 75 a button
label, 2000 a button value; long text is cut with an ellipsis.

This module imports nothing from Bolt and, from the store, only store.model's span merging: it
reads the attributes the store's search results and reports have.
"""
from __future__ import annotations

import json
import re
import secrets
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Sequence

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextActionsBlock,
    ContextBlock,
    FeedbackButtonObject,
    FeedbackButtonsElement,
    MarkdownTextObject,
    PlainTextObject,
    SectionBlock,
)

from store.model import merge_spans, plural  # the store's one span merging and pluralizer (plain data)

MAX_BLOCKS = 50
MAX_SECTION = 3000
MAX_BUTTON_VALUE = 2000
MAX_FALLBACK = 3000
MAX_QUERY = 500
ELLIPSIS = "…"
ZWSP = "\u200b"

SHARE_ACTION = "factbot_share"
MORE_ACTION = "factbot_more"
VOTE_UP_ACTION = "factbot_vote_up"
VOTE_DOWN_ACTION = "factbot_vote_down"
THANKS_BLOCK = "factbot_thanks"
# Slack's own 👍 / 👎 (a feedback_buttons element in a context_actions block) on posted answers
FEEDBACK_ACTION = "factbot_feedback"
FEEDBACK_BLOCK = "factbot_feedback"
MAX_VOTE_FACTS = 50
MAIN_COMMAND = "/factbot"


@dataclass
class Message:
    """What is sent to Slack (or printed by the shell): a plain-text fallback and blocks as dicts."""

    text: str
    blocks: list[dict] = field(default_factory=list)

    def payload(self) -> dict:
        return {"text": self.text, "blocks": self.blocks}


# --- text helpers -------------------------------------------------------------------------


# no seed or user drives a terminal or a client: C0/C1 controls (but tab and newline), and the
# bidirectional-text controls (embeddings, overrides, isolates, marks) that can make a shared answer
# display other text than it holds
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def escape(text: str) -> str:
    """Escape the three characters Slack treats as control characters in message text.

    Control characters (other than tab and newline) and bidirectional-text controls are dropped as well.
    """
    text = _CONTROL.sub("", str(text))
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def unescape(text: str) -> str:
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def clip(text: str, limit: int) -> str:
    """`text` cut to at most `limit` characters, ending with an ellipsis when it was cut."""
    text = str(text)
    if len(text) <= limit:
        return text
    if limit <= 1:
        return ELLIPSIS[:limit]
    return text[: limit - 1].rstrip() + ELLIPSIS


def shrink_to_fit(draw: Callable[[int], str], limit: int) -> str:
    """draw(budget) for the largest budget (at most `limit`) whose output fits in `limit` characters.

    Escaping and markup make the output longer than the text it is drawn from, so the budget
    shrinks in proportion to the overshoot, and by at least one, until it fits."""
    budget = limit
    while budget > 0:
        out = draw(budget)
        if len(out) <= limit:
            return out
        budget = min(budget - 1, int(budget * limit / len(out)))
    return ELLIPSIS[:limit]


def clip_escaped(text: str, limit: int) -> str:
    """escape(text) cut so that the escaped result is at most `limit` characters."""
    return shrink_to_fit(lambda budget: escape(clip(text, budget)), limit)


def _is_ascii_word(ch: str) -> bool:
    return ch.isascii() and (ch.isalnum() or ch == "_")


def bold_spans(text: str, spans: Iterable[Sequence[int]]) -> str:
    """mrkdwn for `text` (escaped) with the character spans in bold.

    Slack only honours `*` at word boundaries: a span inside a Latin word grows to the whole word;
    next to other letters (Chinese, say) a zero-width space marks the boundary.
    """
    if _CONTROL.search(text):  # drop control characters first, keeping the spans on the same words
        position, kept = [], []
        for ch in text:
            position.append(len(kept))
            if not _CONTROL.match(ch):
                kept.append(ch)
        position.append(len(kept))
        spans = [(position[s], position[e]) for s, e in merge_spans(spans, len(text))]
        text = "".join(kept)
    merged = []
    for start, end in merge_spans(spans, len(text)):  # Slack's bold does not cross a line break
        for piece in re.finditer(r"[^\n]+", text[start:end]):
            merged.append((start + piece.start(), start + piece.end()))
    grown: list[tuple[int, int]] = []
    for start, end in merged:
        while start > 0 and _is_ascii_word(text[start - 1]) and _is_ascii_word(text[start]):
            start -= 1
        while end < len(text) and _is_ascii_word(text[end]) and _is_ascii_word(text[end - 1]):
            end += 1
        # whitespace at the edges of a bold run breaks Slack's bold: keep it outside
        while start < end and text[start].isspace():
            start += 1
        while end > start and text[end - 1].isspace():
            end -= 1
        if end <= start:
            continue
        # neighbouring words ("Seres Automotive") become one bold run
        if grown and (start <= grown[-1][1] or set(text[grown[-1][1]:start]) <= {" "}) \
                and "\n" not in text[grown[-1][0]:end]:
            grown[-1] = (grown[-1][0], max(grown[-1][1], end))
        else:
            grown.append((start, end))
    out: list[str] = []
    pos = 0
    for start, end in grown:
        if not escape(text[start:end]).strip():
            continue
        out.append(escape(text[pos:start]))
        before = ZWSP if start > 0 and text[start - 1].isalnum() else ""
        after = ZWSP if end < len(text) and text[end].isalnum() else ""
        out.append(f"{before}*{escape(text[start:end])}*{after}")
        pos = end
    out.append(escape(text[pos:]))
    return "".join(out)


def fit_bold(text: str, spans: Iterable[Sequence[int]], limit: int = MAX_SECTION) -> str:
    """bold_spans(text, spans), cut (with an ellipsis) so that the mrkdwn fits in `limit` characters."""
    spans = merge_spans(spans or (), len(text))

    def draw(budget: int) -> str:
        cut = clip(text, budget)
        if cut == text:
            return bold_spans(text, spans)
        return bold_spans(cut, [(s, min(e, len(cut) - 1)) for s, e in spans if s < len(cut) - 1])

    return shrink_to_fit(draw, limit)


def mrkdwn(text: str) -> MarkdownTextObject:
    """A mrkdwn text object with Slack's auto-linking of names and URLs turned off."""
    return MarkdownTextObject(text=text, verbatim=True)


def section(text: str) -> SectionBlock:
    return SectionBlock(text=mrkdwn(clip(text, MAX_SECTION)))


def context(text: str) -> ContextBlock:
    return ContextBlock(elements=[mrkdwn(clip(text, MAX_SECTION))])  # a context text has the section's limit


def chunk_lines(lines: list[str], limit: int = MAX_SECTION) -> list[str]:
    """Join lines into texts of at most `limit` characters (a longer line is cut)."""
    chunks: list[str] = []
    current = ""
    for line in lines:
        line = line if len(line) <= limit else line[: limit - 1] + ELLIPSIS
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > limit:
            chunks.append(current)
            current = line
        else:
            current = candidate
    if current:
        chunks.append(current)
    return chunks


def _role(block: dict) -> str:
    """What a block is for: the first part of its block_id ("factbot_buttons"), else its type."""
    return str(block.get("block_id") or block.get("type") or "block").split(".", 1)[0]


def renamed(blocks: Sequence[dict]) -> list[dict]:
    """The blocks with block_ids never used before (`<role>.<nonce>.<n>`), keeping each block's role.

    Every message gets fresh ones, so a message that replaces another ("More results",
    replace_original, chat.update) never carries the block_ids of the one it replaces."""
    nonce = secrets.token_hex(4)
    return [{**block, "block_id": f"{_role(block)}.{nonce}.{n}"} for n, block in enumerate(blocks)]


def block_dicts(blocks: list[Block]) -> list[dict]:
    """A message's blocks as Slack takes them: at most MAX_BLOCKS, as dicts, with fresh block_ids."""
    return renamed([b.to_dict() for b in blocks[:MAX_BLOCKS]])


# --- button values ------------------------------------------------------------------------


def encode_value(query: str, offset: int) -> str:
    """A button value naming a page of a search: {"q": query, "o": offset}, at most 2000 chars."""
    query = query[:MAX_QUERY]
    while True:
        value = json.dumps({"q": query, "o": int(offset)}, ensure_ascii=False, separators=(",", ":"))
        if len(value) <= MAX_BUTTON_VALUE:
            return value
        query = query[: max(0, len(query) - (len(value) - MAX_BUTTON_VALUE) - 1)]


def decode_value(value: Any, max_offset: int = 1000) -> tuple[str, int] | None:
    """(query, offset) from a button value, or None when it is not one of ours.

    A button value arrives from the user's client and can be forged: only a search page is ever
    read from it, never an instruction.
    """
    if not isinstance(value, str) or len(value) > MAX_BUTTON_VALUE:
        return None
    try:
        data = json.loads(value)
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    query, offset = data.get("q"), data.get("o", 0)
    if not isinstance(query, str) or not query.strip() or isinstance(offset, bool) or not isinstance(offset, int):
        return None
    if offset < 0 or offset > max_offset:
        return None
    return query[:MAX_QUERY], offset


def encode_vote(query: str, offset: int, fact_ids: Sequence[int], vote: int | None = None) -> str:
    """A vote button's value: the page of the search and the ids of the facts it showed (and, for a
    feedback_buttons element, whose two buttons share one action_id, the vote: +1 or -1)."""
    ids = [int(i) for i in list(fact_ids)[:MAX_VOTE_FACTS]]
    query = query[:MAX_QUERY]
    while True:
        data: dict[str, Any] = {"q": query, "o": int(offset), "f": ids}
        if vote is not None:
            data["v"] = 1 if vote > 0 else -1
        value = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
        if len(value) <= MAX_BUTTON_VALUE:
            return value
        query = query[: max(0, len(query) - (len(value) - MAX_BUTTON_VALUE) - 1)]


def decode_vote(value: Any) -> tuple[str, int, list[int]] | None:
    """(query, offset, fact ids) from a vote button's value, or None when it is not one of ours.

    Forged values can only claim which answer is voted on; who votes is Slack's `user`, never the value.
    """
    page = decode_value(value)
    if page is None:
        return None
    ids = json.loads(value).get("f")
    if not isinstance(ids, list) or not ids or len(ids) > MAX_VOTE_FACTS:
        return None
    if not all(isinstance(i, int) and not isinstance(i, bool) and 0 <= i < 2**63 for i in ids):
        return None
    return page[0], page[1], ids


def decode_feedback(value: Any) -> tuple[str, int, list[int], int] | None:
    """(query, offset, fact ids, vote) from a feedback_buttons value, or None when it is not one of ours."""
    page = decode_vote(value)
    if page is None:
        return None
    vote = json.loads(value).get("v")
    if vote not in (1, -1) or isinstance(vote, bool):
        return None
    return page[0], page[1], page[2], vote


# --- answers ------------------------------------------------------------------------------


def _date(published: str) -> str:
    return (published or "").split("T")[0]


def citations_text(citations: Iterable[int]) -> str:
    return "".join(f"[{int(c)}]" for c in citations or ())


def hit_context(hit: Any) -> str:
    """title · source · date · section · [5][13], escaped, for a context block."""
    article = hit.article
    parts = [
        f"_{clip_escaped(article.title, 300)}_",
        clip_escaped(article.source, 100),
        escape(_date(article.published)),
        clip_escaped(hit.section, 300),
        escape(clip(citations_text(hit.citations), 200)),
    ]
    return " · ".join(p for p in parts if p and p != "__")


def _fallback_hit(n: int, hit: Any) -> str:
    line = f"{n}. {escape(clip(hit.text, 400))} ({clip_escaped(hit.article.title, 120)} {escape(citations_text(hit.citations))})"
    also = list(getattr(hit, "also", None) or ())
    if also:
        line += " Also reported by " + ", ".join(clip_escaped(a.source, 60) for a in also[:MAX_ALSO])
        line += f" and {len(also) - MAX_ALSO} more." if len(also) > MAX_ALSO else "."
    return line


MAX_ALSO = 5  # other outlets' reports named under an answer (the rest are counted)


def also_line(hit: Any) -> str:
    """mrkdwn naming the other outlets' reports of a hit's fact (store/groups.py Also): "Also
    reported by Sina Finance · 2025-11-08 · _title_ · [1]; ...", escaped and clipped like the
    hit's own context ("" when there are none)."""
    also = list(getattr(hit, "also", None) or ())
    if not also:
        return ""
    items = []
    for a in also[:MAX_ALSO]:
        # at most 5 x 310 characters: with hit_context's at most 910, within a context's MAX_SECTION
        parts = [clip_escaped(a.source, 100), escape(_date(a.published)), f"_{clip_escaped(a.title, 120)}_",
                 escape(clip(citations_text(a.citations), 60))]
        items.append(" · ".join(p for p in parts if p and p != "__"))
    more = f"; and {len(also) - MAX_ALSO} more" if len(also) > MAX_ALSO else ""
    return "Also reported by " + "; ".join(items) + more


_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")


def missing_line(words: Sequence[str]) -> str:
    """mrkdwn naming the query words no fact holds: "No fact mentions *xiaomi*." ("" for none)."""
    named = [f"*{clip_escaped(w, 100)}*" for w in list(words or ())[:10] if str(w).strip()]
    if not named:
        return ""
    listed = named[0] if len(named) == 1 else ", ".join(named[:-1]) + " or " + named[-1]
    return f"No fact mentions {listed}."


def thread_line(names: Sequence[str] | None) -> str:
    """mrkdwn naming the thread's entities a follow-up was answered about: "_In this thread: Quuxly._"
    ("" when the answer did not lean on the thread)."""
    named = [clip_escaped(n, 100) for n in list(names or ())[:5] if str(n).strip()]
    return f"_In this thread: {', '.join(named)}._" if named else ""


def cut_line(length: int) -> str:
    """mrkdwn saying that only the first MAX_QUERY characters of a `length`-character question were read."""
    return f"_Only the first {MAX_QUERY} characters of your question (of {length:,}) were read._" if length > MAX_QUERY else ""


def render_answer(
    result: Any,
    *,
    offset: int = 0,
    share: bool = False,
    more: bool = True,
    shared_by: str | None = None,
    suggestions: Sequence[str] = (),
    feedback: bool = False,
    asked_length: int = 0,
) -> Message:
    """A page of facts answering `result.query` (a store SearchResult).

    share: add a "Share in channel" button (for ephemeral answers); more: add a "More results"
    button when the store says there is more; shared_by: a user ID, for a shared answer;
    feedback: add 👍 / 👎 naming the facts shown. An answer posted in a DM or a thread (share=False:
    a mention's thread, a DM, "More results" after them) gets Slack's feedback_buttons in a
    context_actions block; an ephemeral one (share=True: slash commands, the message shortcut), where
    Slack does not take context_actions, and an answer shared at the top of a channel (shared_by) get
    two buttons in the actions block (room is kept for the thanks after a vote).
    When there are no hits this is the no-match message with `suggestions`. asked_length: the length
    of the question as asked, when more than MAX_QUERY characters of it were cut off (said on top).
    """
    query = result.query
    missing = " ".join(filter(None, (cut_line(asked_length), missing_line(getattr(result, "missing", None) or ()),
                                     thread_line(getattr(result, "context", None)))))
    if not result.hits:
        return render_no_match(query, suggestions, offset=offset, missing=missing)
    blocks: list[Block] = []
    if shared_by and _USER_ID.match(shared_by):
        blocks.append(context(f"Shared by <@{shared_by}>"))
    first, last = offset + 1, offset + len(result.hits)
    facts = f"Fact {first}" if first == last else f"Facts {first}–{last}"
    head = f"*You asked:* {clip_escaped(query, 2000)}\n" + (f"{missing}\n" if missing else "")
    blocks.append(section(f"{head}{facts} from the digests:"))
    fallback = [f"You asked: {escape(clip(query, 300))}"] + ([missing.replace("*", "").replace("_", "")] if missing else [])
    actions: list[ButtonElement] = []
    if share:
        actions.append(
            ButtonElement(text="Share in channel", action_id=SHARE_ACTION, value=encode_value(query, offset), style="primary")
        )
    if more and result.has_more:
        actions.append(ButtonElement(text="More results", action_id=MORE_ACTION, value=encode_value(query, last)))
    room = MAX_BLOCKS - len(blocks) - (1 if actions or feedback else 0) - (1 if feedback else 0)
    shown: list[int] = []
    for n, hit in enumerate(result.hits, start=first):
        if room < 2:
            break
        blocks.append(SectionBlock(text=mrkdwn(fit_bold(hit.text, hit.spans, MAX_SECTION))))
        blocks.append(context("\n".join(filter(None, (hit_context(hit), also_line(hit))))))
        room -= 2
        fallback.append(_fallback_hit(n, hit))
        shown.append(hit.id)
    rating: ContextActionsBlock | None = None
    if feedback and shown and (share or shared_by):  # ephemeral, or shared at the top of a channel
        value = encode_vote(query, offset, shown)
        actions.append(ButtonElement(text=PlainTextObject(text="👍", emoji=True), action_id=VOTE_UP_ACTION, value=value))
        actions.append(ButtonElement(text=PlainTextObject(text="👎", emoji=True), action_id=VOTE_DOWN_ACTION, value=value))
    elif feedback and shown:
        rating = feedback_block(query, offset, shown)
    if actions:
        blocks.append(ActionsBlock(block_id="factbot_buttons", elements=actions))
    if rating is not None:
        blocks.append(rating)
    return Message(text=clip("\n".join(fallback), MAX_FALLBACK), blocks=block_dicts(blocks))


def feedback_block(query: str, offset: int, fact_ids: Sequence[int]) -> ContextActionsBlock:
    """Slack's 👍 / 👎 for an answer: each button's value names the page and the facts shown, and the vote."""
    def button(text: str, label: str, vote: int) -> FeedbackButtonObject:
        return FeedbackButtonObject(text=PlainTextObject(text=text, emoji=True), accessibility_label=label,
                                    value=encode_vote(query, offset, fact_ids, vote=vote))

    element = FeedbackButtonsElement(action_id=FEEDBACK_ACTION,
                                     positive_button=button("👍", "This answer helped", 1),
                                     negative_button=button("👎", "This answer did not help", -1))
    return ContextActionsBlock(block_id=FEEDBACK_BLOCK, elements=[element])


def with_thanks(blocks: Sequence[dict], text: str) -> list[dict]:
    """The same blocks with a thanks line (already escaped mrkdwn) after them, replacing an earlier one."""
    kept = [dict(b) for b in blocks if _role(b) != THANKS_BLOCK]
    thanks = ContextBlock(block_id=THANKS_BLOCK, elements=[mrkdwn(text)]).to_dict()
    return renamed(kept[: MAX_BLOCKS - 1] + [thanks])


def render_no_match(query: str, suggestions: Sequence[str] = (), offset: int = 0, missing: str = "") -> Message:
    q = clip_escaped(query, 1000)
    if offset > 0:
        head = f"No more facts for “{q}”."
    else:
        head = f"I couldn't find a confident match for “{q}”." + (f" {missing}" if missing else "")
    blocks: list[Block] = [section(head)]
    text = head
    if suggestions:
        lines = [f"• {clip_escaped(s, 200)}" for s in list(suggestions)[:10]]
        blocks.append(section("*Try asking about:*\n" + "\n".join(lines)))
        text += " Try asking about: " + "; ".join(clip_escaped(s, 200) for s in list(suggestions)[:10])
    blocks.append(context(f"`{MAIN_COMMAND} sources` lists every indexed article; `{MAIN_COMMAND} help` shows how to ask."))
    return Message(text=clip(text, MAX_FALLBACK), blocks=block_dicts(blocks))


def render_help(commands: Sequence[str] = (), examples: Sequence[str] = ()) -> Message:
    """How to ask; `examples` are questions that find facts in the index (store.overview), never fixed words."""
    topics = [c for c in commands if c != MAIN_COMMAND]
    raw = [
        f"• `{MAIN_COMMAND} <question>`: the facts that best match, 5 at a time (only you see them; a button shares them)",
        f"• `{MAIN_COMMAND} sources`: the indexed articles and how many facts each has",
        f"• `{MAIN_COMMAND} help`: this message",
        f"• `{MAIN_COMMAND} reload`: re-read the seed files (admins only)",
        "• `@factbot <question>` in a channel: answered in the thread",
        "• a direct message to factbot: answered in the conversation",
    ]
    if topics:
        raw.append("• topic commands ask `<topic> <text>`: " + ", ".join(f"`{c} <text>`" for c in topics))
    forms = [f"`{MAIN_COMMAND} {{}}`", "`@factbot what about {}?`", "a DM: `{}`"]
    shown = [forms[i % len(forms)].format(clip(" ".join(str(q).split()), 200)) for i, q in enumerate(list(examples)[:3])]
    if shown:
        raw.append("Examples: " + ", ".join(shown))
    lines = ["*factbot* answers questions from the team's article digests with sourced facts."]
    lines += [escape(line) for line in raw]
    text = "\n".join(lines)
    return Message(text=clip(text, MAX_FALLBACK), blocks=block_dicts([section(c) for c in chunk_lines(lines)]))


def unique_part(facts: int, unique: int | None) -> str:
    """" (29 unique)" beside a count of facts: those counting each group of near-duplicates (other
    outlets' reports of one fact) once; "" when not known."""
    return "" if unique is None else f" ({int(unique)} unique)"


def render_sources(sources: Sequence[Any], counts: tuple[int, int] | None = None,
                   unique: int | None = None) -> Message:
    articles = len(sources)
    facts = sum(int(getattr(s, "facts", 0) or 0) for s in sources)
    if counts is not None:
        articles, facts = counts
    head = (f"*Indexed:* {articles} article{'s' if articles != 1 else ''}, {facts} fact{'s' if facts != 1 else ''}"
            + unique_part(facts, unique))
    if not sources:
        return Message(text=f"Indexed: {articles} articles, {facts} facts{unique_part(facts, unique)}. Nothing is indexed yet.",
                       blocks=block_dicts([section(head + "\nNothing is indexed yet.")]))
    lines = []
    for s in sources:
        lines.append(
            f"• *{clip_escaped(s.title, 300)}*\n   {clip_escaped(s.source, 100)} · {escape(_date(s.published))}"
            f" · {int(s.facts)} fact{'s' if int(s.facts) != 1 else ''} · `{clip_escaped(s.file, 200)}`"
        )
    chunks = chunk_lines(lines)
    blocks: list[Block] = [section(head)]
    shown = 0
    for chunk in chunks:
        if len(blocks) >= MAX_BLOCKS - 1:
            break
        blocks.append(section(chunk))
        shown += chunk.count("\n• ") + 1
    if shown < len(sources):
        blocks.append(context(f"… and {len(sources) - shown} more"))
    text = f"Indexed: {articles} articles, {facts} facts{unique_part(facts, unique)}: " + "; ".join(clip_escaped(s.title, 100) for s in sources[:20])
    return Message(text=clip(text, MAX_FALLBACK), blocks=block_dicts(blocks))


def render_reload_report(report: Any) -> Message:
    """The counts after a reload and every failed file with its reasons."""
    files = list(getattr(report, "files", []) or [])
    by_status: dict[str, int] = {}
    for f in files:
        by_status[f.status] = by_status.get(f.status, 0) + 1
    failed = [f for f in files if f.status == "failed"]
    took = float(getattr(report, "took_ms", 0.0) or 0.0) / 1000.0
    verdict = "Reload finished" if report.ok else "Reload finished with errors"
    head = (
        f"*{verdict}* in {took:.1f} s: the index now holds {report.articles} articles and {report.facts} facts"
        f"{unique_part(report.facts, getattr(report, 'unique', None))}.\n"
        f"Files: {by_status.get('loaded', 0)} loaded, {by_status.get('unchanged', 0)} unchanged, "
        f"{by_status.get('failed', 0)} failed"
        + (f", {len(report.removed)} removed." if getattr(report, "removed", None) else ".")
    )
    lines = []
    for f in failed:
        reasons = "; ".join(str(e) for e in (f.errors or [])) or "unknown error"
        lines.append(f"• `{clip_escaped(f.path, 300)}`: {clip_escaped(reasons, 2500)}")
    blocks: list[Block] = [section(head)]
    text = head.replace("*", "")
    if lines:
        blocks.append(section("*Failed files:*"))
        chunks = chunk_lines(lines)
        for i, chunk in enumerate(chunks):
            if len(blocks) >= MAX_BLOCKS - 1:
                blocks.append(context(f"… and more failed files ({len(chunks) - i} more sections)"))
                break
            blocks.append(section(chunk))
        text += "\nFailed files:\n" + "\n".join(lines)
    return Message(text=clip(text, MAX_FALLBACK), blocks=block_dicts(blocks))


def render_welcome(articles: int, commands: Sequence[str] = ()) -> Message:
    """The agent view's greeting on the Messages tab (at most once a day per person)."""
    held = f" ({articles} article{'s' if articles != 1 else ''} so far)" if articles else ""
    text = (f"Hi! I answer questions from the team's article digests{held} with sourced facts. "
            "Ask me anything here, or pick one of the suggestions.")
    hint = f"`{MAIN_COMMAND} help` shows how to ask; `{MAIN_COMMAND} sources` lists what is indexed."
    return Message(text=text, blocks=block_dicts([section(escape(text)), context(hint)]))


def render_notice(text: str) -> Message:
    """A one-line message (already escaped mrkdwn)."""
    return Message(text=clip(text, MAX_FALLBACK), blocks=block_dicts([section(text)]))


# --- blocks as terminal text --------------------------------------------------------------

_BOLD = re.compile(r"(?<![\w*])\*(?!\s)([^*\n]+?)(?<!\s)\*(?![\w*])")
_ITALIC = re.compile(r"(?<![\w_])_(?!\s)([^_\n]+?)(?<!\s)_(?![\w_])")
_CODE = re.compile(r"`([^`\n]+)`")
_MENTION = re.compile(r"<@([UW][A-Z0-9]+)(?:\|([^>]*))?>")


def mrkdwn_to_text(text: str, bold: tuple[str, str] = ("", "")) -> str:
    """Readable terminal text from our mrkdwn: markers dropped (or turned into `bold`), entities decoded."""
    text = _CONTROL.sub("", text)
    text = _BOLD.sub(lambda m: f"{bold[0]}{m.group(1)}{bold[1]}", text).replace(ZWSP, "")
    text = _ITALIC.sub(lambda m: m.group(1), text)
    text = _CODE.sub(lambda m: m.group(1), text)
    text = _MENTION.sub(lambda m: "@" + (m.group(2) or m.group(1)), text)
    return unescape(text)


def blocks_to_text(blocks: Sequence[dict], bold: tuple[str, str] = ("", "")) -> str:
    """The same blocks Slack shows, as plain text for a terminal (the shell run mode)."""
    out: list[str] = []
    for block in blocks:
        kind = block.get("type")
        if kind == "section":
            out.append(mrkdwn_to_text(block.get("text", {}).get("text", ""), bold))
        elif kind == "context":
            parts = [mrkdwn_to_text(e.get("text", ""), bold) for e in block.get("elements", []) if "text" in e]
            out.append("    " + " ".join(parts))
        elif kind == "actions":
            labels = [e.get("text", {}).get("text", "") for e in block.get("elements", [])]
            out.append("    " + "  ".join(f"[{label}]" for label in labels if label))
    return "\n".join(out)
