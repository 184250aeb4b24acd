"""Writing a derived index directory so that readers see the old one or the new one, never half of either."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path


def write_directory(path: Path, write: Callable[[Path], None]) -> None:
    """Call ``write`` on a fresh directory beside ``path`` and swap it in for ``path``. When ``write`` fails
    with an OSError (a full disk) the partial directory is removed and ``path`` stays as it was."""
    tmp = path.with_name(path.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    try:
        write(tmp)
    except OSError:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    old = path.with_name(path.name + ".old")
    shutil.rmtree(old, ignore_errors=True)
    if path.exists():
        os.replace(path, old)
    os.replace(tmp, path)
    shutil.rmtree(old, ignore_errors=True)
