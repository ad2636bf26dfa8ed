#!/usr/bin/env python3
"""Start-up cost and size of healing-tui binaries (for choosing the release profile).

    python3 benches/startup_cost.py target/release/healing-tui [more binaries...]

For each binary: its size, then the median over RUNS (default 60) runs of `--version` and of
`inbox` with empty config and data directories (reads the config, finds no session, exits 3):
wall time, CPU time (user + system, from wait4) and minor page faults. On a shared machine the
wall time is noisy; CPU time and page faults are the steadier figures.
"""
import os
import statistics
import subprocess
import sys
import tempfile
import time

RUNS = int(os.environ.get("RUNS", "60"))


def run(argv):
    start = time.perf_counter()
    child = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, _, usage = os.wait4(child.pid, 0)
    return (time.perf_counter() - start) * 1000, (usage.ru_utime + usage.ru_stime) * 1000, usage.ru_minflt


def medians(argv):
    return [statistics.median(column) for column in zip(*(run(argv) for _ in range(RUNS)))]


def main():
    with tempfile.TemporaryDirectory() as home:
        for binary in sys.argv[1:]:
            version = medians([binary, "--version"])
            inbox = medians([binary, "--config-dir", home, "--data-dir", home, "inbox"])
            print(
                f"{binary}: {os.path.getsize(binary) / 1e6:.1f} MB | --version wall {version[0]:.2f} ms,"
                f" cpu {version[1]:.2f} ms, {version[2]:.0f} faults | inbox wall {inbox[0]:.2f} ms,"
                f" cpu {inbox[1]:.2f} ms, {inbox[2]:.0f} faults"
            )


if __name__ == "__main__":
    main()
