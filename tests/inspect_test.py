#!/usr/bin/env python3
"""safetensors and `oclinit inspect` against Python's safetensors, numpy and ml_dtypes:

- oclinit's float32 -> float16 / bfloat16 conversions (written by `test_safetensors --write-conversions` into a
  safetensors file that Python's safetensors must load) equal numpy's astype(float16) and ml_dtypes' bfloat16 bit
  for bit on 10^7 random bit patterns and the special values (NaN: a quiet NaN both sides);
- `oclinit inspect --json` on files written by safetensors.torch (F32, F16, BF16, F64, a scalar, an integer tensor,
  NaN and infinities), on a sharded Hugging Face directory and on .npy files (any rank, float16, big-endian,
  integers): names, dtypes, shapes and numpy's mean, std (ddof 0), min and max of the finite values;
- F64 statistics in double: 1e300 and 1e-300 neither overflow nor underflow, min and max exact;
- the safetensors __metadata__, whole in --json and one line per key (long values cut) in the text;
- an index file given itself, shards in file order, model.safetensors preferred to an index beside it;
- the verdicts (explode, vanish, constant, ok; embeddings and norms not judged), a bad index refused, and bad input
  refused with exit status 2 and a message naming the file (an unsupported .npy dtype named as it is, a .npy name
  without .npy content), writing nothing.

    python3 tests/inspect_test.py build/host/oclinit build/tests/test_safetensors
"""
import json
import os
import struct
import subprocess
import sys
import tempfile

import numpy as np

try:
    import ml_dtypes
    import torch
    from safetensors.numpy import load_file
    from safetensors.torch import save_file
except ImportError as error:
    sys.exit(f"inspect_test: cannot import {error.name}: run bash .ci/install-deps (safetensors and ml_dtypes from "
             "PyPI into .venv, torch from Debian)")

OCLINIT, TEST_SAFETENSORS = sys.argv[1], sys.argv[2]
failures = []


def check(condition, message):
    if not condition:
        failures.append(message)
        print("FAIL:", message)


def inspect(path, expect_exit=0):
    result = subprocess.run([OCLINIT, "inspect", "--json", path], capture_output=True, text=True)
    inspect.stderr = result.stderr
    check(result.returncode == expect_exit,
          f"inspect {path}: exit {result.returncode}, expected {expect_exit}; stderr: {result.stderr.strip()}")
    if result.returncode != 0:
        return result.stderr
    return {row["name"]: row for row in json.loads(result.stdout)}


def compare_stats(row, values, what):
    """numpy's statistics of values as oclinit reads them: exactly, in float64 arithmetic."""
    values = np.asarray(values).astype(np.float64).ravel()
    finite = values[np.isfinite(values)]
    check(row["count"] == values.size, f"{what}: count {row['count']}, expected {values.size}")
    check(row["nonfinite"] == values.size - finite.size, f"{what}: nonfinite {row['nonfinite']}")
    expected = {"mean": finite.mean(), "std": finite.std(), "min": finite.min(), "max": finite.max()}
    for key, value in expected.items():
        check(np.isclose(row[key], value, rtol=1e-9, atol=1e-12), f"{what}: {key} {row[key]!r}, numpy {value!r}")


def conversions(directory):
    path = os.path.join(directory, "conversions.safetensors")
    subprocess.run([TEST_SAFETENSORS, "--write-conversions", path], check=True)
    tensors = load_file(path)  # Python's safetensors must take the header oclinit writes
    x = tensors["input"]
    nan = np.isnan(x)
    f16 = tensors["f16"].view(np.uint16)
    with np.errstate(over="ignore", invalid="ignore"):  # overflow to infinity and NaN are what is compared
        expected_f16 = x.astype(np.float16).view(np.uint16)
        expected_bf16 = x.astype(ml_dtypes.bfloat16).view(np.uint16)
    wrong = np.flatnonzero((f16 != expected_f16) & ~nan)
    check(wrong.size == 0, f"f16: {wrong.size} of {x.size} differ from numpy, e.g. input {x.view(np.uint32)[wrong[:1]]}")
    check(np.all((f16[nan] & 0x7E00) == 0x7E00), "f16: a NaN did not become a quiet NaN")
    bf16 = tensors["bf16"].view(np.uint16)
    wrong = np.flatnonzero((bf16 != expected_bf16) & ~nan)
    check(wrong.size == 0, f"bf16: {wrong.size} of {x.size} differ from ml_dtypes")
    check(np.all((bf16[nan] & 0x7FC0) == 0x7FC0), "bf16: a NaN did not become a quiet NaN")
    check(np.array_equal(bf16[nan], expected_bf16[nan]), "bf16: NaNs differ from ml_dtypes' (sign | 0x7fc0)")
    print(f"conversions: {x.size} values (of them {int(nan.sum())} NaN) equal numpy's float16 and ml_dtypes' bfloat16")


