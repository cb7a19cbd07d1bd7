"""A strict local stand-in for the Slack Web API.

A real HTTP server on 127.0.0.1 (random free port) that answers the Web API methods tsunagi
uses, validates every Block Kit payload three ways (slack_sdk's models, the JSON Schema in
schema/block-kit.schema.json beside this file, and the limits Slack documents) and records
every call. Point ``slack_sdk.WebClient(base_url=standin.base_url)`` at it.
"""

from __future__ import annotations

import contextlib
import copy
import functools
import inspect
import json
import secrets
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match, relevance
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

import sandbox.standin.connect as connect

DEFAULT_SCHEMA_PATH = Path(__file__).resolve().parent / "schema" / "block-kit.schema.json"

MAX_MESSAGE_BLOCKS = 50
MAX_VIEW_BLOCKS = 100
MAX_TEXT_OBJECT = 3000
MAX_HEADER_TEXT = 150
MAX_VIEW_LABEL = 24  # modal title / submit / close
MAX_PRIVATE_METADATA = 3000
MAX_VIEW_ID_FIELD = 255  # callback_id, external_id
MAX_MESSAGE_TEXT = 40_000
MAX_ATTACHMENTS = 100
JSON_FIELDS = ("blocks", "attachments", "metadata", "view", "files")


@dataclass
class Call:
    method: str
    args: dict
    ok: bool
    error: str | None
    status: int


class Hold:
    """Calls of one method wait here until `release()` (or the timeout): a Slack that is slow
    exactly when the test says. `arrived` is set when the first call is waiting."""

    def __init__(self, method: str, timeout: float) -> None:
        self.method, self.timeout = method, timeout
        self.arrived, self.released = threading.Event(), threading.Event()

    def wait(self) -> None:
        self.arrived.set()
        self.released.wait(self.timeout)

    def release(self) -> None:
        self.released.set()

    def __enter__(self) -> Hold:
        return self

    def __exit__(self, *exc) -> None:
        self.release()


class _ApiError(Exception):
    def __init__(self, error: str, messages: list[str] | None = None):
        super().__init__(error)
        self.error = error
        self.messages = messages or []


def _flag(value: Any) -> bool:
    return value in (True, 1, "1", "true", "True")


def _ts_key(ts: Any) -> Decimal | None:
    try:
        return Decimal(str(ts))
    except InvalidOperation:
        return None


class _Validator:
    """Block Kit validation: slack_sdk models + JSON Schema + documented limits."""

    def __init__(self, schema_path: Path):
        schema = json.loads(Path(schema_path).read_text(encoding="utf-8"))
        defs = schema["$defs"]
        self._defs = defs
        self._by_ref: dict[str, Draft202012Validator] = {}
        self._verdicts: dict[tuple, tuple[str, ...]] = {}
        # block type -> $defs name, taken from the schema's discriminated union
        self._block_defs = {}
        for option in defs["block"]["oneOf"]:
            name = option["$ref"].rsplit("/", 1)[-1]
            self._block_defs[defs[name]["properties"]["type"]["const"]] = name

    def _schema(self, name: str) -> Draft202012Validator:
        if name not in self._by_ref:
            ref = {"$ref": f"#/$defs/{name}", "$defs": self._defs}
            self._by_ref[name] = Draft202012Validator(ref)
        return self._by_ref[name]

    @staticmethod
    def _schema_messages(validator, instance, pointer: str, skip_blocks=False) -> list[str]:
        out = []
        for err in validator.iter_errors(instance):
            path = list(err.absolute_path)
            if skip_blocks and len(path) > 1 and path[0] == "blocks":
                continue  # reported precisely by the per-block pass
            err = _leaf_error(err)
            where = "".join(f"/{p}" for p in err.absolute_path)
            out.append(f"schema: {_describe(err)} [json-pointer:{pointer}{where}]")
        return out

    def blocks(self, blocks: Any, pointer: str, max_blocks: int) -> list[str]:
        return list(self._remembered("blocks", blocks, pointer, max_blocks))

    def view(self, view: Any, kind: str) -> list[str]:
        return list(self._remembered("view", view, kind))

    def _remembered(self, what: str, payload: Any, *args: Any) -> tuple[str, ...]:
        """Validation is pure, so an identical payload gets the remembered verdict: a benchmark
        opening the same modal a thousand times measures the bot, not this validator."""
        key = (what, json.dumps(payload, sort_keys=True, ensure_ascii=False), *args)
        verdict = self._verdicts.get(key)
        if verdict is None:
            check = self._check_blocks if what == "blocks" else self._check_view
            verdict = tuple(check(payload, *args))
            if len(self._verdicts) > 2048:
                self._verdicts.clear()
            self._verdicts[key] = verdict
        return verdict

    def _check_blocks(self, blocks: Any, pointer: str, max_blocks: int) -> list[str]:
        if not isinstance(blocks, list):
            return [f"must be an array of blocks [json-pointer:{pointer}]"]
        errors = []
        if len(blocks) > max_blocks:
            errors.append(f"no more than {max_blocks} items allowed [json-pointer:{pointer}]")
        block_ids: set[str] = set()
        for i, block in enumerate(blocks):
            here = f"{pointer}/{i}"
            if not isinstance(block, dict) or not isinstance(block.get("type"), str):
                errors.append(f"a block must be an object with a string type [json-pointer:{here}]")
                continue
            block_id = block.get("block_id")
            if block_id is not None:
                if block_id in block_ids:
                    errors.append(f"duplicate block_id {block_id!r} [json-pointer:{here}/block_id]")
                block_ids.add(block_id)
            name = self._block_defs.get(block["type"])
            if name is None:
                errors.append(f"unknown block type {block['type']!r} [json-pointer:{here}]")
                continue
            # (1) slack_sdk models and their validators
            try:
                parsed = Block.parse(block)
                if parsed is None:
                    raise ValueError(f"block type {block['type']!r} is unknown to slack_sdk")
                parsed.to_dict()
            except Exception as exc:
                errors.append(f"slack_sdk: {exc} [json-pointer:{here}]")
            # (2) JSON Schema, against the definition for this block type
            errors += self._schema_messages(self._schema(name), block, here)
            # (3) documented limits, checked independently
            text = block.get("text")
            is_header = block["type"] == "header" and isinstance(text, dict)
            if is_header and len(str(text.get("text", ""))) > MAX_HEADER_TEXT:
                errors.append(
                    f"must be less than {MAX_HEADER_TEXT + 1} characters "
                    f"[json-pointer:{here}/text/text]"
                )
            errors += _text_object_limits(block, here)
        return errors

    def _check_view(self, view: Any, kind: str) -> list[str]:
        if not isinstance(view, dict):
            return ["view must be a JSON object [json-pointer:/view]"]
        if view.get("type") != kind:
            return [f"view type must be {kind!r} here [json-pointer:/view/type]"]
        errors = []
        try:
            View(**view).to_dict()
        except Exception as exc:
            errors.append(f"slack_sdk: {exc} [json-pointer:/view]")
        schema = self._schema("modal_view" if kind == "modal" else "home_view")
        errors += self._schema_messages(schema, view, "/view", skip_blocks=True)
        errors += self.blocks(view.get("blocks", []), "/view/blocks", MAX_VIEW_BLOCKS)
        for key in ("title", "submit", "close"):
            label = view.get(key)
            if isinstance(label, dict) and len(str(label.get("text", ""))) > MAX_VIEW_LABEL:
                errors.append(
                    f"must be less than {MAX_VIEW_LABEL + 1} characters "
                    f"[json-pointer:/view/{key}/text]"
                )
        limits = {
            "private_metadata": MAX_PRIVATE_METADATA,
            "callback_id": MAX_VIEW_ID_FIELD,
            "external_id": MAX_VIEW_ID_FIELD,
        }
        for key, limit in limits.items():
            if len(str(view.get(key, ""))) > limit:
                errors.append(
                    f"must be less than {limit + 1} characters [json-pointer:/view/{key}]"
                )
        return list(dict.fromkeys(errors))


