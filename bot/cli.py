"""The `factbot` command line: a thin click layer over `store` (answers, reloads) and `bot` (run modes)."""
from __future__ import annotations

import contextlib
import getpass
import json
import os
import sys
from pathlib import Path

import click

from bot.config import DEFAULT_DB, DEFAULT_PORT, DEFAULT_SEEDS, ENV_DB, ENV_PORT, ENV_SEEDS, ConfigError, Settings, load_env_file


def _settings(**options: object) -> Settings:
    """The settings (bot/config.py), with the values of the options given here (option, else its
    environment variable, else its default: click's envvar=) in place of the environment's."""
    try:
        return Settings.from_env(**options)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None


def _check_db(path: Path, write: bool = True, label: str = "--db") -> None:
    """A one-line error, before anything is opened, for a database path that cannot work: one under
    a regular file, or (`write`: it may have to be built, locked or written beside) in a folder
    this process cannot write."""
    for folder in path.parents:
        if folder.exists() or folder.is_symlink():
            if not folder.is_dir():
                raise click.ClickException(f"{label} {path}: {folder} is a file, not a folder")
            if write and not os.access(folder, os.W_OK | os.X_OK):
                raise click.ClickException(f"{label} {path}: the folder {folder} is not writable")
            return


def _cli_actor() -> str:
    """Who reloads from the command line, for the audit trail."""
    try:
        return f"cli:{getpass.getuser()}"
    except Exception:  # no login name in this environment
        return "cli"


def _progress(as_json: bool):
    """A progress bar on the terminal for long reloads; none for JSON or when output is piped."""
    from bot.progress import ReloadProgress

    if as_json or not (sys.stdout.isatty() and sys.stderr.isatty()):
        return None
    return ReloadProgress(sys.stderr)


@contextlib.contextmanager
def _refusal():
    """A reload (or first build) refused because it would empty the index, stopped before it was
    done (a worker process died), or not run because the shared store does not answer: one line,
    exit 1."""
    from store import ReloadBusy, ReloadFailed, ReloadRefused
    from store.errors import StateError

    try:
        yield
    except ReloadBusy as exc:
        raise click.ClickException(f"reload not run: {exc}; try again in a moment") from None
    except ReloadRefused as exc:
        raise click.ClickException(f"reload refused: {exc}") from None
    except ReloadFailed as exc:
        raise click.ClickException(f"reload failed: {exc}") from None
    except StateError as exc:
        raise click.ClickException(f"reload not run: {exc}; nothing changed") from None


def _replica(database_url: str, index, seeds: Path, folder: str | None = None):
    """The local index as one replica of the shared corpus (store.replica), for `reload` with DATABASE_URL."""
    from store.replica import Replica
    from store.state import State

    # the command line may wait for another replica's reload longer than a Slack listener would
    return Replica(index, State.connect(database_url), seeds, folder=folder, lock_wait=600.0)


seeds_option = click.option(
    "--seeds", type=click.Path(file_okay=False, path_type=Path), envvar=ENV_SEEDS, show_envvar=True,
    default=DEFAULT_SEEDS, show_default=True, help="Folder of seed exports.",
)
db_option = click.option(
    "--db", type=click.Path(dir_okay=False, path_type=Path), envvar=ENV_DB, show_envvar=True,
    default=DEFAULT_DB, show_default=True, help="SQLite database file.",
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="factbot")
def main() -> None:
    """factbot: answers questions from article digests with sourced facts."""
    load_env_file()  # before the subcommand's options read their environment variables


@main.command()
@seeds_option
@db_option
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of a table.")
def reload(seeds: Path, db: Path, as_json: bool) -> None:
    """(Re)index every file of the seeds folder; unchanged files are skipped.

    Exit status 0 when every file loaded, 1 when any failed.

    \b
        factbot reload --seeds seeds --db factbot.db
        factbot reload --json
    """
    from store import Index

    settings = _settings(seeds=seeds, db=db)
    _check_db(settings.db_path)
    index = Index(settings.db_path, seeds=settings.seeds, workers=settings.reload_workers)
    if settings.database_url:  # replicas: the seeds go into the shared corpus, every replica follows
        index = _replica(settings.database_url, index, settings.seeds, settings.seeds_id)
    with _refusal():
        report = index.reload(actor=_cli_actor(), wait=True, progress=_progress(as_json))
    from store.index import SeedFolder

    others = SeedFolder(settings.seeds).ignored()
    if others:
        shown = ", ".join(others[:10]) + (f" and {len(others) - 10} more" if len(others) > 10 else "")
        click.echo(f"note: not exports, so not read (only *.txt files are): {shown}", err=True)
    if as_json:
        click.echo(json.dumps(report.to_json(), ensure_ascii=False))
    else:
        click.echo(report.render())
    sys.exit(0 if report.ok else 1)


