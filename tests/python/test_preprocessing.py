"""oclinit.preprocessing's scalers against scikit-learn's on random and constant-column data (on the host C path and
the default device), their statistics files against `oclinit normalize`'s both ways, Ctrl-C during long calls, and
every refusal.

Run by ctest (tests/CMakeLists.txt) against the build tree's library and by tests/python/pip_install.sh against the
installed package; OCLINIT_CLI names the CLI."""

import copy
import os
import pickle
import shutil
import signal
import subprocess
import sys
import threading
import time

import numpy as np
import pytest
import sklearn.base
import sklearn.pipeline
import sklearn.preprocessing as sk

import oclinit
from oclinit import _library
from oclinit.preprocessing import MinMaxScaler, NotFittedError, StandardScaler

CLI = os.environ.get("OCLINIT_CLI") or shutil.which("oclinit")
DEVICES = ["cpu", None]  # the host C path and the default device (PoCL in CI)


def close(ours, theirs, tolerance=2e-6, magnitude=1.0):
    """Equal within float32 rounding, relative to the magnitude (the expected one's, and at least magnitude)."""
    ours, theirs = np.asarray(ours, dtype=np.float64), np.asarray(theirs, dtype=np.float64)
    scale = np.maximum(magnitude, np.abs(theirs))
    return ours.shape == theirs.shape and np.max(np.abs(ours - theirs) / scale) <= tolerance


