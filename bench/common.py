"""Shared helpers of the benchmarks: an app on a bench directory, timing, memory, machine load."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def bench_env(directory: Path, database_url: str | None = None) -> dict[str, str]:
    """BOARD_* variables that point the app at a bench directory (never the dev database)."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "instance").mkdir(exist_ok=True)
    env = dict(os.environ)
    env.update(
        BOARD_INSTANCE_PATH=str(directory / "instance"),
        BOARD_SQLALCHEMY_DATABASE_URI=database_url or f"sqlite:///{directory / 'board.sqlite'}",
        BOARD_SEARCH_INDEX_DIR=str(directory / "index"),
        BOARD_SECRET_KEY="bench-only",
        BOARD_SEARCH_APPLY_INLINE="false",
        BOARD_RATELIMIT_ENABLED="false",
    )
    return env


def make_app(directory: Path, database_url: str | None = None, **config):
    """The app on a bench directory, in this process."""
    env = bench_env(directory, database_url)
    os.environ.update(env)
    from board import create_app

    # With a config mapping create_app reads no BOARD_* variables: name everything here.
    return create_app(
        {
            "SQLALCHEMY_DATABASE_URI": env["BOARD_SQLALCHEMY_DATABASE_URI"],
            "SEARCH_INDEX_DIR": env["BOARD_SEARCH_INDEX_DIR"],
            "SECRET_KEY": env["BOARD_SECRET_KEY"],
            "RATELIMIT_ENABLED": False,
            "SEARCH_APPLY_INLINE": False,
            **config,
        }
    )


def flask(env: dict[str, str], *args: str, memory: bool = False) -> tuple[float, str, dict]:
    """Run `flask ARGS` in a child; (wall seconds, output, rusage of the child and its children).

    With `memory`, the child's process tree is sampled while it runs (`TreeMemory`) and the
    rusage dict also holds its peaks."""
    before = os.times()
    started = time.perf_counter()
    child = subprocess.Popen(
        [str(ROOT / ".venv" / "bin" / "flask"), *args],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    sampler = TreeMemory(child.pid) if memory else None
    out, err = child.communicate()
    wall = time.perf_counter() - started
    after = os.times()
    if child.returncode:
        raise SystemExit(f"flask {' '.join(args)} failed:\n{out}\n{err}")
    cpu = {
        "user": round(after.children_user - before.children_user, 1),
        "sys": round(after.children_system - before.children_system, 1),
    }
    if sampler is not None:
        cpu.update(sampler.stop())
    return wall, out + err, cpu


class TreeMemory:
    """Samples a process and its descendants every `interval` seconds in a thread: the peak of
    their summed PSS (proportional set size: pages shared after a fork counted once, split
    between the sharers: the memory the tree really takes), of their summed RSS (shared pages
    counted in each), and of the largest single RSS."""

    def __init__(self, pid: int, interval: float = 0.25):
        self.pid, self.interval = pid, interval
        self.peak_pss = self.peak_rss_sum = self.peak_rss_one = 0.0
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _tree(self) -> list[int]:
        pids, found = [self.pid], 0
        while found < len(pids):
            try:
                children = Path(f"/proc/{pids[found]}/task/{pids[found]}/children").read_text()
            except OSError:
                children = ""
            pids.extend(int(p) for p in children.split())
            found += 1
        return pids

    def _run(self) -> None:
        while not self._done.wait(self.interval):
            pss = rss_sum = rss_one = 0.0
            for pid in self._tree():
                try:
                    rollup = Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()
                except OSError:
                    continue
                values = {
                    line.split(":")[0]: int(line.split()[1]) / 1024
                    for line in rollup[1:]
                    if line.endswith("kB")
                }
                pss += values.get("Pss", 0.0)
                rss_sum += values.get("Rss", 0.0)
                rss_one = max(rss_one, values.get("Rss", 0.0))
            self.peak_pss = max(self.peak_pss, pss)
            self.peak_rss_sum = max(self.peak_rss_sum, rss_sum)
            self.peak_rss_one = max(self.peak_rss_one, rss_one)

    def stop(self) -> dict[str, int]:
        self._done.set()
        self._thread.join()
        return {
            "peak_pss_sum_mb": round(self.peak_pss),
            "peak_rss_sum_mb": round(self.peak_rss_sum),
            "peak_rss_one_mb": round(self.peak_rss_one),
        }


def load() -> str:
    """The 1/5/15-minute load averages: the machine is shared, every number comes with this."""
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f}"


def rss_mb(pid: int | str = "self") -> float:
    """Resident memory of a process in MB (from /proc)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def peak_rss_mb(pid: int | str = "self") -> float:
    """Peak resident memory of a process in MB (from /proc)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def summary(samples_ms: list[float]) -> dict[str, float]:
    """Median and 95th percentile of latencies in milliseconds."""
    ordered = sorted(samples_ms)
    p95 = ordered[min(len(ordered) - 1, max(0, round(0.95 * len(ordered)) - 1))]
    return {
        "n": len(ordered),
        "median": round(statistics.median(ordered), 1),
        "p95": round(p95, 1),
        "max": round(ordered[-1], 1),
    }