def torch_file(directory):
    torch.manual_seed(3)
    weights = {
        "model.layers.0.self_attn.q_proj.weight": torch.randn(96, 64) * 0.02,
        "model.layers.0.mlp.down_proj.weight": (torch.randn(64, 160) * 0.05).to(torch.bfloat16),
        "model.layers.0.conv.weight": (torch.randn(8, 4, 3, 3) * 0.2).half(),
        "model.embed_tokens.weight": torch.randn(50, 64).to(torch.bfloat16),
        "model.norm.weight": torch.ones(64, dtype=torch.float16),
        "lm_head.bias": torch.randn(50, dtype=torch.float64),
        "scalar": torch.tensor(2.5),
        "position_ids": torch.arange(7),
        "with_nan": torch.tensor([1.0, float("nan"), -3.0, float("inf"), 0.5]),
    }
    path = os.path.join(directory, "model.safetensors")
    save_file(weights, path, metadata={"format": "pt"})
    rows = inspect(path)
    check(set(rows) == set(weights), f"torch file: names {sorted(rows)}")
    names = {torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16", torch.float64: "F64",
             torch.int64: "I64"}
    for name, tensor in weights.items():
        row = rows[name]
        check(row["dtype"] == names[tensor.dtype], f"{name}: dtype {row['dtype']}")
        check(row["shape"] == list(tensor.shape), f"{name}: shape {row['shape']}")
        if tensor.dtype == torch.int64:
            check("mean" not in row, f"{name}: an integer tensor got statistics")
        else:
            compare_stats(row, tensor.numpy() if tensor.dtype != torch.bfloat16 else tensor.float().numpy(), name)
    q = rows["model.layers.0.self_attn.q_proj.weight"]
    check(q.get("fan_in") == 64 and q.get("fan_out") == 96, f"q_proj fans {q.get('fan_in')}, {q.get('fan_out')}")
    check(np.isclose(q["gain"], q["std"] * 8), "q_proj: gain is not std x sqrt(fan_in)")
    check(np.isclose(q["xavier"], np.sqrt(2 * 64 / 160)) and np.isclose(q["he"], np.sqrt(2)), "q_proj references")
    conv = rows["model.layers.0.conv.weight"]
    check(conv.get("fan_in") == 36 and conv.get("fan_out") == 72, "conv fans are not PyTorch's")
    for name in ("model.embed_tokens.weight", "model.norm.weight", "lm_head.bias", "scalar"):
        check("verdict" not in rows[name], f"{name} was judged as a weight matrix")
    # Text output too: every name, the verdict column.
    text = subprocess.run([OCLINIT, "inspect", path], capture_output=True, text=True, check=True).stdout
    check(all(name in text for name in weights) and "verdict" in text, "text output lacks names or columns")
    return weights


def verdicts(directory):
    rng = np.random.default_rng(5)
    n = rng.standard_normal((128, 128)).astype(np.float32)
    cases = {"too_large.weight": (n * 10, "likely to explode"), "too_small.weight": (n * 0.01, "likely to vanish"),
             "zeros.weight": (np.zeros((16, 16), np.float32), "constant"),
             "he.weight": (n * np.sqrt(2 / 128), "ok"), "xavier.weight": (n * np.sqrt(1 / 128), "ok")}
    path = os.path.join(directory, "verdicts.safetensors")
    from safetensors.numpy import save_file as save_numpy
    save_numpy({name: value for name, (value, _) in cases.items()}, path)
    rows = inspect(path)
    for name, (_, verdict) in cases.items():
        check(rows[name].get("verdict") == verdict, f"{name}: verdict {rows[name].get('verdict')!r}, not {verdict!r}")


def write_shards(folder, weights, shards):
    """A new folder holding the shards {file: names}; returns the weight_map, in the order shards gives."""
    os.mkdir(folder)
    weight_map = {}
    for shard, members in shards.items():
        save_file({name: weights[name] for name in members}, os.path.join(folder, shard), metadata={"format": "pt"})
        weight_map.update({name: shard for name in members})
    return weight_map