def data(rows, seed, spread=1.0):
    """Features of very different scales and offsets, feature 4 constant."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(rows, 5)) * np.array([1, 10, 1e-3, 1e4, 1]) * spread + np.array([0, 5, -3, 1e6, 2])
    X[:, 4] = 2.5
    return X.astype(np.float32)


TRAIN, TEST = data(1000, 0), data(300, 1, spread=1.5)
TEST[:, 4] = np.linspace(-1, 4, len(TEST))  # new values in the column constant in training
SCALERS = [
    ("standard", lambda d: StandardScaler(device=d), lambda: sk.StandardScaler()),
    ("minmax", lambda d: MinMaxScaler(device=d), lambda: sk.MinMaxScaler()),
    ("minmax-range", lambda d: MinMaxScaler((-1, 3), device=d), lambda: sk.MinMaxScaler((-1, 3))),
    ("minmax-clip", lambda d: MinMaxScaler(clip=True, device=d), lambda: sk.MinMaxScaler(clip=True)),
    ("no-mean", lambda d: StandardScaler(with_mean=False, device=d), lambda: sk.StandardScaler(with_mean=False)),
    ("no-std", lambda d: StandardScaler(with_std=False, device=d), lambda: sk.StandardScaler(with_std=False)),
    ("neither", lambda d: StandardScaler(with_mean=False, with_std=False, device=d),
     lambda: sk.StandardScaler(with_mean=False, with_std=False)),
]
ATTRIBUTES = ("n_features_in_", "n_samples_seen_", "mean_", "var_", "scale_", "data_min_", "data_max_",
              "data_range_", "min_")


# ---- Against scikit-learn ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("device", DEVICES, ids=["cpu", "default"])
@pytest.mark.parametrize("name,ours,theirs", SCALERS, ids=[s[0] for s in SCALERS])
def test_scalers_equal_scikit_learn(device, name, ours, theirs):
    scaler, reference = ours(device).fit(TRAIN), theirs().fit(TRAIN.astype(np.float64))
    for attribute in ATTRIBUTES:
        if hasattr(reference, attribute):
            expected = getattr(reference, attribute)
            got = getattr(scaler, attribute)
            assert (got is None) == (expected is None), attribute
            assert expected is None or close(got, expected, 1e-7), attribute
    for X in (TRAIN, TEST):  # the constant feature's new values too
        expected = reference.transform(X.astype(np.float64))
        got = scaler.transform(X)
        # Without with_std, x - mean cancels: the float32 mean's rounding is relative to x, not to the result.
        magnitude = 1.0 if getattr(reference, "with_std", True) else np.maximum(1, np.abs(X))
        assert got.dtype == np.float32 and close(got, expected, magnitude=magnitude), name
        # inverse_transform undoes it, to float32 rounding of the scaled values (up to 1e-7 of the data's spread)
        back = scaler.inverse_transform(got)
        assert back.dtype == np.float32 and close(back, reference.inverse_transform(got.astype(np.float64)), 1e-6)
        if not scaler.get_params().get("clip"):
            assert np.all(np.abs(back - X) <= 1e-6 * (np.abs(X) + np.ptp(X, axis=0)))


def test_float64_and_integer_data_as_scikit_learn():
    X = np.random.default_rng(3).normal(size=(200, 3)) * 4 + 1
    for scaler, reference in [(StandardScaler(), sk.StandardScaler()), (MinMaxScaler(), sk.MinMaxScaler())]:
        got = scaler.fit_transform(X)
        assert got.dtype == np.float64 and close(got, reference.fit_transform(X))
        integers = np.arange(30).reshape(10, 3) ** 2
        got = scaler.fit_transform(integers)
        assert got.dtype == np.float64 and close(got, reference.fit_transform(integers))


def test_constant_columns_as_scikit_learn():
    X = np.array([[1.0, 7.0, 0.0], [2.0, 7.0, 0.0], [4.0, 7.0, 0.0]], dtype=np.float32)
    new = np.array([[3.0, 5.0, 1.0], [0.0, 7.0, -2.0]], dtype=np.float32)
    for scaler, reference in [(StandardScaler(), sk.StandardScaler()), (MinMaxScaler((2, 5)), sk.MinMaxScaler((2, 5)))]:
        scaler.fit(X), reference.fit(X.astype(np.float64))
        assert close(scaler.scale_, reference.scale_, 1e-7)
        assert close(scaler.transform(X), reference.transform(X)) and close(scaler.transform(new),
                                                                            reference.transform(new))
        assert close(scaler.inverse_transform(scaler.transform(new)), new)


def test_copy_false_transforms_in_place():
    for dtype in (np.float32, np.float64):
        X = TEST[:, :4].astype(dtype)
        expected = StandardScaler().fit(TRAIN[:, :4]).transform(X)
        scaler = StandardScaler(copy=False).fit(TRAIN[:, :4])
        assert scaler.transform(X) is X and np.array_equal(X, expected)
        assert scaler.inverse_transform(X) is X and close(X, TEST[:, :4], 1e-6)
    X = TEST[:, :4].copy()
    assert MinMaxScaler().fit(TRAIN[:, :4]).transform(X, copy=False) is X
    assert MinMaxScaler().fit(TRAIN[:, :4]).transform(X) is not X


def test_a_frames_feature_names_are_kept_and_checked():
    class Frame:  # what scikit-learn reads of a pandas DataFrame
        def __init__(self, values, columns):
            self.values, self.columns = values, columns

        def __array__(self, dtype=None):
            return self.values if dtype is None else self.values.astype(dtype)

    scaler = StandardScaler().fit(Frame(TRAIN[:, :2], ["height", "weight"]))
    assert list(scaler.feature_names_in_) == ["height", "weight"]
    assert list(scaler.get_feature_names_out()) == ["height", "weight"]
    assert close(scaler.transform(Frame(TEST[:, :2], ["height", "weight"])), scaler.transform(TEST[:, :2]))
    with pytest.raises(ValueError, match="feature names should match"):
        scaler.transform(Frame(TEST[:, :2], ["weight", "height"]))
    assert not hasattr(scaler.fit(TRAIN[:, :2]), "feature_names_in_")
    assert list(scaler.get_feature_names_out()) == ["x0", "x1"]


def test_scikit_learn_protocol_clone_pipeline_pickle():
    scaler = MinMaxScaler((-2, 2), clip=True, device="cpu")
    assert scaler.get_params() == {"feature_range": (-2, 2), "copy": True, "clip": True, "device": "cpu"}
    assert repr(scaler) == "MinMaxScaler(feature_range=(-2, 2), clip=True, device='cpu')"
    cloned = sklearn.base.clone(scaler)
    assert cloned is not scaler and cloned.get_params() == scaler.get_params()
    assert scaler.set_params(clip=False) is scaler and not scaler.clip
    pipeline = sklearn.pipeline.make_pipeline(StandardScaler(), sk.MinMaxScaler())
    assert close(pipeline.fit_transform(TRAIN), sk.MinMaxScaler().fit_transform(sk.StandardScaler().fit_transform(
        TRAIN.astype(np.float64))), 1e-6)
    fitted = StandardScaler().fit(TRAIN)
    for restored in (pickle.loads(pickle.dumps(fitted)), copy.deepcopy(fitted)):
        assert np.array_equal(restored.transform(TEST), fitted.transform(TEST))
        assert np.array_equal(restored.mean_, fitted.mean_)
    assert not sklearn.base.clone(fitted).__sklearn_is_fitted__() and fitted.__sklearn_is_fitted__()


# ---- Statistics files, both ways with the CLI ----------------------------------------------------------------------

def cli(*arguments, device=None):
    assert CLI, "the CLI is needed: set OCLINIT_CLI or put oclinit on PATH"
    device_arguments = ["--device", device] if device else []
    subprocess.run([CLI, *map(str, arguments), *device_arguments, "--quiet"], check=True, stdout=subprocess.DEVNULL)


def write_csv(path, X, header=None):
    rows = [",".join(header)] if header else []
    rows += [",".join(repr(float(v)) for v in row) for row in X]
    path.write_text("\n".join(rows) + "\n")


@pytest.mark.parametrize("device", DEVICES, ids=["cpu", "default"])
@pytest.mark.parametrize("scaler", [StandardScaler, lambda device: MinMaxScaler((-1, 3), device=device)],
                         ids=["zscore", "minmax"])
def test_python_fits_the_cli_applies(tmp_path, device, scaler):
    fitted = scaler(device=device).fit(TRAIN[:, :4])
    fitted.save(tmp_path / "stats.txt")
    write_csv(tmp_path / "test.csv", TEST[:, :4])
    cli("normalize", "--stats", tmp_path / "stats.txt", "--input", tmp_path / "test.csv", "--output",
        tmp_path / "out.csv", "--no-header", device=device)
    got = np.loadtxt(tmp_path / "out.csv", delimiter=",", dtype=np.float32)
    assert np.array_equal(got, fitted.transform(TEST[:, :4]))  # the same float32 numbers


@pytest.mark.parametrize("device", DEVICES, ids=["cpu", "default"])
@pytest.mark.parametrize("method,kind", [("zscore", StandardScaler), ("minmax", MinMaxScaler)])
def test_the_cli_fits_python_applies(tmp_path, device, method, kind):
    header = ["a", "b", "y", "c", "d"]
    train = np.insert(TRAIN[:, :4], 2, np.arange(len(TRAIN)) % 2, axis=1)
    write_csv(tmp_path / "train.csv", train, header)
    ranged = ["--range", "-1,3"] if method == "minmax" else []
    cli("normalize", "--method", method, *ranged, "--label", "y", "--input", tmp_path / "train.csv", "--output",
        tmp_path / "out.csv", "--save-stats", tmp_path / "stats.txt", device=device)
    loaded = kind.load(tmp_path / "stats.txt", device=device)
    assert type(oclinit.preprocessing.load(tmp_path / "stats.txt")) is kind
    assert list(loaded.feature_names_in_) == ["a", "b", "c", "d"] and loaded.n_samples_seen_ == len(TRAIN)
    if kind is MinMaxScaler:
        assert loaded.feature_range == (-1.0, 3.0)
    cli_out = np.loadtxt(tmp_path / "out.csv", delimiter=",", skiprows=1, dtype=np.float32)[:, [0, 1, 3, 4]]
    assert np.array_equal(loaded.transform(TRAIN[:, :4]), cli_out)
    fitted = StandardScaler() if kind is StandardScaler else MinMaxScaler((-1, 3))
    fitted.fit(TRAIN[:, :4])
    for attribute in ATTRIBUTES:  # the same statistics as a fit in Python, as the CLI's file holds them exactly
        if hasattr(fitted, attribute):
            assert np.array_equal(getattr(loaded, attribute), getattr(fitted, attribute)), attribute


def test_the_same_statistics_file_as_the_cli(tmp_path):
    """On a .npy file (no header, no label) the CLI writes the very file save() writes."""
    np.save(tmp_path / "train.npy", TRAIN)
    cli("normalize", "--method", "zscore", "--input", tmp_path / "train.npy", "--output", tmp_path / "out.npy",
        "--save-stats", tmp_path / "cli.txt")
    scaler = StandardScaler().fit(TRAIN)
    scaler.save(tmp_path / "python.txt")
    assert (tmp_path / "python.txt").read_text() == (tmp_path / "cli.txt").read_text()
    assert np.array_equal(np.load(tmp_path / "out.npy"), scaler.transform(TRAIN))


# ---- Ctrl-C and the GIL ------------------------------------------------------------------------------------------

SIGINT_CHILD = """
import signal, sys, time
signal.signal(signal.SIGINT, signal.default_int_handler)  # Python's own, even when started with SIGINT ignored
import numpy as np
import oclinit
from oclinit.preprocessing import StandardScaler
if sys.argv[1] == "fit":
    X = np.ones((1 << 18, 64), dtype=np.float32)
    call = lambda: StandardScaler().fit(X)