def _leaf_error(err):
    """Descend oneOf/anyOf errors into the branch whose `type` discriminator matched."""
    while err.context:
        branches: dict[Any, list] = {}
        for sub in err.context:
            branches.setdefault(sub.relative_schema_path[0], []).append(sub)
        matching = [
            errs
            for errs in branches.values()
            if not any(e.validator in ("const", "enum") and list(e.path) == ["type"] for e in errs)
        ]
        if len(matching) != 1:
            return best_match([err])
        err = max(matching[0], key=relevance)
    return err


def _describe(err) -> str:
    limits = {
        "maxLength": "must be at most {} characters (got {})",
        "minLength": "must be at least {} characters (got {})",
        "maxItems": "must have at most {} items (got {})",
        "minItems": "must have at least {} items (got {})",
    }
    if err.validator in limits and isinstance(err.instance, str | list):
        return limits[err.validator].format(err.validator_value, len(err.instance))
    return err.message if len(err.message) <= 200 else err.message[:200] + "..."


def _text_object_limits(node: Any, pointer: str) -> list[str]:
    errors = []
    if isinstance(node, dict):
        text = node.get("text")
        is_text_object = node.get("type") in ("plain_text", "mrkdwn") and isinstance(text, str)
        if is_text_object and len(text) > MAX_TEXT_OBJECT:
            limit = MAX_TEXT_OBJECT + 1
            errors.append(f"must be less than {limit} characters [json-pointer:{pointer}/text]")
        for key, value in node.items():
            errors += _text_object_limits(value, f"{pointer}/{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            errors += _text_object_limits(value, f"{pointer}/{i}")
    return errors


class SlackStandin:
    def __init__(
        self,
        *,
        token: str = "xoxb-test-token",
        bot_user_id: str = "UBOT",
        team_id: str = "T0TEST",
        schema_path: str | Path = DEFAULT_SCHEMA_PATH,
    ):
        self.token = token
        self.bot_user_id = bot_user_id
        self.bot_id = "B" + bot_user_id.lstrip("UW")
        self.app_id = "A0STANDIN"
        self.team_id = team_id
        self._validator = _Validator(Path(schema_path))
        self._lock = threading.RLock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._channels: dict[str, dict] = {}
        self._users: dict[str, dict] = {}
        self._dms: dict[str, str] = {}  # D… -> user id
        self._clear_state()
        # Methods that judge the token themselves (sandbox/standin/socket_mode.py: app-level tokens)
        self.token_methods: dict[str, Callable[[str, dict], dict]] = {}
        self._methods: dict[str, Callable[[dict], dict]] = {
            "auth.test": self._auth_test,
            "chat.postMessage": self._chat_post_message,
            "chat.update": self._chat_update,
            "chat.postEphemeral": self._chat_post_ephemeral,
            "chat.delete": self._chat_delete,
            "views.open": self._views_open,
            "views.push": self._views_push,
            "views.update": self._views_update,
            "views.publish": self._views_publish,
            "conversations.open": self._conversations_open,
            "conversations.info": self._conversations_info,
            "conversations.history": self._conversations_history,
            "conversations.replies": self._conversations_replies,
            "conversations.members": self._conversations_members,
            "users.info": self._users_info,
            "pins.add": lambda args: connect.pins_add(self, args),
            "pins.list": lambda args: connect.pins_list(self, args),
            "files.getUploadURLExternal": self._files_get_upload_url,
            "files.completeUploadExternal": self._files_complete_upload,
        }

    def _clear_state(self) -> None:
        self.calls: list[Call] = []
        self._faults: dict[str, list[dict]] = {}
        self._latency: dict[str, float] = {}  # method -> seconds each call takes (fault tests)
        self._holds: dict[str, Hold] = {}  # method -> calls wait until the test releases them
        self._messages: list[dict] = []
        self._ephemerals: list[dict] = []
        self._triggers: dict[str, dict] = {}
        self._views: dict[str, dict] = {}  # modal views by id, in open order
        self._home: dict[str, dict] = {}  # user id -> current home view
        self._files: dict[str, dict] = {}
        self._last_ts_us = 0
        self._counter = 0
        for channel in self._channels.values():
            channel["pins"] = []

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> SlackStandin:
        if self._server is not None:
            return self
        standin = self

        class Handler(BaseHTTPRequestHandler):
            server_version = "SlackStandin/1.0"
            protocol_version = "HTTP/1.1"  # keeps connections open, as Slack does
            disable_nagle_algorithm = True  # headers and body are written apart

            def log_message(self, format, *args):  # quiet
                pass

            def do_POST(self):
                standin._serve(self)

            do_GET = do_PUT = do_POST

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},  # so stop() returns quickly
            name="slack-standin",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = self._thread = None

    def __enter__(self) -> SlackStandin:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def root_url(self) -> str:
        if self._server is None:
            raise RuntimeError("SlackStandin is not started")
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def base_url(self) -> str:
        return self.root_url + "/api/"

    # ------------------------------------------------------------------ test-side API

    def add_channel(
        self,
        channel_id: str,
        *,
        member: bool = True,
        name: str | None = None,
        is_private: bool = False,
        is_archived: bool = False,
        members: list[str] | tuple[str, ...] = (),
        shared_with: list[str] | tuple[str, ...] = (),
    ) -> None:
        """`shared_with`: the other workspaces' team ids of a Slack Connect channel."""
        with self._lock:
            self._channels[channel_id] = {
                "id": channel_id,
                "name": name or channel_id.lower(),
                "is_private": is_private,
                "is_archived": is_archived,
                "is_member": member,
                "members": list(members),
                "shared_with": list(shared_with),
                "pins": [],
            }

    def add_user(
        self,
        user_id: str,
        *,
        name: str | None = None,
        real_name: str | None = None,
        tz="Asia/Tokyo",
        team_id: str | None = None,
        guest: str | None = None,
    ) -> None:
        """`team_id`: another workspace's (a Slack Connect user); `guest`: "multi" or "single"
        (a multi- or single-channel guest of the town's workspace)."""
        name = name or user_id.lower()
        with self._lock:
            self._users[user_id] = {
                "id": user_id,
                "team_id": team_id or self.team_id,
                "is_restricted": guest in ("multi", "single"),
                "is_ultra_restricted": guest == "single",
                "name": name,
                "real_name": real_name or name,
                "deleted": False,
                "is_bot": False,
                "tz": tz,
                "profile": {"real_name": real_name or name, "display_name": name},
            }

    def issue_trigger_id(self, *, ttl: float | None = None) -> str:
        """A fresh trigger id, valid once for views.open/views.push (and for ttl seconds)."""
        with self._lock:
            self._counter += 1
            trigger = f"{self._counter}.{int(time.time())}.{secrets.token_hex(8)}"
            expires = None if ttl is None else time.monotonic() + ttl
            self._triggers[trigger] = {"used": False, "expires": expires}
            return trigger

    def fail_next(
        self,
        method: str,
        *,
        status: int = 429,
        retry_after: int = 1,
        error: str | None = None,
        times: int = 1,
    ) -> None:
        with self._lock:
            fault = {"status": status, "retry_after": retry_after, "error": error}
            self._faults.setdefault(method, []).extend(dict(fault) for _ in range(times))

    def calls_to(self, method: str) -> list[Call]:
        with self._lock:
            return [c for c in self.calls if c.method == method]

    def messages(self, channel: str | None = None) -> list[dict]:
        keys = ("channel", "ts", "text", "blocks", "metadata", "thread_ts")
        with self._lock:
            return [
                {k: copy.deepcopy(m[k]) for k in keys}
                for m in self._messages
                if channel is None or m["channel"] == channel
            ]

    def ephemerals(self, user: str | None = None) -> list[dict]:
        with self._lock:
            return [copy.deepcopy(e) for e in self._ephemerals if user in (None, e["user"])]

    def views_opened(self) -> list[dict]:
        """Modal views opened or pushed, in order, in their current (updated) state."""
        with self._lock:
            return [copy.deepcopy(v) for v in self._views.values()]

    def home_views(self, user_id: str | None = None) -> dict | None:
        """The current home view of user_id (None if none), or {user_id: view} for all users."""
        with self._lock:
            if user_id is not None:
                return copy.deepcopy(self._home.get(user_id))
            return copy.deepcopy(self._home)

    def uploads(self, channel: str | None = None) -> list[dict]:
        """Completed file uploads: id, filename, title, alt_txt, channel_id, initial_comment,
        thread_ts, content (bytes)."""
        with self._lock:
            done = [f for f in self._files.values() if f["completed"]]
            return [
                {k: v for k, v in f.items() if k != "completed"}
                for f in done
                if channel is None or f["channel_id"] == channel
            ]

    def wait_for(self, predicate: Callable[[], Any], timeout: float = 20.0) -> Any:
        deadline = time.monotonic() + timeout
        value: Any = None
        raised: BaseException | None = None
        while True:
            try:
                value, raised = predicate(), None
                if value:
                    return value
            except Exception as exc:
                raised = exc
            if time.monotonic() >= deadline:
                break
            time.sleep(0.02)
        try:
            what = inspect.getsource(predicate).strip()
        except (OSError, TypeError):
            what = repr(predicate)
        with self._lock:
            recent = [f"{c.method} -> {c.error or 'ok'} ({c.status})" for c in self.calls[-10:]]
        last = f"raised {raised!r}" if raised else f"returned {value!r}"
        raise AssertionError(
            f"timed out after {timeout}s waiting for: {what}\n"
            f"last attempt {last}\nlast calls to the stand-in: {recent or 'none'}"
        )

    def set_latency(self, method: str, seconds: float) -> None:
        """Make every call of `method` take this long (0 removes it), as a slow Slack would."""
        with self._lock:
            self._latency[method] = seconds

    def hold(self, method: str, *, timeout: float = 10.0) -> Hold:
        """Hold every call of `method` until the returned Hold is released (or `timeout`), as a
        Slack that has not answered yet; `with slack.hold(...)` releases it at the end."""
        gate = Hold(method, timeout)
        with self._lock:
            self._holds[method] = gate
        return gate

    def reset(self) -> None:
        """Forget calls, faults, messages, views, triggers and files; keep channels, users, DMs."""
        with self._lock:
            for gate in self._holds.values():
                gate.release()
            self._clear_state()

    # ------------------------------------------------------------------ HTTP plumbing

    def _serve(self, req: BaseHTTPRequestHandler) -> None:
        url = urlsplit(req.path)
        raw = req.rfile.read(int(req.headers.get("Content-Length") or 0))
        try:
            if url.path.startswith("/api/"):
                status, headers, body = self._api(url.path[5:], url.query, req.headers, raw)
            elif url.path.startswith("/upload/v1/"):
                status, headers, body = self._upload(url.path[11:], raw)
            elif url.path.startswith("/_standin/"):
                status, headers, body = self._control(url.path[10:], raw)
            else:
                status, headers, body = 404, {"Content-Type": "text/plain"}, b"not found"
        except Exception:
            traceback.print_exc()
            status, headers = 500, {"Content-Type": "text/plain"}
            body = f"SlackStandin internal error:\n{traceback.format_exc()}".encode()
        req.send_response(status)
        for key, value in headers.items():
            req.send_header(key, value)
        req.send_header("Content-Length", str(len(body)))
        req.end_headers()
        req.wfile.write(body)

    def _control(self, action: str, raw: bytes):
        """Test-side API over HTTP, for a stand-in running in its own process (benchmark, demo)."""
        args = json.loads(raw.decode("utf-8")) if raw else {}
        if action == "trigger":
            result: Any = {"trigger_id": self.issue_trigger_id()}
        elif action == "setup":
            for channel in args.get("channels", []):
                self.add_channel(channel)
            for user in args.get("users", []):
                self.add_user(user)
            result = {"ok": True}
        elif action == "latency":
            for method, seconds in args.items():
                self.set_latency(method, float(seconds))
            result = {"ok": True}
        elif action == "counts":
            with self._lock:
                counts: dict[str, int] = {}
                for call in self.calls:
                    key = f"{call.method}:{'ok' if call.ok else call.error}"
                    counts[key] = counts.get(key, 0) + 1
            result = counts
        else:
            return 404, {"Content-Type": "text/plain"}, b"unknown control action"
        return 200, {"Content-Type": "application/json"}, json.dumps(result).encode()

    @staticmethod
    def _parse_args(query: str, content_type: str, raw: bytes) -> tuple[dict, bool]:
        args: dict[str, Any] = dict(parse_qsl(query, keep_blank_values=True))
        mime = content_type.split(";")[0].strip().lower()
        is_json = False
        if raw:
            if mime == "application/json":
                try:
                    body = json.loads(raw.decode("utf-8"))
                except ValueError as exc:
                    raise _ApiError("invalid_json", [str(exc)]) from exc
                if not isinstance(body, dict):
                    raise _ApiError("invalid_json", ["body must be a JSON object"])
                args.update(body)
                is_json = True
            elif mime == "application/x-www-form-urlencoded":
                args.update(parse_qsl(raw.decode("utf-8"), keep_blank_values=True))
            else:
                raise _ApiError("invalid_post_type", [f"unsupported Content-Type {mime!r}"])
        for key in JSON_FIELDS:
            if isinstance(args.get(key), str) and args[key]:
                # a malformed value stays a string; the method then reports the bad format
                with contextlib.suppress(ValueError):
                    args[key] = json.loads(args[key])
        return args, is_json

    def _api(self, method: str, query: str, headers, raw: bytes):
        try:
            args, is_json = self._parse_args(query, headers.get("Content-Type", ""), raw)
        except _ApiError as err:
            return self._finish(method, {}, 200, err=err)
        body_token = args.pop("token", None)
        with self._lock:
            fault = self._faults.get(method, [])
            fault = fault.pop(0) if fault else None
            delay = self._latency.get(method, 0.0)
            gate = self._holds.get(method)
        if delay:
            time.sleep(delay)
        if gate is not None:
            gate.wait()
        if fault is not None:
            return self._fault(method, args, fault)
        handler = self._methods.get(method)
        if handler is None and method not in self.token_methods:
            return self._finish(method, args, 200, err=_ApiError("unknown_method"))
        auth = headers.get("Authorization", "")
        token = auth[7:].strip() if auth.startswith("Bearer ") else None
        if token is None and not is_json:  # JSON bodies must authenticate via the header
            token = body_token
        if not token:
            return self._finish(method, args, 200, err=_ApiError("not_authed"))
        if method in self.token_methods:
            handler = functools.partial(self.token_methods[method], token)
        elif token != self.token:
            return self._finish(method, args, 200, err=_ApiError("invalid_auth"))
        try:
            result = handler(args)
        except _ApiError as err:
            return self._finish(method, args, 200, err=err)
        return self._finish(method, args, 200, result=result)

    def _finish(self, method, args, status, *, result=None, err=None):
        if err is not None:
            body: dict[str, Any] = {"ok": False, "error": err.error}
            if err.messages:
                body["response_metadata"] = {"messages": err.messages}
        else:
            body = {"ok": True, **result}
        with self._lock:
            self.calls.append(Call(method, args, err is None, err and err.error, status))
        headers = {"Content-Type": "application/json; charset=utf-8"}
        return status, headers, json.dumps(body, ensure_ascii=False).encode("utf-8")

    def _fault(self, method, args, fault):
        status, error = fault["status"], fault["error"]
        if status == 429:
            error = error or "ratelimited"
            headers = {
                "Content-Type": "application/json; charset=utf-8",
                "Retry-After": str(fault["retry_after"]),
            }
            body = json.dumps({"ok": False, "error": error}).encode()
        elif status >= 500:
            error = error or f"http_{status}"
            headers = {"Content-Type": "text/plain; charset=utf-8"}
            body = f"{status} upstream error (injected by SlackStandin)".encode()
        else:
            return self._finish(method, args, status, err=_ApiError(error or "fatal_error"))
        with self._lock:
            self.calls.append(Call(method, args, False, error, status))
        return status, headers, body

    def _upload(self, file_id: str, raw: bytes):
        with self._lock:
            entry = self._files.get(file_id)
            if entry is None or entry["completed"]:
                return 404, {"Content-Type": "text/plain"}, b"unknown upload url"
            entry["content"] = raw
        return 200, {"Content-Type": "text/plain"}, f"OK - {len(raw)}".encode()

    # ------------------------------------------------------------------ helpers

    def _next_ts(self) -> str:
        with self._lock:
            us = max(time.time_ns() // 1000, self._last_ts_us + 1)
            self._last_ts_us = us
        return f"{us // 1_000_000}.{us % 1_000_000:06d}"

    def _next_id(self, prefix: str) -> str:
        with self._lock:
            self._counter += 1
            return f"{prefix}0S{self._counter:07d}"

    def _conversation(self, channel: Any, *, post: bool = False, by_user: bool = False) -> str:
        """Resolve a conversation the bot may use; return its id or raise like Slack."""
        if not isinstance(channel, str) or not channel:
            raise _ApiError("channel_not_found")
        with self._lock:
            if by_user and channel[0] in "UW" and channel in self._users:
                connect.refuse_dm(self, channel)
                dm = "D" + channel
                self._dms.setdefault(dm, channel)
                return dm
            if channel in self._dms:
                return channel
            info = self._channels.get(channel)
            if info is None and post:  # chat.postMessage also accepts a channel name
                name = channel.lstrip("#")
                info = next((c for c in self._channels.values() if c["name"] == name), None)
            if info is None or (info["is_private"] and not info["is_member"]):
                raise _ApiError("channel_not_found")
            if post and info["is_archived"]:
                raise _ApiError("is_archived")
            if not info["is_member"]:
                raise _ApiError("not_in_channel")
            return info["id"]

    def _check_content(self, args: dict, *, allow_empty_blocks: bool = False) -> None:
        text, blocks, attachments = (args.get(k) for k in ("text", "blocks", "attachments"))
        has_content = any(v not in (None, "", []) for v in (text, blocks, attachments))
        if not has_content and not (allow_empty_blocks and blocks == []):
            raise _ApiError("no_text")
        if text is not None and len(str(text)) > MAX_MESSAGE_TEXT:
            raise _ApiError("msg_too_long")
        if blocks not in (None, "", []):
            if not isinstance(blocks, list):
                raise _ApiError("invalid_blocks_format", ["blocks must be a JSON array"])
            errors = self._validator.blocks(blocks, "/blocks", MAX_MESSAGE_BLOCKS)
            if errors:
                raise _ApiError("invalid_blocks", errors)
        if attachments not in (None, "", []):
            if not isinstance(attachments, list):
                raise _ApiError("invalid_attachments", ["attachments must be a JSON array"])
            if len(attachments) > MAX_ATTACHMENTS:
                raise _ApiError("too_many_attachments")

    @staticmethod
    def _check_metadata(metadata: Any) -> dict | None:
        if metadata in (None, ""):
            return None
        if metadata == {}:
            return {}
        if not (
            isinstance(metadata, dict)
            and isinstance(metadata.get("event_type"), str)
            and metadata["event_type"]
            and isinstance(metadata.get("event_payload"), dict)
        ):
            raise _ApiError(
                "invalid_metadata_format",
                ["metadata must be an object with event_type (string) and event_payload (object)"],
            )
        return copy.deepcopy(metadata)

    def _public_message(self, m: dict, *, with_metadata: bool = True) -> dict:
        out = {
            "type": "message",
            "subtype": "bot_message",
            "user": self.bot_user_id,
            "bot_id": self.bot_id,
            "app_id": self.app_id,
            "team": self.team_id,
            "text": m["text"],
            "ts": m["ts"],
        }
        for key in ("blocks", "attachments", "thread_ts"):
            if m[key] is not None:
                out[key] = copy.deepcopy(m[key])
        if with_metadata and m["metadata"]:
            out["metadata"] = copy.deepcopy(m["metadata"])
        if m.get("edited"):
            out["edited"] = dict(m["edited"])
        return out

    @staticmethod
    def _refuse(error: str) -> None:
        """Answer like Slack with `error` (for sandbox/standin/connect.py)."""
        raise _ApiError(error)

    def _find_message(self, channel: str, ts: Any) -> dict:
        for m in self._messages:
            if m["channel"] == channel and m["ts"] == ts:
                return m
        raise _ApiError("message_not_found")

    # ------------------------------------------------------------------ methods

    def _auth_test(self, args: dict) -> dict:
        return {
            "url": "https://tsunagi-standin.slack.com/",
            "team": "tsunagi standin",
            "user": "tsunagi",
            "team_id": self.team_id,
            "user_id": self.bot_user_id,
            "bot_id": self.bot_id,
            "is_enterprise_install": False,
        }

    def _chat_post_message(self, args: dict) -> dict:
        self._check_content(args)
        metadata = self._check_metadata(args.get("metadata"))
        channel = self._conversation(args.get("channel"), post=True, by_user=True)
        thread_ts = args.get("thread_ts") or None
        message = {
            "channel": channel,
            "ts": self._next_ts(),
            "text": args.get("text") or "",
            "blocks": copy.deepcopy(args.get("blocks")) or None,
            "attachments": copy.deepcopy(args.get("attachments")) or None,
            "metadata": metadata or None,
            "thread_ts": str(thread_ts) if thread_ts else None,
            "reply_broadcast": _flag(args.get("reply_broadcast")),
        }
        with self._lock:
            self._messages.append(message)
            return {
                "channel": channel,
                "ts": message["ts"],
                "message": self._public_message(message),
            }

    def _chat_update(self, args: dict) -> dict:
        self._check_content(args, allow_empty_blocks=True)
        metadata = self._check_metadata(args.get("metadata"))
        channel = self._conversation(args.get("channel"))
        with self._lock:
            message = self._find_message(channel, args.get("ts"))
            if args.get("text") is not None:
                message["text"] = args["text"]
            if args.get("blocks") is not None:
                message["blocks"] = copy.deepcopy(args["blocks"]) or None
            if args.get("attachments") is not None:
                message["attachments"] = copy.deepcopy(args["attachments"]) or None
            if metadata is not None:
                message["metadata"] = metadata or None
            message["edited"] = {"user": self.bot_user_id, "ts": self._next_ts()}
            return {
                "channel": channel,
                "ts": message["ts"],
                "text": message["text"],
                "message": self._public_message(message),
            }

    def _chat_post_ephemeral(self, args: dict) -> dict:
        self._check_content(args)
        channel = self._conversation(args.get("channel"), post=True)
        user = args.get("user")
        with self._lock:
            if user not in self._users:
                raise _ApiError("user_not_found")
            connect.refuse_ephemeral(self, channel, user)
            ephemeral = {
                "channel": channel,
                "user": user,
                "ts": self._next_ts(),
                "text": args.get("text") or "",
                "blocks": copy.deepcopy(args.get("blocks")) or None,
                "thread_ts": args.get("thread_ts") or None,
            }
            self._ephemerals.append(ephemeral)
            return {"message_ts": ephemeral["ts"]}

    def _chat_delete(self, args: dict) -> dict:
        channel = self._conversation(args.get("channel"))
        with self._lock:
            message = self._find_message(channel, args.get("ts"))
            self._messages.remove(message)
            return {"channel": channel, "ts": message["ts"]}

    # -- views

    def _checked_view(self, args: dict, kind: str) -> dict:
        view = args.get("view")
        if view in (None, ""):
            raise _ApiError("invalid_arguments", ["[ERROR] missing required field: view"])
        errors = self._validator.view(view, kind)
        if errors:
            raise _ApiError("invalid_arguments", [f"[ERROR] {e}" for e in errors])
        return copy.deepcopy(view)

    def _use_trigger(self, args: dict) -> None:
        trigger_id = args.get("trigger_id")
        if not trigger_id:
            raise _ApiError("invalid_arguments", ["[ERROR] missing required field: trigger_id"])
        with self._lock:
            trigger = self._triggers.get(trigger_id)
            if trigger is None:
                raise _ApiError("invalid_trigger_id")
            if trigger["used"]:
                raise _ApiError("exchanged_trigger_id")
            if trigger["expires"] is not None and time.monotonic() > trigger["expires"]:
                raise _ApiError("expired_trigger_id")
            trigger["used"] = True

    def _store_view(self, view: dict, *, view_id: str | None = None, previous=None) -> dict:
        external_id = view.get("external_id", "")
        with self._lock:
            if external_id and any(
                v["external_id"] == external_id and v["id"] != view_id
                for v in [*self._views.values(), *self._home.values()]
            ):
                raise _ApiError("duplicate_external_id")
            old = self._views.get(view_id) if view_id else None
            stored = {
                "id": view_id or self._next_id("V"),
                "team_id": self.team_id,
                "private_metadata": "",
                "callback_id": "",
                "external_id": "",
                "state": {"values": {}},
                "clear_on_close": False,
                "notify_on_close": False,
                "previous_view_id": old["previous_view_id"] if old else previous,
                "app_id": self.app_id,
                "bot_id": self.bot_id,
                **view,
                "hash": f"{int(time.time())}.{secrets.token_hex(4)}",
            }
            stored["root_view_id"] = old["root_view_id"] if old else stored["id"]
            if view.get("type") == "modal":
                self._views[stored["id"]] = stored
            return stored

    def _views_open(self, args: dict) -> dict:
        view = self._checked_view(args, "modal")
        self._use_trigger(args)
        return {"view": copy.deepcopy(self._store_view(view))}

    def _views_push(self, args: dict) -> dict:
        view = self._checked_view(args, "modal")
        self._use_trigger(args)
        with self._lock:
            previous = next(reversed(self._views), None)
            return {"view": copy.deepcopy(self._store_view(view, previous=previous))}

    def _views_update(self, args: dict) -> dict:
        view_id, external_id = args.get("view_id"), args.get("external_id")
        if bool(view_id) == bool(external_id):
            raise _ApiError(
                "invalid_arguments", ["[ERROR] exactly one of view_id or external_id is required"]
            )
        view = self._checked_view(args, "modal")
        with self._lock:
            current = self._views.get(view_id) if view_id else None
            if external_id:
                found = (v for v in self._views.values() if v["external_id"] == external_id)
                current = next(found, None)
            if current is None:
                raise _ApiError("not_found")
            if args.get("hash") and args["hash"] != current["hash"]:
                raise _ApiError("hash_conflict")
            view.setdefault("external_id", current["external_id"])
            return {"view": copy.deepcopy(self._store_view(view, view_id=current["id"]))}

    def _views_publish(self, args: dict) -> dict:
        user_id = args.get("user_id")
        if not user_id:
            raise _ApiError("invalid_arguments", ["[ERROR] missing required field: user_id"])
        view = self._checked_view(args, "home")
        with self._lock:
            if user_id not in self._users:
                raise _ApiError("user_not_found")
            current = self._home.get(user_id)
            if args.get("hash") and (current is None or args["hash"] != current["hash"]):
                raise _ApiError("hash_conflict")
            stored = self._store_view(view, view_id=current["id"] if current else None)
            self._home[user_id] = stored
            return {"view": copy.deepcopy(stored)}

    # -- conversations and users

    def _conversations_open(self, args: dict) -> dict:
        if args.get("channel"):
            channel = self._conversation(args["channel"])
            return {"no_op": True, "already_open": True, "channel": {"id": channel}}
        users = [u for u in str(args.get("users") or "").split(",") if u]
        if len(users) != 1:
            raise _ApiError(
                "invalid_arguments", ["[ERROR] the stand-in supports exactly one user in users"]
            )
        with self._lock:
            if users[0] not in self._users:
                raise _ApiError("user_not_found")
            connect.refuse_dm(self, users[0])
            dm = "D" + users[0]
            existed = dm in self._dms
            self._dms[dm] = users[0]
        result: dict[str, Any] = {"channel": {"id": dm}}
        if existed:
            result.update(no_op=True, already_open=True)
        return result

    def _conversations_info(self, args: dict) -> dict:
        channel = args.get("channel")
        with self._lock:
            if channel in self._dms:
                info = {"id": channel, "is_im": True, "user": self._dms[channel], "is_open": True}
                return {"channel": info}
            info = self._channels.get(channel)
            if info is None or (info["is_private"] and not info["is_member"]):
                raise _ApiError("channel_not_found")
            return {
                "channel": {
                    "id": info["id"],
                    "name": info["name"],
                    "is_channel": not info["is_private"],
                    "is_group": False,
                    "is_im": False,
                    "is_private": info["is_private"],
                    "is_archived": info["is_archived"],
                    "is_member": info["is_member"],
                    **connect.shared_fields(self, info),
                }
            }

    def _conversations_history(self, args: dict) -> dict:
        channel = self._conversation(args.get("channel"))
        inclusive = _flag(args.get("inclusive"))
        oldest, latest = _ts_key(args.get("oldest") or "0"), _ts_key(args.get("latest") or "9e12")
        if oldest is None or latest is None:
            raise _ApiError("invalid_ts_oldest" if oldest is None else "invalid_ts_latest")
        limit, offset = str(args.get("limit") or 100), str(args.get("cursor") or 0)
        if not limit.isdigit() or int(limit) < 1:
            raise _ApiError("invalid_limit")
        if not offset.isdigit():
            raise _ApiError("invalid_cursor")
        limit, offset = min(int(limit), 999), int(offset)
        with_metadata = _flag(args.get("include_all_metadata"))
        with self._lock:
            found = [
                m
                for m in self._messages
                if m["channel"] == channel
                and (m["thread_ts"] in (None, m["ts"]) or m["reply_broadcast"])
                and (oldest <= Decimal(m["ts"]) if inclusive else oldest < Decimal(m["ts"]))
                and (Decimal(m["ts"]) <= latest if inclusive else Decimal(m["ts"]) < latest)
            ]
            found.sort(key=lambda m: Decimal(m["ts"]), reverse=True)
            page = found[offset : offset + limit]
            result: dict[str, Any] = {
                "messages": [self._public_message(m, with_metadata=with_metadata) for m in page],
                "has_more": offset + limit < len(found),
            }
        if result["has_more"]:
            result["response_metadata"] = {"next_cursor": str(offset + limit)}
        return result

    def _conversations_replies(self, args: dict) -> dict:
        channel = self._conversation(args.get("channel"))
        ts = args.get("ts")
        with_metadata = _flag(args.get("include_all_metadata"))
        with self._lock:
            parent = self._find_message(channel, ts) if ts else None
            if parent is None:
                raise _ApiError("thread_not_found")
            thread = [parent] + [
                m
                for m in self._messages
                if m["channel"] == channel and m["thread_ts"] == ts and m["ts"] != ts
            ]
            return {
                "messages": [self._public_message(m, with_metadata=with_metadata) for m in thread],
                "has_more": False,
            }

    def _conversations_members(self, args: dict) -> dict:
        channel = args.get("channel")
        with self._lock:
            if channel in self._dms:
                return {"members": [self._dms[channel], self.bot_user_id]}
            info = self._channels.get(channel)
            if info is None or (info["is_private"] and not info["is_member"]):
                raise _ApiError("channel_not_found")
            members = list(info["members"])
            if info["is_member"] and self.bot_user_id not in members:
                members.append(self.bot_user_id)
            return {"members": members, "response_metadata": {"next_cursor": ""}}

    def _users_info(self, args: dict) -> dict:
        user = args.get("user")
        with self._lock:
            if user == self.bot_user_id:
                bot = {"id": user, "team_id": self.team_id, "name": "tsunagi", "is_bot": True}
                return {"user": {**bot, "deleted": False}}
            if user not in self._users:
                raise _ApiError("user_not_found")
            return {"user": copy.deepcopy(self._users[user])}

    # -- files (files_upload_v2)

    def _files_get_upload_url(self, args: dict) -> dict:
        filename, length = args.get("filename"), str(args.get("length") or "")
        if not filename or not length.isdigit():
            raise _ApiError(
                "invalid_arguments", ["[ERROR] filename and a numeric length are required"]
            )
        file_id = self._next_id("F")
        with self._lock:
            self._files[file_id] = {
                "id": file_id,
                "filename": filename,
                "length": int(length),
                "alt_txt": args.get("alt_txt"),
                "title": None,
                "channel_id": None,
                "initial_comment": None,
                "thread_ts": None,
                "content": None,
                "completed": False,
            }
        return {"upload_url": f"{self.root_url}/upload/v1/{file_id}", "file_id": file_id}

    def _files_complete_upload(self, args: dict) -> dict:
        files = args.get("files")
        if not isinstance(files, list) or not files:
            raise _ApiError("invalid_arguments", ["[ERROR] files must be a non-empty JSON array"])
        channels = [c for c in str(args.get("channels") or "").split(",") if c]
        channel_id = args.get("channel_id") or (channels[0] if channels else None)
        if channel_id:
            channel_id = self._conversation(channel_id, post=True)
        with self._lock:
            entries = []
            for item in files:
                entry = self._files.get(item.get("id")) if isinstance(item, dict) else None
                if entry is None or entry["completed"] or entry["content"] is None:
                    raise _ApiError("file_not_found")
                entries.append((entry, item))
            shared = []
            for entry, item in entries:
                entry.update(
                    title=item.get("title") or entry["filename"],
                    channel_id=channel_id,
                    initial_comment=args.get("initial_comment"),
                    thread_ts=args.get("thread_ts"),
                    completed=True,
                )
                shared.append(
                    {
                        "id": entry["id"],
                        "name": entry["filename"],
                        "title": entry["title"],
                        "size": len(entry["content"]),
                    }
                )
            return {"files": shared}
