"""Tests of the Slack Web API stand-in itself (sandbox/standin)."""

from __future__ import annotations

import json
import threading
import time
import urllib.request

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from sandbox.standin import SlackStandin

TOKEN = "xoxb-test-token"
SECTION = {"type": "section", "text": {"type": "mrkdwn", "text": "*hello*"}}


def modal(title="相談を受け付ける", **extra):
    return {
        "type": "modal",
        "callback_id": "intake",
        "title": {"type": "plain_text", "text": title},
        "submit": {"type": "plain_text", "text": "送信"},
        "blocks": [
            {
                "type": "input",
                "block_id": "summary",
                "label": {"type": "plain_text", "text": "概要"},
                "element": {"type": "plain_text_input", "action_id": "value"},
            }
        ],
        **extra,
    }


@pytest.fixture
def standin():
    with SlackStandin(token=TOKEN) as s:
        s.add_channel("C1", name="general")
        s.add_channel("COUT", member=False)
        s.add_channel("GSECRET", member=False, is_private=True)
        s.add_user("U1", name="hanako")
        yield s


@pytest.fixture
def client(standin):
    return WebClient(token=TOKEN, base_url=standin.base_url, retry_handlers=[])


def api_error(call) -> SlackApiError:
    with pytest.raises(SlackApiError) as info:
        call()
    return info.value


# ---------------------------------------------------------------- auth, plumbing


def test_auth_test_and_token_checks(standin, client):
    assert client.auth_test()["user_id"] == "UBOT"
    bad = WebClient(token="xoxb-wrong", base_url=standin.base_url, retry_handlers=[])
    assert api_error(bad.auth_test).response["error"] == "invalid_auth"
    anonymous = WebClient(base_url=standin.base_url, retry_handlers=[])
    assert api_error(anonymous.auth_test).response["error"] == "not_authed"
    assert [c.ok for c in standin.calls_to("auth.test")] == [True, False, False]


def test_unknown_method(client, standin):
    err = api_error(lambda: client.api_call("chat.doesNotExist"))
    assert err.response.status_code == 200
    assert err.response["error"] == "unknown_method"
    assert standin.calls[-1].error == "unknown_method"


def test_form_encoded_body_with_json_string_blocks(standin):
    body = {"token": TOKEN, "channel": "C1", "text": "fallback", "blocks": json.dumps([SECTION])}
    data = urllib.parse.urlencode(body).encode()
    with urllib.request.urlopen(standin.base_url + "chat.postMessage", data=data) as resp:
        assert json.loads(resp.read())["ok"] is True
    [message] = standin.messages("C1")
    assert message["blocks"] == [SECTION]
    call = standin.calls_to("chat.postMessage")[0]
    assert call.args["blocks"] == [SECTION] and "token" not in call.args


# ---------------------------------------------------------------- chat.*


def test_valid_message_is_accepted_and_stored(standin, client):
    first = client.chat_postMessage(channel="C1", text="one", blocks=[SECTION])
    second = client.chat_postMessage(channel="#general", text="two")
    assert first["channel"] == "C1" and first["message"]["blocks"] == [SECTION]
    assert float(second["ts"]) > float(first["ts"])
    assert [m["text"] for m in standin.messages("C1")] == ["one", "two"]
    assert standin.messages()[0] == {
        "channel": "C1",
        "ts": first["ts"],
        "text": "one",
        "blocks": [SECTION],
        "metadata": None,
        "thread_ts": None,
    }


@pytest.mark.parametrize(
    ("blocks", "needle"),
    [
        ([{"type": "section", "text": {"type": "mrkdwn", "text": "x" * 3001}}], "/blocks/0/text"),
        ([{"type": "header", "text": {"type": "mrkdwn", "text": "hi"}}], "plain_text"),
        ([{"type": "header", "text": {"type": "plain_text", "text": "h" * 151}}], "/text/text"),
        ([{**SECTION, "colour": "red"}], "colour"),
        ([{"type": "no_such_block"}], "unknown block type"),
        ([SECTION] * 51, "no more than 50"),
        ([{**SECTION, "block_id": "a"}, {**SECTION, "block_id": "a"}], "duplicate block_id"),
        ([{"type": "actions", "elements": []}], "/blocks/0/elements"),
    ],
    ids=[
        "text-3001",
        "header-mrkdwn",
        "header-151",
        "unknown-key",
        "unknown-type",
        "51-blocks",
        "dup-block-id",
        "empty-actions",
    ],
)
def test_invalid_blocks_are_rejected(standin, client, blocks, needle):
    err = api_error(lambda: client.chat_postMessage(channel="C1", text="t", blocks=blocks))
    assert err.response["error"] == "invalid_blocks"
    messages = err.response["response_metadata"]["messages"]
    assert any(needle in m for m in messages), messages
    assert standin.messages() == []
    assert standin.calls[-1].error == "invalid_blocks"


