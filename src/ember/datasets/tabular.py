"""Tables of numeric features with one target column: CSVDataset, Raisin, train_test_split.

Features become a float32 tensor `data` (N x F) and the target column a tensor `targets`:
int64 class indices for text labels (mapped through `classes`) or integer columns, float32
for other numbers. Standardisation is fitted on the training rows only when a dataset is
split, so no statistic of the test rows leaks into training (what scikit-learn's
StandardScaler.fit(x_train) does in the course material).
"""

from __future__ import annotations

import csv
import io
import math
import os
import tempfile
import zipfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ember import random as _random
from ember._tensor import Tensor
from ember.datasets._download import default_root, download, missing_dirs, read_xlsx_rows, remove_empty_dirs
from ember.datasets.synthetic import numpy_rng
from ember.transforms import Standardize
from ember.utils.data.dataset import BatchFetcher, Dataset


def _split_indices(
    n: int, test_size: float, shuffle: bool, generator: _random.Generator | None, seed: int | None
) -> tuple[np.ndarray, np.ndarray]:
    """Row indices of the training and test parts; test_size is a fraction or a count."""
    n_test = math.ceil(test_size * n) if isinstance(test_size, float) else int(test_size)
    if not 0 < n_test < n:
        raise ValueError(f"test_size={test_size} leaves no rows for training or for testing ({n} rows)")
    order = numpy_rng(generator, seed).permutation(n) if shuffle else np.arange(n)
    if shuffle:
        return order[n_test:], order[:n_test]
    return order[: n - n_test], order[n - n_test :]


def _take(a: Any, rows: np.ndarray) -> Any:
    if isinstance(a, Tensor):
        return Tensor(a._data[rows])
    if isinstance(a, np.ndarray):
        return a[rows]
    return [a[i] for i in rows.tolist()]


def train_test_split(
    *arrays: Any,
    test_size: float = 0.25,
    shuffle: bool = True,
    generator: _random.Generator | None = None,
    seed: int | None = None,
) -> list[Any]:
    """Split tensors (or arrays, lists) of equal length into random train and test parts.

    Returns [a_train, a_test, b_train, b_test, ...] like scikit-learn's train_test_split;
    test_size is a fraction (rounded up) or a number of rows.
    """
    if not arrays:
        raise ValueError("train_test_split needs at least one array")
    lengths = [len(a) for a in arrays]
    if len(set(lengths)) != 1:
        raise ValueError(f"Found input variables with inconsistent numbers of samples: {lengths}")
    train, test = _split_indices(lengths[0], test_size, shuffle, generator, seed)
    return [part for a in arrays for part in (_take(a, train), _take(a, test))]


class TabularDataset(Dataset):
    """In-memory rows: `ds[i]` is `(data[i], targets[i])`, each through its transform."""

    def __init__(
        self,
        data: Tensor,
        targets: Tensor,
        feature_names: Sequence[str] | None = None,
        classes: Sequence[str] | None = None,
        transform: Callable | None = None,
        target_transform: Callable | None = None,
    ) -> None:
        if len(data) != len(targets):
            raise ValueError(f"data has {len(data)} rows but targets has {len(targets)}")
        self.data, self.targets = data, targets
        self.feature_names = list(feature_names) if feature_names is not None else None
        self.classes = list(classes) if classes is not None else None
        self.transform, self.target_transform = transform, target_transform
        self.scaler: Standardize | None = None

    @property
    def class_to_idx(self) -> dict[str, int]:
        return {name: i for i, name in enumerate(self.classes or [])}

    def __len__(self) -> int:
        return len(self.data)

    def __getitem__(self, index: int) -> tuple[Any, Any]:
        x, y = Tensor(self.data._data[index]), Tensor(np.asarray(self.targets._data[index]))
        if self.transform is not None:
            x = self.transform(x)
        if self.target_transform is not None:
            y = self.target_transform(y)
        return x, y

    def _batch_fetcher(self) -> BatchFetcher | None:
        if (
            type(self).__getitem__ is not TabularDataset.__getitem__
            or self.transform
            or self.target_transform
        ):
            return None
        data, targets = self.data._data, self.targets._data
        return lambda indices: [Tensor(data[indices]), Tensor(targets[indices])]

    def _standardize(self, fit_rows: np.ndarray | None = None) -> None:
        """Standardise the features in place, with statistics of fit_rows (default all)."""
        if self.scaler is not None:
            raise ValueError(
                "the features are already standardised on all rows; create the dataset with "
                "standardize=False to fit the standardisation on the training rows only"
            )
        rows = self.data._data if fit_rows is None else self.data._data[fit_rows]
        self.scaler = Standardize().fit(rows)
        self.data = self.scaler(self.data)

    def train_test_split(
        self,
        test_size: float = 0.2,
        standardize: bool = False,
        shuffle: bool = True,
        generator: _random.Generator | None = None,
        seed: int | None = None,
    ) -> tuple[TabularDataset, TabularDataset]:
        """Random training and test parts; standardize=True fits on the training part only
        and applies the same scaler (kept as `.scaler`) to both."""
        train_rows, test_rows = _split_indices(len(self), test_size, shuffle, generator, seed)
        parts = []
        for rows in (train_rows, test_rows):
            data, targets = Tensor(self.data._data[rows]), Tensor(self.targets._data[rows])
            part = TabularDataset(
                data, targets, self.feature_names, self.classes, self.transform, self.target_transform
            )
            part.scaler = self.scaler
            parts.append(part)
        if standardize:
            parts[0]._standardize()
            parts[1].data, parts[1].scaler = parts[0].scaler(parts[1].data), parts[0].scaler
        return parts[0], parts[1]


