"""OLE compound files ([MS-CFB]): the container of Word 97-2003 ``.doc`` files (and of
password-protected Office files of any age), read with the standard library.

A compound file is a small FAT file system inside one file: sectors of 512 (version 3) or 4,096
bytes (version 4), a table chaining them (the FAT), a directory of named streams, and streams
under 4,096 bytes kept in 64-byte sectors of a "mini stream". ``CompoundFile`` reads streams
by name, the root's and its storages' (``Storage``: an Outlook attachment's). Every chain is
bounded and checked (a sector beyond the file, a loop), and a stream is refused past the
document limit (``kgx.batch.limits``), so a damaged or hostile file is a clear error, never a
hang or a huge allocation.
"""

from __future__ import annotations

import datetime
import struct

from kgx.batch import limits

SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_END = 0xFFFFFFFE  # ENDOFCHAIN
_FREE = 0xFFFFFFFF  # FREESECT (and NOSTREAM in the directory)
_MAX_SECTOR = 0xFFFFFFFA
_MINI = 64
#: why an encrypted Office file is not read: Office encrypts a whole file, of any format, into
#: a compound file of this one stream
ENCRYPTED = "a password-protected Office file: refused"


class CfbError(ValueError):
    """A file that is not a readable compound file."""


def is_compound(data: bytes) -> bool:
    return data[:8] == SIGNATURE


