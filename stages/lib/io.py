"""Atomic, deterministic writes: a failed run never leaves half-written outputs."""
from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import tempfile
import zipfile
from pathlib import Path
from typing import Iterator

import numpy as np

from .errors import UserError

_FIXED_ZIP_TIME = (1980, 1, 1, 0, 0, 0)


def _named(error: OSError, path: Path) -> OSError:
    """`error` naming `path` when it names no file (a full disk's ENOSPC on write names none)."""
    if error.filename is None and error.errno is not None:
        return OSError(error.errno, error.strerror, str(path))
    return error


def _umask() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return umask


@contextlib.contextmanager
def atomic_file(path: str | os.PathLike, mode: str = "wb") -> Iterator:
    """Open a temp file beside `path`; rename it over `path` only if the block succeeds."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.chmod(tmp, 0o666 & ~_umask())  # mkstemp's 0600 would make the published file private
    try:
        with os.fdopen(fd, mode) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except OSError as error:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise _named(error, path) from None
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


@contextlib.contextmanager
def atomic_dir(path: str | os.PathLike) -> Iterator[Path]:
    """Yield an empty temp dir beside `path`; swap it in for `path` only if the block succeeds.

    The previous contents of `path` stay in place until the new ones are complete. A run
    killed between the two renames leaves `path` missing and its previous copy aside: the next
    call puts that copy back first.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    for stale in path.parent.glob(f".{path.name}.*.tmp"):  # left by a killed run
        shutil.rmtree(stale, ignore_errors=True)
    for aside in sorted(path.parent.glob(f".{path.name}.*.old")):
        if not path.exists() and (aside / "previous").exists():
            os.replace(aside / "previous", path)
        shutil.rmtree(aside, ignore_errors=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent))
    os.chmod(tmp, 0o777 & ~_umask())  # mkdtemp's 0700 would make the published folder private
    try:
        yield tmp
    except OSError as error:
        shutil.rmtree(tmp, ignore_errors=True)
        raise _named(error, path) from None
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    old = None
    if path.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".old", dir=path.parent))
        os.replace(path, old / "previous")
    os.replace(tmp, path)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def npz_bytes(arrays: dict[str, np.ndarray]) -> bytes:
    """An .npz archive whose bytes depend only on the arrays (fixed timestamps, sorted names)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as archive:
        for name in sorted(arrays):
            info = zipfile.ZipInfo(f"{name}.npy", date_time=_FIXED_ZIP_TIME)
            info.external_attr = 0o644 << 16
            with archive.open(info, "w", force_zip64=True) as member:
                np.lib.format.write_array(member, np.asarray(arrays[name]), allow_pickle=False)
    return buffer.getvalue()


def save_npz(path: str | os.PathLike, **arrays: np.ndarray) -> None:
    with atomic_file(path) as handle:
        handle.write(npz_bytes(arrays))


class DamagedFileError(UserError):
    """An output of the pipeline that cannot be read back: truncated, overwritten or not ours."""


def damaged(path: str | os.PathLike, error: Exception) -> DamagedFileError:
    return DamagedFileError(f"{path}: cannot be read ({error.__class__.__name__}: truncated or overwritten?); "
                            "rerun `dvc repro` (or `dvc pull`) to rebuild it")


@contextlib.contextmanager
def reading(path: str | os.PathLike, errors: tuple[type[Exception], ...]):
    """Turns `errors` raised while reading `path` into one DamagedFileError line naming it; a
    missing file stays a FileNotFoundError, for the caller to say which stage makes it."""
    try:
        yield
    except FileNotFoundError:
        raise
    except errors as error:
        raise damaged(path, error) from None


def load_npz(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """Every array of an .npz file we wrote; a damaged file is a DamagedFileError naming it."""
    with reading(path, (zipfile.BadZipFile, ValueError, EOFError, KeyError, OSError)):
        with np.load(path, allow_pickle=False) as archive:
            return {name: archive[name] for name in archive.files}


def save_json(path: str | os.PathLike, obj) -> None:
    with atomic_file(path, "w") as handle:
        json.dump(obj, handle, indent=2, sort_keys=True)
        handle.write("\n")
