"""The stand-in Bot API over real HTTP, so `outreach-bot run` can be tried with TELEGRAM_API_BASE_URL.

Only the standard library: `python -m tests.auxil.standin.http --port 8081 --token 123:abc`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
from email.parser import BytesParser
from email.policy import HTTP
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from tests.auxil.standin.api import FakeBotApi, Sent
from tests.auxil.standin.limits import FloodLimits
from tests.auxil.standin.push import PUSHES, PushError, instructions

# Form fields arrive as strings; the Bot API decodes these by their declared type, so do we.
JSON_PARAMS = frozenset(
    {
        "reply_markup",
        "entities",
        "caption_entities",
        "allowed_updates",
        "commands",
        "scope",
        "link_preview_options",
        "reply_parameters",
        "media",
        "message_ids",
    }
)
INT_PARAMS = frozenset(
    {
        "chat_id",
        "message_id",
        "offset",
        "timeout",
        "limit",
        "user_id",
        "from_chat_id",
        "message_thread_id",
        "cache_time",
    }
)
FLOAT_PARAMS = frozenset({"latitude", "longitude", "horizontal_accuracy"})
BOOL_PARAMS = frozenset(
    {"disable_notification", "protect_content", "show_alert", "drop_pending_updates", "allow_sending_without_reply"}
)
MAX_BODY = 50 * 1024 * 1024  # the Bot API's own upload limit
REASONS = {
    200: "OK",
    400: "Bad Request",
    401: "Unauthorized",
    404: "Not Found",
    413: "Payload Too Large",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


def _error(code: int, description: str) -> tuple[int, dict[str, Any]]:
    return code, {"ok": False, "error_code": code, "description": description}


def _typed(name: str, value: Any) -> Any:
    """One form value as the Bot API would read it; a value that does not parse stays a string."""
    if not isinstance(value, str):
        return value
    with contextlib.suppress(ValueError):
        if name in JSON_PARAMS:
            return json.loads(value)
        if name in INT_PARAMS:
            return int(value)  # chat_id may also be "@channel": then it stays a string
        if name in FLOAT_PARAMS:
            return float(value)
        if name in BOOL_PARAMS and value.lower() in ("true", "false"):
            return value.lower() == "true"
    return value


def parse_params(content_type: str, body: bytes, query: str = "") -> dict[str, Any]:
    """Parameters from the query string and a JSON, urlencoded or multipart body."""
    params: dict[str, Any] = dict(parse_qsl(query, keep_blank_values=True))
    kind = content_type.split(";")[0].strip().lower()
    if body and kind == "application/json":
        decoded = json.loads(body)
        if not isinstance(decoded, dict):
            raise ValueError("JSON body must be an object")
        params.update(decoded)  # mostly typed already; a JSON-encoded string inside is decoded below
    elif body and kind == "application/x-www-form-urlencoded":
        params.update(parse_qsl(body.decode(), keep_blank_values=True))
    elif body and kind == "multipart/form-data":
        # The email package parses MIME multipart; feed it the boundary header httpx sent.
        message = BytesParser(policy=HTTP).parsebytes(b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + body)
        if not message.is_multipart():
            raise ValueError("malformed multipart body")
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            payload = part.get_payload(decode=True)
            if not isinstance(name, str) or not isinstance(payload, bytes):
                continue
            filename = part.get_filename()
            params[name] = {"file_name": filename, "size": len(payload)} if filename else payload.decode()
    return {name: _typed(name, value) for name, value in params.items()}


def sent_json(sent: Sent) -> dict[str, Any]:
    """What the control endpoint shows of one recorded call."""
    return {
        "method": sent.method,
        "chat_id": sent.chat_id,
        "text": sent.text,
        "buttons": [list(b) for b in sent.buttons],
        "message_id": sent.message_id,
    }


class BotApiServer:
    """An HTTP/1.1 server (keep-alive) in front of a FakeBotApi, for one bot token."""

    def __init__(self, api: FakeBotApi, token: str, host: str = "127.0.0.1", port: int = 0) -> None:
        self.api, self.token, self.host, self.port = api, token, host, port
        self._server: asyncio.Server | None = None
        self._connections: set[asyncio.Task[None]] = set()

    @property
    def control(self) -> str:
        """Where people push messages, button presses and locations by hand (tests/auxil/standin/push.py)."""
        return f"http://{self.host}:{self.port}/_emulator"

    def _push(self, kind: str, body: bytes) -> tuple[int, dict[str, Any]]:
        """A message, button press or location from a small JSON body, queued as Telegram's update."""
        try:
            fields = json.loads(body or b"{}")
            if not isinstance(fields, dict):
                raise PushError('the body is a JSON object, like {"chat": 42, "text": "/help"}')
            update = PUSHES[kind](self.api, fields)
        except ValueError as exc:  # PushError, or the body is not JSON
            reason = str(exc) if isinstance(exc, PushError) else "the body is not JSON"
            return _error(400, f"Bad Request: {reason}")
        self.api.push_update(update)
        return 200, {"ok": True, "result": update}

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}/bot"

    async def start(self) -> int:
        """Listen; returns the bound port (useful with port=0)."""
        self._server = await asyncio.start_server(self._serve, self.host, self.port)
        self.port = self._server.sockets[0].getsockname()[1]
        return self.port

    async def stop(self) -> None:
        """Stop listening and drop open connections (a long poll may be waiting in one)."""
        if self._server is not None:
            self._server.close()
        for task in list(self._connections):
            task.cancel()
        await asyncio.gather(*self._connections, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()
            self._server = None

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._connections.add(task)
        try:
            while await self._one_request(reader, writer):
                pass
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError):
            pass  # the client went away or sent garbage: nothing to answer
        except asyncio.CancelledError:
            pass  # stop() ended this connection; re-raising makes asyncio's stream callback log an error
        finally:
            self._connections.discard(task)
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    async def _one_request(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        """Read, answer one request; False when the connection should close."""
        line = await reader.readline()
        if not line.strip():
            return False
        verb, target, version = line.decode("latin-1").split()
        headers: dict[str, str] = {}
        while (header := await reader.readline()) not in (b"\r\n", b"\n", b""):
            name, _, value = header.decode("latin-1").partition(":")
            headers[name.strip().lower()] = value.strip()
        if headers.get("expect", "").lower() == "100-continue":
            writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")  # curl waits a second for this before large bodies
        body = await self._body(reader, headers)
        if body is None:
            status, payload = _error(413, "Request Entity Too Large")
        else:
            status, payload = await self._route(verb.upper(), target, headers.get("content-type", ""), body)
        if status == 0:  # FakeBotApi.fail's "no connection": hang up without an answer, as a dead proxy does
            return False
        data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()  # a file's bytes as they are
        kind = "application/octet-stream" if isinstance(payload, bytes) else "application/json"
        # An unread (too large) body would be taken for the next request: close instead.
        keep = body is not None and headers.get("connection", "").lower() != "close" and version.upper() == "HTTP/1.1"
        head = (
            f"HTTP/1.1 {status} {REASONS.get(status, 'Error')}\r\nContent-Type: {kind}\r\n"
            f"Content-Length: {len(data)}\r\nConnection: {'keep-alive' if keep else 'close'}\r\n\r\n"
        )
        writer.write(head.encode() + data)
        await writer.drain()
        return keep

    @staticmethod
    async def _body(reader: asyncio.StreamReader, headers: dict[str, str]) -> bytes | None:
        """The request body by Content-Length or chunked encoding; None when it is too large."""
        if headers.get("transfer-encoding", "").lower() == "chunked":
            chunks = bytearray()
            while size := int((await reader.readline()).split(b";")[0], 16):
                chunks += await reader.readexactly(size + 2)
                del chunks[-2:]  # the CRLF after each chunk
                if len(chunks) > MAX_BODY:
                    return None
            while await reader.readline() not in (b"\r\n", b"\n", b""):
                pass  # trailers
            return bytes(chunks)
        length = int(headers.get("content-length") or 0)
        if length > MAX_BODY:
            return None
        return await reader.readexactly(length) if length else b""

    async def _route(
        self, verb: str, target: str, content_type: str, body: bytes
    ) -> tuple[int, dict[str, Any] | bytes]:
        url = urlsplit(target)
        path = url.path
        if path.startswith("/file/bot") and verb == "GET":  # a file getFile named: /file/bot<token>/<file_path>
            token, _, file_path = unquote(path[len("/file/bot") :]).partition("/")  # PTB quotes the token's ":"
            if token != self.token:
                return _error(401, "Unauthorized")
            content = self.api.file_content(file_path)
            return (200, content) if content is not None else _error(404, "Not Found")
        if path == "/_emulator/updates" and verb == "POST":
            try:
                update = json.loads(body)
            except ValueError:
                return _error(400, "Bad Request: body is not JSON")
            if not isinstance(update, dict):
                return _error(400, "Bad Request: an update is a JSON object")
            message = update.get("message")
            text = message.get("text") if isinstance(message, dict) else None
            if (
                isinstance(message, dict)
                and isinstance(text, str)
                and text.startswith("/")
                and "entities" not in message
            ):
                command = text.split()[0]  # Telegram marks a leading /command; people typing JSON forget it
                message["entities"] = [
                    {"type": "bot_command", "offset": 0, "length": len(command.encode("utf-16-le")) // 2}
                ]
            self.api.push_update(update)
            return 200, {"ok": True, "result": {"update_id": update["update_id"]}}
        if path.startswith("/_emulator/") and path.removeprefix("/_emulator/") in PUSHES and verb == "POST":
            return self._push(path.removeprefix("/_emulator/"), body)
        if path == "/_emulator/sent" and verb == "GET":
            return 200, {"ok": True, "result": [sent_json(s) for s in self.api.sent]}
        if not path.startswith("/bot") or path.count("/") != 2 or verb not in ("GET", "POST"):
            return _error(404, "Not Found")
        token, _, method = path[len("/bot") :].partition("/")
        if token != self.token:
            return _error(401, "Unauthorized")
        try:
            params = parse_params(content_type, body, url.query)
        except (ValueError, UnicodeDecodeError):
            return _error(400, "Bad Request: can't parse request parameters")
        return await self.api.handle(method, params)


async def _serve_forever(host: str, port: int, token: str, username: str, flood_limits: bool = False) -> None:
    api = FakeBotApi(username=username)
    api.limits = FloodLimits() if flood_limits else None
    server = BotApiServer(api, token, host, port)
    await server.start()
    print("\n".join(instructions(server.base_url, server.control)), flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await server.stop()


def main(argv: list[str] | None = None) -> int:
    """Run the emulator until Ctrl-C."""
    parser = argparse.ArgumentParser(prog="python -m tests.auxil.standin.http", description="A local Bot API emulator.")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8081)
    parser.add_argument("--token", default=os.environ.get("TELEGRAM_BOT_TOKEN"), help="the only token accepted")
    parser.add_argument("--username", default="outreach_demo_bot", help="the bot's @username")
    parser.add_argument(
        "--flood-limits", action="store_true", help="answer 429 past Telegram's limits (30/s, 1/s a chat)"
    )
    args = parser.parse_args(argv)
    if not args.token:
        parser.error("--token (or TELEGRAM_BOT_TOKEN) is required")
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve_forever(args.host, args.port, args.token, args.username, args.flood_limits))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
