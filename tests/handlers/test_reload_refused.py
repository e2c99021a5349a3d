"""A reload the store refuses (it would empty the index) tells the admin why; nothing is lost."""
from __future__ import annotations

import shutil

from tests.slack_standin import copy_seeds


def test_the_admin_is_told_why_a_reload_was_refused(tmp_path):
    from bot.config import Settings
    from handlers.core import Factbot
    from store import Index

    seeds = copy_seeds(tmp_path / "seeds")
    index = Index.open(tmp_path / "factbot.db", seeds=seeds)
    bot = Factbot(index, Settings(seeds=seeds, db=tmp_path / "factbot.db", admin_users=("U0ADMIN",)))
    shutil.rmtree(seeds)  # the volume is not mounted
    message = bot.reload("slack:U0ADMIN")
    assert "refused" in message.text and "no seed files" in message.text and "does not exist" in message.text
    assert str(seeds) in message.text
    assert "The reload failed" not in message.text
    assert index.counts() == (2, 31) and len(index.reloads()) == 1
    index.close()


def test_the_admin_is_told_why_a_reload_failed_midway(tmp_path, monkeypatch):
    """A worker process that dies mid-reload (store.ReloadFailed): the admin reads the reason, not
    just an exception's name; the index is as it was."""
    from bot.config import Settings
    from handlers.core import Factbot
    from store import Index
    from store import reload as reload_module
    from store.prepare import WorkerDied

    seeds = copy_seeds(tmp_path / "seeds")
    index = Index.open(tmp_path / "factbot.db", seeds=seeds)
    bot = Factbot(index, Settings(seeds=seeds, db=tmp_path / "factbot.db", admin_users=("U0ADMIN",)))
    (seeds / "new.txt").write_text((seeds / next(p.name for p in seeds.iterdir())).read_text(encoding="utf-8")
                                   .replace("赛力斯", "赛力斯集团"), encoding="utf-8")

    def dies(jobs, workers, **kw):
        raise WorkerDied("a worker process parsing the seeds ended before it was done (killed, or out of memory)")
        yield  # a generator, as the real one

    monkeypatch.setattr(reload_module, "prepared_in_order", dies)
    message = bot.reload("slack:U0ADMIN")
    assert "The reload failed: a worker process parsing the seeds ended before it was done" in message.text
    assert "the index is as it was" in message.text
    assert index.counts() == (2, 31) and len(index.reloads()) == 1
    index.close()
