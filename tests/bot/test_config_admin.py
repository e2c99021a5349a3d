"""FACTBOT_MAX_UPLOAD_MB, FACTBOT_LOG_DAYS and FACTBOT_RELOAD_WORKERS: defaults, and a one-line
error naming a bad value."""
from __future__ import annotations

import pytest

from bot.config import ConfigError, Settings


def test_defaults_and_values():
    assert (Settings.from_env({}).max_upload_mb, Settings.from_env({}).log_days) == (20.0, 90)
    settings = Settings.from_env({"FACTBOT_MAX_UPLOAD_MB": "0.5", "FACTBOT_LOG_DAYS": "7"})
    assert (settings.max_upload_mb, settings.log_days) == (0.5, 7)
    assert Settings.from_env({"FACTBOT_MAX_UPLOAD_MB": "0"}).max_upload_mb == 0


@pytest.mark.parametrize("env, named", [
    ({"FACTBOT_MAX_UPLOAD_MB": "lots"}, "FACTBOT_MAX_UPLOAD_MB"),
    ({"FACTBOT_MAX_UPLOAD_MB": "-1"}, "FACTBOT_MAX_UPLOAD_MB"),
    ({"FACTBOT_MAX_UPLOAD_MB": "inf"}, "FACTBOT_MAX_UPLOAD_MB"),
    ({"FACTBOT_MAX_UPLOAD_MB": "nan"}, "FACTBOT_MAX_UPLOAD_MB"),
    ({"FACTBOT_LOG_DAYS": "1.5"}, "FACTBOT_LOG_DAYS"),
    ({"FACTBOT_LOG_DAYS": "0"}, "FACTBOT_LOG_DAYS"),
    ({"FACTBOT_RELOAD_WORKERS": "two"}, "FACTBOT_RELOAD_WORKERS"),
    ({"FACTBOT_RELOAD_WORKERS": "-1"}, "FACTBOT_RELOAD_WORKERS"),
    ({"FACTBOT_RELOAD_WORKERS": "1.5"}, "FACTBOT_RELOAD_WORKERS"),
])
def test_a_bad_value_is_a_one_line_error_naming_the_setting(env, named):
    with pytest.raises(ConfigError) as error:
        Settings.from_env(env)
    assert str(error.value).startswith(named) and "\n" not in str(error.value)


@pytest.mark.parametrize("value, workers", [(None, None), ("auto", None), (" AUTO ", None), ("0", 0), ("3", 3)])
def test_reload_workers_reach_the_index(value, workers, tmp_path, monkeypatch):
    from bot.app import open_index
    from tests.store.conftest import SEED

    env = {} if value is None else {"FACTBOT_RELOAD_WORKERS": value}
    settings = Settings.from_env(env, seeds=SEED.parent, db=tmp_path / "f.db", semantic=False)
    assert settings.reload_workers == workers
    index = open_index(settings)
    try:
        assert index.workers == workers
    finally:
        index.close()
