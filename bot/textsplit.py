"""Long texts cut into messages that Telegram accepts."""

from __future__ import annotations

MESSAGE_LIMIT = 4096  # Telegram counts UTF-16 code units: an emoji outside the BMP counts twice


def utf16_units(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _fit(text: str, limit: int) -> int:
    """How many characters of `text` fit in `limit` UTF-16 units."""
    used = 0
    for index, char in enumerate(text):
        used += 2 if ord(char) > 0xFFFF else 1
        if used > limit:
            return index
    return len(text)


def pieces(text: str, limit: int = MESSAGE_LIMIT) -> list[str]:
    """`text` in pieces of at most `limit` units, in order: each cut at the last line break that fits, else
    at the last space (either dropped), when that keeps at least half of it; else between two characters."""
    assert limit >= 2, "an emoji outside the BMP takes two units"
    out: list[str] = []
    rest = text
    while utf16_units(rest) > limit:
        cut = resume = _fit(rest, limit)
        for separator in ("\n", " "):
            at = rest.rfind(separator, 0, cut + 1)  # the separator itself ends no message: it may stand at cut
            if at >= cut // 2:
                cut, resume = at, at + 1
                break
        out.append(rest[:cut])
        rest = rest[resume:]
    out.append(rest)
    return [piece for piece in out if piece.strip()]  # Telegram refuses a message of only blanks
