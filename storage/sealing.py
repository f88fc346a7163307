"""Field encryption: AES-GCM per value, bound to its table, column and row, tagged with a key id.

A sealed value is  version(1) | key id(4) | nonce(12) | ciphertext+tag.  The key id lets a
later key rotation tell which key opened a value; the associated data stops a sealed value
from being copied into another row or column and still opening.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

VERSION = 1
KEY_BYTES = 32


class SealError(Exception):
    """A sealed value could not be opened: wrong key, tampering, or moved between rows."""


class KeyProblem(Exception):
    """The key is missing or malformed."""


def _derive(master: bytes, purpose: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"outreach-bot " + purpose).derive(master)


class Sealer:
    """Seals and opens field values, and computes keyed look-up digests, under one master key."""

    def __init__(self, master: bytes, old_masters: tuple[bytes, ...] = ()) -> None:
        if len(master) != KEY_BYTES:
            raise KeyProblem("the key must be 32 bytes")
        self._aead: dict[bytes, AESGCM] = {}
        for key in (master, *old_masters):
            self._aead[self.key_id_of(key)] = AESGCM(_derive(key, b"seal"))
        self.key_id = self.key_id_of(master)
        # Mutable copies, so that forget() can overwrite them (bytes cannot be).
        self._lookup = bytearray(_derive(master, b"lookup"))
        self._master = bytearray(master)  # for keys of other purposes (storage.backup); never stored
        self._masters = [bytearray(key) for key in (master, *old_masters)]  # storage.integrity's keys
        self._derived: dict[bytes, dict[bytes, bytearray]] = {}

    def derive(self, purpose: bytes) -> bytes:
        """A key of its own for `purpose` (b"backup"), from the master key."""
        if not self._master:
            raise SealError("the key was destroyed")
        return _derive(bytes(self._master), purpose)

    def forget(self) -> None:
        """Drop the keys this sealer holds, and overwrite the copies it owns with zeros (the chat's
        shred). What Python cannot promise: the `bytes` the key was read into, and the short-lived
        copies made on the way (base64 text, derived keys before they got here, OpenSSL's own key
        schedule inside each AESGCM object), are immutable or out of reach: they are only released,
        and their memory is reused later rather than overwritten now. Every later seal, open or
        look-up fails."""
        self._aead.clear()
        derived = [key for by_id in self._derived.values() for key in by_id.values()]
        for secret in (self._master, self._lookup, *self._masters, *derived):
            secret[:] = bytes(len(secret))
        for by_id in self._derived.values():
            by_id.clear()  # the same dicts its users hold: their next use fails
        self._master, self._lookup, self._masters = bytearray(), bytearray(), []

    def derived_by_id(self, purpose: bytes) -> dict[bytes, bytearray]:
        """`purpose`'s key under the current key and every old one, by key id (storage.integrity)."""
        if not self._masters:
            raise SealError("the key was destroyed")
        # Kept here, as bytearrays, so that forget() reaches the copies its users hold (they keep this dict).
        derived = self._derived.get(purpose)
        if derived is None:
            derived = {self.key_id_of(bytes(key)): bytearray(_derive(bytes(key), purpose)) for key in self._masters}
            self._derived[purpose] = derived
        return derived

    @staticmethod
    def key_id_of(master: bytes) -> bytes:
        return hmac.new(master, b"outreach-bot key id", hashlib.sha256).digest()[:4]

    @staticmethod
    def _ad(table: str, column: str, row_id: str) -> bytes:
        return f"{table}\x1f{column}\x1f{row_id}".encode()

    def seal(self, value: str, table: str, column: str, row_id: str) -> bytes:
        nonce = os.urandom(12)
        aead = self._aead.get(self.key_id)
        if aead is None:
            raise SealError(f"{table}.{column}: the key was destroyed")
        ct = aead.encrypt(nonce, value.encode("utf-8"), self._ad(table, column, row_id))
        return bytes([VERSION]) + self.key_id + nonce + ct

    def open(self, sealed: bytes, table: str, column: str, row_id: str) -> str:
        if not isinstance(sealed, bytes | bytearray) or len(sealed) < 1 + 4 + 12 + 16 or sealed[0] != VERSION:
            raise SealError(f"{table}.{column}: not a sealed value")
        aead = self._aead.get(bytes(sealed[1:5]))
        if aead is None:
            raise SealError(f"{table}.{column}: sealed under an unknown key")
        try:
            plain = aead.decrypt(bytes(sealed[5:17]), bytes(sealed[17:]), self._ad(table, column, row_id))
        except InvalidTag:
            raise SealError(f"{table}.{column}: tampered with, or sealed for another row") from None
        return plain.decode("utf-8")

    def seal_opt(self, value: str | None, table: str, column: str, row_id: str) -> bytes | None:
        return None if value is None else self.seal(value, table, column, row_id)

    def open_opt(self, sealed: bytes | None, table: str, column: str, row_id: str) -> str | None:
        return None if sealed is None else self.open(sealed, table, column, row_id)

    @staticmethod
    def pin_digest(person_id: str, pin: str) -> bytes:
        """A slow digest of a PIN. It is stored sealed, so without the key it cannot even be attacked, and a
        key rotation re-seals it like any other value (a keyed digest could not be moved to a new key)."""
        salt = hashlib.sha256(f"outreach-bot pin\x1f{person_id}".encode()).digest()
        return hashlib.scrypt(pin.encode(), salt=salt, n=2**14, r=8, p=1, dklen=32)

    def lookup(self, purpose: str, value: str | int) -> str:
        """A keyed digest for finding a row by a value that is stored only sealed."""
        if not self._lookup:
            raise SealError("the key was destroyed")
        return hmac.new(self._lookup, f"{purpose}\x1f{value}".encode(), hashlib.sha256).hexdigest()


def decode_key(text: str) -> bytes:
    try:
        key = base64.b64decode(text.strip(), validate=True)
    except (ValueError, TypeError):
        raise KeyProblem("is not valid base64") from None
    if len(key) != KEY_BYTES:
        raise KeyProblem(f"must decode to {KEY_BYTES} bytes, not {len(key)}")
    return key


def load_or_create_key(key_b64: str | None, key_path: Path, *, create: bool) -> bytes:
    """The key from OUTREACH_KEY, else from the key file, created 0600 when allowed."""
    if key_b64:
        return decode_key(key_b64)
    if key_path.exists():
        return decode_key(key_path.read_text())
    if not create:
        raise KeyProblem(f"no key: set OUTREACH_KEY or run `outreach-bot init` to create {key_path}")
    key_path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_bytes(KEY_BYTES)
    fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(base64.b64encode(key).decode() + "\n")
    return key