def _last_reload_id(db: Path) -> int | None:
    """The newest audit row of an index file (None: no index, or none readable): a build that
    `Index.open` runs adds one."""
    import sqlite3

    if not db.exists():
        return None
    try:
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)
        try:
            return conn.execute("SELECT max(id) FROM reloads").fetchone()[0]
        finally:
            conn.close()
    except sqlite3.Error:
        return None


def _say_what_the_build_left_out(index, seeds: Path, before: int | None) -> None:
    """After `ask` opened the index: the files its build (if it ran one) could not load, on stderr;
    an index with no facts at all is an error (exit 1), since no question can be answered."""
    rows = index.reloads(1)
    built = rows and rows[0]["id"] != before
    if built and rows[0]["failed"]:
        row = rows[0]
        total = row["loaded"] + row["unchanged"] + row["failed"]
        click.echo(f"warning: {row['failed']} of {total} seed file{'s' if total != 1 else ''} failed to load:", err=True)
        for error in json.loads(row["errors"] or "[]"):
            click.echo(f"  {error}", err=True)
    if index.counts()[1] == 0:
        if built:
            raise click.ClickException(f"no facts were indexed from {seeds}: every seed file failed (above);"
                                       " fix them and run `factbot reload`")
        click.echo(f"warning: the index {index.db_path} holds no facts; run `factbot reload`", err=True)


def _corpus_change(settings: Settings, change, actor: str) -> None:
    """Run `change(state)` (store.corpus: remove_file, restore_file) on the corpus' state store, then
    bring the local index along: without DATABASE_URL this process reloads it; with it, every
    replica follows the new corpus version by itself."""
    from bot.app import StartupError, open_state
    from store import Index, ReloadBusy
    from store.corpus import NotStored

    try:
        state = open_state(settings)
    except StartupError as exc:
        raise click.ClickException(str(exc)) from None
    try:
        with _refusal():
            try:
                published = change(state)
            except NotStored as exc:
                raise click.ClickException(str(exc)) from None
            except ReloadBusy as exc:
                raise click.ClickException(f"not done: {exc}; try again in a moment") from None
            click.echo(f"corpus version {published.version}")
            if not settings.database_url and settings.db_path.exists():
                report = Index(settings.db_path, seeds=settings.seeds, workers=settings.reload_workers).reload(
                    actor=actor, wait=True)
                click.echo(report.render())
    finally:
        state.close()


@main.command()
@seeds_option
@db_option
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.argument("name")
def remove(seeds: Path, db: Path, yes: bool, name: str) -> None:
    """Remove the file NAME (an upload, or a seeds folder's file) from the corpus.

    Its content stays in the corpus' history (`factbot restore NAME` brings it back); the removal
    is in the audit trail. A seeds folder's file comes back at that folder's next reload unless it
    is deleted from the folder too.
    """
    from store.corpus import remove_file

    settings = _settings(seeds=seeds, db=db)
    if not yes:
        click.confirm(f"Remove {name} from the corpus?", abort=True)
    actor = _cli_actor()
    _corpus_change(settings, lambda state: remove_file(state, name, actor), actor)
    click.echo(f"removed {name}")


@main.command()
@seeds_option
@db_option
@click.option("--version", "version", type=int, default=None, metavar="N",
              help="The content the corpus stored at version N (default: the newest earlier one).")
@click.option("--list", "listing", is_flag=True, help="List the earlier versions of NAME instead.")
@click.argument("name")
def restore(seeds: Path, db: Path, version: int | None, listing: bool, name: str) -> None:
    """Bring back an earlier content of the file NAME from the corpus' history (replaced or removed).

    \b
        factbot restore 030_catl.txt --list
        factbot restore 030_catl.txt --version 3
    """
    from store.corpus import history, restore_file

    settings = _settings(seeds=seeds, db=db)
    actor = _cli_actor()
    if listing:
        from bot.app import open_state

        state = open_state(settings)
        try:
            rows = history(state, name)
        finally:
            state.close()
        if not rows:
            raise click.ClickException(f"no earlier version of {name}")
        for row in rows:
            click.echo(f"version {row['version']}: {row['articles']} articles, {row['facts']} facts, added by "
                       f"{row['added_by']} at {row['added_at']}; {row['why']} by {row['ended_by']} at {row['ended_at']}")
        return
    _corpus_change(settings, lambda state: restore_file(state, name, actor, version=version), actor)
    click.echo(f"restored {name}" + (f" (version {version})" if version else ""))


