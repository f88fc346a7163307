"""What a person trying the bot by hand pushes into the stand-in: a message, a button press, a location,
each as a small JSON body a curl line can carry; the stand-in makes the update Telegram would send.

A button is named by its number on the newest message with buttons in that chat (1 = the first, row by
row), its label ("Check out") or its callback data; `message_id` picks another message."""

from __future__ import annotations

import time
from typing import Any

from tests.auxil.standin.api import FakeBotApi, Sent

SAMPLE_CHAT = 42


class PushError(ValueError):
    """A push that cannot become an update: one line saying why."""


def _chat(body: dict[str, Any]) -> int:
    chat = body.get("chat")
    if not isinstance(chat, int) or isinstance(chat, bool):
        raise PushError('"chat" must be the person\'s chat id, a number like 42')
    return chat


def _people(chat: int, body: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The private chat and the person in it (the chat id is the user id, as in Telegram)."""
    person = {"id": chat, "is_bot": False, "first_name": str(body.get("name") or "Tester")}
    person["language_code"] = str(body.get("language") or "en")
    return {"id": chat, "type": "private", "first_name": person["first_name"]}, person


def message_update(api: FakeBotApi, body: dict[str, Any]) -> dict[str, Any]:
    """{"chat": 42, "text": "/start CODE"}: a typed message (a leading /command marked as Telegram does)."""
    chat_id, text = _chat(body), body.get("text")
    if not isinstance(text, str) or not text:
        raise PushError('"text" must be the message, like "/help"')
    chat, person = _people(chat_id, body)
    message: dict[str, Any] = {"message_id": api.new_message_id(), "date": int(time.time()), "chat": chat}
    message |= {"from": person, "text": text}
    if text.startswith("/"):
        command = text.split()[0]
        message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(command.encode("utf-16-le")) // 2}]
    api.person_wrote(chat_id, message["message_id"], text)
    return {"message": message}


def location_update(api: FakeBotApi, body: dict[str, Any]) -> dict[str, Any]:
    """{"chat": 42, "latitude": 14.6349, "longitude": -90.5069}: a shared location."""
    chat_id = _chat(body)
    latitude, longitude = body.get("latitude"), body.get("longitude")
    if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in (latitude, longitude)):
        raise PushError('"latitude" and "longitude" must be numbers, like 14.6349 and -90.5069')
    assert isinstance(latitude, int | float) and isinstance(longitude, int | float)
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        raise PushError("latitude must be within -90..90 and longitude within -180..180")
    chat, person = _people(chat_id, body)
    message = {"message_id": api.new_message_id(), "date": int(time.time()), "chat": chat, "from": person}
    message["location"] = {"latitude": float(latitude), "longitude": float(longitude)}
    api.person_wrote(chat_id, message["message_id"], f"[location {latitude}, {longitude}]")
    return {"message": message}


def _with_buttons(api: FakeBotApi, chat_id: int, message_id: Any) -> Sent:
    """The newest state of the chat's newest message with buttons (or of `message_id`), still in the chat."""
    latest: dict[int, Sent] = {}
    for sent in api.sent:
        shown = sent.method in ("sendMessage", "editMessageText")
        if shown and sent.chat_id == chat_id and sent.message_id is not None:
            latest[sent.message_id] = sent
    held = api.chats.get(chat_id, {})
    candidates = [s for mid, s in latest.items() if mid in held and s.buttons]
    if message_id is not None:
        candidates = [s for s in candidates if s.message_id == message_id]
    if not candidates:
        where = f"message {message_id}" if message_id is not None else f"chat {chat_id}"
        raise PushError(f"no message with buttons in {where} (see /_emulator/sent)")
    return max(candidates, key=lambda s: s.message_id or 0)


def tap_update(api: FakeBotApi, body: dict[str, Any]) -> dict[str, Any]:
    """{"chat": 42, "button": 1}: a press on a button of the newest message with buttons."""
    chat_id = _chat(body)
    target = _with_buttons(api, chat_id, body.get("message_id"))
    wanted = body.get("button")
    buttons = target.buttons
    data = None
    if isinstance(wanted, int) or (isinstance(wanted, str) and wanted.isdecimal()):
        number = int(wanted)
        data = buttons[number - 1][1] if 1 <= number <= len(buttons) else None
    elif isinstance(wanted, str):
        data = next((d for label, d in buttons if wanted.casefold() in (label.casefold(), d.casefold())), None)
    if data is None:
        shown = ", ".join(f"{n}. {label}" for n, (label, _) in enumerate(buttons, 1))
        raise PushError(f'"button" must be one of message {target.message_id}\'s: {shown}')
    chat, person = _people(chat_id, body)
    message = {"message_id": target.message_id, "date": int(time.time()), "chat": chat, "text": target.text or ""}
    message["reply_markup"] = target.params.get("reply_markup")
    callback = {"id": str(api.new_message_id()), "from": person, "chat_instance": str(chat_id), "message": message}
    return {"callback_query": callback | {"data": data}}


PUSHES = {"say": message_update, "tap": tap_update, "location": location_update}


def instructions(base_url: str, control: str, chat: int = SAMPLE_CHAT) -> list[str]:
    """The lines the stand-in prints at start: how to run the bot on it, and how to push each kind."""
    where = '"latitude": 14.6349, "longitude": -90.5069'
    return [
        f"Bot API emulator: TELEGRAM_API_BASE_URL={base_url}",
        f"Push as the person with chat id {chat} (any number is a person; /start CODE enrols them):",
        f'  a message:      curl -d \'{{"chat": {chat}, "text": "/help"}}\' {control}/say',
        f'  a button press: curl -d \'{{"chat": {chat}, "button": 1}}\' {control}/tap'
        '   (1 = the first button of the newest message with buttons; or its label, like "Check out")',
        f"  a location:     curl -d '{{\"chat\": {chat}, {where}}}' {control}/location",
        f"  what the bot sent, with its buttons: curl {control}/sent",
        f"  a raw update:   curl -H 'Content-Type: application/json' -d '{{\"message\": {{...}}}}' {control}/updates",
    ]
