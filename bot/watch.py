"""The seeds folder watched (watchfiles): an export added, changed or removed is reloaded within
seconds, with no command.

watchfiles (the Rust `notify` crate: inotify on Linux, FSEvents, ReadDirectoryChangesW; polling
where none works, as on some network mounts) groups the changes of a burst: they are handed over
once the folder has been quiet for QUIET_MS, or after MAX_WAIT_MS of constant changes, so copying
a hundred exports is one reload. Changes made while a reload runs are handed over after it, as the
next reload. Only the files a reload reads count (store.index.is_seed_name: hidden files and
folders, such as an upload's temporary file, do not).

Each reload is logged; the admins (FACTBOT_ADMIN_USERS) are told by DM only when one fails or is
refused (a file that does not parse, a folder that went missing). FACTBOT_WATCH=off turns the
watch off (reloads then come from `factbot reload`, `/factbot reload` or the Home tab).
"""
from __future__ import annotations

import logging
import threading
import time
from pathlib import Path
from typing import Any, Callable

log = logging.getLogger("factbot.watch")

QUIET_MS = 500  # a burst ends once nothing changed for this long
MAX_WAIT_MS = 5000  # ... or after this long, however busy the folder is
RETRY_S = 2.0  # a missing folder (not mounted yet) is looked for again this often


class SeedWatcher:
    """Watch `folder` in a thread and call `reload()` after each burst of changes to its seed files.

    `reload` returns a store ReloadReport (or raises ReloadRefused, ReloadFailed, StateError);
    `tell_admins(report_or_error)` is called when it failed (any file failed, or it raised).
    `on_reload(names, outcome)` is called after each reload (tests and logs)."""

    def __init__(self, folder: Path | str, reload: Callable[[], Any],
                 tell_admins: Callable[[Any], None] | None = None, *, quiet_ms: int = QUIET_MS,
                 max_wait_ms: int = MAX_WAIT_MS, on_reload: Callable[[list[str], Any], None] | None = None):
        self.folder = Path(folder)
        self.reload = reload
        self.tell_admins = tell_admins
        self.quiet_ms = quiet_ms
        self.max_wait_ms = max_wait_ms
        self.on_reload = on_reload
        self.reloads = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.watching = threading.Event()  # set once the folder is being watched

    def start(self) -> "SeedWatcher":
        self._thread = threading.Thread(target=self._run, name="factbot-watch", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _seed_change(self, change: Any, path: str) -> bool:
        from store.index import is_seed_name

        try:
            name = Path(path).relative_to(self.folder.resolve()).as_posix()
        except ValueError:
            try:
                name = Path(path).relative_to(self.folder).as_posix()
            except ValueError:
                return False
        return is_seed_name(name)

    def _run(self) -> None:
        from watchfiles import watch

        missing_logged = False
        while not self._stop.is_set():
            if not self.folder.is_dir():
                if not missing_logged:
                    log.warning("not watching %s yet: the folder does not exist (looking again every %.0f s)",
                                self.folder, RETRY_S)
                    missing_logged = True
                self._stop.wait(RETRY_S)
                continue
            missing_logged = False
            try:
                log.info("watching %s for exports added, changed or removed", self.folder)
                self.watching.set()
                for changes in watch(self.folder, watch_filter=self._seed_change, debounce=self.max_wait_ms,
                                     step=self.quiet_ms, stop_event=self._stop, rust_timeout=1000,
                                     raise_interrupt=False):
                    self._changed(changes)
                    if not self.folder.is_dir():  # removed or unmounted: wait for it to come back
                        break
            except Exception as exc:  # noqa: BLE001 - the watch must outlive a vanished folder
                self.watching.clear()
                if self._stop.is_set():
                    return
                log.warning("watching %s stopped (%s: %s); trying again in %.0f s", self.folder,
                            type(exc).__name__, exc, RETRY_S)
                self._stop.wait(RETRY_S)

    def _changed(self, changes: set) -> None:
        root = self.folder.resolve()
        names = sorted({_relative(path, root) for _, path in changes})
        shown = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
        log.info("seeds folder changed (%d file%s: %s): reloading", len(names), "" if len(names) == 1 else "s", shown)
        started = time.perf_counter()
        try:
            outcome = self.reload()
        except Exception as exc:  # noqa: BLE001 - ReloadRefused, ReloadFailed, StateError, ...
            outcome = exc
            log.warning("reload after the seeds folder changed: not done: %s: %s", type(exc).__name__, exc)
        else:
            summary = outcome.summary() if hasattr(outcome, "summary") else str(outcome)
            log.info("reload after the seeds folder changed (%.2f s): %s", time.perf_counter() - started, summary)
        self.reloads += 1
        failed = isinstance(outcome, Exception) or not getattr(outcome, "ok", True)
        if failed and self.tell_admins is not None:
            try:
                self.tell_admins(outcome)
            except Exception as exc:  # noqa: BLE001 - telling is a nicety; the log has it all
                log.error("could not tell the admins about the failed reload: %s", type(exc).__name__)
        if self.on_reload is not None:
            self.on_reload(names, outcome)


def _relative(path: str, root: Path) -> str:
    try:
        return Path(path).relative_to(root).as_posix()
    except ValueError:
        return Path(path).name


def admin_messenger(client: Any, admins: tuple[str, ...]) -> Callable[[Any], None]:
    """tell_admins for SeedWatcher: a DM to each user of FACTBOT_ADMIN_USERS with the reload's report
    (every failed file with its reasons) or why it was not done."""
    from handlers.delivery import post_message
    from handlers.render import escape, render_notice, render_reload_report

    def tell(outcome: Any) -> None:
        if isinstance(outcome, Exception):
            message = render_notice("The seeds folder changed, and the reload that followed was not done: "
                                    f"{escape(str(outcome))}. The index is unchanged.")
        else:
            message = render_reload_report(outcome)
        for user in admins:
            result = post_message(client, user, message)
            if not result.get("ok"):
                log.error("telling admin %s about the failed reload: %s", user, result.get("error"))

    return tell
