"""Replace one "## " section of BENCHMARKS.md, leaving every other section as it is."""

from __future__ import annotations

from pathlib import Path


def replace_section(path: Path, heading: str, body: list[str]) -> None:
    text = path.read_text() if path.exists() else "# Benchmarks\n"
    lines = text.splitlines()
    if not lines or not lines[0].startswith("# "):
        lines = ["# Benchmarks", "", *lines]
    try:
        start = lines.index(heading)
    except ValueError:
        lines = [*lines, "", heading, "", *body]
    else:
        stop = next(
            (index for index in range(start + 1, len(lines)) if lines[index].startswith("## ")), len(lines)
        )
        lines = [*lines[: start + 1], "", *body, "", *lines[stop:]]
    path.write_text("\n".join(lines).rstrip() + "\n")