@pytest.mark.filterwarnings("ignore:The top-level `text` argument is missing")
def test_message_argument_errors(standin, client):
    def error_of(**kwargs):
        return api_error(lambda: client.chat_postMessage(**kwargs)).response["error"]

    assert error_of(channel="C1") == "no_text"
    assert error_of(channel="C1", text="x" * 40_001) == "msg_too_long"
    assert error_of(channel="CNOPE", text="hi") == "channel_not_found"
    assert error_of(channel="COUT", text="hi") == "not_in_channel"
    assert error_of(channel="GSECRET", text="hi") == "channel_not_found"
    assert error_of(channel="DU1", text="hi") == "channel_not_found"  # DM not opened yet
    assert error_of(channel="UNOBODY", text="hi") == "channel_not_found"
    bad_metadata = {"event_type": "x"}
    assert error_of(channel="C1", text="hi", metadata=bad_metadata) == "invalid_metadata_format"
    assert standin.messages() == []


def test_dm_by_user_id_and_conversations_open(standin, client):
    assert client.chat_postMessage(channel="U1", text="hi")["channel"] == "DU1"
    opened = client.conversations_open(users="U1")
    assert opened["channel"]["id"] == "DU1" and opened["already_open"] is True
    client.chat_postMessage(channel="DU1", text="again")
    assert [m["text"] for m in standin.messages("DU1")] == ["hi", "again"]
    err = api_error(lambda: client.conversations_open(users="UNOBODY"))
    assert err.response["error"] == "user_not_found"


def test_chat_update_and_delete(standin, client):
    metadata = {"event_type": "case_created", "event_payload": {"case_id": 7}}
    ts = client.chat_postMessage(channel="C1", text="old", metadata=metadata)["ts"]
    client.chat_update(channel="C1", ts=ts, text="new", blocks=[SECTION])
    [message] = standin.messages("C1")
    assert (message["text"], message["blocks"], message["metadata"]) == ("new", [SECTION], metadata)
    err = api_error(lambda: client.chat_update(channel="C1", ts="1.000001", text="x"))
    assert err.response["error"] == "message_not_found"
    bad = [{"type": "header", "text": {"type": "mrkdwn", "text": "x"}}]
    err = api_error(lambda: client.chat_update(channel="C1", ts=ts, text="x", blocks=bad))
    assert err.response["error"] == "invalid_blocks"
    assert standin.messages("C1")[0]["text"] == "new"
    client.chat_delete(channel="C1", ts=ts)
    assert standin.messages() == []


def test_post_ephemeral(standin, client):
    client.chat_postEphemeral(channel="C1", user="U1", text="only you")
    assert [e["text"] for e in standin.ephemerals(user="U1")] == ["only you"]
    err = api_error(lambda: client.chat_postEphemeral(channel="C1", user="UX", text="x"))
    assert err.response["error"] == "user_not_found"
    assert standin.messages() == []


# ---------------------------------------------------------------- views.*


def test_modal_open_and_trigger_is_single_use(standin, client):
    trigger = standin.issue_trigger_id()
    view = client.views_open(trigger_id=trigger, view=modal())["view"]
    assert view["id"].startswith("V") and view["hash"] and view["callback_id"] == "intake"
    again = api_error(lambda: client.views_open(trigger_id=trigger, view=modal()))
    assert again.response["error"] == "exchanged_trigger_id"
    unknown = api_error(lambda: client.views_open(trigger_id="1.2.abc", view=modal()))
    assert unknown.response["error"] == "invalid_trigger_id"
    expiring = standin.issue_trigger_id(ttl=0)
    time.sleep(0.01)
    expired = api_error(lambda: client.views_open(trigger_id=expiring, view=modal()))
    assert expired.response["error"] == "expired_trigger_id"
    assert [v["id"] for v in standin.views_opened()] == [view["id"]]


