"""`ember train`: defaults reach their targets, bad arguments exit 2 with one line,
checkpoints resume, Ctrl-C saves."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import shared_data
from ember import cli

pytest.importorskip("sklearn", reason="the digits dataset needs scikit-learn (the examples extra)")


def run(capsys, *argv: str) -> tuple[int, dict | None, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    summary = json.loads(out.strip().splitlines()[-1]) if "--json" in argv and code == 0 else None
    return code, summary, err


def test_digits_defaults_reach_97_percent(capsys):
    code, summary, _ = run(capsys, "train", "--quiet", "--json")
    assert code == 0
    assert summary["dataset"] == "digits" and summary["test_accuracy"] >= 0.97
    assert summary["seconds"] < 60


def test_synth_matches_the_course_setup(capsys):
    code, summary, _ = run(capsys, "train", "-D", "synth", "--quiet", "--json")
    assert code == 0 and summary["test_accuracy"] >= 0.98


def test_course_flag_aliases(capsys):
    code, summary, _ = run(
        capsys, "train", "-D", "spirals", "-l", "0.01", "-e", "2", "-b", "32", "--quiet", "--json"
    )
    assert code == 0 and summary["epochs"] == 2 and len(summary["history"]["train_loss"]) == 2


def test_regression_dataset_reports_mse(capsys):
    code, summary, _ = run(capsys, "train", "-D", "linear", "-e", "30", "--quiet", "--json")
    assert code == 0 and summary["test_mse"] < 0.05


@pytest.mark.parametrize(
    "argv, message",
    [
        (["train", "--dataset", "cifar"], "invalid choice: 'cifar'"),
        (["train", "--lr", "-0.1"], "--lr must be positive"),
        (["train", "--epochs", "0"], "--epochs must be at least 1"),
        (["train", "--hidden", "12,x"], "--hidden must be comma-separated"),
        (["train", "--data-root", "/no/such/folder"], "is not a folder"),
        (["train", "--dataset", "spirals", "--model", "cnn"], "needs image data"),
    ],
)
def test_bad_arguments_exit_2_with_one_line(capsys, argv, message):
    with pytest.raises(SystemExit) as e:
        cli.main(argv)
    err = capsys.readouterr().err
    assert e.value.code == 2
    assert message in err and err.count("\n") <= 2 and "Traceback" not in err


def test_missing_dataset_files_give_one_clear_line(capsys, tmp_path):
    with pytest.raises(SystemExit) as e:
        cli.main(["train", "-D", "mnist", "--data-root", str(tmp_path), "--quiet"])
    err = capsys.readouterr().err
    assert e.value.code == 2 and "Traceback" not in err and str(tmp_path) in err


def test_save_and_resume_continue_training(capsys, tmp_path):
    ckpt = tmp_path / "run.ckpt"
    code, first, _ = run(capsys, "train", "-e", "2", "--save", str(ckpt), "--quiet", "--json")
    assert code == 0 and ckpt.exists()
    code, resumed, _ = run(capsys, "train", "-e", "4", "--resume", str(ckpt), "--quiet", "--json")
    assert code == 0
    assert resumed["history"]["train_loss"][:2] == first["history"]["train_loss"]
    assert len(resumed["history"]["train_loss"]) == 4


def test_ctrl_c_saves_a_checkpoint(capsys, tmp_path, monkeypatch):
    from ember._train import loop

    calls = []
    original = loop.Trainer.train_epoch

    def interrupted(self, epoch):
        calls.append(epoch)
        if epoch == 2:
            raise KeyboardInterrupt
        return original(self, epoch)

    monkeypatch.setattr(loop.Trainer, "train_epoch", interrupted)
    ckpt = tmp_path / "ctrl-c.ckpt"
    code = cli.main(["train", "-e", "5", "--save", str(ckpt)])
    out = capsys.readouterr().out
    assert code == 130 and ckpt.exists() and "interrupted" in out and calls == [1, 2]


def test_plot_writes_a_png(capsys, tmp_path):
    pytest.importorskip("matplotlib", reason="--plot needs matplotlib")
    png = tmp_path / "curves.png"
    code, summary, _ = run(capsys, "train", "-e", "2", "--plot", str(png), "--quiet", "--json")
    assert code == 0 and png.read_bytes()[:4] == b"\x89PNG" and summary["plot"] == str(png)


def test_tensorboard_logs_the_curves(capsys, tmp_path):
    code, _, _ = run(capsys, "train", "-e", "2", "--tensorboard", str(tmp_path / "tb"), "--quiet", "--json")
    (events,) = (tmp_path / "tb").glob("events.out.tfevents.*")
    data = events.read_bytes()
    assert code == 0
    for tag in (b"Loss/train", b"Loss/val", b"accuracy/val", b"lr"):
        assert data.count(tag) == 2, tag  # one point per epoch


def test_progress_lines_and_python_dash_m():
    result = subprocess.run(
        [sys.executable, "-m", "ember", "train", "-D", "spirals", "-e", "2"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "epoch   2  train loss" in result.stdout and "test accuracy" in result.stdout


def test_mnist_mlp_reaches_98_percent(capsys):
    root = shared_data("mnist").parent
    code, summary, _ = run(capsys, "train", "-D", "mnist", "--data-root", str(root), "--quiet", "--json")
    assert code == 0 and summary["test_accuracy"] >= 0.98


def test_mnist_cnn_example_runs_like_pytorchs(tmp_path):
    root = shared_data("mnist").parent
    script = Path(__file__).resolve().parents[1] / "examples" / "mnist_cnn.py"
    result = subprocess.run(
        [
            sys.executable,
            str(script),
            "--data",
            str(root),
            "--epochs",
            "1",
            "--dry-run",
            "--test-batch-size",
            "200",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert "Train Epoch: 1 [0/60000 (0%)]" in result.stdout and "Test set: Average loss" in result.stdout


def test_cnn_model_trains_a_step_on_digits(capsys):
    code, summary, _ = run(capsys, "train", "--model", "cnn", "-e", "1", "--quiet", "--json")
    assert code == 0 and summary["model"] == "cnn" and summary["test_accuracy"] > 0.5