def sharded(directory, weights):
    folder = os.path.join(directory, "sharded")
    names = sorted(weights)
    weight_map = write_shards(folder, weights, {"model-00001-of-00002.safetensors": names[:4],
                                                "model-00002-of-00002.safetensors": names[4:]})
    total = sum(t.numel() * t.element_size() for t in weights.values())

    def write_index(mapping):
        with open(os.path.join(folder, "model.safetensors.index.json"), "w") as f:
            json.dump({"metadata": {"total_size": total}, "weight_map": mapping}, f)

    write_index(weight_map)
    rows = inspect(folder)
    check(set(rows) == set(weights), "sharded: not every tensor listed")
    for name, row in rows.items():
        check(row["file"].endswith(weight_map[name]), f"sharded: {name} reported in {row['file']}")
    moved = dict(weight_map, **{names[0]: "model-00002-of-00002.safetensors"})
    write_index(moved)
    message = inspect(folder, expect_exit=2)
    check(names[0] in message, f"sharded, misplaced tensor: {message!r}")
    write_index({k: v for k, v in weight_map.items() if k != names[-1]})
    message = inspect(folder, expect_exit=2)
    check(names[-1] in message and "nowhere" in message, f"sharded, tensor missing from the index: {message!r}")
    write_index(dict(weight_map, extra="model-00003-of-00003.safetensors"))
    message = inspect(folder, expect_exit=2)
    check("model-00003-of-00003.safetensors" in message, f"sharded, missing shard: {message!r}")


def text_output(path):
    result = subprocess.run([OCLINIT, "inspect", path], capture_output=True, text=True)
    check(result.returncode == 0, f"inspect {path}: exit {result.returncode}; stderr: {result.stderr.strip()}")
    return result.stdout


def float64_stats(directory):
    """F64 values taken as they are: no rounding to float32, no overflow or underflow in the variance."""
    cases = {"huge.npy": ([1e300, -1e300, 1.0], 1 / 3, 1e300 * np.sqrt(2 / 3)),
             "tiny.npy": ([1e-300, 2e-300], 1.5e-300, 0.5e-300)}
    for name, (values, mean, std) in cases.items():
        path = os.path.join(directory, name)
        np.save(path, np.array(values))
        row = inspect(path)[path]
        check(row["nonfinite"] == 0, f"{name}: {row['nonfinite']} values taken as NaN or infinite")
        check(row["min"] == min(values) and row["max"] == max(values), f"{name}: min {row['min']!r} max {row['max']!r}")
        check(np.isclose(row["mean"], mean, rtol=1e-12, atol=0), f"{name}: mean {row['mean']!r}, not {mean!r}")
        check(np.isclose(row["std"], std, rtol=1e-12, atol=0), f"{name}: std {row['std']!r}, not {std!r}")
    text = text_output(os.path.join(directory, "huge.npy"))
    check("-1e+300" in text and " 1e+300" in text and "NaN" not in text, f"F64 text output: {text!r}")
    # In a safetensors file too: 0.1 as a double, not as float32's 0.100000001.
    path = os.path.join(directory, "double.safetensors")
    from safetensors.numpy import save_file as save_numpy
    save_numpy({"d": np.array([0.1, 0.7, 3e300])}, path)
    row = inspect(path)["d"]
    check(row["min"] == 0.1 and row["max"] == 3e300, f"F64 safetensors: min {row['min']!r} max {row['max']!r}")


def metadata(directory):
    path = os.path.join(directory, "metadata.safetensors")
    meta = {"format": "pt", "oclinit_seed": "42", "oclinit_version": "1.2.3", "note": "x" * 300}
    save_file({"w": torch.zeros(2)}, path, metadata=meta)
    check(inspect(path)["w"].get("metadata") == meta, "--json does not give the file's __metadata__")
    lines = text_output(path).splitlines()
    for key in ("format: pt", "oclinit_seed: 42", "oclinit_version: 1.2.3"):
        check(sum(line == "metadata " + key for line in lines) == 1, f"text output lacks the line 'metadata {key}'")
    note = [line for line in lines if line.startswith("metadata note: ")]
    check(len(note) == 1 and note[0].endswith("...") and len(note[0]) < 120, f"long metadata value not cut: {note}")