@pytest.mark.parametrize(
    ("view", "needle"),
    [
        (modal(title="あ" * 25), "/view/title/text"),
        (modal(private_metadata="x" * 3001), "/view/private_metadata"),
        (modal(callback_id="c" * 256), "/view/callback_id"),
        ({k: v for k, v in modal().items() if k != "submit"}, "submit"),  # input needs submit
        (modal(blocks=[{"type": "header", "text": {"type": "mrkdwn", "text": "x"}}]), "plain_text"),
        (modal(blocks=[SECTION] * 101), "100"),
        ({**modal(), "type": "home"}, "type"),
    ],
    ids=[
        "title-25",
        "metadata-3001",
        "callback-256",
        "no-submit",
        "bad-block",
        "101-blocks",
        "wrong-type",
    ],
)
def test_invalid_modal_is_rejected_and_trigger_not_spent(standin, client, view, needle):
    trigger = standin.issue_trigger_id()
    err = api_error(lambda: client.views_open(trigger_id=trigger, view=view))
    assert err.response["error"] == "invalid_arguments"
    messages = err.response["response_metadata"]["messages"]
    assert any(needle in m for m in messages), messages
    assert standin.views_opened() == []
    assert client.views_open(trigger_id=trigger, view=modal())["ok"]


def test_views_push_and_update(standin, client):
    root = client.views_open(trigger_id=standin.issue_trigger_id(), view=modal())["view"]
    pushed = client.views_push(trigger_id=standin.issue_trigger_id(), view=modal("詳細"))["view"]
    assert pushed["previous_view_id"] == root["id"]
    updated = client.views_update(view_id=root["id"], hash=root["hash"], view=modal("更新"))
    assert updated["view"]["id"] == root["id"] and updated["view"]["hash"] != root["hash"]
    stale = api_error(
        lambda: client.views_update(view_id=root["id"], hash=root["hash"], view=modal())
    )
    assert stale.response["error"] == "hash_conflict"
    missing = api_error(lambda: client.views_update(view_id="VNOPE", view=modal()))
    assert missing.response["error"] == "not_found"
    assert [v["title"]["text"] for v in standin.views_opened()] == ["更新", "詳細"]


def test_views_publish_home(standin, client):
    home = {"type": "home", "blocks": [SECTION]}
    client.views_publish(user_id="U1", view=home)
    client.views_publish(user_id="U1", view={**home, "blocks": [SECTION, {"type": "divider"}]})
    assert len(standin.home_views("U1")["blocks"]) == 2
    assert list(standin.home_views()) == ["U1"]
    err = api_error(lambda: client.views_publish(user_id="U1", view=modal()))
    assert err.response["error"] == "invalid_arguments"
    err = api_error(lambda: client.views_publish(user_id="UNOBODY", view=home))
    assert err.response["error"] == "user_not_found"


# ---------------------------------------------------------------- fault injection


def test_429_carries_retry_after(standin, client):
    standin.fail_next("chat.postMessage", status=429, retry_after=7)
    err = api_error(lambda: client.chat_postMessage(channel="C1", text="hi"))
    assert err.response.status_code == 429
    assert err.response.headers["Retry-After"] == "7"
    assert err.response["error"] == "ratelimited"
    assert standin.messages() == []
    assert client.chat_postMessage(channel="C1", text="hi")["ok"]  # only the next call fails
    assert [(c.status, c.ok) for c in standin.calls_to("chat.postMessage")] == [
        (429, False),
        (200, True),
    ]


def test_5xx_and_api_error_injection(standin, client):
    standin.fail_next("views.open", status=503, times=2)
    standin.fail_next("views.open", status=200, error="fatal_error")
    trigger = standin.issue_trigger_id()
    for _ in range(2):
        err = api_error(lambda: client.views_open(trigger_id=trigger, view=modal()))
        assert err.response.status_code == 503
    err = api_error(lambda: client.views_open(trigger_id=trigger, view=modal()))
    assert (err.response.status_code, err.response["error"]) == (200, "fatal_error")
    assert client.views_open(trigger_id=trigger, view=modal())["ok"]  # faults don't spend it


