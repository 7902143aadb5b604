"""Where an export command writes its file: standard output for ``-``, else the file named."""

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from django.core.management.base import CommandError


@contextmanager
def command_output(target: str, *, stdout: IO[str]) -> Iterator[IO[str]]:
    """The file ``target`` opened for writing text (its folder made if missing), or ``stdout`` for
    ``-``. A file that cannot be written is a ``CommandError`` naming it, before any work is done."""
    if target == "-":
        yield stdout
        return
    path = Path(target)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle = path.open("w", newline="", encoding="utf-8")
    except OSError as error:
        raise CommandError(f"Cannot write {target}: {error.strerror or error}.") from None
    with handle:
        yield handle