def _column(header: list[str], key: int | str, path: Path) -> int:
    if isinstance(key, str):
        if key not in header:
            raise KeyError(f"{path} has no column {key!r}; its columns are {header}")
        return header.index(key)
    if not -len(header) <= key < len(header):
        raise IndexError(f"column {key} is out of range for {path}, which has {len(header)} columns")
    return key % len(header)


def _parse_floats(rows: list[list[str]], columns: list[int], header: list[str], path: Path) -> np.ndarray:
    try:
        return np.array([[row[c] for c in columns] for row in rows], dtype=np.float64).reshape(len(rows), -1)
    except ValueError:
        for line, row in enumerate(rows, start=2):
            for c in columns:
                try:
                    float(row[c])
                except ValueError:
                    raise ValueError(
                        f"{path}, line {line}, column {header[c]!r}: {row[c]!r} is not a number"
                    ) from None
        raise


def _class_list(values: list[str], classes: str | Sequence[str], path: Path) -> list[str]:
    if classes == "sorted":
        return sorted(set(values))
    if classes == "first-seen":
        return list(dict.fromkeys(values))
    if isinstance(classes, str):
        raise ValueError(f"classes must be 'sorted', 'first-seen' or a list of names, got {classes!r}")
    unknown = set(values) - set(classes)
    if unknown:
        raise ValueError(f"{path}: labels {sorted(unknown)} are not in classes={list(classes)}")
    return list(classes)


def _read_table(path: Path, delimiter: str) -> tuple[list[str], list[list[str]]]:
    with open(path, newline="", encoding="utf-8-sig") as f:
        table = [row for row in csv.reader(f, delimiter=delimiter) if any(cell.strip() for cell in row)]
    if len(table) < 2:
        raise ValueError(f"{path} has no data rows below its header")
    header = [name.strip() for name in table[0]]
    for line, row in enumerate(table[1:], start=2):
        if len(row) != len(header):
            raise ValueError(f"{path}, line {line}: {len(row)} fields, the header has {len(header)}")
    return header, table[1:]


class CSVDataset(TabularDataset):
    """A CSV file with a header line: numeric feature columns and one target column.

    `target` is a column name or index (default: the last column); `features` a list of
    names or indices (default: all other columns). Text labels become class indices in the
    order given by `classes`: "sorted" (alphabetical, like scikit-learn's LabelEncoder),
    "first-seen" (order of first appearance in the file) or an explicit list of names.
    Integer targets stay integers (int64), other numbers become float32. With
    standardize=True the features are standardised on all rows (to fit on training rows
    only, use `train_test_split(standardize=True)` instead).
    """

    def __init__(
        self,
        path: str | Path,
        target: int | str = -1,
        features: Sequence[int | str] | None = None,
        standardize: bool = False,
        classes: str | Sequence[str] = "sorted",
        transform: Callable | None = None,
        target_transform: Callable | None = None,
        delimiter: str = ",",
    ) -> None:
        path = Path(path)
        header, rows = _read_table(path, delimiter)
        target_col = _column(header, target, path)
        if features is None:
            feature_cols = [c for c in range(len(header)) if c != target_col]
        else:
            feature_cols = [_column(header, f, path) for f in features]
        data = _parse_floats(rows, feature_cols, header, path).astype(np.float32)
        labels = [row[target_col].strip() for row in rows]
        class_names = None
        try:
            numbers = np.array(labels, dtype=np.float64)
        except ValueError:
            class_names = _class_list(labels, classes, path)
            index = {name: i for i, name in enumerate(class_names)}
            targets = np.array([index[label] for label in labels], dtype=np.int64)
        else:
            integral = all(label.lstrip("+-").isdigit() for label in labels)
            targets = numbers.astype(np.int64) if integral else numbers.astype(np.float32)
        super().__init__(
            Tensor(data),
            Tensor(targets),
            [header[c] for c in feature_cols],
            class_names,
            transform,
            target_transform,
        )
        self.path = str(path)
        if standardize:
            self._standardize()


