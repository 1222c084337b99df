"""Keyed pseudonyms: an ID number becomes an int64 ``person_key`` that only the key holder can recompute.

``person_key`` = the first 8 bytes of HMAC-SHA256(key, ID number as UTF-8), read as a big-endian signed int64.
The key is 32 random bytes kept in a key file (hex, mode 0600) created on first use, by default
``<data>/secrets/pseudonym.key`` next to the lake. Without the key a pseudonym cannot be linked back to an ID
number by hashing candidate IDs (the space of valid IDs is small enough to enumerate); destroying the key at
the sunset of the emergency makes the lake's person keys unlinkable for good.

Birthday bound: 64-bit keys collide with probability about n² / 2⁶⁵ for n distinct persons — about 1e-4 for a
province of 65 million, 5e-3 for 400 million and 5% for all 1.4 billion residents of China. A collision would
merge two persons' records; at national scale widen the key (the lake column is the one place to change).

Hashing runs over the unique IDs of a batch only (dictionary-encode, hash the uniques, take back), from
SHA-256 states precomputed for the padded key, about 1.3 µs per distinct ID (OpenSSL's one-shot HMAC, which
pads the key anew each call, is 3 µs; DuckDB's ``sha256`` composed into HMAC 2 µs). :meth:`Pseudonymiser.key`
is the plain ``hmac`` reference the tests hold the fast path to. Pseudonyms already computed are remembered
for the life of the ``Pseudonymiser`` (up to 8 million, in memory only), so a person met again in the next
daily file or in another feed costs a binary search instead of an HMAC.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from shuzhi import idcard

log = logging.getLogger(__name__)

KEY_BYTES = 32
KEY_FILE_NAME = "pseudonym.key"
_BLOCK = 64  # SHA-256 block size


def load_or_create_key(path: Path | str) -> bytes:
    """The secret key in ``path``; a new random key is written there (mode 0600) if there is none yet."""
    path = Path(path)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process created it first: use theirs
            return _read_key(path)
        with os.fdopen(fd, "w") as out:
            out.write(os.urandom(KEY_BYTES).hex() + "\n")
        log.info("created a new pseudonym key file %s", path)
    return _read_key(path)


def _read_key(path: Path) -> bytes:
    key = bytes.fromhex(path.read_text().strip())
    if len(key) < 16:
        raise ValueError(f"pseudonym key in {path} is shorter than 16 bytes")
    return key


class Pseudonymiser:
    """Maps ID numbers to ``person_key`` with one secret key."""

    def __init__(self, key: bytes) -> None:
        if len(key) > _BLOCK:
            key = hashlib.sha256(key).digest()
        padded = key.ljust(_BLOCK, b"\0")
        self._key = key
        # HMAC(K, m) = H((K ^ opad) || H((K ^ ipad) || m)): the states after the padded keys are computed once
        self._inner = hashlib.sha256(bytes(b ^ 0x36 for b in padded))
        self._outer = hashlib.sha256(bytes(b ^ 0x5C for b in padded))
        self._memo = _Memo()

    @classmethod
    def from_file(cls, path: Path | str) -> Pseudonymiser:
        return cls(load_or_create_key(path))

    @property
    def fingerprint(self) -> str:
        """16 hex digits naming the key without revealing it: instances whose pseudonyms agree share it."""
        return hmac.digest(self._key, b"shuzhi pseudonym key fingerprint", "sha256")[:8].hex()

    def key(self, id_number: str) -> int:
        """The pseudonym of one ID number (reference implementation)."""
        digest = hmac.digest(self._key, id_number.encode("utf-8"), "sha256")
        return int.from_bytes(digest[:8], "big", signed=True)

    def keys(self, ids: pa.Array | pa.ChunkedArray) -> pa.Array:
        """Pseudonyms (int64) of an array of ID numbers; null stays null. Hashes each distinct ID once."""
        if isinstance(ids, pa.ChunkedArray):
            ids = ids.combine_chunks()
        ids = ids.cast(pa.string())
        encoded = pc.dictionary_encode(ids)
        unique_keys = self.keys_of_distinct(encoded.dictionary)
        return unique_keys.take(encoded.indices)

    def keys_of_distinct(self, uniques: pa.Array) -> pa.Array:
        """Pseudonyms of an array of distinct ID numbers (each element is hashed: deduplicate first)."""
        uniques = uniques.cast(pa.string())
        codes = idcard.int_codes(uniques)
        keys, missing = self._memo.get(codes)
        if missing.any():
            todo = np.flatnonzero(missing)
            hashed = self._hash(uniques.take(pa.array(todo, pa.int64())))
            keys[todo] = hashed
            self._memo.add(codes[todo], hashed)
        return pa.array(keys, pa.int64(), mask=uniques.is_null().to_numpy(zero_copy_only=False))

    def _hash(self, values: pa.Array) -> np.ndarray:
        inner, outer = self._inner.copy, self._outer.copy
        digests = bytearray()
        for value in values.to_pylist():
            if value is None:
                digests += bytes(8)
                continue
            h = inner()
            h.update(value.encode("utf-8"))
            o = outer()
            o.update(h.digest())
            digests += o.digest()[:8]
        return np.frombuffer(bytes(digests), ">i8").astype(np.int64)


class _Memo:
    """Pseudonyms already computed in this process, by ID code (sorted arrays; at most ``LIMIT`` of them).

    The same persons come back in every daily file and in every feed of a run; looking a pseudonym up costs a
    binary search instead of an HMAC. It holds ID numbers in an encoded form, in memory only, like the batch
    being pseudonymised.
    """

    LIMIT = 8_000_000  # 128 MB

    def __init__(self) -> None:
        self.codes = np.zeros(0, dtype=np.int64)
        self.keys = np.zeros(0, dtype=np.int64)

    def get(self, codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Known keys (0 where unknown) and the mask of codes not known (or not an ID code)."""
        at = np.minimum(np.searchsorted(self.codes, codes), max(len(self.codes) - 1, 0))
        known = (
            (codes >= 0) & (self.codes[at] == codes) if len(self.codes) else np.zeros(len(codes), dtype=bool)
        )
        keys = np.where(known, self.keys[at] if len(self.keys) else 0, 0)
        return keys, ~known

    def add(self, codes: np.ndarray, keys: np.ndarray) -> None:
        keep = codes >= 0
        codes, keys = codes[keep], keys[keep]
        if not len(codes) or len(self.codes) + len(codes) > self.LIMIT:
            return
        order = np.argsort(codes)
        codes, keys = codes[order], keys[order]
        at = np.searchsorted(self.codes, codes)
        self.codes = np.insert(self.codes, at, codes)
        self.keys = np.insert(self.keys, at, keys)
