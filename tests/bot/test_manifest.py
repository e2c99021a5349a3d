"""`factbot manifest`: the Slack app manifest, valid against SchemaStore's schema, in both modes."""
from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import yaml
from click.testing import CliRunner

from bot.cli import main
from bot.config import Settings
from bot.manifest import build_manifest, to_yaml

ROOT = Path(__file__).resolve().parents[2]
# the shared material sits beside the repository (../shared), wherever the clone is
SHARED_SCHEMA = json.loads((ROOT.parent / "shared" / "schemas" / "slack-app-manifest.schema.json").read_text("utf-8"))
# SchemaStore's schema predates Slack's AI surfaces: it has neither features.agent_view nor
# features.assistant_view (and features allows no other key). The manifests are checked against it
# with those two added as Slack documents them, and nothing else changed.
_PROMPTS = {"type": "array", "maxItems": 4, "items": {
    "type": "object", "properties": {"title": {"type": "string"}, "message": {"type": "string"}},
    "required": ["title", "message"], "additionalProperties": False}}
SCHEMA = json.loads(json.dumps(SHARED_SCHEMA))
SCHEMA["properties"]["features"]["properties"].update({
    "agent_view": {"type": "object", "properties": {
        "agent_description": {"type": "string", "minLength": 1}, "suggested_prompts": _PROMPTS},
        "required": ["agent_description"], "additionalProperties": False},
    "assistant_view": {"type": "object", "properties": {
        "assistant_description": {"type": "string", "minLength": 1}, "suggested_prompts": _PROMPTS},
        "required": ["assistant_description"], "additionalProperties": False},
})


NO_INDEX = ROOT / "tests" / "no-such-index.db"


def _cli(args: list[str], **env: str) -> str:
    base = {k: "" for k in ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN", "FACTBOT_COMMANDS",
                            "FACTBOT_ADMIN_USERS", "FACTBOT_WORKSPACE_ADMINS", "FACTBOT_MAX_UPLOAD_MB",
                            "FACTBOT_AGENT_VIEW")}
    base["FACTBOT_DB"] = str(NO_INDEX)  # general words, whatever the working directory holds
    base.update(env)
    result = CliRunner().invoke(main, args, env={k: v or None for k, v in base.items()})
    assert result.exit_code == 0, result.output
    return result.output


def test_socket_mode_manifest_is_valid():
    data = json.loads(_cli(["manifest", "--json"], FACTBOT_AGENT_VIEW="off"))
    jsonschema.validate(data, SHARED_SCHEMA)  # without the agent view, SchemaStore's schema as it is
    jsonschema.validate(data, SCHEMA)
    settings = data["settings"]
    assert settings["socket_mode_enabled"] is True
    assert "request_url" not in settings["event_subscriptions"] and "request_url" not in settings["interactivity"]
    assert settings["interactivity"]["is_enabled"] is True
    assert settings["event_subscriptions"]["bot_events"] == ["app_home_opened", "app_mention", "message.im"]
    assert [c["command"] for c in data["features"]["slash_commands"]] == ["/factbot", "/ipo", "/azure"]
    assert all("url" not in c for c in data["features"]["slash_commands"])
    assert data["oauth_config"]["scopes"]["bot"] == ["app_mentions:read", "chat:write", "commands", "im:history"]
    assert data["features"]["bot_user"]["display_name"] == "factbot"
    assert data["display_information"]["name"] == "factbot"


def test_home_tab_message_shortcut_and_the_upload_scope_only_when_someone_can_upload():
    data = json.loads(_cli(["manifest", "--json"], FACTBOT_ADMIN_USERS="U0ADMIN"))
    jsonschema.validate(data, SCHEMA)
    assert data["features"]["app_home"]["home_tab_enabled"] is True
    assert data["features"]["shortcuts"] == [{
        "name": "Find facts about this message", "type": "message", "callback_id": "factbot_find_facts",
        "description": "Show only you the indexed facts that match this message's text"}]
    assert "files:read" in data["oauth_config"]["scopes"]["bot"]
    for env in ({"FACTBOT_ADMIN_USERS": ""}, {"FACTBOT_ADMIN_USERS": "U0ADMIN", "FACTBOT_MAX_UPLOAD_MB": "0"}):
        data = json.loads(_cli(["manifest", "--json"], **env))
        jsonschema.validate(data, SCHEMA)
        assert "files:read" not in data["oauth_config"]["scopes"]["bot"]  # nobody can add an export
    data = json.loads(_cli(["manifest", "--json"], FACTBOT_WORKSPACE_ADMINS="true"))
    assert "files:read" in data["oauth_config"]["scopes"]["bot"]