_RAISIN_COLUMNS = ["Area", "MajorAxisLength", "MinorAxisLength", "Eccentricity", "ConvexArea", "Extent"]
_RAISIN_COLUMNS += ["Perimeter", "Class"]


class Raisin(CSVDataset):
    """The UCI Raisin dataset: 900 grains, 7 shape features, Kecimen (0) or Besni (1).

    Reads Raisin_Dataset.csv from root/Raisin/raw, root/raisin or root. train=None gives all
    900 rows; train=True/False gives the training or test part of a fixed shuffled split
    (test_size of the rows, drawn with split_seed), so both parts are consistent across
    runs. standardize=True fits on the training part only, whichever part is returned.
    download=True fetches UCI's zip archive (which holds the table as .xlsx, read without
    extra dependencies) and writes the CSV; no published checksum exists, so the table's
    header and size are checked instead.
    """

    url = "https://archive.ics.uci.edu/static/public/850/raisin.zip"
    filename = "Raisin_Dataset.csv"

    def __init__(
        self,
        root: str | Path | None = None,
        train: bool | None = None,
        transform: Callable | None = None,
        target_transform: Callable | None = None,
        download: bool = False,
        standardize: bool = False,
        test_size: float = 0.2,
        split_seed: int = 0,
    ) -> None:
        self.root = str(Path(root).expanduser() if root is not None else default_root())
        self.train = train
        if download and self._find() is None:
            self.download()
        path = self._find()
        if path is None:
            raise RuntimeError(
                f"Dataset not found. {self._where_to_put()} Or use download=True to download it."
            )
        super().__init__(
            path,
            target="Class",
            classes=["Kecimen", "Besni"],
            transform=transform,
            target_transform=target_transform,
        )
        if train is None:
            if standardize:
                self._standardize()
            return
        train_rows, test_rows = _split_indices(len(self), test_size, True, None, split_seed)
        if standardize:
            self.scaler = Standardize().fit(self.data._data[train_rows])
        rows = train_rows if train else test_rows
        self.data, self.targets = Tensor(self.data._data[rows]), Tensor(self.targets._data[rows])
        if self.scaler is not None:
            self.data = self.scaler(self.data)

    def _search_dirs(self) -> list[Path]:
        return [Path(self.root) / "Raisin" / "raw", Path(self.root) / "raisin", Path(self.root)]

    def _find(self) -> Path | None:
        for folder in self._search_dirs():
            if (folder / self.filename).is_file():
                return folder / self.filename
        return None

    def _where_to_put(self) -> str:
        folders = ", ".join(str(d) for d in self._search_dirs())
        return (
            f"Put {self.filename} (a CSV with the header {','.join(_RAISIN_COLUMNS)}) in one of: {folders}."
        )

    def download(self) -> None:
        """Fetch UCI's archive and write root/raisin/Raisin_Dataset.csv from the table in it."""
        folder = Path(self.root) / "raisin"
        archive = folder / "raisin.zip"
        created = missing_dirs(folder)
        try:
            download([self.url], archive, md5=None)
        except RuntimeError as e:
            raise RuntimeError(
                f"Raisin: download failed.\n{e}\nWithout internet access: {self._where_to_put()}"
            ) from None
        try:
            rows = _table_from_archive(archive.read_bytes())
            if rows[0] != _RAISIN_COLUMNS or len(rows) != 901:
                raise ValueError(f"its table has the header {rows[0]} and {len(rows) - 1} rows")
            _write_csv_atomically(rows, folder / self.filename)
        except (ValueError, KeyError, IndexError, zipfile.BadZipFile) as e:
            archive.unlink(missing_ok=True)
            remove_empty_dirs(created)
            raise RuntimeError(
                f"Raisin: {self.url} did not hold the expected data ({e}). {self._where_to_put()}"
            ) from e
        finally:
            archive.unlink(missing_ok=True)


def _table_from_archive(data: bytes) -> list[list[str]]:
    """The rows of the first .csv or .xlsx table in a zip archive (nested zips included)."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        names = sorted(archive.namelist())
        for name in names:
            if name.lower().endswith(".csv"):
                text = archive.read(name).decode("utf-8-sig")
                return [row for row in csv.reader(io.StringIO(text)) if row]
        for name in names:
            if name.lower().endswith(".xlsx"):
                return read_xlsx_rows(archive.read(name))
        for name in names:
            if name.lower().endswith(".zip"):
                return _table_from_archive(archive.read(name))
    raise ValueError("the archive holds no .csv, .xlsx or .zip file")


def _write_csv_atomically(rows: list[list[str]], dest: Path) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".part", dir=dest.parent)
    try:
        with os.fdopen(fd, "w", newline="") as f:
            csv.writer(f, lineterminator="\n").writerows(rows)
        os.replace(tmp, dest)
    finally:
        Path(tmp).unlink(missing_ok=True)
