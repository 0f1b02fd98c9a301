"""The Makefile's install step on a machine without Python 3.11: one line that says what to install."""
import subprocess

from conftest import ROOT


def test_an_old_python_is_refused_in_one_line_before_anything_is_installed(tmp_path):
    old_python = tmp_path / "python3"
    old_python.write_text("#!/bin/sh\n[ \"$1\" = --version ] && echo 'Python 3.9.2' && exit 0\nexit 1\n")
    old_python.chmod(0o755)
    venv = tmp_path / "venv"
    result = subprocess.run(["make", "-s", "-C", str(ROOT), "test-fast", f"PYTHON={old_python}", f"VENV={venv}"],
                            capture_output=True, text=True)
    assert result.returncode != 0 and not venv.exists()
    [line] = [l for l in result.stderr.splitlines() if l.startswith("error:")]
    assert "needs Python 3.11 or newer" in line and "Python 3.9.2" in line and "PYTHON=python3.11" in line