def test_a_scope_is_asked_for_only_when_a_setting_uses_it():
    # assistant:write (status, suggested prompts, titles) only while an AI surface is on
    assert "assistant:write" in json.loads(_cli(["manifest", "--json"]))["oauth_config"]["scopes"]["bot"]
    assert "assistant:write" not in json.loads(_cli(["manifest", "--json"], FACTBOT_AGENT_VIEW="off"))["oauth_config"]["scopes"]["bot"]
    # users:read serves only the workspace-admin check of FACTBOT_WORKSPACE_ADMINS=true
    assert "users:read" not in json.loads(_cli(["manifest", "--json"]))["oauth_config"]["scopes"]["bot"]
    assert "users:read" not in json.loads(_cli(["manifest", "--json"], FACTBOT_WORKSPACE_ADMINS="false",
                                               FACTBOT_ADMIN_USERS="U0ADMIN"))["oauth_config"]["scopes"]["bot"]
    data = json.loads(_cli(["manifest", "--json"], FACTBOT_WORKSPACE_ADMINS="true"))
    jsonschema.validate(data, SCHEMA)
    assert "users:read" in data["oauth_config"]["scopes"]["bot"]


def test_http_manifest_points_every_request_url_at_slack_events():
    data = json.loads(_cli(["manifest", "--json", "--url", "https://factbot.example.com/"],
                           FACTBOT_COMMANDS="/ipo,/azure,chips"))
    jsonschema.validate(data, SCHEMA)
    url = "https://factbot.example.com/slack/events"
    assert data["settings"]["socket_mode_enabled"] is False
    assert data["settings"]["event_subscriptions"]["request_url"] == url
    assert data["settings"]["interactivity"]["request_url"] == url
    assert [c["command"] for c in data["features"]["slash_commands"]] == ["/factbot", "/ipo", "/azure", "/chips"]
    assert {c["url"] for c in data["features"]["slash_commands"]} == {url}


def test_an_app_token_means_socket_mode_even_with_a_url():
    data = json.loads(_cli(["manifest", "--json", "--url", "https://x.example"], SLACK_APP_TOKEN="xapp-1-x"))
    jsonschema.validate(data, SCHEMA)
    assert data["settings"]["socket_mode_enabled"] is True
    assert "request_url" not in data["settings"]["interactivity"]


def test_default_output_is_readable_yaml_of_the_same_manifest():
    text = _cli(["manifest", "--url", "https://factbot.example.com"])
    assert text.startswith("_metadata:\n  major_version: 1\n")
    assert "\n  bot_user:\n    display_name: factbot\n" in text
    assert "\n  - command: /factbot\n" in text
    assert "socket_mode_enabled: false" in text
    assert yaml.safe_load(text) == build_manifest(Settings(db=NO_INDEX), url="https://factbot.example.com")


@pytest.mark.parametrize("url", [None, "https://factbot.example.com"])
def test_yaml_round_trips(url):
    manifest = build_manifest(Settings(commands=("/ipo", "/azure: x", "/yes")), url=url)
    assert yaml.safe_load(to_yaml(manifest)) == manifest


def test_the_agent_view_is_on_by_default_in_general_words_without_an_index():
    data = json.loads(_cli(["manifest", "--json"]))
    jsonschema.validate(data, SCHEMA)
    with pytest.raises(jsonschema.ValidationError):  # what the shared schema cannot know yet
        jsonschema.validate(data, SHARED_SCHEMA)
    from bot.manifest import GENERAL_AGENT_DESCRIPTION

    assert data["features"]["agent_view"] == {"agent_description": GENERAL_AGENT_DESCRIPTION}
    assert "assistant_view" not in data["features"]
    assert data["settings"]["event_subscriptions"]["bot_events"] == ["app_home_opened", "app_mention", "message.im"]
    off = json.loads(_cli(["manifest", "--json"], FACTBOT_AGENT_VIEW="off"))
    assert "agent_view" not in off["features"] and "assistant_view" not in off["features"]


def test_the_older_assistant_view_listens_to_assistant_threads():
    data = json.loads(_cli(["manifest", "--json"], FACTBOT_AGENT_VIEW="assistant"))
    jsonschema.validate(data, SCHEMA)
    assert "agent_view" not in data["features"] and data["features"]["assistant_view"]["assistant_description"]
    assert {"assistant_thread_started", "assistant_thread_context_changed", "message.im"} <= set(
        data["settings"]["event_subscriptions"]["bot_events"])
    assert "assistant:write" in data["oauth_config"]["scopes"]["bot"]
    result = CliRunner().invoke(main, ["manifest"], env={"FACTBOT_AGENT_VIEW": "sometimes"})
    assert result.exit_code != 0 and "FACTBOT_AGENT_VIEW must be on, assistant or off" in result.output


def test_the_agent_description_is_drawn_from_the_index(tmp_path):
    from store import Index
    from store.overview import overview
    from tests.generated import corpus

    seeds = tmp_path / "seeds"
    seeds.mkdir()
    corpus(seeds, facts=300, seed=24)
    db = tmp_path / "factbot.db"
    index = Index.open(db, seeds=seeds, semantic=False)
    seen = overview(index, newest=0, names=4, topics=0, examples=0)
    names = [name for name, _ in seen.names]
    index.close()
    data = json.loads(_cli(["manifest", "--json"], FACTBOT_DB=str(db), FACTBOT_SEEDS=str(seeds)))
    jsonschema.validate(data, SCHEMA)
    text = data["features"]["agent_view"]["agent_description"]
    assert f"({seen.articles} articles," in text and names and all(name in text for name in names)