else:
    oclinit._CHUNK_ELEMENTS = 1 << 20  # 64 chunks a call: many on any device
    call = lambda: oclinit.init((1 << 16, 1024), "normal")
call()
start = time.monotonic()
call()
print("ready", time.monotonic() - start, flush=True)
try:
    while True:  # until interrupted, however fast the device
        call()
except KeyboardInterrupt:
    print("interrupted", time.monotonic(), flush=True)
"""


@pytest.mark.parametrize("call", ["init", "fit"])
def test_sigint_interrupts_a_long_call(call):
    """2^26 elements: init is called in chunks, between which Python raises KeyboardInterrupt; a fit is one library
    call, waited for in a worker thread, so the wait is interrupted at once. Calls that could not be interrupted
    would end a uniformly random part of a whole call after the signal: mostly beyond a quarter of it."""
    child = subprocess.Popen([sys.executable, "-c", SIGINT_CHILD, call], stdout=subprocess.PIPE, text=True)
    watchdog = threading.Timer(120, child.kill)
    watchdog.start()
    try:
        word, whole = child.stdout.readline().split()
        assert word == "ready"
        time.sleep(float(whole) / 2)
        sent = time.monotonic()
        child.send_signal(signal.SIGINT)
        word, when = child.communicate(timeout=60)[0].split()
        assert word == "interrupted" and child.returncode == 0
        latency = float(when) - sent
        # Well within one call (the floor: a loaded machine's scheduling; a very fast device's call).
        assert latency < max(0.25 * float(whole), 0.1), (latency, float(whole))
    finally:
        watchdog.cancel()
        child.kill()


def test_library_calls_release_the_gil():
    """ctypes.CDLL calls release the GIL: another Python thread runs while the library fills 2^22 elements. With a
    switch interval of 1 s nothing takes the GIL from this thread meanwhile, so the other thread could not run at
    all between a call's start and end were the GIL held; it gives the GIL back at every tick (sleep)."""
    previous = sys.getswitchinterval()
    runtime = _library.runtime("cpu")
    out = np.empty(1 << 22, dtype=np.float32)
    distribution = oclinit._distribution(out.shape, "normal", {})
    ticks, windows, stop = [], [], threading.Event()

    def tick():
        while not stop.is_set():
            ticks.append(time.perf_counter())
            time.sleep(1e-4)

    ticker = threading.Thread(target=tick)
    sys.setswitchinterval(1.0)
    try:
        ticker.start()
        while sum(end - start for start, end in windows) < 0.05:
            with runtime.lock:
                start = time.perf_counter()
                oclinit._fill_host(runtime, distribution, 0, 0, 0, out.size, out.ctypes.data)
                windows.append((start, time.perf_counter()))
    finally:
        stop.set()
        ticker.join()
        sys.setswitchinterval(previous)
    during = sum(any(start < t < end for start, end in windows) for t in ticks)
    assert during >= 5, f"{during} ticks while the library worked for {len(windows)} calls"


