"""The examples run end to end.

examples/fashion_mnist_pytorch_style.py is a PyTorch beginner script whose only nerve line is
``import nerve as torch``. It is run as a subprocess on a slice of Fashion-MNIST under nerve, and
again under real PyTorch (that line swapped for ``import torch``): nerve must learn (accuracy well
above chance), its saved weights must reload, and its accuracy must be within 1.5 points of
PyTorch's with the same settings (issue 3's acceptance criterion).

The slice (20,000 training / test images, 3 epochs, batch 128) is large enough that the run-to-run
spread over seeds is about 0.4-0.6 points in either library, so the 1.5-point bound tests for a
systematic gap, not for luck. Skipped when the Debian data (dataset-fashion-mnist) is absent.
"""
from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "examples" / "fashion_mnist_pytorch_style.py"
DATA = "/usr/share/datasets/fashion-mnist"
FILES = ["train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz",
         "t10k-labels-idx1-ubyte.gz"]
ARGS = ["--limit", "20000", "--epochs", "3", "--batch-size", "128", "--seed", "0", "--data", DATA]
NERVE_IMPORT = "import nerve as torch\n"

needs_data = pytest.mark.skipif(not all(os.path.exists(os.path.join(DATA, f)) for f in FILES),
                                reason=f"Fashion-MNIST not found in {DATA} (apt install dataset-fashion-mnist)")


def _run(script: Path, out: Path):
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
    proc = subprocess.run([sys.executable, str(script), *ARGS, "--out", str(out)], capture_output=True, text=True,
                          env=env, cwd=str(out.parent), timeout=600, check=False)
    assert proc.returncode == 0, f"{script.name} failed:\n{proc.stdout}\n{proc.stderr}"
    found = re.search(r"^Test accuracy: ([\d.]+)%$", proc.stdout, re.MULTILINE)
    reloaded = re.search(r"^Reloaded model test accuracy: ([\d.]+)%$", proc.stdout, re.MULTILINE)
    assert found and reloaded, proc.stdout
    return float(found.group(1)), float(reloaded.group(1)), proc.stdout


@pytest.fixture(scope="module")
def nerve_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("nerve") / "fashion_mlp.pt"
    return _run(SCRIPT, out) + (out,)


def test_only_nerve_line_is_the_import():
    src = SCRIPT.read_text()
    assert src.count(NERVE_IMPORT) == 1
    tree = ast.parse(src)
    body = tree.body[1:] if ast.get_docstring(tree) else tree.body  # the docstring may talk about nerve
    code = "\n".join(ast.unparse(node) for node in body)
    assert [line for line in code.splitlines() if "nerve" in line] == ["import nerve as torch"]


@needs_data
def test_script_trains_saves_and_reloads(nerve_run):
    import nerve

    acc, reloaded, stdout, out = nerve_run
    assert acc > 75.0, stdout
    assert reloaded == acc, stdout
    state = nerve.load(str(out), weights_only=True)
    shapes = {k: tuple(v.shape) for k, v in state.items()}
    assert shapes == {"layers.0.weight": (256, 784), "layers.0.bias": (256,), "layers.3.weight": (256, 256),
                      "layers.3.bias": (256,), "layers.6.weight": (10, 256), "layers.6.bias": (10,)}
    assert all(v.dtype == nerve.float32 for v in state.values())


@needs_data
def test_accuracy_matches_pytorch(nerve_run, tmp_path):
    pytest.importorskip("torch")
    acc, *_ = nerve_run
    torch_script = tmp_path / "fashion_mnist_torch.py"
    torch_script.write_text(SCRIPT.read_text().replace(NERVE_IMPORT, "import torch\n"))
    torch_acc, torch_reloaded, stdout = _run(torch_script, tmp_path / "fashion_mlp_torch.pt")
    assert torch_reloaded == torch_acc, stdout
    assert abs(acc - torch_acc) <= 1.5, f"nerve {acc:.2f}% vs PyTorch {torch_acc:.2f}% on the same slice"
