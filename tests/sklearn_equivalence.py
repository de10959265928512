#!/usr/bin/env python3
"""`oclinit normalize` against scikit-learn's StandardScaler and MinMaxScaler on the same float32 data:
fitted on a training file, applied to a test file with the saved statistics, on the host path and the
default device. Outputs must agree within float32 rounding (1e-6 relative).

    python3 tests/sklearn_equivalence.py build/host/oclinit
"""
import os
import subprocess
import sys
import tempfile

import numpy as np
from sklearn.preprocessing import MinMaxScaler, StandardScaler


def write_csv(path, features, labels):
    with open(path, "w") as f:
        f.write("a,b,label,c\n")
        for row, label in zip(features, labels):
            f.write(f"{row[0]!r},{row[1]!r},{label},{row[2]!r}\n")


def read_csv(path):
    data = np.loadtxt(path, delimiter=",", skiprows=1, usecols=(0, 1, 3))
    labels = np.loadtxt(path, delimiter=",", skiprows=1, usecols=(2,), dtype=str)
    return data, labels


def main():
    cli = sys.argv[1]
    rng = np.random.default_rng(5)
    scales = np.array([1e-3, 1.0, 1e4])
    train = (rng.normal(size=(2000, 3)) * scales + [5, -2, 1e6]).astype(np.float32)
    test = (rng.normal(size=(500, 3)) * scales * 1.5 + [5, -2, 1e6]).astype(np.float32)
    train_labels, test_labels = rng.integers(0, 2, 2000), rng.integers(0, 2, 500)
    checks = 0
    with tempfile.TemporaryDirectory() as d:
        paths = {name: os.path.join(d, name) for name in ("train.csv", "test.csv", "out.csv", "stats.txt")}
        write_csv(paths["train.csv"], train.tolist(), train_labels)
        write_csv(paths["test.csv"], test.tolist(), test_labels)
        for method, scaler, extra in [("zscore", StandardScaler(), []),
                                      ("minmax", MinMaxScaler(), []),
                                      ("minmax", MinMaxScaler(feature_range=(-1, 3)), ["--range", "-1,3"])]:
            scaler.fit(train.astype(np.float64))
            for device in ("cpu", ""):
                device_args = ["--device", device] if device else []
                subprocess.run([cli, "normalize", "--method", method, *extra, "--label", "label", "--input",
                                paths["train.csv"], "--output", paths["out.csv"], "--save-stats", paths["stats.txt"],
                                "--quiet", *device_args], check=True)
                for source, data, labels in [("train.csv", train, train_labels), ("test.csv", test, test_labels)]:
                    if source == "test.csv":
                        subprocess.run([cli, "normalize", "--stats", paths["stats.txt"], "--input", paths[source],
                                        "--output", paths["out.csv"], "--quiet", *device_args], check=True)
                    got, got_labels = read_csv(paths["out.csv"])
                    want = scaler.transform(data.astype(np.float64))
                    error = np.max(np.abs(got - want) / np.maximum(1.0, np.abs(want)))
                    assert error <= 1e-6, f"{method} {extra} on {source} ({device or 'device'}): error {error:.3g}"
                    assert list(got_labels) == [str(v) for v in labels], "the label column changed"
                    checks += 1
    print(f"oclinit normalize equals scikit-learn's scalers within 1e-6 in {checks} cases")


if __name__ == "__main__":
    main()
