"""Atomic writes: published with the umask's permissions, and a run killed between
atomic_dir's two renames is repaired by the next one."""
import os
import stat

import numpy as np
import pytest

from stages.lib.io import atomic_dir, atomic_file, save_json, save_npz


@pytest.fixture
def umask_022():
    old = os.umask(0o022)
    yield
    os.umask(old)


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_files_and_folders_are_published_with_the_umask(tmp_path, umask_022):
    import numpy as np

    with atomic_file(tmp_path / "a.bin") as handle:
        handle.write(b"x")
    save_json(tmp_path / "m.json", {"rmse": 1.0})
    save_npz(tmp_path / "p.npz", a=np.zeros(3))
    with atomic_dir(tmp_path / "out") as tmp:
        (tmp / "f").write_text("y")
    assert mode(tmp_path / "a.bin") == mode(tmp_path / "m.json") == mode(tmp_path / "p.npz") == 0o644
    assert mode(tmp_path / "out") == 0o755


def test_a_failed_block_leaves_the_previous_file(tmp_path):
    (tmp_path / "a.txt").write_text("old")
    with pytest.raises(RuntimeError):
        with atomic_file(tmp_path / "a.txt", "w") as handle:
            handle.write("new")
            raise RuntimeError("killed")
    assert (tmp_path / "a.txt").read_text() == "old"
    assert os.listdir(tmp_path) == ["a.txt"]


def test_a_copy_left_aside_between_the_renames_is_restored(tmp_path):
    """A kill after `path` was moved aside but before the new folder took its place."""
    out = tmp_path / "prepared"
    with atomic_dir(out) as tmp:
        (tmp / "train.npz").write_text("good")
    aside = tmp_path / ".prepared.abc123.old"
    aside.mkdir()
    os.replace(out, aside / "previous")
    assert not out.exists()

    with pytest.raises(RuntimeError):
        with atomic_dir(out):
            raise RuntimeError("this run fails too")
    assert (out / "train.npz").read_text() == "good"  # the last good output is back
    assert not aside.exists()

    with atomic_dir(out) as tmp:
        (tmp / "train.npz").write_text("new")
    assert (out / "train.npz").read_text() == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["prepared"]


def test_a_stale_copy_aside_is_dropped_when_the_output_exists(tmp_path):
    out = tmp_path / "split"
    with atomic_dir(out) as tmp:
        (tmp / "val.npz").write_text("current")
    (tmp_path / ".split.x.old" / "previous").mkdir(parents=True)
    with atomic_dir(out) as tmp:
        (tmp / "val.npz").write_text("next")
    assert (out / "val.npz").read_text() == "next"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["split"]


def test_file_system_refusals_print_one_line(tmp_path, capsys):
    from stages.lib.cli import run

    def main():
        raise PermissionError(13, "Permission denied", str(tmp_path / "models"))

    with pytest.raises(SystemExit) as exit_:
        run(main)
    assert exit_.value.code == 1
    assert capsys.readouterr().err == f"error: {tmp_path / 'models'}: permission denied\n"


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_a_read_only_output_folder_is_one_line_and_keeps_the_old_output(tmp_path, capsys):
    from stages.lib.cli import run

    models = tmp_path / "models"
    models.mkdir()
    (models / "mean").mkdir()
    (models / "mean" / "model.npz").write_bytes(b"previous")
    models.chmod(0o555)
    try:
        def main():
            with atomic_dir(models / "mean") as tmp:
                (tmp / "model.npz").write_bytes(b"new")

        with pytest.raises(SystemExit):
            run(main)
    finally:
        models.chmod(0o755)
    assert "permission denied" in capsys.readouterr().err
    assert (models / "mean" / "model.npz").read_bytes() == b"previous"


@pytest.fixture
def full_disk(tmp_path):
    """A 64 KB tmpfs: a real full disk (needs root, as CI has; skipped where mount is refused)."""
    import subprocess

    mount = tmp_path / "disk"
    mount.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mount)], capture_output=True).returncode:
        pytest.skip("cannot mount a tmpfs here")
    yield mount
    subprocess.run(["umount", str(mount)], check=True)


def test_a_full_disk_names_the_output_and_keeps_the_last_good_one(full_disk):
    import errno

    from stages.lib.cli import describe

    target, folder = full_disk / "model.npz", full_disk / "model"
    target.write_bytes(b"last good")
    (folder).mkdir()
    (folder / "weights.npz").write_bytes(b"last good")
    for write in (lambda: save_npz(target, big=np.ones(1 << 17)),
                  lambda: _write_into(folder, np.ones(1 << 17))):
        with pytest.raises(OSError) as error:
            write()
        assert error.value.errno == errno.ENOSPC and error.value.filename in (str(target), str(folder))
        assert describe(error.value) == f"{error.value.filename}: no space left on device"
    assert target.read_bytes() == b"last good" and (folder / "weights.npz").read_bytes() == b"last good"
    assert sorted(p.name for p in full_disk.iterdir()) == ["model", "model.npz"]  # no temp files left


def _write_into(folder, array):
    with atomic_dir(folder) as tmp:
        (tmp / "weights.npz").write_bytes(array.tobytes())
