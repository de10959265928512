#!/usr/bin/env python3
"""Runs the numpy block of README.md's "Reproducibility" section against files written by the oclinit CLI:
uniform tensors must match bit for bit, normal ones within 1e-6 * max(1, |z|) * std.

    python3 tests/readme_contract.py README.md build/host/oclinit
"""
import os
import re
import subprocess
import sys
import tempfile

import numpy as np


def readme_blocks(readme):
    text = open(readme, encoding="utf-8").read()
    section = text.split("## Reproducibility", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```python\n(.*?)```", section, re.S)


def cli_tensor(cli, directory, *args):
    path = os.path.join(directory, "w.npy")
    subprocess.run([cli, "init", *args, "--output", path, "--quiet"], check=True, stdout=subprocess.DEVNULL)
    return np.load(path)


def main():
    readme, cli = sys.argv[1], sys.argv[2]
    contract = {}
    for block in readme_blocks(readme):
        exec(block, contract)
    cases = 0
    with tempfile.TemporaryDirectory() as directory:
        for seed, stream, rows, cols, a, b in [(7, 0, 3, 5, -1, 1), (2**64 - 1, 2**63 + 5, 37, 101, 0.25, 3.0),
                                               (123456789012345, 9, 1, 1, -2, 2)]:
            for device in ("cpu", ""):
                got = cli_tensor(cli, directory, "--scheme", "uniform", "--a", str(a), "--b", str(b),
                                 "--fan-in", str(cols), "--fan-out", str(rows), "--seed", str(seed),
                                 "--stream", str(stream), *(["--device", device] if device else []))
                want = contract["uniform"](seed, stream, rows, cols, a, b)
                assert got.shape == (rows, cols) and got.dtype == np.float32, (got.shape, got.dtype)
                assert np.array_equal(got.view(np.uint32), want.view(np.uint32)), f"uniform seed {seed} differs"
                cases += 1
        for seed, stream, rows, cols, mean, std in [(1, 0, 64, 64, 0.0, 1.0), (2**40 + 3, 77, 1001, 3, 1.5, 0.25)]:
            for device in ("cpu", ""):
                got = cli_tensor(cli, directory, "--scheme", "normal", "--mean", str(mean), "--std", str(std),
                                 "--fan-in", str(cols), "--fan-out", str(rows), "--seed", str(seed),
                                 "--stream", str(stream), *(["--device", device] if device else []))
                want = contract["normal"](seed, stream, rows, cols, mean, std)
                z = (want - mean) / std
                error = np.abs(got - want) / (np.maximum(1.0, np.abs(z)) * std)
                assert error.max() <= 1e-6, f"normal seed {seed}: error {error.max():.3g}"
                cases += 1
        # A named tensor's stream: README's FNV-1a against `oclinit init --name`.
        for name in ("model.embed_tokens.weight", "h.0.attn.c_proj.weight", "\u00e9t\u00e9"):
            named = cli_tensor(cli, directory, "--scheme", "uniform", "--shape", "3,5", "--name", name)
            numbered = cli_tensor(cli, directory, "--scheme", "uniform", "--shape", "3,5", "--stream",
                                  str(contract["stream"](name)))
            assert np.array_equal(named, numbered), f"the stream of {name!r} differs from README's"
            cases += 1
    print(f"README's numpy contract matches the CLI in {cases} cases (host C path and default device)")


if __name__ == "__main__":
    main()
