"""Build each examples/NN_name.ipynb from examples/NN_name.py, so the two never diverge.

The scripts are written in the "percent" format that VS Code, Spyder and Jupytext read:
`# %%` starts a code cell and `# %% [markdown]` a markdown cell, whose lines are comments
(`# ` is removed). The notebooks are stored without outputs.

    python examples/make_notebooks.py           # (re)write every notebook
    python examples/make_notebooks.py --check   # exit 1 if a notebook is out of date
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import nbformat

EXAMPLES = Path(__file__).resolve().parent
MARKER = "# %%"


def scripts() -> list[Path]:
    """The example scripts that have a notebook: those named NN_name.py."""
    return sorted(p for p in EXAMPLES.glob("[0-9][0-9]_*.py"))


def _markdown(lines: list[str]) -> str:
    return "\n".join(line[2:] if line.startswith("# ") else line.lstrip("#") for line in lines)


def cells_of(source: str) -> list[tuple[str, str]]:
    """(cell type, source) for each cell of a percent-format script, blank edges trimmed."""
    cells: list[tuple[str, list[str]]] = []
    kind, lines = "code", []
    for line in source.splitlines():
        if line.startswith(MARKER):
            cells.append((kind, lines))
            kind = "markdown" if "[markdown]" in line else "code"
            lines = []
        else:
            lines.append(line)
    cells.append((kind, lines))
    result = []
    for kind, lines in cells:
        text = _markdown(lines) if kind == "markdown" else "\n".join(lines)
        text = text.strip("\n")
        if text:
            result.append((kind, text))
    return result


def notebook_from_script(path: Path) -> nbformat.NotebookNode:
    """The notebook for one script, with stable cell ids so that rebuilding changes nothing."""
    cells = []
    for i, (kind, text) in enumerate(cells_of(path.read_text(encoding="utf-8"))):
        make = nbformat.v4.new_markdown_cell if kind == "markdown" else nbformat.v4.new_code_cell
        cells.append(make(text, id=f"cell-{i:02d}"))
    metadata = {
        "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
        "language_info": {"name": "python"},
    }
    return nbformat.v4.new_notebook(cells=cells, metadata=metadata)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only report notebooks that are out of date")
    args = parser.parse_args(argv)
    stale = []
    for script in scripts():
        target = script.with_suffix(".ipynb")
        text = nbformat.writes(notebook_from_script(script)) + "\n"
        if target.exists() and target.read_text(encoding="utf-8") == text:
            continue
        stale.append(target.name)
        if not args.check:
            target.write_text(text, encoding="utf-8")
            print(f"wrote {target.relative_to(EXAMPLES.parent)}")
    if args.check and stale:
        print("out of date (run python examples/make_notebooks.py):", ", ".join(stale))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
