"""Downloads against a local HTTP server on 127.0.0.1: no test touches the internet."""

from __future__ import annotations

import hashlib
import io
import socket
import sys
import threading
import zipfile
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import SimpleNamespace
from xml.sax.saxutils import escape

import numpy as np
import pytest

from ember import datasets
from ember._progress import progress_bar
from ember.datasets._download import download, read_xlsx_rows
from test_datasets import idx_bytes, small_mnist, write_mnist


class _QuietHandler(SimpleHTTPRequestHandler):
    def __init__(self, *args, requests: list, **kwargs) -> None:
        self.requests = requests
        super().__init__(*args, **kwargs)

    def do_GET(self) -> None:
        self.requests.append(self.path)
        super().do_GET()

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def server(tmp_path):
    folder = tmp_path / "served"
    folder.mkdir()
    requests: list[str] = []
    handler = partial(_QuietHandler, directory=str(folder), requests=requests)
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield SimpleNamespace(
        url=f"http://127.0.0.1:{httpd.server_address[1]}/", folder=folder, requests=requests
    )
    httpd.shutdown()
    httpd.server_close()


def _closed_port_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/"


def _content_md5s(folder: Path) -> dict[str, str]:
    return {
        name: hashlib.md5(idx_bytes(arr)).hexdigest()
        for prefix, n in (("train", 12), ("t10k", 5))
        for name, arr in zip(
            (f"{prefix}-images-idx3-ubyte", f"{prefix}-labels-idx1-ubyte"), small_mnist(n, seed=n)
        )
    }


def _mnist_class(mirrors: list[str], md5s: dict[str, str]) -> type:
    return type("MNIST", (datasets.MNIST,), {"mirrors": mirrors, "resources": md5s})


def _files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


def test_mnist_download_success_then_no_second_download(server, tmp_path):
    write_mnist(server.folder)
    root = tmp_path / "data"
    Mnist = _mnist_class([server.url + "missing/", server.url], _content_md5s(server.folder))
    train = Mnist(root, train=True, download=True)
    assert len(train) == 12 and train.targets.tolist() == small_mnist(12, seed=12)[1].tolist()
    raw = root / "MNIST" / "raw"
    assert [p.name for p in _files(root)] == sorted(f"{name}.gz" for name in Mnist.resources)
    assert all(p.parent == raw for p in _files(root))
    assert server.requests[:2] == ["/missing/train-images-idx3-ubyte.gz", "/train-images-idx3-ubyte.gz"]
    count = len(server.requests)
    assert len(Mnist(root, train=False, download=True)) == 5
    assert len(server.requests) == count  # present files are never fetched again


def test_checksum_mismatch_leaves_nothing(server, tmp_path):
    write_mnist(server.folder)
    root = tmp_path / "data"
    Mnist = _mnist_class([server.url], dict.fromkeys(_content_md5s(server.folder), "0" * 32))
    with pytest.raises(RuntimeError, match="checksum mismatch") as info:
        Mnist(root, download=True)
    assert "Put the files" in str(info.value)
    assert not root.exists() or _files(root) == []
    assert not (root / "MNIST").exists()  # folders created for the download are removed too


def test_recompressed_file_passes_content_checksum(server, tmp_path):
    write_mnist(server.folder, gz=False)
    for path in list(server.folder.iterdir()):  # compress at another level than the reference
        import gzip

        (server.folder / f"{path.name}.gz").write_bytes(gzip.compress(path.read_bytes(), compresslevel=1))
    Mnist = _mnist_class([server.url], _content_md5s(server.folder))
    assert len(Mnist(tmp_path / "data", download=True)) == 12


def test_server_down_gives_one_clear_error(tmp_path):
    root = tmp_path / "data"
    root.mkdir()
    Mnist = _mnist_class([_closed_port_url()], dict.fromkeys(["train-images-idx3-ubyte"], "0" * 32))
    with pytest.raises(RuntimeError) as info:
        Mnist(root, download=True)
    text = str(info.value)
    assert "MNIST: download failed" in text and "refused" in text.lower()
    assert "Without internet access" in text and str(root / "MNIST" / "raw") in text
    assert _files(root) == [] and list(root.iterdir()) == []


