"""Downloading data files: mirrors tried in turn, checksums checked before a file appears.

A download goes to a temporary name in the destination folder and is renamed only after
its md5 matches, so an interrupted or corrupt download never looks like a present file.
Also a minimal reader for the first sheet of an .xlsx workbook (a zip of XML files), so that
archives distributed as spreadsheets need no extra dependency.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import io
import os
import re
import tempfile
import urllib.error
import urllib.request
import xml.etree.ElementTree as ET
import zipfile
import zlib
from collections.abc import Sequence
from pathlib import Path

from ember._progress import progress_bar

_CHUNK = 1 << 20
_USER_AGENT = "ember-datasets (https://github.com; python urllib)"


def default_root() -> Path:
    """Where datasets live when no root is given: $EMBER_DATA, else ~/.cache/ember."""
    return Path(os.environ.get("EMBER_DATA") or Path.home() / ".cache" / "ember")


def md5_of(path: Path, uncompressed: bool = False) -> str:
    """The md5 of a file, or with uncompressed=True of the content of a gzip file."""
    digest = hashlib.md5(usedforsecurity=False)
    with (gzip.open if uncompressed else open)(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def sha256_of(path: Path) -> str:
    """The sha256 of a file, in hex."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _fetch(url: str, dest: Path, timeout: float, progress: bool = True) -> None:
    request = urllib.request.Request(url, headers={"User-Agent": _USER_AGENT})
    with urllib.request.urlopen(request, timeout=timeout) as response, open(dest, "wb") as out:
        size = response.headers.get("Content-Length")
        bar = progress_bar(int(size) if size else None, desc=Path(url).name, unit="B") if progress else None
        with bar or contextlib.nullcontext():
            while chunk := response.read(_CHUNK):
                out.write(chunk)
                if bar is not None:
                    bar.update(len(chunk))


def missing_dirs(folder: Path) -> list[Path]:
    """folder and those of its parents that do not exist yet, deepest first."""
    missing = []
    while not folder.exists():
        missing.append(folder)
        folder = folder.parent
    return missing


def remove_empty_dirs(folders: list[Path]) -> None:
    """Undo a failed download's folders (deepest first), stopping at one that is not empty."""
    for folder in folders:
        try:
            folder.rmdir()
        except OSError:
            return


def download(
    urls: Sequence[str],
    dest: Path,
    md5: str | None,
    content_md5: bool = False,
    timeout: float = 30.0,
    sha256_prefix: str | None = None,
    progress: bool = True,
) -> Path:
    """Download `dest` from the first of `urls` that delivers a file with the right md5.

    content_md5=True compares the md5 of the uncompressed content of a .gz file (so a
    recompressed copy is accepted). md5=None skips the check (the caller then validates the
    content itself). sha256_prefix, when given, must begin the file's sha256 (torch.hub's
    check). Raises RuntimeError listing every mirror's failure; on failure nothing
    is left behind, not even the folders this call created.
    """
    dest = Path(dest)
    created = missing_dirs(dest.parent)
    dest.parent.mkdir(parents=True, exist_ok=True)
    failures = []
    for url in urls:
        fd, tmp_name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".part", dir=dest.parent)
        os.close(fd)
        tmp = Path(tmp_name)
        try:
            if progress:
                _fetch(url, tmp, timeout)
            else:
                _fetch(url, tmp, timeout, progress=False)
            if sha256_prefix is not None:
                digest = sha256_of(tmp)
                if not digest.startswith(sha256_prefix):
                    failures.append(f'{url}: invalid hash value (expected "{sha256_prefix}", got "{digest}")')
                    continue
            if md5 is not None:
                got = md5_of(tmp, uncompressed=content_md5 and dest.name.endswith(".gz"))
                if got != md5:
                    failures.append(f"{url}: checksum mismatch (md5 {got}, expected {md5})")
                    continue
            os.replace(tmp, dest)
            return dest
        except (urllib.error.URLError, OSError, EOFError, zlib.error, ValueError) as e:
            failures.append(f"{url}: {getattr(e, 'reason', None) or e}")
        finally:
            tmp.unlink(missing_ok=True)
    remove_empty_dirs(created)
    raise RuntimeError(f"could not download {dest.name}:\n  " + "\n  ".join(failures))


# ---- .xlsx ----------------------------------------------------------------------------------

_NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"


def _column_index(ref: str) -> int:
    letters = re.match(r"[A-Z]+", ref).group(0)
    index = 0
    for ch in letters:
        index = index * 26 + ord(ch) - ord("A") + 1
    return index - 1


def read_xlsx_rows(data: bytes | Path) -> list[list[str]]:
    """The cells of the first worksheet of an .xlsx file, as rows of strings.

    Enough for plain tables (numbers and text); formulas give their cached values and
    styles, dates and merged cells are not interpreted.
    """
    source = io.BytesIO(data) if isinstance(data, bytes) else data
    with zipfile.ZipFile(source) as book:
        names = book.namelist()
        shared: list[str] = []
        if "xl/sharedStrings.xml" in names:
            for item in ET.fromstring(book.read("xl/sharedStrings.xml")).iter(f"{_NS}si"):
                shared.append("".join(t.text or "" for t in item.iter(f"{_NS}t")))
        sheets = sorted(n for n in names if re.fullmatch(r"xl/worksheets/sheet\d+\.xml", n))
        if not sheets:
            raise ValueError("the workbook has no worksheet")
        sheet = ET.fromstring(book.read(sheets[0]))
    rows = []
    for row in sheet.iter(f"{_NS}row"):
        cells: dict[int, str] = {}
        for position, cell in enumerate(row.iter(f"{_NS}c")):
            ref = cell.get("r")
            column = _column_index(ref) if ref else position
            kind, value = cell.get("t"), cell.find(f"{_NS}v")
            if kind == "s":
                cells[column] = shared[int(value.text)]
            elif kind == "inlineStr":
                cells[column] = "".join(t.text or "" for t in cell.iter(f"{_NS}t"))
            else:
                cells[column] = value.text if value is not None and value.text is not None else ""
        if cells:
            rows.append([cells.get(c, "") for c in range(max(cells) + 1)])
    return rows
