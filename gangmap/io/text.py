"""Bytes to text: each file's encoding detected without re-decoding good text.

Why a module of its own? Analysts get files from Excel on Windows (cp1252 or
UTF-8 with a byte-order mark), Excel's "Unicode text" (UTF-16 with a BOM, tab
separated), Macs (decomposed accents, CR-only line ends) and hand edits that
paste one cp1252 line into a UTF-8 file. The first release decoded a whole
file as cp1252 as soon as one byte was not UTF-8, so every correctly spelt
Welsh name (``Tŷ``, ``Ŵyl``: characters cp1252 does not have) stopped
matching. Here:

* a byte-order mark decides (UTF-8, UTF-16, UTF-32);
* UTF-16 without a BOM is recognised by its pattern of zero bytes;
* otherwise the file is UTF-8, and only the *lines* that are not valid UTF-8
  are read as cp1252; :attr:`Decoded.cp1252_lines` says which;
* text is NFC-normalised (``"e" + combining acute`` becomes ``"é"``, as a Mac
  writes it), and control characters that cannot be structure (everything
  below U+0020 but tab, CR and LF; DEL; C1 controls; zero-width spaces and stray
  BOMs) are removed;
* a file that is none of these (a PNG, a workbook saved with a ``.csv`` name)
  is called binary, and a UTF-16 file never is.

Examples
--------
>>> d = decode_bytes("ward_name\\nTŷ Ddewi\\n".encode() + "Caf\\u00e9\\n".encode("cp1252"), "x.csv")
>>> d.text.splitlines(), d.encoding, d.cp1252_lines
(['ward_name', 'Tŷ Ddewi', 'Café'], 'utf-8', (3,))
>>> decode_bytes("a\\tb\\n".encode("utf-16"), "x.txt").encoding
'utf-16'
"""

from __future__ import annotations

import codecs
import re
import unicodedata
from dataclasses import dataclass

from ..errors import InputError

__all__ = ["Decoded", "decode_bytes", "clean_text", "clean_series", "normalise", "describe_lines"]

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"),
)
# Signatures of files people save or rename by mistake, and what to do instead.
_MAGIC = (
    (b"PK\x03\x04", "it is a zip archive or an Excel .xlsx workbook: give it an .xlsx name, or save the sheet as CSV"),
    (b"\xd0\xcf\x11\xe0", "it is an old Excel .xls workbook: save it as .xlsx or CSV (UTF-8)"),
    (b"%PDF", "it is a PDF"),
    (b"\x89PNG", "it is a PNG image"),
    (b"\xff\xd8\xff", "it is a JPEG image"),
    (b"GIF8", "it is a GIF image"),
)
#: Characters removed from every text read: C0 controls but tab/LF/CR, DEL, C1 controls,
#: zero-width spaces and joiners, and BOMs inside the text.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b-\u200d\u2060\ufeff]")
_SPACES = re.compile(r"[\t\r\n\u2028\u2029\u00a0]+")


@dataclass(frozen=True)
class Decoded:
    """Text of one file and how it was read.

    Attributes
    ----------
    text : str
        NFC-normalised text, control characters removed, line ends as in the
        file (CR, LF or CRLF).
    encoding : str
        ``"utf-8"``, ``"utf-8-sig"`` (Excel's "CSV UTF-8"), ``"utf-16"``,
        ``"utf-32"`` or ``"cp1252"`` (every non-ASCII line was cp1252).
    cp1252_lines : tuple of int
        1-based line numbers read as cp1252 in an otherwise UTF-8 file (or
        every such line of a cp1252 file).
    """

    text: str
    encoding: str
    cp1252_lines: tuple[int, ...] = ()

    @property
    def notes(self) -> tuple[str, ...]:
        """What a user should know about the decoding (empty when it was plain UTF-8)."""
        if self.encoding == "cp1252":
            return ("read as Windows-1252 (cp1252), not UTF-8; save it as CSV UTF-8 to be sure",)
        if self.cp1252_lines:
            return (f"{describe_lines(self.cp1252_lines)} not valid UTF-8 and read as Windows-1252 "
                    "(cp1252); the rest is UTF-8",)
        if self.encoding in ("utf-16", "utf-32"):
            return (f"read as {self.encoding.upper()} (Excel 'Unicode text')",)
        return ()


def describe_lines(lines, limit: int = 8) -> str:
    """``"line 3"``, ``"lines 3, 7, 9"``, ``"lines 3, 7, ... (12 lines)"``."""
    lines = list(lines)
    shown = ", ".join(map(str, lines[:limit]))
    if len(lines) == 1:
        return f"line {shown}"
    return f"lines {shown}" + (f", ... ({len(lines)} lines)" if len(lines) > limit else "")


def normalise(text: str) -> str:
    """``text`` NFC-normalised, without control characters (tab, CR and LF are kept)."""
    return unicodedata.normalize("NFC", _CONTROL.sub("", text))


