"""Run the benchmarks and draw the figures of the evaluation report (`make report`).

Each script of bench/ runs in its own process with small settings (a few minutes in all),
single-threaded (one BLAS thread, one PyTorch thread: the machines are shared, and more
threads than free cores make PyTorch's timings erratic), and writes its figures as JSON.
This script gathers them into

* docs/report/figures.json: every figure, with the date, the command and the machine;
* docs/report/figures.md: the tables that docs/report.md includes, one snippet section each;
* docs/report/*.png: the charts.

The test suite is collected (counts per file and what each file covers); with --run-tests
it is also run and its results recorded. Sections not run this time keep their previous
figures, each with its own date.

Run: python tools/report.py [--rounds 5] [--only core mlp cnn optim data convergence tests]
                            [--run-tests] [--threads 1]
"""

from __future__ import annotations

import argparse
import ast
import datetime
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "report"
SECTIONS = ["core", "mlp", "cnn", "optim", "data", "convergence", "tests"]
COLORS = {"ember": "#e4572e", "torch": "#4c72b0", "numpy": "#55a868"}
LABELS = {"ember": "ember", "torch": "PyTorch", "numpy": "hand-written NumPy"}
OPTIM_NETS = {"mnist": "MLP 784-256-128-10 (235 146 floats)", "tiny": "MLP 4-8-8-1 (121 floats)"}


# ---- running --------------------------------------------------------------------------------------


def run(args: list[str], threads: int, timeout: float = 600) -> tuple[str, float]:
    """Run a bench script with the thread settings; its stdout and the seconds it took."""
    env = dict(os.environ, OPENBLAS_NUM_THREADS=str(threads), OMP_NUM_THREADS=str(threads))
    env["MKL_NUM_THREADS"] = str(threads)
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout
    )
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed ({done.returncode}):\n{done.stderr[-2000:]}")
    return done.stdout, time.perf_counter() - start