def test_a_background_call_keeps_its_array_and_runtime():
    """Orthogonal is one library call (2048^2: 0.75 s here): Ctrl-C interrupts the wait for it, the call runs on in
    the background into its own array, and the interpreter's exit waits for it before freeing the runtime. The
    SIGINT is a real one sent to the main thread once the call has started: _thread.interrupt_main only sets a flag,
    which the blocked wait notices when the call ends, and a fixed delay can be outrun by a fast call."""
    script = ("import signal, threading, time, oclinit\n"
              "from oclinit import _library\n"
              "signal.signal(signal.SIGINT, signal.default_int_handler)\n"
              "oclinit.init((2, 2), 'orthogonal', device='cpu')\n"
              "def interrupt():\n"
              "    while not _library._pending:\n"
              "        time.sleep(1e-3)\n"
              "    signal.pthread_kill(threading.main_thread().ident, signal.SIGINT)\n"
              "threading.Thread(target=interrupt, daemon=True).start()\n"
              "try:\n"
              "    oclinit.init((2048, 2048), 'orthogonal', device='cpu')\n"
              "    print('finished')\n"
              "except KeyboardInterrupt:\n"
              "    print('interrupted', 'running' if _library._pending else 'ended')\n")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and result.stdout.strip() == "interrupted running", result.stderr
    assert result.stderr == ""