def _render_result(result, width: int = 100) -> str:
    """A readable answer for the terminal: each fact with where it comes from."""
    import textwrap

    missing = [f"'{w}'" for w in getattr(result, "missing", None) or ()]
    note = f"No fact mentions {', '.join(missing)}." if missing else ""
    if not result.hits:
        return f"No confident match for {result.query!r}." + (f" {note}" if note else "")
    out = [note] if note else []
    for n, hit in enumerate(result.hits, 1):
        out.append(textwrap.fill(hit.text, width, initial_indent=f"{n}. ", subsequent_indent="   "))
        cites = "".join(f"[{c}]" for c in hit.citations)
        out.append(f"   — {hit.article.title} · {hit.article.source} · {hit.article.published.replace('T', ' ')}"
                   f" · {hit.section}" + (f" · {cites}" if cites else ""))
        for other in getattr(hit, "also", None) or ():  # other outlets' reports of the same fact
            cites = "".join(f"[{c}]" for c in other.citations)
            out.append(f"   also reported by {other.source} · {other.published.replace('T', ' ')} · {other.title}"
                       + (f" · {cites}" if cites else ""))
    return "\n".join(out)


@main.command()
@seeds_option
@db_option
@click.option("--limit", "-n", type=click.IntRange(1, 50), default=5, show_default=True,
              help="How many facts to show.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object per query.")
@click.option("--queries", metavar="FILE", default=None,
              help="Answer one query per line of FILE ('-' for standard input), in one process.")
@click.option("--explain", is_flag=True,
              help="Show the query's plan too: its word groups, what may stand for each word, and their weights.")
@click.argument("query", nargs=-1)
def ask(seeds, db, limit, as_json, queries, explain, query) -> None:
    """Answer QUERY from the index (built from the seeds first if the database is new).

    \b
        factbot ask ipo seres
        factbot ask --json --limit 3 "azure margins"
        factbot ask --json --queries questions.txt
        factbot ask --explain "azure margins"
    """
    from store import Index

    if not query and queries is None:
        raise click.UsageError("give a QUERY or --queries FILE")
    s = _settings(seeds=seeds, db=db)
    _check_db(s.db_path, write=not s.db_path.exists())
    built_before = _last_reload_id(s.db_path)
    with _refusal():
        index = Index.open(s.db_path, seeds=s.seeds, progress=_progress(as_json), glossary=s.glossary, aliases=s.aliases,
                           related_words=s.related_words, semantic=s.semantic, workers=s.reload_workers)
    _say_what_the_build_left_out(index, s.seeds, built_before)
    if queries is not None:
        # split on "\n" only (no universal newlines): a blank line is a query too and gets its answer
        try:
            raw = sys.stdin.buffer.read() if queries == "-" else Path(queries).read_bytes()
        except OSError as exc:
            raise click.BadParameter(f"cannot read {queries}: {exc.strerror}", param_hint="--queries") from None
        lines = raw.decode("utf-8", errors="replace").split("\n")
        if lines and lines[-1] == "":
            lines.pop()
    else:
        lines = [" ".join(query)]
    from handlers.markup import clean_text  # the cleaning the shell and Slack apply (emoji, mentions)

    from store.plan import MAX_QUERY_CHARS

    for line in lines:
        if len(line) > MAX_QUERY_CHARS:  # the search reads no further: say so, and echo what it read
            click.echo(f"note: the question was cut to its first {MAX_QUERY_CHARS:,} characters (of {len(line):,})",
                       err=True)
            line = line[:MAX_QUERY_CHARS]
        result = index.search(clean_text(line), limit=limit)
        result.query = line  # the answer names the question as it was asked
        plan = index.searcher().explain(clean_text(line)) if explain else None
        if as_json:
            out = result.to_json()
            if plan is not None:
                out["plan"] = plan.to_json()
            click.echo(json.dumps(out, ensure_ascii=False))
        else:
            if plan is not None:
                click.echo(plan.describe())
            click.echo(_render_result(result))
            if len(lines) > 1:
                click.echo()


@main.command()
@db_option
@click.option("--since", default=None, metavar="DURATION",
              help="Only what happened in the last DURATION: 7d, 24h, 30m, 2w (default: everything kept).")
