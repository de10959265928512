#!/usr/bin/env python3
"""oclinit.init against torch.nn.init.kaiming_normal_ and numpy, from Python, call overhead included.

Each backend makes a new float32 (n / 1024, 1024) He-normal tensor (std sqrt(2 / 1024)), n = 2^16 .. 2^26:
  oclinit DEVICE   oclinit.init(shape, "kaiming-normal", nonlinearity="relu", device=DEVICE): the default device
                   (as the CLI picks it) and the host C path ("cpu")
  torch            torch.nn.init.kaiming_normal_(torch.empty(shape), nonlinearity="relu")
  numpy            rng.standard_normal(shape, dtype=np.float32) * std (numpy's Generator, one thread)
Each time is the median of repeated calls after one warm-up call (the device's runtime and kernels are made once
per process, at the first call, and not counted); the backends take turns, call by call. Prints a table of
milliseconds and the crossover: the smallest size from which oclinit is faster than the other at every larger size
measured.

    .venv/bin/python bench/python_init.py            # 2^16 .. 2^26
    .venv/bin/python bench/python_init.py --quick    # 2^16 .. 2^22, fewer repeats

The package is the installed one (pip install .), else the source tree's host/python with build/host/liboclinit.so
(or --library, or $OCLINIT_LIBRARY)."""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path


def import_oclinit(library):
    """The installed package, else the source tree's with a build tree's library."""
    repository = Path(__file__).resolve().parents[1]
    if library:
        os.environ["OCLINIT_LIBRARY"] = library
    try:
        import oclinit
    except ImportError:
        os.environ.setdefault("OCLINIT_LIBRARY", str(repository / "build" / "host" / "liboclinit.so"))
        sys.path.insert(0, str(repository / "host" / "python"))
        import oclinit
    return oclinit


def median_seconds(calls, budget, most):
    """Each call's median time over repeated rounds (at least 3, at most `most`, about `budget` seconds in all),
    every round calling each once in turn, so that a change of the machine's load falls on all of them alike."""
    for call in calls.values():
        call()  # warm-up: runtime, kernels, first-touch of the allocator's pages
    times = {name: [] for name in calls}
    rounds = 0
    while rounds < 3 or (rounds < most and sum(map(sum, times.values())) < budget):
        for name, call in calls.items():
            start = time.perf_counter()
            call()
            times[name].append(time.perf_counter() - start)
        rounds += 1
    return {name: statistics.median(each) for name, each in times.items()}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog="\n\n".join(__doc__.split("\n\n")[1:]))
    parser.add_argument("--quick", action="store_true", help="2^16 .. 2^22 elements, 0.3 s per size")
    parser.add_argument("--min", type=int, default=16, metavar="K", help="smallest size 2^K elements (16)")
    parser.add_argument("--max", type=int, default=26, metavar="K", help="largest size 2^K elements (26)")
    parser.add_argument("--device", default=None,
                        help="oclinit's device besides the host C path (default: the one the CLI picks)")
    parser.add_argument("--budget", type=float, default=3.0, help="seconds of repeats per size, all backends (3.0)")
    parser.add_argument("--library", help="liboclinit.so to use (default: the installed package's, else build/)")
    args = parser.parse_args()
    if args.quick:
        args.max, args.budget = min(args.max, 22), 0.3
    if not 10 <= args.min <= args.max <= 30:
        parser.error("sizes 2^10 .. 2^30 elements, --min <= --max")

    import numpy as np

    oclinit = import_oclinit(args.library)
    try:
        import torch
    except ImportError:
        torch = None
        print("torch is not installed: no torch column", file=sys.stderr)

    default = next((d for d in oclinit.devices() if d.default), None)
    device_spec = args.device
    if device_spec is None and default is not None:
        device_spec = default.spec
    rng = np.random.default_rng(0)
    backends = {}
    if device_spec is not None:
        backends[f"oclinit {device_spec}"] = lambda shape: oclinit.init(shape, "kaiming-normal", seed=1,
                                                                        nonlinearity="relu", device=device_spec)
    backends["oclinit cpu"] = lambda shape: oclinit.init(shape, "kaiming-normal", seed=1, nonlinearity="relu",
                                                         device="cpu")
    if torch is not None:
        backends["torch"] = lambda shape: torch.nn.init.kaiming_normal_(torch.empty(shape), nonlinearity="relu")
    backends["numpy"] = lambda shape: rng.standard_normal(shape, dtype=np.float32) * np.float32(
        np.sqrt(2.0 / shape[1]))

    where = [f"oclinit {oclinit.__version__} ({oclinit._library._library_path()})"]
    if device_spec is not None:
        chosen = next((d for d in oclinit.devices() if d.spec == device_spec), None)
        where.append(f"device {device_spec}: {chosen.name if chosen else device_spec}")
    if torch is not None:
        where.append(f"torch {torch.__version__} ({torch.get_num_threads()} threads)")
    where.append(f"numpy {np.__version__}; {os.cpu_count()} CPUs")
    print("; ".join(where))

    names = list(backends)
    header = f"{'elements':>10} " + " ".join(f"{name + ' ms':>16}" for name in names)
    print(header)
    print("-" * len(header))
    table = {}
    for k in range(args.min, args.max + 1):
        shape = (1 << (k - 10), 1024)
        row = table[k] = median_seconds({name: (lambda make=backends[name]: make(shape)) for name in names},
                                        args.budget, 50)
        print(f"{'2^' + str(k):>10} " + " ".join(f"{row[name] * 1e3:>16.3f}" for name in names), flush=True)

    print()
    sizes = sorted(table)
    for ours in (n for n in names if n.startswith("oclinit")):
        for other in (n for n in names if not n.startswith("oclinit")):
            faster = [table[k][ours] < table[k][other] for k in sizes]
            if all(faster):
                verdict = f"faster at every size measured (from 2^{sizes[0]})"
            elif not faster[-1]:
                verdict = f"not faster at 2^{sizes[-1]}: no crossover up to there"
            else:
                first = max(i for i, f in enumerate(faster) if not f) + 1
                verdict = f"faster from 2^{sizes[first]} elements on"
            speedup = table[sizes[-1]][other] / table[sizes[-1]][ours]
            print(f"{ours} vs {other}: {verdict}; {speedup:.2f}x {other}'s speed at 2^{sizes[-1]}")


if __name__ == "__main__":
    main()
