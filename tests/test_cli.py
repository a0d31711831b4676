"""What a user sees of each tool: help without loading TensorFlow, and nothing on stderr but the tool's own lines."""
import re
import subprocess
import sys

import pytest

from conftest import ROOT


def test_help_and_argument_errors_do_not_load_tensorflow():
    """Every script parses its arguments before TensorFlow is imported, so --help and mistakes answer at once."""
    script = "import sys, data, evaluate, export, predict, train; print('tensorflow' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, check=True)
    assert result.stdout.strip() == "False"
    result = subprocess.run([sys.executable, str(ROOT / "train.py"), "--mix", "2"], capture_output=True, text=True)
    assert result.returncode == 1 and result.stderr == "error: --mix must be from 0 to 1, not 2.0\n"


@pytest.mark.slow
def test_each_tool_writes_only_its_own_lines_to_stderr(tiny_run, synthetic_data, tmp_path):
    """TensorFlow's start-up log (absl, CUDA and oneDNN notices) stays out of every tool's output (train.py's: in
    test_train.py's kill -9 test)."""
    run_dir = str(tiny_run[0])
    commands = {
        "predict.py": [str(synthetic_data / "test"), str(tmp_path / "out"), "--pairs", "--model", run_dir],
        "evaluate.py": ["--data", str(synthetic_data), "--model", run_dir],
        "export.py": [str(tmp_path / "exported"), "--model", run_dir],
    }
    progress = re.compile(r"^\d+/\d+ images, [\d.]+ images/s$")  # predict.py's progress line.
    for script, args in commands.items():
        result = subprocess.run([sys.executable, str(ROOT / script), *args], capture_output=True, text=True)
        assert result.returncode == 0, (script, result.stderr)
        lines = [line for line in re.split(r"[\r\n]", result.stderr) if line]
        assert all(progress.match(line) for line in lines), (script, lines[:3])
