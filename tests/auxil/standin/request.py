"""python-telegram-bot's request layer, answered in-process by a FakeBotApi instead of the network."""

from __future__ import annotations

import json
from urllib.parse import unquote

from telegram._utils.defaultvalue import DEFAULT_NONE
from telegram._utils.types import ODVInput
from telegram.error import NetworkError
from telegram.request import BaseRequest, RequestData

from tests.auxil.standin.api import FakeBotApi


class StandinRequest(BaseRequest):
    """A BaseRequest whose `do_request` hands the call to the stand-in and returns its JSON."""

    def __init__(self, api: FakeBotApi) -> None:
        self.api = api

    @property
    def read_timeout(self) -> float | None:
        return None

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = DEFAULT_NONE,
        write_timeout: ODVInput[float] = DEFAULT_NONE,
        connect_timeout: ODVInput[float] = DEFAULT_NONE,
        pool_timeout: ODVInput[float] = DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        if "/file/bot" in url:  # a file's download: {base_file_url}{token}/{file_path}
            file_path = unquote(url.split("/file/bot", 1)[1]).partition("/")[2]
            content = self.api.file_content(file_path)
            if content is None:
                return 404, json.dumps({"ok": False, "error_code": 404, "description": "Not Found"}).encode()
            return 200, content
        api_method = url.rsplit("/", 1)[-1]
        # Round-trip through JSON, as the wire would: the stand-in sees what Telegram would see.
        params = json.loads(json.dumps(request_data.parameters)) if request_data else {}
        if request_data is not None and request_data.contains_files:
            for name, part in request_data.multipart_data.items():  # uploaded files: name, size, bytes
                content = part[1] if isinstance(part[1], bytes) else part[1].read()
                params[name] = {"file_name": part[0], "size": len(content), "content": content}
        status, body = await self.api.handle(api_method, params)
        if status == 0:  # the stand-in's way of saying "no connection"
            raise NetworkError("stand-in: connection refused")
        return status, json.dumps(body).encode()
