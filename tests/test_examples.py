"""The course examples: every notebook matches its script, and every script and notebook
runs (in quick mode) and prints the results the course expects.

The scripts start together in the background when the first test that needs them runs, so
that they run while the notebooks execute; their tests then only read what they printed.
"""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from conftest import DATA_ROOT, HAVE_TORCH

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
TIMEOUT = 300  # seconds for one script or notebook: far above the few seconds they take


# ---- what each example must print ---------------------------------------------------------


def check_linear_regression(out: str, folder: Path) -> None:
    rows = re.findall(r"^\s+(\d+)\s+(\S+)\s+(\S+.*)$", out, flags=re.M)
    assert [int(r[0]) for r in rows] == list(range(1, 11)), out
    assert float(rows[-1][1]) < 2e-4 < float(rows[0][1])
    if HAVE_TORCH:
        # the training is identical; the MSE readout's matrix-vector product may round a last
        # bit differently in NumPy's BLAS and PyTorch's kernel, depending on the CPU
        assert all(abs(float(r[1]) - float(r[2])) <= 1e-5 * float(r[2]) for r in rows), out
        assert "weights after every epoch identical to the last bit: True" in out
        assert "MSEs equal to within 1e-5 (relative): True" in out
    else:
        assert "PyTorch is not installed: the comparison is skipped." in out


def check_graph_by_hand(out: str, folder: Path) -> None:
    assert "e = c * d = tensor(6., grad_fn=<MulBackward0>)" in out
    assert "c = a + b = tensor(3., grad_fn=<AddBackward0>)" in out
    assert "a.grad = tensor(2.)" in out and "b.grad = tensor(5.)" in out
    assert "digraph ember {" in out and 'label="MulBackward0"' in out
    assert re.search(r"step 9: a = +-7\.923 +b = +3\.992 +e = +-19\.621", out)  # lr 0.1
    assert re.search(r"step 9: a = +-271\.000 +b = +-241\.000 +e = +122880\.000", out)  # lr 1
    assert (folder / "graph_by_hand_descent.png").stat().st_size > 10_000
    assert any(folder.glob("graph_by_hand.*"))


def check_raisin(out: str, folder: Path) -> None:
    accuracy = float(re.search(r"^test accuracy: ([\d.]+)$", out, flags=re.M).group(1))
    assert accuracy > 0.8, out


def check_linear_map(out: str, folder: Path) -> None:
    assert "without decay: W2 @ W1 within 0.05 of A: True" in out
    assert "with decay: W2 @ W1 within 0.05 of A: True" in out
    runs = re.findall(r"^(\w+) +lam=(\S+) +mse (\S+) .*\|\|W1\|\| (\S+) +\|\|W2\|\| (\S+)$", out, flags=re.M)
    norms = {(act, float(lam)): float(w1) ** 2 + float(w2) ** 2 for act, lam, _, w1, w2 in runs}
    assert norms[("Identity", 0.01)] < norms[("Identity", 0.0)] - 0.5  # decay shrinks the weights
    relu_mse = [float(mse) for act, _, mse, _, _ in runs if act == "ReLU"]
    assert len(relu_mse) == 2 and max(relu_mse) < 1e-2
    assert (folder / "linear_map.png").exists()


def check_mnist_variants(out: str, folder: Path) -> None:
    rows = re.findall(r"^(\S.*?) +(0\.\d{4}) +(\S+) +[\d.]+$", out, flags=re.M)
    table = {name: float(accuracy) for name, accuracy, _ in rows}
    assert set(table) == {
        "sigmoid",
        "relu",
        "deeper",
        "wider",
        "momentum 0.9",
        "residual",
        "deeper, xavier",
        "deeper, kaiming",
        "deeper, normal(0, 1)",
    }, out
    assert table["momentum 0.9"] > table["relu"] > table["sigmoid"] and table["relu"] > 0.7
    assert table["deeper, kaiming"] > table["deeper"] and table["deeper, normal(0, 1)"] < 0.2
    assert (folder / "mnist_mlp_variants.png").exists()


def check_custom_op(out: str, folder: Path) -> None:
    assert "grad_fn=<MyReLUBackward>" in out
    assert "x.grad = tensor([0., 0., 1., 1.])" in out
    assert "gradcheck(MyReLU): True" in out and "gradcheck(WrongReLU): False" in out
    assert "same losses at every step: True" in out


# name: (the check of its output, the data folder it needs under DATA_ROOT)
EXAMPLE_CHECKS: dict[str, tuple[Callable[[str, Path], None], str | None]] = {
    "01_linear_regression": (check_linear_regression, None),
    "02_graph_by_hand": (check_graph_by_hand, None),
    "03_raisin_classifier": (check_raisin, "raisin"),
    "04_linear_map": (check_linear_map, None),
    "05_mnist_mlp_variants": (check_mnist_variants, "mnist"),
    "06_custom_op": (check_custom_op, None),
}
NAMES = list(EXAMPLE_CHECKS)


