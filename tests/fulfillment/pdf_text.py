"""The text of a packing slip PDF as a reader would copy it (test helper).

Reads what fpdf2 writes: a ToUnicode CMap (bfchar pairs) and content streams,
compressed or not, drawing 2-byte glyph ids with `(...) Tj`; without an embedded
font (only PDF core fonts), one Latin-1 byte per character.
"""

from __future__ import annotations

import re
import zlib

_STREAM = re.compile(rb"stream\r?\n(.*?)endstream", re.S)
"""A stream's bytes with the end-of-line before `endstream`: compressed data may itself
end in a CR or LF byte, so the zlib reader finds where it ends (the rest is left over)."""
_PAIR = re.compile(rb"<([0-9A-Fa-f]{4})>\s*<([0-9A-Fa-f]{4,8})>")
_SHOW = re.compile(rb"\(((?:\\.|[^\\)])*)\)\s*Tj", re.S)
_ESCAPES = {b"n": b"\n", b"r": b"\r", b"t": b"\t", b"b": b"\b", b"f": b"\f"}


def pdf_lines(data: bytes) -> list[str]:
    streams = []
    for match in _STREAM.finditer(data):
        try:
            streams.append(zlib.decompressobj().decompress(match.group(1)))
        except zlib.error:
            streams.append(match.group(1).removesuffix(b"\n").removesuffix(b"\r"))
    cmap: dict[int, str] = {}
    for stream in streams:
        if b"beginbfchar" in stream:
            for cid, uni in _PAIR.findall(stream):
                cmap[int(cid, 16)] = bytes.fromhex(uni.decode()).decode("utf-16-be")
    lines = []
    for stream in streams:
        for raw in _SHOW.findall(stream):
            glyphs = _unescape(raw)
            if not cmap:  # a PDF core font (Helvetica): one Latin-1 byte per character
                lines.append(glyphs.decode("latin-1"))
                continue
            ids = [int.from_bytes(glyphs[i : i + 2], "big") for i in range(0, len(glyphs), 2)]
            lines.append("".join(cmap.get(i, "\ufffd") for i in ids))
    return lines


def _unescape(raw: bytes) -> bytes:
    out, i = bytearray(), 0
    while i < len(raw):
        if raw[i : i + 1] == b"\\":
            nxt = raw[i + 1 : i + 2]
            octal = re.match(rb"[0-7]{1,3}", raw[i + 1 : i + 4])
            if octal:
                out.append(int(octal.group(), 8) & 0xFF)
                i += 1 + len(octal.group())
                continue
            out += _ESCAPES.get(nxt, nxt)
            i += 2
        else:
            out.append(raw[i])
            i += 1
    return bytes(out)
