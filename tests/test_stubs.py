"""The committed type stubs match the op declarations (regenerate with ``make stubs``)."""
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_stubs_are_current():
    run = subprocess.run([sys.executable, str(ROOT / "tools" / "gen_stubs.py"), "--check"], capture_output=True,
                         text=True, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr


def test_stub_lists_declared_methods_with_signatures():
    text = (ROOT / "src" / "ember" / "_tensor.pyi").read_text()
    assert "    def sum(self, dim=None, keepdim=False, *, dtype=None, out=None)" in text
    assert "    def exp_(self" in text and "    def __add__(self, other" in text
    ops = (ROOT / "src" / "ember" / "ops" / "__init__.pyi").read_text()
    assert "def zeros(*size" in ops and "-> Tensor" in ops
