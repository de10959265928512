"""bench/python_init.py runs (two sizes, three calls each) and prints its table and a verdict per pair."""

import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench" / "python_init.py"


def test_the_python_bench_runs():
    result = subprocess.run([sys.executable, str(BENCH), "--min", "16", "--max", "17", "--budget", "0"],
                            capture_output=True, text=True, timeout=300, check=True)
    lines = result.stdout.splitlines()
    header = lines[1]
    ours, columns = header.count("oclinit"), header.count(" ms")
    assert header.split()[0] == "elements" and ours == 2 and "torch ms" in header and "numpy ms" in header
    assert [line.split()[0] for line in lines[3:5]] == ["2^16", "2^17"]
    assert all(len(line.split()) == 1 + columns for line in lines[3:5])
    assert sum(" vs " in line for line in lines) == ours * (columns - ours)