def filetime(ticks: int) -> datetime.datetime:
    """A Windows FILETIME (100 ns since 1601, UTC), as compound files' properties keep times."""
    return (datetime.datetime(1601, 1, 1, tzinfo=datetime.UTC)
            + datetime.timedelta(microseconds=ticks // 10))


class CompoundFile:
    """The streams at the root of the compound file in ``data``."""

    def __init__(self, data: bytes) -> None:
        if not is_compound(data):
            raise CfbError("not an OLE compound file")
        if len(data) < 512:
            raise CfbError("shorter than a compound file's header")
        self.data = data
        major, _, shift, mini_shift = struct.unpack_from("<HHHH", data, 0x1A)
        if shift not in (9, 12) or mini_shift != 6:
            raise CfbError(f"sectors of 2^{shift} bytes: not a compound file kgx reads")
        self.sector = 1 << shift
        (n_fat, dir_start, _, self.cutoff, minifat_start, n_minifat, difat_start,
         n_difat) = struct.unpack_from("<IIIIIIII", data, 0x2C)
        fat_sectors = list(struct.unpack_from("<109I", data, 0x4C))
        per = self.sector // 4
        seen: set[int] = set()
        while difat_start < _MAX_SECTOR and len(seen) < n_difat:
            if difat_start in seen:
                raise CfbError("its sector table list loops")
            seen.add(difat_start)
            block = struct.unpack(f"<{per}I", self._sector(difat_start))
            fat_sectors.extend(block[:-1])
            difat_start = block[-1]
        fat_sectors = [s for s in fat_sectors[:n_fat] if s < _MAX_SECTOR]
        if len(fat_sectors) > len(data) // self.sector:  # one sector named again and again
            raise CfbError("its sector table is larger than the file (damaged?)")
        self.fat = struct.unpack(f"<{per * len(fat_sectors)}I",
                                 b"".join(self._sector(s) for s in fat_sectors))
        directory = self._read(dir_start, self.fat, self.sector, None)
        self.entries = [_entry(directory, i, major) for i in range(len(directory) // 128)]
        if not self.entries or self.entries[0][1] != 5:
            raise CfbError("its directory has no root entry")
        minifat = self._read(minifat_start, self.fat, self.sector, None) if n_minifat else b""
        self.minifat = struct.unpack(f"<{len(minifat) // 4}I", minifat)
        root = self.entries[0]
        self.ministream = self._read(root[5], self.fat, self.sector, root[6]) if root[6] else b""
        self.streams = self._children(root)
        self.root = Storage(self, self.streams)

    def encrypted(self) -> bool:
        """Whether this is an encrypted Office file (its whole content one encrypted stream)."""
        return self.stream("EncryptedPackage") is not None

    def stream(self, name: str) -> bytes | None:
        """The root's stream ``name`` (None when it has none)."""
        return self.root.stream(name)

    def storages(self) -> list[str]:
        return self.root.storages()

    def storage(self, name: str) -> Storage | None:
        return self.root.storage(name)

    def open(self, entry: tuple | None, name: str) -> bytes | None:
        """The bytes of the stream of directory entry ``entry`` (None for none or another
        kind of entry)."""
        if entry is None or entry[1] != 2:
            return None
        _, _, _, _, _, start, size = entry
        if size > limits.document_bytes():
            raise CfbError(limits.over_limit(f"its {name} stream holds"))
        if size < self.cutoff:
            return self._read(start, self.minifat, _MINI, size, self.ministream)
        return self._read(start, self.fat, self.sector, size)

    def _children(self, parent: tuple) -> dict[str, tuple]:
        """The entries directly under ``parent``: a tree of siblings from its child."""
        found: dict[str, tuple] = {}
        todo, seen = [parent[4]], set()
        while todo:
            i = todo.pop()
            if i >= len(self.entries) or i in seen:
                continue
            seen.add(i)
            entry = self.entries[i]
            found.setdefault(entry[0].lower(), entry)
            todo += [entry[2], entry[3]]
        return found

    def _sector(self, n: int) -> bytes:
        at = (n + 1) * self.sector
        block = self.data[at:at + self.sector]
        if not block:
            raise CfbError(f"sector {n} lies beyond the end of the file (truncated?)")
        return block.ljust(self.sector, b"\0")

    def _read(self, start: int, table: tuple[int, ...], size: int, length: int | None,
              source: bytes | None = None) -> bytes:
        """The chain of sectors from ``start`` in ``table`` (``length`` bytes of it)."""
        want = None if length is None else -(-length // size)
        parts: list[bytes] = []
        seen, n = set(), start
        while n != _END and (want is None or len(parts) < want):
            if n >= len(table) or n in seen:
                raise CfbError("a chain of sectors " + (
                    "loops" if n in seen else "leaves the sector table") + " (damaged?)")
            seen.add(n)
            if source is None:
                parts.append(self._sector(n))
            else:
                block = source[n * size:(n + 1) * size]
                if len(block) < size and length is None:
                    raise CfbError("a mini sector lies beyond the mini stream")
                parts.append(block)
            if len(parts) * size > limits.document_bytes():
                raise CfbError(limits.over_limit("a stream holds"))
            n = table[n]
        data = b"".join(parts)
        if length is not None and len(data) < length:
            raise CfbError(f"a stream of {length:,} bytes ends after {len(data):,} (truncated?)")
        return data if length is None else data[:length]


class Storage:
    """A storage (a folder of streams and storages) of a compound file: the root, an Outlook
    attachment's."""

    def __init__(self, cf: CompoundFile, entries: dict[str, tuple]) -> None:
        self.cf, self.entries = cf, entries

    def stream(self, name: str) -> bytes | None:
        """Its stream ``name`` (None when it has none)."""
        return self.cf.open(self.entries.get(name.lower()), name)

    def storages(self) -> list[str]:
        """The names of its storages, in name order."""
        return sorted(entry[0] for entry in self.entries.values() if entry[1] == 1)

    def storage(self, name: str) -> Storage | None:
        """Its storage ``name`` (None when it has none)."""
        entry = self.entries.get(name.lower())
        return None if entry is None or entry[1] != 1 else Storage(
            self.cf, self.cf._children(entry))


def _entry(directory: bytes, i: int, major: int) -> tuple:
    """``(name, type, left, right, child, start sector, size)`` of directory entry ``i``."""
    raw = directory[i * 128:(i + 1) * 128]
    name_len, kind = struct.unpack_from("<HB", raw, 64)
    left, right, child = struct.unpack_from("<III", raw, 68)
    start, size = struct.unpack_from("<IQ", raw, 116)
    name = raw[:max(0, min(name_len, 64) - 2)].decode("utf-16-le", "replace")
    return name, kind, left, right, child, start, size & 0xFFFFFFFF if major == 3 else size