# ---- Refusals ----------------------------------------------------------------------------------------------------

def test_an_unfitted_scaler_is_refused():
    for scaler in (StandardScaler(), MinMaxScaler()):
        for method in (scaler.transform, scaler.inverse_transform, scaler.get_feature_names_out):
            with pytest.raises(NotFittedError, match="not fitted yet"):
                method(*([TRAIN] if method != scaler.get_feature_names_out else []))
        with pytest.raises(NotFittedError):
            scaler.save("never.txt")
    assert issubclass(NotFittedError, ValueError) and issubclass(NotFittedError, AttributeError)


@pytest.mark.parametrize("device", DEVICES, ids=["cpu", "default"])
def test_bad_data_are_value_errors(device):
    scaler = StandardScaler(device=device).fit(TRAIN)
    with pytest.raises(ValueError, match="X has 4 features, but StandardScaler is expecting 5"):
        scaler.transform(TRAIN[:, :4])
    with_nan = TEST.copy()
    with_nan[7, 2] = np.nan
    with pytest.raises(ValueError, match="NaN at row 8, feature 3"):
        scaler.transform(with_nan)
    with pytest.raises(ValueError, match="feature 3 holds a NaN"):
        StandardScaler(device=device).fit(with_nan)
    with pytest.raises(ValueError, match="NaN"):
        StandardScaler(with_mean=False, device=device).fit(TRAIN).transform(with_nan)
    with pytest.raises(ValueError, match="infinity"):
        scaler.transform(np.full((2, 5), 1e300))  # beyond float32
    with pytest.raises(ValueError, match="2-D"):
        scaler.transform(TRAIN[0])
    with pytest.raises(ValueError, match="0 samples"):
        scaler.transform(TRAIN[:0])
    with pytest.raises(ValueError, match="at least 2 rows"):
        StandardScaler(device=device).fit(TRAIN[:1])
    with pytest.raises(ValueError, match="numbers"):
        scaler.transform(np.array([["a"] * 5]))
    with pytest.raises(ValueError, match="LO < HI"):
        MinMaxScaler((1, 0), device=device).fit(TRAIN)
    with pytest.raises(ValueError, match="feature_range"):
        MinMaxScaler(1, device=device).fit(TRAIN)


def test_a_transform_beyond_float32_names_its_row(monkeypatch):
    monkeypatch.setattr(oclinit.preprocessing, "_CHUNK_ELEMENTS", 10)  # 5 rows of 2 features per call
    scaler = StandardScaler(device="cpu").fit(np.array([[0, 0], [0.1, 1]], dtype=np.float32))
    X = np.zeros((9, 2), dtype=np.float32)
    X[6, 0] = 3e38
    with pytest.raises(ValueError, match="row 7, feature 1 .*beyond float32's range"):
        scaler.transform(X)


def test_files_are_checked(tmp_path):
    StandardScaler().fit(TRAIN).save(tmp_path / "z.txt")
    with pytest.raises(ValueError, match="zscore's; MinMaxScaler needs minmax's"):
        MinMaxScaler.load(tmp_path / "z.txt")
    with pytest.raises(OSError, match="missing.txt") as caught:
        StandardScaler.load(tmp_path / "missing.txt")
    assert isinstance(caught.value, oclinit.FileError)
    (tmp_path / "bad.txt").write_text("oclinit-normalization 1\nmethod zscore\nfeatures x\n")
    with pytest.raises(ValueError, match="bad.txt"):
        oclinit.preprocessing.load(tmp_path / "bad.txt")
    with pytest.raises(OSError):
        StandardScaler().fit(TRAIN).save(tmp_path / "no" / "such" / "dir.txt")
    with pytest.raises(ValueError, match="with_mean=False"):
        StandardScaler(with_mean=False).fit(TRAIN).save(tmp_path / "x.txt")
    with pytest.raises(ValueError, match="no parameter 'with_scale'"):
        StandardScaler().set_params(with_scale=True)


def test_help_teaches():
    module = oclinit.preprocessing
    assert "oclinit normalize" in module.__doc__ and "differ from scikit-learn" in module.__doc__
    assert "feature_range" in MinMaxScaler.__doc__ and "with_mean" in StandardScaler.__doc__
    assert "--stats" in StandardScaler.save.__doc__ and "--save-stats" in StandardScaler.load.__doc__