def bench_with_json(script: str, options: list[str], threads: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "figures.json"
        stdout, seconds = run([f"bench/{script}", *options, "--json", str(path)], threads)
        figures = json.loads(path.read_text())
    return {
        "command": f"python bench/{script} {' '.join(options)}",
        "seconds": seconds,
        "stdout": stdout,
    } | figures


def parse_cnn(stdout: str) -> dict:
    """bench/cnn.py prints its figures; read the seconds per step and the peak memory of each net."""
    nets: dict = {}
    net = kind = None
    for line in stdout.splitlines():
        header = re.match(r"(\w+): (seconds per training step|peak memory)", line)
        if header:
            net, kind = header.group(1), "step_s" if header.group(2).startswith("seconds") else "peak_mib"
            continue
        value = re.match(r"\s+(ember|numpy|torch)\s+([\d.]+) (s|MiB)", line)
        if value and net:
            nets.setdefault(net, {}).setdefault(kind, {})[value.group(1)] = float(value.group(2))
    if not nets:
        raise RuntimeError(f"could not read bench/cnn.py's output:\n{stdout[-1000:]}")
    return nets


def measure(section: str, rounds: int, threads: int) -> dict:
    t = str(threads)
    if section == "core":
        return bench_with_json("core.py", ["--rounds", str(rounds)], threads)
    if section == "mlp":
        options = ["--rounds", str(rounds), "--samples", "12800", "--torch-threads", t]
        return bench_with_json("mlp.py", options, threads)
    if section == "optim":
        return bench_with_json(
            "optim.py", ["--rounds", str(rounds), "--steps", "50", "--threads", t], threads
        )
    if section == "data":
        return bench_with_json("data.py", ["--rounds", str(max(1, rounds // 2))], threads)
    if section == "convergence":
        return bench_with_json("convergence.py", ["--threads", t], threads)
    if section == "cnn":
        options = ["--rounds", str(max(3, rounds // 2)), "--steps", "2", "--threads", t]
        stdout, seconds = run(["bench/cnn.py", *options], threads)
        return {
            "command": f"python bench/cnn.py {' '.join(options)}",
            "seconds": seconds,
            "stdout": stdout,
        } | {"nets": parse_cnn(stdout)}
    raise ValueError(section)


def describe_tests() -> dict:
    """Each test file: how many tests it has and what its docstring says it covers."""
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-qq", "-o", "addopts=", "-p", "no:cacheprovider"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    counts = {
        m.group(1): int(m.group(2)) for m in re.finditer(r"^(tests/\S+\.py): (\d+)$", done.stdout, re.M)
    }
    files = {}
    for path in sorted((ROOT / "tests").glob("test_*.py")):
        doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""
        summary = " ".join(doc.split("\n\n")[0].split())
        files[f"tests/{path.name}"] = {"tests": counts.get(f"tests/{path.name}", 0), "covers": summary}
    return {"command": "python -m pytest --collect-only -qq", "files": files}


def run_tests(threads: int) -> dict:
    """Run the whole suite once; passed, failed and skipped tests per file, and the skip reasons."""
    with tempfile.TemporaryDirectory() as tmp:
        xml = Path(tmp) / "junit.xml"
        start = time.perf_counter()
        env = dict(os.environ, OPENBLAS_NUM_THREADS=str(threads), OMP_NUM_THREADS=str(threads))
        subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"--junitxml={xml}"],
            cwd=ROOT,
            env=env,
            capture_output=True,
        )
        seconds = time.perf_counter() - start
        tree = ET.parse(xml)
    results: dict = {}
    reasons: dict = {}
    for case in tree.iter("testcase"):
        file = _test_file(case.get("classname", ""))
        outcome = "passed"
        for child in case:
            if child.tag in ("failure", "error"):
                outcome = "failed"
            elif child.tag == "skipped":
                outcome = "skipped"
                reason = (child.get("message") or "").strip()
                reasons[reason] = reasons.get(reason, 0) + 1
        results.setdefault(file, {"passed": 0, "failed": 0, "skipped": 0})[outcome] += 1
    return {"command": "python -m pytest", "seconds": seconds, "results": results, "skip_reasons": reasons}


def _test_file(classname: str) -> str:
    """junit's classname is tests.test_x or tests.test_x.TestClass: the file is tests/test_x.py."""
    parts = classname.split(".")
    for i, part in enumerate(parts):
        if part.startswith("test_"):
            return "/".join(parts[: i + 1]) + ".py"
    return classname


def machine() -> dict:
    model = "unknown CPU"
    try:
        cpuinfo = Path("/proc/cpuinfo").read_text()
        model = re.search(r"^model name\s*:\s*(.*)$", cpuinfo, re.M).group(1).strip()
    except (OSError, AttributeError):
        pass
    versions = {"python": platform.python_version()}
    for name in ("numpy", "torch", "ember"):
        try:
            versions[name] = __import__(name).__version__
        except ImportError:
            versions[name] = "absent"
    return {"cpu": model, "cores": os.cpu_count(), "system": platform.platform(), "versions": versions}


# ---- drawing -------------------------------------------------------------------------------------


def bars(
    ax, groups: list[str], series: dict[str, list[float | None]], unit: str, fmt: str = "{:.3g}"
) -> None:
    """Grouped bars, one colour per framework, each bar labelled with its value."""
    width = 0.8 / max(1, len(series))
    for k, (name, values) in enumerate(series.items()):
        xs = [i + (k - (len(series) - 1) / 2) * width for i in range(len(groups))]
        heights = [v if v is not None else 0 for v in values]
        drawn = ax.bar(xs, heights, width, label=LABELS.get(name, name), color=COLORS.get(name))
        labels = [fmt.format(v) if v is not None else "" for v in values]
        ax.bar_label(drawn, labels=labels, fontsize=7, padding=1)
    ax.set_xticks(range(len(groups)), groups, fontsize=8)
    ax.set_ylabel(unit)
    ax.margins(y=0.15)
    ax.spines[["top", "right"]].set_visible(False)


def framework_bars(ax, values: dict[str, float], unit: str, title: str) -> None:
    """One bar per framework, named under it, labelled with its value."""
    names = [n for n in ("ember", "torch", "numpy") if n in values]
    drawn = ax.bar(
        [LABELS[n].replace("hand-written ", "") for n in names],
        [values[n] for n in names],
        color=[COLORS[n] for n in names],
        width=0.6,
    )
    ax.bar_label(drawn, labels=[f"{values[n]:.3g}" for n in names], fontsize=7, padding=1)
    ax.set_ylabel(unit, fontsize=8)
    ax.set_title(title, fontsize=9)
    ax.tick_params(labelsize=8)
    ax.margins(y=0.15)
    ax.spines[["top", "right"]].set_visible(False)


def save(fig, name: str, stamp: str) -> None:
    fig.text(0.99, 0.005, stamp, ha="right", va="bottom", fontsize=6, color="gray")
    fig.tight_layout(rect=(0, 0.02, 1, 1))
    fig.savefig(OUT / name, dpi=110)


def draw(figures: dict) -> list[str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    drawn = []
    stamp = lambda section: f"make report, {figures[section]['date']}: {figures[section]['command']}"  # noqa: E731

    if "core" in figures:
        med = figures["core"]["medians"]
        fig, axes = plt.subplots(1, 3, figsize=(10, 3.2))
        for ax, (key, title, unit) in zip(
            axes,
            [
                ("per-op (100 ops, us/op)", "one small op, forward + backward", "µs per op"),
                ("linear regression (s)", "the course's per-sample SGD loop", "seconds"),
                ("20 000-op chain (s)", "a 20 000-op chain, built + backward", "seconds"),
            ],
        ):
            framework_bars(ax, med[key], unit, title)
        save(fig, "core.png", stamp("core"))
        drawn.append("core.png")

    if "mlp" in figures or "cnn" in figures:
        panels = []
        if "mlp" in figures:
            m = figures["mlp"]
            panels.append(
                ("MLP 784-256-128-10", {k: v / m["steps_per_epoch"] * 1e3 for k, v in m["epoch_s"].items()})
            )
        if "cnn" in figures:
            names = {"lenet": "LeNet-5", "mnist": "PyTorch's MNIST example CNN"}
            for net, values in figures["cnn"]["nets"].items():
                panels.append((names.get(net, net), {k: v * 1e3 for k, v in values["step_s"].items()}))
        fig, axes = plt.subplots(1, len(panels), figsize=(3.4 * len(panels), 3.2), squeeze=False)
        for ax, (title, values) in zip(axes[0], panels):
            framework_bars(ax, values, "ms per training step (batch 64)", title)
        sources = [s for s in ("mlp", "cnn") if s in figures]
        save(fig, "train_step.png", " | ".join(stamp(s) for s in sources))
        drawn.append("train_step.png")

    if "optim" in figures:
        steps = figures["optim"]["step_us"]
        fig, axes = plt.subplots(1, len(steps), figsize=(5 * len(steps), 3.2), squeeze=False)
        for ax, (net, by_optimizer) in zip(axes[0], steps.items()):
            names = list(by_optimizer)
            libs = [lib for lib in ("ember", "torch") if lib in next(iter(by_optimizer.values()))]
            bars(
                ax,
                names,
                {lib: [by_optimizer[o][lib] for o in names] for lib in libs},
                "µs per step()",
                "{:.0f}",
            )
            ax.set_title(OPTIM_NETS.get(net, net), fontsize=9)
        axes[0][0].legend(fontsize=7, frameon=False)
        save(fig, "optim.png", stamp("optim"))
        drawn.append("optim.png")

    if "data" in figures:
        rates = figures["data"]["batches_per_s"]
        fig, ax = plt.subplots(figsize=(7, 2.6))
        names = list(rates)
        colors = [COLORS["torch"] if name.endswith("torch") else COLORS["ember"] for name in names]
        drawn_bars = ax.barh(names, [rates[n] for n in names], color=colors)
        ax.bar_label(drawn_bars, labels=[f"{rates[n]:,.0f}" for n in names], fontsize=7, padding=2)
        ax.set_xlabel("batches of 64 per second (one epoch of 60 000 samples)")
        ax.invert_yaxis()
        ax.margins(x=0.15)
        ax.spines[["top", "right"]].set_visible(False)
        save(fig, "data.png", stamp("data"))
        drawn.append("data.png")

    if "convergence" in figures:
        for task, title in (("mnist", "MNIST"), ("raisin", "Raisin")):
            r = figures["convergence"].get(task)
            if not r:
                continue
            fig, axes = plt.subplots(1, 3, figsize=(11, 3.2))
            libs = [lib for lib in ("ember", "torch") if lib in r]
            steps_per_epoch = len(r["ember"]["step_loss"]) / r["config"]["epochs"]
            for lib in libs:
                loss = r[lib]["step_loss"]
                style = "-" if lib == "ember" else "--"
                xs = [(i + 1) / steps_per_epoch for i in range(len(loss))]
                axes[0].plot(xs, loss, style, lw=0.6, alpha=0.5, color=COLORS[lib])
                epochs = range(1, len(r[lib]["epoch_loss"]) + 1)
                axes[0].plot(
                    epochs,
                    r[lib]["epoch_loss"],
                    style,
                    marker="o",
                    ms=3,
                    lw=1.2,
                    color=COLORS[lib],
                    label=f"{LABELS[lib]} (line: epoch mean)",
                )
                epochs = range(len(r[lib]["test_acc"]))
                axes[1].plot(
                    epochs,
                    [100 * a for a in r[lib]["test_acc"]],
                    style,
                    marker="o",
                    ms=3,
                    color=COLORS[lib],
                    label=LABELS[lib],
                )
            axes[0].set(title=f"{title}: training loss of every step", xlabel="epoch", ylabel="cross-entropy")
            axes[1].set(title=f"{title}: test accuracy", xlabel="epoch", ylabel="%")
            if "torch" in r:
                diff = [abs(a - b) for a, b in zip(r["ember"]["step_loss"], r["torch"]["step_loss"])]
                points = [((i + 1) / steps_per_epoch, d) for i, d in enumerate(diff) if d > 0]
                same = 100 * (1 - len(points) / len(diff))
                axes[2].semilogy([p[0] for p in points], [p[1] for p in points], ".", ms=2, color="gray")
                axes[2].set(title=f"|ember − PyTorch| of a step's loss ({same:.0f} % equal)", xlabel="epoch")
            for ax in axes:
                ax.spines[["top", "right"]].set_visible(False)
                ax.title.set_fontsize(9)
            axes[0].legend(fontsize=7, frameon=False)
            save(fig, f"convergence_{task}.png", stamp("convergence"))
            drawn.append(f"convergence_{task}.png")
    plt.close("all")
    return drawn


# ---- tables --------------------------------------------------------------------------------------


def table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(" --- " for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def ratio(a: float | None, b: float | None) -> str:
    return f"{a / b:.2f}" if a and b else "–"


def fmt(v: float | None, spec: str = ".3g") -> str:
    return "–" if v is None else format(v, spec)


def section(name: str, body: str) -> str:
    return f"<!-- --8<-- [start:{name}] -->\n{body}<!-- --8<-- [end:{name}] -->\n\n"


def measured(figures: dict, name: str) -> str:
    f = figures[name]
    return f"\n<small>Measured by `make report` on {f['date']}: `{f['command']}` ({f['seconds']:.0f} s).</small>\n"


def markdown(figures: dict) -> str:
    out = ["<!-- generated by tools/report.py (make report): do not edit -->\n\n"]
    meta = figures["meta"]
    m = meta["machine"]
    versions = ", ".join(f"{k} {v}" for k, v in m["versions"].items())
    out.append(
        section(
            "meta",
            f"Figures measured by `make report` (`{meta['command']}`) on {meta['date']}, on {m['cpu']} "
            f"({m['cores']} cores, shared with other work: load average {meta['load_before']:.1f} when it "
            f"started), {versions}. Every run is single-threaded ({meta['threads']} BLAS thread, "
            f"{meta['threads']} PyTorch thread), with glibc's default allocator settings; each figure is a "
            "median over rounds in which the frameworks take turns.\n",
        )
    )
    if "core" in figures:
        med = figures["core"]["medians"]
        rows = []
        for key, label in [
            ("per-op (100 ops, us/op)", "one small op, forward + backward (µs)"),
            ("linear regression (s)", "per-sample SGD linear regression, 2 000 steps (s)"),
            ("20 000-op chain (s)", "20 000-op chain, built and backpropagated (s)"),
        ]:
            v = med[key]
            rows.append(
                [
                    label,
                    fmt(v.get("ember")),
                    fmt(v.get("torch")),
                    fmt(v.get("numpy")),
                    ratio(v.get("ember"), v.get("torch")),
                    ratio(v.get("ember"), v.get("numpy")),
                ]
            )
        body = table(["", "ember", "PyTorch", "NumPy", "ember / PyTorch", "ember / NumPy"], rows)
        out.append(section("core", body + measured(figures, "core")))
    if "mlp" in figures or "cnn" in figures:
        rows = []
        if "mlp" in figures:
            mlp = figures["mlp"]
            v = {k: s / mlp["steps_per_epoch"] * 1e3 for k, s in mlp["epoch_s"].items()}
            rows.append(
                [
                    "MLP 784-256-128-10, SGD with momentum",
                    *(fmt(v.get(k)) for k in ("ember", "torch", "numpy")),
                    ratio(v.get("ember"), v.get("torch")),
                    ratio(v.get("ember"), v.get("numpy")),
                ]
            )
        if "cnn" in figures:
            names = {"lenet": "LeNet-5, SGD", "mnist": "PyTorch's MNIST example CNN, SGD"}
            for net, values in figures["cnn"]["nets"].items():
                v = {k: s * 1e3 for k, s in values["step_s"].items()}
                rows.append(
                    [
                        names.get(net, net),
                        *(fmt(v.get(k)) for k in ("ember", "torch", "numpy")),
                        ratio(v.get("ember"), v.get("torch")),
                        ratio(v.get("ember"), v.get("numpy")),
                    ]
                )
        body = table(
            [
                "ms per training step, batch 64",
                "ember",
                "PyTorch",
                "NumPy",
                "ember / PyTorch",
                "ember / NumPy",
            ],
            rows,
        )
        if "mlp" in figures:
            mem = figures["mlp"]
            body += (
                f"\nMLP memory: the peak NumPy allocation of one ember step is {mem['peak_step_mb']['ember']:.2f} MB "
                f"against {mem['peak_step_mb']['numpy']:.2f} MB for the hand-written step; ember's traced memory "
                f"is {mem['ember_traced_mb']['after_100']:.2f} MB after 100 steps and "
                f"{mem['ember_traced_mb']['after_2000']:.2f} MB after 2 000 (the graph is freed every step).\n"
            )
        if "cnn" in figures:
            peaks = []
            for net, values in figures["cnn"]["nets"].items():
                p = values.get("peak_mib", {})
                if p:
                    peaks.append(f"{net}: " + ", ".join(f"{LABELS[k]} {v:.0f} MiB" for k, v in p.items()))
            if peaks:
                body += (
                    "\nCNN peak memory of training (RSS above the level before the first step): "
                    + "; ".join(peaks)
                    + ".\n"
                )
        body += "\n" + "".join(measured(figures, s) + "\n" for s in ("mlp", "cnn") if s in figures)
        out.append(section("steps", body))
    if "optim" in figures:
        rows = []
        for net, by_optimizer in figures["optim"]["step_us"].items():
            for name, v in by_optimizer.items():
                rows.append(
                    [
                        OPTIM_NETS.get(net, net),
                        name,
                        fmt(v.get("ember"), ".0f"),
                        fmt(v.get("torch"), ".0f"),
                        ratio(v.get("ember"), v.get("torch")),
                    ]
                )
        body = table(["parameters", "optimizer", "ember (µs)", "PyTorch (µs)", "ember / PyTorch"], rows)
        out.append(section("optim", body + measured(figures, "optim")))
    if "data" in figures:
        rates = figures["data"]["batches_per_s"]
        rows = [[name, f"{rate:,.0f}", f"{60_000 / 64 / rate:.3f}"] for name, rate in rates.items()]
        body = table(["loader", "batches per second", "seconds per epoch"], rows)
        note = figures["data"].get("mnist_data")
        body += f"\nThe images of the MNIST rows: {note}.\n" if note else ""
        out.append(section("data", body + measured(figures, "data")))
    if "convergence" in figures:
        conv = figures["convergence"]
        rows = []
        for task in ("mnist", "raisin"):
            r = conv.get(task)
            if not r:
                continue
            c = r["config"]
            row = [
                f"{task} ({r['train_samples']} samples, {c['epochs']} epochs, {c['optimizer']} lr {c['lr']})"
            ]
            for lib in ("ember", "torch"):
                row += (
                    [fmt(r[lib]["epoch_loss"][-1], ".5f"), f"{100 * r[lib]['test_acc'][-1]:.2f} %"]
                    if lib in r
                    else [
                        "–",
                        "–",
                    ]
                )
            row += [fmt(r.get("max_abs_step_loss_diff"), ".1e"), fmt(r.get("max_rel_step_loss_diff"), ".1e")]
            rows.append(row)
        body = table(
            [
                "task",
                "ember last-epoch loss",
                "ember test accuracy",
                "PyTorch last-epoch loss",
                "PyTorch test accuracy",
                "largest step-loss difference",
                "relative",
            ],
            rows,
        )
        for task, why in conv.get("skipped", {}).items():
            body += f"\n{task}: not run ({why}).\n"
        out.append(section("convergence", body + measured(figures, "convergence")))
    if "tests" in figures:
        files = figures["tests"]["files"]
        results = figures.get("test_results", {}).get("results", {})
        rows = []
        for file, info in files.items():
            r = results.get(file)
            outcome = f"{r['passed']} passed, {r['skipped']} skipped, {r['failed']} failed" if r else "–"
            rows.append([f"`{file}`", str(info["tests"]), info["covers"].replace("|", "\\|"), outcome])
        total = sum(i["tests"] for i in files.values())
        body = table(["file", "tests", "what it covers", "result"], rows)
        body += f"\n{total} tests in {len(files)} files. "
        if "test_results" in figures:
            tr = figures["test_results"]
            sums = {k: sum(r[k] for r in tr["results"].values()) for k in ("passed", "skipped", "failed")}
            body += (
                f"The whole suite ran on {tr['date']} (`{tr['command']}`, {tr['seconds']:.0f} s): "
                f"{sums['passed']} passed, {sums['skipped']} skipped, {sums['failed']} failed.\n"
            )
            if tr["skip_reasons"]:
                body += (
                    "\nReasons for skipping: "
                    + "; ".join(
                        f"{reason.replace('|', '/')} ({n})"
                        for reason, n in sorted(tr["skip_reasons"].items())
                    )
                    + ".\n"
                )
        else:
            body += "The results column is filled by `python tools/report.py --run-tests`.\n"
        out.append(section("tests", body))
    return "".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds of each timing (median)")
    parser.add_argument("--only", nargs="+", choices=SECTIONS, default=SECTIONS)
    parser.add_argument("--threads", type=int, default=1, help="BLAS and PyTorch threads of every benchmark")
    parser.add_argument("--run-tests", action="store_true", help="also run the whole test suite (minutes)")
    parser.add_argument("--draw-only", action="store_true", help="redraw charts and tables from figures.json")
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / "figures.json"
    figures = json.loads(path.read_text()) if path.exists() else {}
    command = "python tools/report.py " + " ".join(sys.argv[1:])
    if not args.draw_only:
        figures["meta"] = {
            "date": datetime.date.today().isoformat(),
            "command": command.strip(),
            "machine": machine(),
            "threads": args.threads,
            "load_before": os.getloadavg()[0],
        }
        for name in args.only:
            print(f"report: {name} ...", flush=True)
            start = time.perf_counter()
            try:
                result = describe_tests() if name == "tests" else measure(name, args.rounds, args.threads)
            except (RuntimeError, subprocess.TimeoutExpired) as e:
                print(f"report: {name} failed, its previous figures are kept:\n{e}", file=sys.stderr)
                continue
            result.setdefault("seconds", time.perf_counter() - start)
            figures[name] = {"date": figures["meta"]["date"]} | result
        if args.run_tests:
            print("report: running the test suite ...", flush=True)
            figures["test_results"] = {"date": figures["meta"]["date"]} | run_tests(args.threads)
        figures["meta"]["load_after"] = os.getloadavg()[0]
        path.write_text(json.dumps(figures, indent=1) + "\n")
    drawn = draw(figures)
    (OUT / "figures.md").write_text(markdown(figures))
    print(f"report: wrote {path.relative_to(ROOT)}, docs/report/figures.md and " + ", ".join(drawn))


if __name__ == "__main__":
    main()
