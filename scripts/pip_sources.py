#!/usr/bin/env python3
"""Print uv's arguments for the package sources pip is configured with on this machine.

``make install`` installs with uv (parallel, several times faster than pip on the CUDA wheels);
uv does not read pip's configuration, so this hands it pip's index, extra indexes and wheel
folders (pip.conf and ``PIP_*`` variables), and the same installs come from the same places.
"""

from __future__ import annotations

import shlex
import subprocess
import sys

OPTIONS = {"index-url": "--index-url", "extra-index-url": "--extra-index-url", "find-links": "--find-links"}


def sources(config: str) -> list[str]:
    """uv arguments from ``pip config list`` output (``scope.key='value'`` per line)."""
    args: list[str] = []
    seen: set[tuple[str, str]] = set()
    for line in config.splitlines():
        key, _, value = line.partition("=")
        option = OPTIONS.get(key.rsplit(".", 1)[-1])
        if option is None:
            continue
        for part in value.strip().strip("'\"").split():
            if (option, part) not in seen:
                seen.add((option, part))
                args += [option, part]
    if any(option != "--index-url" for option, _ in seen):
        # Several sources: take each pinned version from the first source that has it.
        args += ["--index-strategy", "unsafe-best-match"]
    return args


def main() -> None:
    config = subprocess.run([sys.executable, "-m", "pip", "config", "list"], capture_output=True, text=True).stdout
    print(shlex.join(sources(config)))


if __name__ == "__main__":
    main()
