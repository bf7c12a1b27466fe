"""What every benchmark prints about the machine it ran on: figures mean little without it."""

from __future__ import annotations

import os
import platform
from pathlib import Path


def cpu_name() -> str:
    """The CPU model, from /proc/cpuinfo where there is one."""
    try:
        lines = Path("/proc/cpuinfo").read_text().splitlines()
    except OSError:
        lines = []
    return next(
        (line.split(":", 1)[1].strip() for line in lines if line.startswith("model name")),
        platform.processor() or "?",
    )


def load_average() -> str:
    """The 1, 5 and 15 minute load averages: other work on the machine moves every figure."""
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def describe(*versions: str) -> str:
    """CPU, cores, system and Python, then any further versions given (`SQLite 3.40.1`)."""
    extra = "".join(f", {version}" for version in versions)
    return (
        f"{cpu_name()}, {os.cpu_count()} CPUs, {platform.system()} {platform.release()}; "
        f"Python {platform.python_version()}{extra}"
    )
