"""Every scheme of `oclinit init` against its anchor, on 2-D to 5-D shapes: torch.nn.init (Debian's python3-torch)
and the formulas of keras.initializers (Keras itself is not packaged; its fans are restated below from
keras/src/initializers/random_initializers.py). Statistics where the numbers are random, exact entries where
they are not (eye, dirac, sparse's zeros per column), the exact std that `--stats` prints for every gain.

Run: python3 scheme_anchors.py path/to/oclinit"""
import math
import os
import re
import subprocess
import sys
import tempfile

import numpy as np
import torch

CLI = sys.argv[1]
SHAPES = [(300, 200), (64, 32, 25), (32, 16, 5, 5), (16, 8, 3, 5, 5)]
failures = []


def run(scheme, shape, *options):
    """The tensor `oclinit init` writes (host C path), and the exact std it reports."""
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "t.npy")
        command = [CLI, "init", "--scheme", scheme, "--shape", ",".join(map(str, shape)), "--seed", "11",
                   "--output", path, "--device", "cpu", "--quiet", "--stats", *options]
        done = subprocess.run(command, capture_output=True, text=True)
        if done.returncode != 0:
            raise SystemExit(f"{' '.join(command)} failed ({done.returncode}): {done.stderr}")
        exact = float(re.search(r"std \S+ \(exact (\S+)\)", done.stdout).group(1))
        return np.load(path), exact


def refused(scheme, shape, *options, says):
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "t.npy")
        command = [CLI, "init", "--scheme", scheme, "--shape", ",".join(map(str, shape)), "--output", path,
                   "--quiet", *options]
        done = subprocess.run(command, capture_output=True, text=True)
        check(done.returncode == 2 and says in done.stderr and not os.listdir(tmp),
              f"{' '.join(command[1:])}: exit {done.returncode}, files {os.listdir(tmp)}, stderr {done.stderr!r}")


def check(ok, what):
    if not ok:
        failures.append(what)


def torch_fans(shape):
    receptive = math.prod(shape[2:])
    return shape[1] * receptive, shape[0] * receptive


def keras_fans(shape):
    if len(shape) == 1:
        return shape[0], shape[0]
    receptive = math.prod(shape[:-2])
    return shape[-2] * receptive, shape[-1] * receptive


def same_statistics(name, ours, reference_std, reference=None, mean=0.0):
    """Sample mean and std of ours against the exact std, and against torch's own sample when there is one:
    6 standard errors, so a wrong fan or gain (a factor of 1.4 or more) cannot pass."""
    n = ours.size
    tolerance = 6 / math.sqrt(n)
    check(abs(ours.mean() - mean) <= tolerance * reference_std + 1e-7, f"{name}: mean {ours.mean():.5g}, expected {mean}")
    check(abs(ours.std() / reference_std - 1) <= tolerance, f"{name}: std {ours.std():.6g}, expected {reference_std:.6g}")
    if reference is not None:
        ref = reference.numpy()
        check(abs(ours.std() / ref.std() - 1) <= 2 * tolerance,
              f"{name}: std {ours.std():.6g} against torch's sample {ref.std():.6g}")
        check(ours.shape == ref.shape, f"{name}: shape {ours.shape} against torch's {ref.shape}")


def torch_made(shape, fill):
    t = torch.empty(shape, dtype=torch.float32)
    with torch.no_grad():
        fill(t)
    return t