def index_file(directory, weights):
    """The index given itself reads its directory; shards come in file order; model.safetensors wins beside it."""
    folder = os.path.join(directory, "index_file")
    names = sorted(weights)
    weight_map = write_shards(folder, weights, {"model-00002-of-00002.safetensors": names[:4],  # named first
                                                "model-00001-of-00002.safetensors": names[4:]})
    index = os.path.join(folder, "model.safetensors.index.json")
    with open(index, "w") as f:
        json.dump({"metadata": {}, "weight_map": weight_map}, f)
    rows = inspect(index)
    check(isinstance(rows, dict) and set(rows) == set(weights), f"index file: {str(rows)[:200]}")
    text = text_output(index)
    first, second = (text.find(os.path.join(folder, f"model-0000{i}-of-00002.safetensors")) for i in (1, 2))
    check(0 <= first < second, "shards are not listed in file order")
    save_file({"single": torch.ones(3)}, os.path.join(folder, "model.safetensors"))
    rows = inspect(folder)
    check(set(rows) == {"single"}, f"beside an index, model.safetensors was not the one read: {sorted(rows)}")
    check("model.safetensors.index.json" in inspect.stderr and "warning" in inspect.stderr,
          f"no warning that the index is passed over: {inspect.stderr!r}")


def npy_files(directory):
    rng = np.random.default_rng(7)
    arrays = {"rank3.npy": rng.standard_normal((4, 5, 6)).astype(np.float32),
              "half.npy": rng.standard_normal((9, 3)).astype(np.float16),
              "big_endian.npy": rng.standard_normal(11).astype(">f8"),
              "fortran.npy": np.asfortranarray(rng.standard_normal((7, 5)).astype(np.float32)),
              "ints.npy": np.arange(12, dtype=np.int32).reshape(3, 4)}
    for name, array in arrays.items():
        path = os.path.join(directory, name)
        np.save(path, array)
        rows = inspect(path)
        row = rows[path]
        check(row["shape"] == list(array.shape), f"{name}: shape {row['shape']}")
        if array.dtype.kind == "f":
            compare_stats(row, array, name)
        else:
            check(row["dtype"] == "I32" and "mean" not in row, f"{name}: {row}")


def bad_input(directory):
    before = sorted(os.listdir(directory))
    for args, fragment in [([os.path.join(directory, "absent.safetensors")], "absent.safetensors"),
                           ([], "PATH"), (["a", "b"], "unexpected argument")]:
        result = subprocess.run([OCLINIT, "inspect", *args], capture_output=True, text=True)
        check(result.returncode == 2 and fragment in result.stderr, f"inspect {args}: {result.returncode} "
              f"{result.stderr.strip()!r}")
    corrupt = os.path.join(directory, "corrupt.safetensors")
    header = b'{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}'
    with open(corrupt, "wb") as f:
        f.write(struct.pack("<Q", len(header)) + header + bytes(12))
    message = inspect(corrupt, expect_exit=2)
    check("corrupt.safetensors" in message and "beyond the file's end" in message, f"truncated data: {message!r}")
    complex_npy = os.path.join(directory, "complex.npy")
    np.save(complex_npy, np.zeros(3, np.complex64))
    message = inspect(complex_npy, expect_exit=2)
    check("complex.npy" in message and "'<c8' is not" in message, f"complex .npy: {message!r}")
    record = os.path.join(directory, "record.npy")
    np.save(record, np.zeros(3, dtype=[("a", "f4"), ("b", "i4")]))
    message = inspect(record, expect_exit=2)
    check("record.npy" in message and "structured" in message and "malformed" not in message,
          f"structured .npy: {message!r}")
    not_npy = os.path.join(directory, "text.npy")
    with open(not_npy, "w") as f:
        f.write("plain text, no numpy here")
    message = inspect(not_npy, expect_exit=2)
    check("text.npy: not a .npy file" in message and "header length" not in message, f"not a .npy: {message!r}")
    empty = os.path.join(directory, "empty_dir")
    os.mkdir(empty)
    message = inspect(empty, expect_exit=2)
    check("model.safetensors" in message, f"empty directory: {message!r}")
    check(sorted(os.listdir(directory)) == sorted(before + ["corrupt.safetensors", "complex.npy", "record.npy",
                                                            "text.npy", "empty_dir"]),
          "inspect wrote a file")


with tempfile.TemporaryDirectory() as directory:
    conversions(directory)
    weights = torch_file(directory)
    verdicts(directory)
    sharded(directory, weights)
    index_file(directory, weights)
    float64_stats(directory)
    metadata(directory)
    npy_files(directory)
    bad_input(directory)

if failures:
    sys.exit(f"inspect_test: {len(failures)} failure(s)")
print("inspect_test: all checks passed")
