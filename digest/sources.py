"""Reading sources from disk and keeping the inbox: the only file-system I/O of ingestion.

Nothing is ever deleted: an ingested (or already known) file moves to `done/`, a refused one
to `rejected/` with a `.reason` file beside it that says why.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

from digest.errors import InputError

DONE = "done"
REJECTED = "rejected"


def read_source(path: Path, *, max_bytes: int) -> bytes:
    """Read a file, refusing it before reading when it is over the size cap."""
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise InputError(str(path), f"too large: {size} bytes, the limit is {max_bytes}")
        with path.open("rb") as handle:
            data = handle.read(max_bytes + 1)
    except OSError as exc:
        raise InputError(str(path), f"cannot read: {exc.strerror or exc}") from exc
    if len(data) > max_bytes:
        raise InputError(str(path), f"too large: over {max_bytes} bytes")
    return data


def expand_paths(paths: list[Path]) -> Iterator[Path]:
    """Files as given, and each folder's visible files in name order (not recursive)."""
    for path in paths:
        if path.is_dir():
            yield from sorted(
                child
                for child in path.iterdir()
                if child.is_file() and not child.name.startswith(".") and child.suffix != ".reason"
            )
        else:
            yield path


def inbox_files(inbox: Path) -> list[Path]:
    """The files waiting in the inbox, oldest name first; done/ and rejected/ are skipped."""
    inbox.mkdir(parents=True, exist_ok=True)
    return list(expand_paths([inbox]))


def move_done(path: Path, *, now: datetime) -> Path:
    """Move an ingested file to the inbox's done/ folder."""
    return _move(path, path.parent / DONE, now=now)


def move_rejected(path: Path, *, reason: str, now: datetime) -> Path:
    """Move a refused file to rejected/ and write `<name>.reason` beside it."""
    target = _move(path, path.parent / REJECTED, now=now)
    reason_file = target.with_name(target.name + ".reason")
    reason_file.write_text(f"{now.isoformat()} {reason}\n", encoding="utf-8")
    return target


def _move(path: Path, folder: Path, *, now: datetime) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    target = _free_name(folder, path, now=now)
    os.replace(path, target)
    return target


def _free_name(folder: Path, path: Path, *, now: datetime) -> Path:
    """A name in `folder` that no earlier file (or its `.reason`) holds: nothing is overwritten."""
    # The clock alone is not enough: one run moves every file with the same `now`, and a name
    # that arrives a third time would otherwise land on the second one's stamped name.
    stamp = now.strftime("%Y%m%dT%H%M%S%f")
    candidates = itertools.chain(
        [path.name, f"{path.stem}.{stamp}{path.suffix}"],
        (f"{path.stem}.{stamp}-{n}{path.suffix}" for n in itertools.count(2)),
    )
    for name in candidates:
        target = folder / name
        if not target.exists() and not target.with_name(name + ".reason").exists():
            return target
    raise AssertionError("unreachable: itertools.count never ends")