def test_reset_clears_state_but_keeps_channels(standin, client):
    client.chat_postMessage(channel="C1", text="before")
    standin.fail_next("chat.postMessage")
    standin.reset()
    assert standin.calls == [] and standin.messages() == []
    assert client.chat_postMessage(channel="C1", text="hi")["ok"]


# ---------------------------------------------------------------- reading back


def test_history_finds_message_by_metadata(standin, client):
    for case_id in (1, 2, 3):
        metadata = {"event_type": "case_posted", "event_payload": {"case_id": case_id}}
        client.chat_postMessage(channel="C1", text=f"case {case_id}", metadata=metadata)
    parent = standin.messages("C1")[0]["ts"]
    client.chat_postMessage(channel="C1", text="reply", thread_ts=parent)

    history = client.conversations_history(channel="C1", include_all_metadata=True)
    assert [m["text"] for m in history["messages"]] == ["case 3", "case 2", "case 1"]
    found = [m for m in history["messages"] if m["metadata"]["event_payload"]["case_id"] == 2]
    assert found[0]["text"] == "case 2"

    plain = client.conversations_history(channel="C1")
    assert all("metadata" not in m for m in plain["messages"])
    page = client.conversations_history(channel="C1", limit=1)
    assert page["has_more"] and [m["text"] for m in page["messages"]] == ["case 3"]
    newer = client.conversations_history(channel="C1", oldest=parent)
    assert [m["text"] for m in newer["messages"]] == ["case 3", "case 2"]
    replies = client.conversations_replies(channel="C1", ts=parent)
    assert [m["text"] for m in replies["messages"]] == ["case 1", "reply"]
    err = api_error(lambda: client.conversations_history(channel="COUT"))
    assert err.response["error"] == "not_in_channel"


def test_conversations_and_users_info(client):
    assert client.conversations_info(channel="C1")["channel"]["name"] == "general"
    err = api_error(lambda: client.conversations_info(channel="GSECRET"))
    assert err.response["error"] == "channel_not_found"
    assert client.users_info(user="U1")["user"]["name"] == "hanako"
    assert api_error(lambda: client.users_info(user="U9")).response["error"] == "user_not_found"
    assert "UBOT" in client.conversations_members(channel="C1")["members"]


def test_files_upload_v2_round_trip(standin, client):
    content = "日付,件数\n2024-04-01,3\n".encode()
    result = client.files_upload_v2(
        channel="C1",
        content=content,
        filename="report.csv",
        title="月次報告",
        alt_txt="件数の表",
        initial_comment="今月の報告です",
    )
    assert result["file"]["title"] == "月次報告"
    [upload] = standin.uploads("C1")
    assert upload["content"] == content
    assert (upload["title"], upload["alt_txt"], upload["channel_id"]) == (
        "月次報告",
        "件数の表",
        "C1",
    )
    assert upload["initial_comment"] == "今月の報告です"
    err = api_error(lambda: client.files_upload_v2(channel="COUT", content=b"x", filename="a"))
    assert err.response["error"] == "not_in_channel"


# ---------------------------------------------------------------- helpers, concurrency


def test_wait_for(standin, client):
    threading.Timer(0.1, lambda: client.chat_postMessage(channel="C1", text="later")).start()
    assert standin.wait_for(lambda: standin.messages("C1"))[0]["text"] == "later"
    with pytest.raises(AssertionError, match=r"timed out after 0\.1s"):
        standin.wait_for(lambda: standin.messages("C9"), timeout=0.1)


def test_concurrent_posts_get_unique_increasing_ts(standin, client):
    def post(n):
        for i in range(20):
            client.chat_postMessage(channel="C1", text=f"{n}-{i}")

    threads = [threading.Thread(target=post, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    stamps = [m["ts"] for m in standin.messages("C1")]
    assert len(stamps) == len(set(stamps)) == 160
    assert stamps == sorted(stamps, key=float)