torch.manual_seed(0)
init = torch.nn.init
for shape in SHAPES:
    fan_in, fan_out = torch_fans(shape)
    tag = "x".join(map(str, shape))
    # torch.nn.init's random schemes, PyTorch's fans.
    cases = [
        ("xavier-uniform", ["--gain", "1.5"], lambda t: init.xavier_uniform_(t, gain=1.5),
         1.5 * math.sqrt(2 / (fan_in + fan_out))),
        ("xavier-normal", [], init.xavier_normal_, math.sqrt(2 / (fan_in + fan_out))),
        ("kaiming-uniform", ["--mode", "fan_out", "--nonlinearity", "relu"],
         lambda t: init.kaiming_uniform_(t, mode="fan_out", nonlinearity="relu"), math.sqrt(2 / fan_out)),
        ("kaiming-normal", ["--negative-slope", "0.2"], lambda t: init.kaiming_normal_(t, a=0.2),
         math.sqrt(2 / (1 + 0.04)) / math.sqrt(fan_in)),
        ("normal", ["--mean", "0", "--std", "0.02"], lambda t: init.normal_(t, std=0.02), 0.02),
        ("uniform", ["--a", "-0.5", "--b", "0.5"], lambda t: init.uniform_(t, -0.5, 0.5), 1 / math.sqrt(12)),
    ]
    trunc = torch_made(shape, lambda t: init.trunc_normal_(t, std=1.0, a=-2.0, b=2.0))
    ours, _ = run("trunc-normal", shape)
    same_statistics(f"trunc-normal {tag}", ours, float(trunc.std()), trunc)
    check(ours.min() >= -2 and ours.max() <= 2, f"trunc-normal {tag}: outside [-2, 2]")
    for scheme, options, fill, std in cases:
        ours, exact = run(scheme, shape, *options)
        check(abs(exact / std - 1) < 1e-5, f"{scheme} {tag}: exact std {exact}, formula {std}")
        same_statistics(f"{scheme} {tag}", ours, std, torch_made(shape, fill))
    # What nn.Linear / nn.ConvNd start from, weight and bias, against the modules themselves.
    if len(shape) == 2:
        module, scheme = torch.nn.Linear(shape[1], shape[0]), "pytorch-default-linear"
    else:
        conv = [torch.nn.Conv1d, torch.nn.Conv2d, torch.nn.Conv3d][len(shape) - 3]
        module, scheme = conv(shape[1], shape[0], tuple(shape[2:])), "pytorch-default-conv"
    bound = 1 / math.sqrt(fan_in)
    ours, exact = run(scheme, shape)
    same_statistics(f"{scheme} {tag}", ours, bound / math.sqrt(3), module.weight.detach())
    check(np.abs(ours).max() <= np.float32(bound), f"{scheme} {tag}: beyond the bound")
    bias, _ = run(scheme, (shape[0],), "--fan-in", str(fan_in), "--seed", "3")
    check(bias.shape == tuple(module.bias.shape), f"{scheme} bias {tag}: shape {bias.shape}")
    check(np.abs(bias).max() <= np.float32(bound) and np.abs(bias).max() > 0.5 * bound, f"{scheme} bias {tag}: bound")
    # orthogonal: gain Q with orthonormal rows or columns of the (shape[0], rest) view, as torch's.
    ours, _ = run("orthogonal", shape, "--gain", "2")
    flat = ours.reshape(shape[0], -1).astype(np.float64) / 2
    small = flat @ flat.T if flat.shape[0] <= flat.shape[1] else flat.T @ flat
    check(np.abs(small - np.eye(small.shape[0])).max() < 1e-5, f"orthogonal {tag}: not orthonormal")
    reference = torch_made(shape, lambda t: init.orthogonal_(t, gain=2)).numpy()
    check(abs(ours.std() / reference.std() - 1) < 0.05, f"orthogonal {tag}: std {ours.std()} vs {reference.std()}")
    # dirac: exactly torch's entries, with groups.
    if len(shape) >= 3:
        for groups in (1, 2):
            ours, _ = run("dirac", shape, "--groups", str(groups))
            reference = torch_made(shape, lambda t: init.dirac_(t, groups=groups)).numpy()
            check(np.array_equal(ours, reference), f"dirac {tag} groups {groups}: differs from torch's")