def clean_text(value: str) -> str:
    """One cell's text: :func:`normalise`, inner tabs and line breaks as spaces, trimmed."""
    return _SPACES.sub(" ", normalise(value)).strip()


def _bom(raw: bytes) -> str | None:
    for mark, encoding in _BOMS:
        if raw.startswith(mark):
            return encoding
    return None


def _utf16_without_bom(raw: bytes) -> str | None:
    """``"utf-16-le"``/``"utf-16-be"`` when zero bytes sit in every other place, as in ASCII-ish UTF-16."""
    head = raw[:4096]
    if len(head) < 4:
        return None
    even, odd = head[0::2], head[1::2]
    if odd.count(0) > 0.4 * len(odd) and even.count(0) < 0.05 * len(even):
        return "utf-16-le"
    if even.count(0) > 0.4 * len(even) and odd.count(0) < 0.05 * len(odd):
        return "utf-16-be"
    return None


def _zip_hint(raw: bytes) -> str:
    """What a file starting like a zip is: a damaged zip, a workbook, or an archive of other files."""
    import io
    import zipfile

    if not zipfile.is_zipfile(io.BytesIO(raw)):
        return "it starts like a zip archive but is damaged or incomplete (cut short while downloading or copying?): "\
               "download or copy it again"
    with zipfile.ZipFile(io.BytesIO(raw)) as z:
        names = z.namelist()
    if any(n.startswith("xl/") for n in names):
        return "it is an Excel workbook: give it an .xlsx name, or save the sheet as CSV"
    shown = ", ".join(n for n in names[:5] if not n.endswith("/"))
    return f"it is a zip archive holding {shown or 'no file'}: unzip it and give the file inside"


def _binary(raw: bytes, source: str, what: str) -> InputError:
    why = next((hint for magic, hint in _MAGIC if raw.startswith(magic)), None)
    if raw.startswith(b"PK\x03\x04"):
        why = _zip_hint(raw)
    return InputError(f"{source}: this is not a CSV text file (it looks binary{'; ' + why if why else ''}). "
                      f"Save the {what} as CSV (UTF-8) and try again.")


def _decode_lines(raw: bytes) -> tuple[str, tuple[int, ...]]:
    """UTF-8 line by line; a line that is not UTF-8 is cp1252 (latin-1 for its 5 undefined bytes)."""
    parts, fallback = [], []
    for number, line in enumerate(raw.splitlines(keepends=True), start=1):
        try:
            parts.append(line.decode("utf-8"))
        except UnicodeDecodeError:
            try:
                parts.append(line.decode("cp1252"))
            except UnicodeDecodeError:
                parts.append(line.decode("latin-1"))
            fallback.append(number)
    return "".join(parts), tuple(fallback)


def decode_bytes(raw: bytes, source: str, what: str = "input") -> Decoded:
    """Decode one file's bytes (see the module docstring for the rules).

    Raises
    ------
    InputError
        The bytes look binary, or a byte-order mark promises an encoding the
        bytes do not follow.
    """
    encoding = _bom(raw) or _utf16_without_bom(raw)
    lines: tuple[int, ...] = ()
    if encoding:
        try:
            text = raw.decode(encoding)
        except UnicodeDecodeError:
            name = encoding.upper().replace("-SIG", "")
            raise InputError(f"{source}: the file starts like {name} text but is not valid {name}. Save the "
                             f"{what} again as CSV (UTF-8) and try again.") from None
        encoding = encoding.replace("-le", "").replace("-be", "")
        if "\x00" in text:
            raise _binary(raw, source, what)
    elif b"\x00" in raw[:8192] or any(raw.startswith(m) for m, _ in _MAGIC):
        raise _binary(raw, source, what)
    else:
        try:
            text, encoding = raw.decode("utf-8"), "utf-8"
        except UnicodeDecodeError:
            text, lines = _decode_lines(raw)
            encoding = "utf-8" if _has_utf8_beyond_ascii(raw, lines) else "cp1252"
        if "\x00" in text:
            raise _binary(raw, source, what)
    return Decoded(normalise(text), encoding, lines)


def _has_utf8_beyond_ascii(raw: bytes, cp1252_lines: tuple[int, ...]) -> bool:
    """Whether any line not read as cp1252 holds non-ASCII UTF-8 (so the file is UTF-8 with a few bad lines)."""
    bad = set(cp1252_lines)
    return any(not line.isascii() for n, line in enumerate(raw.splitlines(), start=1) if n not in bad)


def clean_series(values, *, upper: bool = False):
    """:func:`clean_text` for a pandas Series; missing stays missing, ``""`` becomes missing.

    Each distinct value is cleaned once (columns of codes, names, months and
    categories repeat few values), so long columns cost little.
    """
    import numpy as np
    import pandas as pd

    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    cleaned = [clean_text(str(u)) for u in uniques]
    table = np.array([*((c.upper() if upper else c) or None for c in cleaned), None], dtype=object)
    return pd.Series(table[codes], index=values.index, dtype="string")
