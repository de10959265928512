#!/usr/bin/env python3
"""`oclinit init --scheme orthogonal` against torch.nn.init.orthogonal_'s algorithm in float64: the tensor that
`oclinit init --scheme normal` writes with the same seed and stream, viewed as (shape[0], rest) (PyTorch) or
(prod(shape[:-1]), shape[-1]) (Keras), transposed when it is wide, q, r = torch.linalg.qr, q *= sign(diag(r)),
transposed back, times the gain. Agreement within 1e-6 (float32 rounding of a float64 result), on the host path
and the default device. Fails, never skips, without PyTorch (apt-get install python3-torch).

    python3 tests/orthogonal_torch.py build/host/oclinit
"""
import os
import subprocess
import sys
import tempfile

import numpy as np

try:
    import torch
except ImportError as error:
    sys.exit(f"orthogonal_torch: cannot import torch ({error}); on Debian: apt-get install python3-torch")


def reference(a, rows, gain):
    """torch.nn.init.orthogonal_ on the matrix view of a, in float64."""
    flat = torch.from_numpy(a.astype(np.float64).reshape(rows, -1))
    wide = flat.shape[0] < flat.shape[1]
    if wide:
        flat = flat.T
    q, r = torch.linalg.qr(flat)
    q *= torch.sign(torch.diagonal(r))
    if wide:
        q = q.T
    return (gain * q).numpy().reshape(a.shape)


def main():
    cli = sys.argv[1]
    cases = [  # shape, convention, gain, seed
        ((64, 64), "pytorch", 1.0, 1),
        ((100, 30), "pytorch", 1.0, 2),
        ((30, 100), "pytorch", 1.0, 3),
        ((16, 3, 5, 5), "pytorch", 1.5, 4),
        ((3, 3, 8, 16), "keras", 1.0, 5),
        ((1, 1), "pytorch", 2.0, 6),
    ]
    checks = 0
    with tempfile.TemporaryDirectory() as d:
        normal, orthogonal = os.path.join(d, "normal.npy"), os.path.join(d, "orthogonal.npy")
        for shape, convention, gain, seed in cases:
            text = ",".join(str(n) for n in shape)
            common = ["--shape", text, "--seed", str(seed), "--stream", "7", "--quiet"]
            subprocess.run([cli, "init", "--scheme", "normal", *common, "--device", "cpu", "--output", normal],
                           check=True, stdout=subprocess.DEVNULL)
            a = np.load(normal)
            assert a.shape == shape and a.dtype == np.float32, f"normal {shape}: got {a.shape} {a.dtype}"
            rows = shape[0] if convention == "pytorch" else int(np.prod(shape[:-1]))
            want = reference(a, rows, gain)
            for device in ("cpu", ""):
                device_args = ["--device", device] if device else []
                subprocess.run([cli, "init", "--scheme", "orthogonal", "--gain", repr(gain), "--convention",
                                convention, *common, *device_args, "--output", orthogonal], check=True,
                               stdout=subprocess.DEVNULL)
                got = np.load(orthogonal)
                assert got.shape == shape and got.dtype == np.float32, f"orthogonal {shape}: got {got.shape}"
                error = np.max(np.abs(got.astype(np.float64) - want))
                print(f"{shape} {convention} gain {gain} ({device or 'device'}): max |oclinit - torch| = {error:.3g}")
                assert error < 1e-6, f"{shape} {convention} ({device or 'device'}): error {error:.3g}"
                checks += 1
    print(f"orthogonal_torch: {checks} comparisons with torch {torch.__version__} passed")


if __name__ == "__main__":
    main()