def test_download_without_checksum_and_progress_fallback(server, tmp_path, monkeypatch, capsys):
    (server.folder / "blob.bin").write_bytes(bytes(range(256)) * 100)
    monkeypatch.setitem(sys.modules, "tqdm", None)  # as if the `progress` extra were not installed
    dest = download([server.url + "blob.bin"], tmp_path / "out" / "blob.bin", md5=None)
    assert dest.read_bytes() == bytes(range(256)) * 100
    err = capsys.readouterr().err
    assert "blob.bin: 100% 25.0 KiB/25.0 KiB" in err
    with progress_bar(None, "items", unit="it") as bar:
        bar.update(3)
    assert "items: 3" in capsys.readouterr().err


# ---- Raisin: the UCI zip holds an .xlsx ---------------------------------------------------------


def xlsx_bytes(rows: list[list]) -> bytes:
    """A minimal workbook: shared strings for text (one inline string), numbers as values."""
    strings = sorted({cell for row in rows for cell in row if isinstance(cell, str)})
    xml_rows = []
    for r, row in enumerate(rows, start=1):
        cells = []
        for c, value in enumerate(row):
            ref = f"{chr(ord('A') + c)}{r}"
            if isinstance(value, str) and (r, c) == (1, 0):
                cells.append(f'<c r="{ref}" t="inlineStr"><is><t>{escape(value)}</t></is></c>')
            elif isinstance(value, str):
                cells.append(f'<c r="{ref}" t="s"><v>{strings.index(value)}</v></c>')
            else:
                cells.append(f'<c r="{ref}"><v>{value!r}</v></c>')
        xml_rows.append(f'<row r="{r}">{"".join(cells)}</row>')
    ns = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
    shared = "".join(f"<si><t>{escape(s)}</t></si>" for s in strings)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as book:
        book.writestr("xl/workbook.xml", f"<workbook {ns}/>")
        book.writestr("xl/sharedStrings.xml", f"<sst {ns}>{shared}</sst>")
        book.writestr(
            "xl/worksheets/sheet1.xml",
            f"<worksheet {ns}><sheetData>{''.join(xml_rows)}</sheetData></worksheet>",
        )
    return buffer.getvalue()


RAISIN_HEADER = [
    "Area",
    "MajorAxisLength",
    "MinorAxisLength",
    "Eccentricity",
    "ConvexArea",
    "Extent",
    "Perimeter",
    "Class",
]


def _raisin_rows(n_per_class: int = 450) -> list[list]:
    rng = np.random.default_rng(0)
    rows = [RAISIN_HEADER]
    for name in ("Kecimen", "Besni"):
        rows += [
            [int(rng.integers(20000, 200000)), *np.round(rng.random(6) * 500, 4).tolist(), name]
            for _ in range(n_per_class)
        ]
    return rows


def test_read_xlsx_rows():
    rows = read_xlsx_rows(xlsx_bytes([["a", "b"], [1, 2.5], ["x", 3]]))
    assert rows == [["a", "b"], ["1", "2.5"], ["x", "3"]]


def test_raisin_download_reads_the_xlsx_in_the_zip(server, tmp_path, monkeypatch):
    rows = _raisin_rows()
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("Raisin_Dataset/Raisin_Dataset.xlsx", xlsx_bytes(rows))
    (server.folder / "raisin.zip").write_bytes(archive.getvalue())
    monkeypatch.setattr(datasets.Raisin, "url", server.url + "raisin.zip")
    root = tmp_path / "data"
    ds = datasets.Raisin(root, download=True)
    assert len(ds) == 900 and ds.targets.numpy()[[0, 899]].tolist() == [0, 1]
    np.testing.assert_allclose(ds.data.numpy()[0], np.array(rows[1][:7], dtype=np.float32))
    assert [p.name for p in _files(root)] == ["Raisin_Dataset.csv"]
    count = len(server.requests)
    datasets.Raisin(root, train=True, download=True)
    assert len(server.requests) == count


def test_raisin_download_of_a_wrong_archive_is_reported(server, tmp_path, monkeypatch):
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("table.xlsx", xlsx_bytes(_raisin_rows(3)))
    (server.folder / "raisin.zip").write_bytes(archive.getvalue())
    monkeypatch.setattr(datasets.Raisin, "url", server.url + "raisin.zip")
    root = tmp_path / "data"
    with pytest.raises(RuntimeError, match="did not hold the expected data .* and 6 rows"):
        datasets.Raisin(root, download=True)
    assert not root.exists()
    monkeypatch.setattr(datasets.Raisin, "url", _closed_port_url() + "raisin.zip")
    with pytest.raises(RuntimeError, match="Raisin: download failed"):
        datasets.Raisin(root, download=True)
    assert not root.exists()