@click.option("--limit", "-n", type=click.IntRange(1, 1000), default=20, show_default=True,
              help="How many queries and answers to list.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def report(db: Path, since: str | None, limit: int, as_json: bool) -> None:
    """The most frequent questions without a confident answer, and the down-voted answers.

    Read from the state store; records older than FACTBOT_LOG_DAYS are deleted. A down-voted
    answer comes with the facts it showed, as far as the index still holds them.

    \b
        factbot report --since 7d
        factbot report --json
    """
    from bot.app import open_records
    from store.records import parse_since

    try:
        window = parse_since(since) if since is not None else None
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--since") from None
    from bot.app import StartupError

    settings = _settings(db=db)
    _check_db(settings.db_path)
    try:
        result = open_records(settings).report(since=window, limit=limit)
    except StartupError as exc:  # a state store it cannot open (a newer factbot's, an unreachable one)
        raise click.ClickException(str(exc)) from None
    facts = _voted_facts(settings, [i for d in result.downvoted for i in d.fact_ids])
    if as_json:
        data = result.to_json()
        for entry in data["downvoted"]:  # the facts that answer showed, as far as they are still indexed
            entry["facts"] = [facts[i] for i in entry["fact_ids"] if i in facts]
        click.echo(json.dumps(data, ensure_ascii=False))
    else:
        click.echo(result.render(facts))


def _voted_facts(settings: Settings, ids: list[int]) -> dict[int, dict]:
    """The down-voted facts' texts from the index, when there is one."""
    if not ids or not settings.db_path.exists():
        return {}
    from store import Index
    from store.overview import facts_by_id

    index = Index(settings.db_path)
    try:
        return facts_by_id(index, ids)
    finally:
        index.close()


@main.command()
@db_option
@click.option("--index", "with_index", is_flag=True,
              help="Also copy the index (DEST is then a folder): not needed to restore, it is rebuilt from the seeds.")
@click.argument("dest", type=click.Path(path_type=Path))
def backup(db: Path, with_index: bool, dest: Path) -> None:
    """A consistent copy of the state store (votes, unanswered questions, claims), safe while factbot runs.

    DEST is a file, or a folder that gets the state store's own file name. SQLite's online backup
    API copies the database as of one moment. With DATABASE_URL the state store is PostgreSQL:
    back it up with pg_dump (docs/operations.md).

    \b
        factbot backup /backups/factbot-$(date +%F).state.db
        factbot backup --index /backups/$(date +%F)/
    """
    from bot.backup import BackupError, backup_sqlite
    from store.state import state_url

    settings = _settings(db=db)
    _check_db(settings.db_path)
    if settings.database_url:
        raise click.ClickException(
            "the state store is PostgreSQL (DATABASE_URL): back it up with pg_dump, e.g."
            " pg_dump --format=custom --file=factbot.dump \"$DATABASE_URL\" (see docs/operations.md)")
    state = Path(state_url(None, settings.db_path).removeprefix("sqlite:///"))
    if with_index or dest.is_dir() or str(dest).endswith("/"):
        copies = [(state, dest / state.name)] + ([(settings.db_path, dest / settings.db_path.name)] if with_index else [])
    else:
        copies = [(state, dest)]
    for source, target in copies:
        if target.resolve() == source.resolve():
            raise click.ClickException(f"{target} is the file being backed up: choose another DEST")
        try:
            copied = backup_sqlite(source, target)
        except (BackupError, OSError) as exc:
            raise click.ClickException(str(exc) if isinstance(exc, BackupError) else
                                       f"cannot write {target}: {exc.strerror or exc}") from None
        click.echo(f"backed up {copied.summary()}")


# --- Slack run modes and the app manifest (bot/serve.py, bot/socket_mode.py, bot/shell.py, bot/manifest.py) ---

host_option = click.option("--host", default="0.0.0.0", show_default=True, help="Interface to listen on (HTTP mode).")
port_option = click.option("--port", type=click.IntRange(1, 65535), envvar=ENV_PORT, show_envvar=True,
                           default=DEFAULT_PORT, show_default=True, help="Port to listen on (HTTP mode).")


def _slack_mode(mode: str, host: str = "0.0.0.0", port: int | None = None) -> None:
    """Start the bot in HTTP ("http") or Socket Mode ("socket"); errors are one line, without secrets.

    /healthz, /readyz and /metrics (bot/health.py) answer on FACTBOT_HEALTH_PORT, when set, from
    before the index is built, and on `serve`'s own port. The seeds folder is watched (bot/watch.py)
    unless FACTBOT_WATCH=off."""
    from bot.app import StartupError, boot
    from bot.health import Endpoints, Health, HealthServer
    from bot.metrics import Metrics
    from store import ReloadRefused

    settings = _settings(port=port)
    _check_db(settings.db_path, label="FACTBOT_DB")
    metrics = Metrics()
    health = Health(reason="opening the index (building it from the seeds when it is new)")
    endpoints = Endpoints(health, metrics)
    health_server = watcher = app = None
    try:
        if settings.health_port:
            try:
                health_server = HealthServer(endpoints, settings.health_host, settings.health_port).start()
            except OSError as exc:
                raise ConfigError(f"cannot listen on FACTBOT_HEALTH_PORT {settings.health_port}"
                                  f" ({settings.health_host}): {exc.strerror or exc}") from None
        if mode == "socket":
            app, index = boot(settings, "SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", metrics=metrics)
            health.attach(index, semantic=settings.semantic)
            watcher = _watch(settings, app, index)
            from bot import socket_mode

            try:
                socket_mode.run(app, settings.slack_app_token, index, connections=settings.socket_connections)
            except socket_mode.SocketModeError as exc:
                raise StartupError(str(exc)) from None
        else:
            app, index = boot(settings, "SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", metrics=metrics)
            health.attach(index, semantic=settings.semantic)
            watcher = _watch(settings, app, index)
            from bot import serve as http

            http.serve(app, index, host=host, port=settings.port, endpoints=endpoints,
                       limits=http.Limits.from_settings(settings))
    except ReloadRefused as exc:
        raise click.ClickException(f"reload refused: {exc}") from None
    except (ConfigError, StartupError) as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        if watcher is not None:
            watcher.stop()
        if app is not None:  # the answers and reloads under way finish before the process ends
            from bot.app import drain

            drain(app)
        if health_server is not None:
            health_server.close()


def _watch(settings: Settings, app, index):
    """The seeds folder watched: a reload (actor "watch") after each burst of changes; the admins
    told by DM when one fails. None with FACTBOT_WATCH=off."""
    if not settings.watch:
        import logging

        logging.getLogger("factbot.watch").info("the seeds folder is not watched (FACTBOT_WATCH=off)")
        return None
    from bot.watch import SeedWatcher, admin_messenger

    return SeedWatcher(settings.seeds, lambda: index.reload(actor="watch", wait=True),
                       admin_messenger(app.client, settings.admin_users)).start()


@main.command()
@host_option
@port_option
def serve(host: str, port: int) -> None:
    """Answer Slack over HTTP (waitress): POST /slack/events, GET /healthz, /readyz, /metrics.

    Needs SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET.
    """
    _slack_mode("http", host, port)


@main.command("socket")
def socket_cmd() -> None:
    """Answer Slack in Socket Mode (no public URL). Needs SLACK_BOT_TOKEN and SLACK_APP_TOKEN."""
    _slack_mode("socket")


@main.command()
@host_option
@port_option
def run(host: str, port: int) -> None:
    """Socket Mode when SLACK_APP_TOKEN is set, else HTTP (like `serve`)."""
    _slack_mode("socket" if _settings().slack_app_token else "http", host, port)


@main.command()
@seeds_option
@db_option
def shell(seeds: Path, db: Path) -> None:
    """The same bot in this terminal, no Slack: `/ipo seres`, `@factbot fairwater 2`, plain text.

    Reads a pipe too (one question a line) and exits at end of input.

    \b
        printf '/ipo seres\\n@factbot fairwater 2\\n' | factbot shell
    """
    from bot import shell as shell_mode
    from bot.app import open_index
    from handlers.core import Factbot

    settings = _settings(seeds=seeds, db=db)
    _check_db(settings.db_path)
    with _refusal():
        index = open_index(settings)
    from store.state import State
    from store.threads import Threads

    threads = Threads(State.open("sqlite://").engine, keep_days=settings.log_days)  # the session's, in memory
    sys.exit(shell_mode.run(Factbot(index, settings, threads=threads)))


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of YAML.")
@click.option("--url", default=None, metavar="URL",
              help="Public base URL for HTTP mode (request URLs become URL/slack/events); without it, Socket Mode.")
def manifest(as_json: bool, url: str | None) -> None:
    """Print the Slack app manifest for this configuration."""
    from bot.manifest import build_manifest, to_json, to_yaml

    try:
        data = build_manifest(_settings(), url=url)
    except ValueError as exc:
        raise click.BadParameter(str(exc).removeprefix("--url "), param_hint="--url") from None
    click.echo(to_json(data) if as_json else to_yaml(data))