# Keras's fans (channels last) and formulas: GlorotNormal, HeUniform, LecunNormal, VarianceScaling.
for shape in [(200, 300), (5, 16, 40), (3, 3, 16, 32), (3, 3, 3, 8, 16)]:
    fan_in, fan_out = keras_fans(shape)
    tag = "x".join(map(str, shape))
    cases = [
        ("variance-scaling", ["--scale", "1", "--mode", "fan_avg"], math.sqrt(2 / (fan_in + fan_out))),  # GlorotNormal
        ("variance-scaling", ["--scale", "2", "--distribution", "uniform"], math.sqrt(2 / fan_in)),  # HeUniform
        ("lecun-normal", [], math.sqrt(1 / fan_in)),
        ("xavier-uniform", [], math.sqrt(2 / (fan_in + fan_out))),  # GlorotUniform
    ]
    for scheme, options, std in cases:
        ours, exact = run(scheme, shape, "--convention", "keras", *options)
        check(abs(exact / std - 1) < 1e-5, f"keras {scheme} {options} {tag}: exact std {exact}, formula {std}")
        same_statistics(f"keras {scheme} {options} {tag}", ours, std)
    # Orthogonal(gain): Keras flattens to (prod(shape[:-1]), shape[-1]).
    ours, _ = run("orthogonal", shape, "--convention", "keras")
    flat = ours.reshape(-1, shape[-1]).astype(np.float64)
    small = flat @ flat.T if flat.shape[0] <= flat.shape[1] else flat.T @ flat
    check(np.abs(small - np.eye(small.shape[0])).max() < 1e-5, f"keras orthogonal {tag}: not orthonormal")

# eye_ and Keras's Identity(gain), 2-D only, both orientations.
for shape in [(5, 7), (7, 5)]:
    ours, _ = run("eye", shape)
    check(np.array_equal(ours, torch_made(shape, init.eye_).numpy()), f"eye {shape}: differs from torch's")
    ours, _ = run("identity", shape, "--gain", "0.5")
    check(np.array_equal(ours, 0.5 * np.eye(*shape, dtype=np.float32)), f"identity gain 0.5 {shape}")

# sparse_: exactly ceil(sparsity rows) zeros in every column, the rest normal(0, std).
for rows, cols, sparsity in [(100, 300, 0.1), (7, 50, 0.5), (1000, 20, 0.99)]:
    ours, _ = run("sparse", (rows, cols), "--sparsity", str(sparsity), "--std", "0.5")
    zeros = (ours == 0).sum(axis=0)
    check((zeros == math.ceil(sparsity * rows)).all(), f"sparse {rows}x{cols} {sparsity}: zeros per column {set(zeros)}")
    reference = torch_made((rows, cols), lambda t: init.sparse_(t, sparsity, std=0.5)).numpy()
    check(((reference == 0).sum(axis=0) == zeros).all(), f"sparse {rows}x{cols}: torch's zeros per column differ")
    kept = ours[ours != 0]
    if kept.size > 1000:
        same_statistics(f"sparse {rows}x{cols} kept", kept, 0.5)

# calculate_gain for every nonlinearity PyTorch lists, through kaiming-normal's exact std.
for name in ["linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d",
             "sigmoid", "tanh", "relu", "leaky_relu", "selu"]:
    _, exact = run("kaiming-normal", (10, 100), "--nonlinearity", name, "--negative-slope", "0.01")
    gain = init.calculate_gain(name, 0.01)
    check(abs(exact - gain / 10) < 1e-5 * gain, f"calculate_gain({name}): oclinit {exact * 10}, torch {gain}")

# Shapes a scheme does not take: exit 2, a message, no file.
refused("dirac", (4, 4), says="dirac takes a 3-D to 5-D tensor")
refused("sparse", (4, 4, 4), "--sparsity", "0.5", says="sparse takes a 2-D tensor")
refused("orthogonal", (16,), says="orthogonal takes a tensor of 2 or more dimensions")
refused("sparse", (4, 4), "--sparsity", "1", says="sparsity must be in [0, 1)")
refused("sparse", (4, 4), "--sparsity", "-0.1", says="sparsity must be in [0, 1)")
refused("dirac", (6, 3, 3), "--groups", "4", says="divide the output channels")
refused("eye", (3, 3, 3), says="eye takes a 2-D tensor")

for failure in failures:
    print("FAIL:", failure)
print(f"{len(failures)} failures")
sys.exit(1 if failures else 0)
