"""`ao --help` median start-up time against `python -c pass`, measured in the same run."""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys

from _common import median_seconds


def main(repeat: int) -> None:
    ao = shutil.which("ao") or sys.exit("ao is not on PATH: activate the venv first")
    baseline = median_seconds(lambda: subprocess.run([sys.executable, "-c", "pass"], check=True), repeat)
    help_time = median_seconds(lambda: subprocess.run([ao, "--help"], check=True, capture_output=True), repeat)
    print(f"python -c pass   {baseline * 1000:7.1f} ms (median of {repeat})")
    print(f"ao --help        {help_time * 1000:7.1f} ms (median of {repeat})")
    print(f"ratio            {help_time / baseline:7.2f}x")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=21)
    main(parser.parse_args().repeat)