def missing_data(name: str) -> str | None:
    folder = EXAMPLE_CHECKS[name][1]
    if folder is not None and not (DATA_ROOT / folder).exists():
        return f"shared data folder {DATA_ROOT / folder} is absent"
    return None


def example_env(out: Path) -> dict[str, str]:
    return {
        "EMBER_EXAMPLES_QUICK": "1",
        "EMBER_EXAMPLES_OUT": str(out),
        "EMBER_DATA": str(DATA_ROOT),
        "MPLBACKEND": "Agg",
        # One BLAS thread each: the scripts run beside the notebooks, and OpenBLAS's threads
        # competing for a busy machine's cores make small matmuls up to 20x slower.
        "OPENBLAS_NUM_THREADS": "1",
        "OMP_NUM_THREADS": "1",
    }


# ---- the notebooks are their scripts ------------------------------------------------------


@pytest.fixture(scope="module")
def make_notebooks():
    """examples/make_notebooks.py, loaded as a module."""
    pytest.importorskip("nbformat", reason="nbformat is not installed (the test extra)")
    spec = importlib.util.spec_from_file_location("make_notebooks", EXAMPLES / "make_notebooks.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_example_is_checked():
    assert sorted(p.stem for p in EXAMPLES.glob("[0-9][0-9]_*.py")) == NAMES


@pytest.mark.parametrize("name", NAMES)
def test_notebook_is_up_to_date(name, make_notebooks):
    import nbformat

    on_disk = nbformat.read(EXAMPLES / f"{name}.ipynb", as_version=4)
    nbformat.validate(on_disk)
    rebuilt = make_notebooks.notebook_from_script(EXAMPLES / f"{name}.py")
    cells = [(c.cell_type, c.source) for c in on_disk.cells]
    assert cells == [(c.cell_type, c.source) for c in rebuilt.cells], (
        f"examples/{name}.ipynb is out of date: run python examples/make_notebooks.py"
    )
    assert all(not c.get("outputs") for c in on_disk.cells), "notebooks are stored without outputs"


def test_percent_format_cells(make_notebooks):
    source = "# %% [markdown]\n# # Title\n#\n# text\n\n# %%\nx = 1\n\n\n# %%\n\n# %%\ny = 2\n"
    assert make_notebooks.cells_of(source) == [
        ("markdown", "# Title\n\ntext"),
        ("code", "x = 1"),
        ("code", "y = 2"),
    ]


# ---- running them -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def script_runs(tmp_path_factory):
    """Start every script whose data is present; name -> (process, log path, output folder)."""
    runs = {}
    for name in NAMES:
        if missing_data(name):
            continue
        out = tmp_path_factory.mktemp(f"script_{name}")
        log = out / "output.txt"
        with open(log, "w") as f:
            process = subprocess.Popen(
                [sys.executable, str(EXAMPLES / f"{name}.py")],
                stdout=f,
                stderr=subprocess.STDOUT,
                cwd=ROOT,
                env={**os.environ, **example_env(out)},
            )
        runs[name] = (process, log, out)
    yield runs
    for process, _, _ in runs.values():
        if process.poll() is None:
            process.kill()
            process.wait()


@pytest.mark.parametrize("name", NAMES)
def test_notebook_runs(name, script_runs, tmp_path, monkeypatch):
    if reason := missing_data(name):
        pytest.skip(reason)
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient", reason="nbclient is not installed (the test extra)")
    for key, value in example_env(tmp_path).items():
        monkeypatch.setenv(key, value)  # the kernel inherits this environment
    notebook = nbformat.read(EXAMPLES / f"{name}.ipynb", as_version=4)
    client = nbclient.NotebookClient(
        notebook, timeout=TIMEOUT, kernel_name="python3", resources={"metadata": {"path": str(EXAMPLES)}}
    )
    try:
        client.execute()
    except nbclient.exceptions.CellExecutionError:
        raise
    except Exception as e:
        if not any(c.get("execution_count") for c in notebook.cells):  # it failed before any cell ran
            pytest.skip(f"no Jupyter kernel 'python3' could be started: {e!r}")
        raise
    printed = "".join(output.get("text", "") for cell in notebook.cells for output in cell.get("outputs", []))
    EXAMPLE_CHECKS[name][0](printed, tmp_path)


@pytest.mark.parametrize("name", NAMES)
def test_script_runs(name, script_runs):
    if reason := missing_data(name):
        pytest.skip(reason)
    process, log, out = script_runs[name]
    try:
        process.wait(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        process.kill()
        pytest.fail(f"examples/{name}.py took more than {TIMEOUT} s")
    printed = log.read_text()
    assert process.returncode == 0, printed
    EXAMPLE_CHECKS[name][0](printed, out)


def test_missing_data_skips_with_a_message(tmp_path):
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / "03_raisin_classifier.py"), "--data", str(tmp_path)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, **example_env(tmp_path)},
        timeout=TIMEOUT,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"SKIPPED: the Raisin dataset not found at {tmp_path}")
