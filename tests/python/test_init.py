"""The Python package oclinit: its structs against the C header, its tensors bit for bit against the CLI's .npy files
(on the host C path and the default device), in place on numpy arrays and torch tensors, statistics against
torch.nn.init, Ctrl-C between chunks, and every refusal.

Run by ctest (tests/CMakeLists.txt) against the build tree's library (OCLINIT_LIBRARY, PYTHONPATH=host/python,
OCLINIT_CLI), and by tests/python/pip_install.sh against the package `pip install .` installs."""

import _thread
import ctypes
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

import oclinit
from oclinit import _library

REPOSITORY = Path(__file__).resolve().parents[2]
CLI = os.environ.get("OCLINIT_CLI") or shutil.which("oclinit")
DEVICES = ["cpu", None]  # the host C path and the default device (PoCL in CI)


def cli_init(tmp_path, scheme, shape, seed=0, stream=None, name=None, device=None, **options):
    """What `oclinit init` writes for these arguments, options spelt as the CLI spells them."""
    assert CLI, "the CLI is needed: set OCLINIT_CLI or put oclinit on PATH"
    output = tmp_path / "cli.npy"
    command = [CLI, "init", "--scheme", scheme, "--shape", ",".join(map(str, shape)), "--seed", str(seed),
               "--output", str(output), "--quiet"]
    if stream is not None:
        command += ["--stream", str(stream)]
    if name is not None:
        command += ["--name", name]
    if device is not None:
        command += ["--device", device]
    for key, value in options.items():
        command += ["--" + key.replace("_", "-"), str(value)]
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    return np.load(output)


def same_bits(a, b):
    return a.shape == b.shape and a.dtype == b.dtype and np.array_equal(a.view(np.uint32), b.view(np.uint32))


# ---- Structs: ctypes against the compiler ----------------------------------------------------------------------

STRUCTS = {
    "oclinit_shape": _library.Shape,
    "oclinit_scheme": _library.Scheme,
    "oclinit_distribution": _library.Distribution,
    "oclinit_device_info": _library.DeviceInfo,
    "oclinit_stats": _library.Stats,
}


def test_structs_match_the_header(tmp_path):
    lines = []
    for c_name, struct in STRUCTS.items():
        lines.append(f'printf("{c_name} %zu\\n", sizeof({c_name}));')
        for field, _ in struct._fields_:
            lines.append(f'printf("{c_name}.{field} %zu\\n", offsetof({c_name}, {field}));')
    source = tmp_path / "layout.c"
    source.write_text("#include <stddef.h>\n#include <stdio.h>\n#include <oclinit.h>\nint main(void) {\n"
                      + "\n".join(lines) + "\nreturn 0;\n}\n")
    compiler = os.environ.get("CC", "cc")
    subprocess.run([compiler, "-I", str(REPOSITORY / "host" / "include"), str(source), "-o", str(tmp_path / "layout")],
                   check=True)
    printed = subprocess.run([str(tmp_path / "layout")], check=True, capture_output=True, text=True).stdout
    expected = {}
    for c_name, struct in STRUCTS.items():
        expected[c_name] = ctypes.sizeof(struct)
        for field, _ in struct._fields_:
            expected[f"{c_name}.{field}"] = getattr(struct, field).offset
    measured = {key: int(value) for key, value in (line.split() for line in printed.splitlines())}
    assert measured == expected


def test_a_scheme_resolved_through_the_library_round_trips():
    d = oclinit._distribution((4, 3), "kaiming-normal", {"nonlinearity": "relu"})
    assert d.kind == 3  # OCLINIT_DISTRIBUTION_NORMAL
    assert d.mean == 0 and d.std == np.float32(np.sqrt(2 / 3))
    assert (d.shape.rank, tuple(d.shape.dims[:2])) == (2, (4, 3))
    d = oclinit._distribution((5, 7), "trunc-normal", {"mean": 0.5, "std": 2.0, "a": -1.0, "b": 3.0})
    assert (d.kind, d.mean, d.std, d.a, d.b) == (4, 0.5, 2.0, -1.0, 3.0)
    d = oclinit._distribution((8, 2, 3, 3), "dirac", {"groups": 2, "gain": 3.0})
    assert (d.kind, d.value, d.groups) == (1, 3.0, 2)


# ---- The same bits as the CLI ------------------------------------------------------------------------------------

CASES = [
    ("kaiming-normal", (4, 3), {}),
    ("kaiming-uniform", (64, 3, 3, 3), {"nonlinearity": "leaky_relu", "negative_slope": 0.2, "mode": "fan_out"}),
    ("xavier-uniform", (257, 129), {"gain": 2.0}),
    ("xavier-normal", (3, 5, 7), {}),
    ("normal", (1000,), {"mean": 1.5, "std": 0.25}),
    ("trunc-normal", (33, 17), {"std": 2.0, "a": -1.0, "b": 1.5}),
    ("uniform", (10, 10), {"a": -3.0, "b": 2.0}),
    ("constant", (6, 2), {"value": 0.125}),
    ("eye", (5, 7), {"gain": 2.0}),
    ("dirac", (8, 2, 3, 3), {"groups": 2}),
    ("orthogonal", (12, 5), {"gain": 1.5}),
    ("sparse", (40, 9), {"sparsity": 0.3, "std": 0.5}),
    ("lecun-normal", (16, 16), {}),
    ("variance-scaling", (3, 3, 8, 16), {"scale": 2.0, "mode": "fan_avg", "distribution": "uniform",
                                         "convention": "keras"}),
    ("pytorch-default-linear", (300,), {"fan_in": 784}),
    ("he-normal", (2, 3, 4, 5, 6), {}),
]


@pytest.mark.parametrize("device", DEVICES, ids=["cpu", "default"])
@pytest.mark.parametrize("scheme,shape,options", CASES, ids=[c[0] for c in CASES])
def test_init_equals_the_cli(tmp_path, device, scheme, shape, options):
    made = oclinit.init(shape, scheme, seed=7, stream=3, device=device, **options)
    assert same_bits(made, cli_init(tmp_path, scheme, shape, seed=7, stream=3, device=device, **options))


@pytest.mark.parametrize("device", DEVICES, ids=["cpu", "default"])
def test_name_gives_the_cli_stream(tmp_path, device):
    made = oclinit.init((32, 16), "xavier-normal", seed=2**64 - 1, name="model.layers.0.mlp.up_proj.weight",
                        device=device)
    expected = cli_init(tmp_path, "xavier-normal", (32, 16), seed=2**64 - 1, name="model.layers.0.mlp.up_proj.weight",
                        device=device)
    assert same_bits(made, expected)


def test_the_issue_example_prints_what_the_cli_wrote(tmp_path):
    assert str(oclinit.init((4, 3), seed=1)) == str(cli_init(tmp_path, "kaiming-normal", (4, 3), seed=1))


@pytest.mark.parametrize("device", DEVICES, ids=["cpu", "default"])
def test_slices_of_many_chunks_equal_one_call(monkeypatch, device):
    whole = oclinit.init((1000, 37), "normal", seed=5, device=device)
    monkeypatch.setattr(oclinit, "_CHUNK_ELEMENTS", 999)
    assert same_bits(oclinit.init((1000, 37), "normal", seed=5, device=device), whole)


def test_default_device_equals_the_host_path():
    for scheme, shape, options in CASES:
        assert same_bits(oclinit.init(shape, scheme, seed=11, **options),
                         oclinit.init(shape, scheme, seed=11, device="cpu", **options)), scheme


def test_16_bit_dtypes_round_the_float32_numbers():
    import ml_dtypes

    w = oclinit.init((64, 64), "normal", seed=1)
    half = oclinit.init((64, 64), "normal", seed=1, dtype="float16")
    assert half.dtype == np.float16 and np.array_equal(half, w.astype(np.float16))
    brain = oclinit.init((64, 64), "normal", seed=1, dtype="bfloat16")
    assert brain.dtype == ml_dtypes.bfloat16 and np.array_equal(brain.view(np.uint16),
                                                                w.astype(ml_dtypes.bfloat16).view(np.uint16))


# ---- In place ----------------------------------------------------------------------------------------------------

def test_init_fills_a_numpy_array_in_place():
    a = np.full((64, 27), np.nan, dtype=np.float32)
    address = a.ctypes.data
    assert oclinit.init_(a, "kaiming-uniform", seed=4, stream=2, nonlinearity="relu") is a
    assert a.ctypes.data == address
    assert same_bits(a, oclinit.init((64, 27), "kaiming-uniform", seed=4, stream=2, nonlinearity="relu"))


def test_init_fills_a_torch_parameter_in_place():
    torch.manual_seed(0)
    layer = torch.nn.Linear(20, 10)
    address = layer.weight.data_ptr()
    oclinit.init_(layer.weight, "xavier-normal", seed=9, name="fc.weight")
    oclinit.init_(layer.bias, "pytorch-default-linear", seed=9, name="fc.bias", fan_in=20)
    assert layer.weight.data_ptr() == address and layer.weight.requires_grad
    assert same_bits(layer.weight.detach().numpy(), oclinit.init((10, 20), "xavier-normal", seed=9, name="fc.weight"))
    assert same_bits(layer.bias.detach().numpy(),
                     oclinit.init((10,), "pytorch-default-linear", seed=9, name="fc.bias", fan_in=20))
    layer(torch.ones(3, 20)).sum().backward()  # still a working parameter
    assert layer.weight.grad is not None


def test_init_fills_a_contiguous_slice_of_a_larger_array():
    a = np.zeros((10, 8), dtype=np.float32)
    oclinit.init_(a[2:5], "normal", seed=1)
    assert same_bits(a[2:5], oclinit.init((3, 8), "normal", seed=1))
    assert not a[:2].any() and not a[5:].any()


def test_init_refuses_what_it_cannot_fill_in_place():
    with pytest.raises(TypeError, match="float32"):
        oclinit.init_(np.zeros((4, 4)))
    with pytest.raises(ValueError, match="C-contiguous"):
        oclinit.init_(np.zeros((4, 4), dtype=np.float32)[:, ::2])
    readonly = np.zeros((4, 4), dtype=np.float32)
    readonly.flags.writeable = False
    with pytest.raises(ValueError, match="writeable"):
        oclinit.init_(readonly)
    with pytest.raises(TypeError, match="float32"):
        oclinit.init_(torch.zeros(4, 4, dtype=torch.float64))
    with pytest.raises(ValueError, match="contiguous"):
        oclinit.init_(torch.zeros(4, 6).t())
    with pytest.raises(TypeError, match="numpy array or torch tensor"):
        oclinit.init_([[0.0, 1.0]])


# ---- Statistics against torch.nn.init ------------------------------------------------------------------------------

def test_statistics_match_torch_nn_init():
    torch.manual_seed(0)
    shape = (512, 1024)
    t = torch.empty(shape)
    torch.nn.init.kaiming_normal_(t, nonlinearity="relu")
    w = oclinit.init(shape, "kaiming-normal", seed=3, nonlinearity="relu")
    assert abs(w.std() / t.std().item() - 1) < 0.01 and abs(w.mean()) < 0.003

    torch.nn.init.xavier_uniform_(t, gain=1.7)
    w = oclinit.init(shape, "xavier-uniform", seed=3, gain=1.7)
    bound = 1.7 * np.sqrt(6 / sum(shape))
    assert w.max() <= bound and w.min() >= -bound and t.abs().max().item() <= bound
    assert abs(w.std() / t.std().item() - 1) < 0.01

    torch.nn.init.trunc_normal_(t, mean=0.1, std=0.5, a=-0.3, b=0.6)
    w = oclinit.init(shape, "trunc-normal", seed=3, mean=0.1, std=0.5, a=-0.3, b=0.6)
    assert w.min() >= -0.3 and w.max() <= 0.6
    assert abs(w.mean() - t.mean().item()) < 0.003 and abs(w.std() / t.std().item() - 1) < 0.01


# ---- Ctrl-C ----------------------------------------------------------------------------------------------------

@pytest.fixture
def sigint_raises():
    """KeyboardInterrupt on SIGINT, even in tests started with SIGINT ignored (as a shell's background job is)."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


def test_ctrl_c_interrupts_between_chunks(monkeypatch, sigint_raises):
    calls = []
    fill = oclinit._fill_host

    def interrupted(*args):
        calls.append(args[4])
        fill(*args)
        if len(calls) == 1:
            _thread.interrupt_main()  # as SIGINT would, while the library works

    monkeypatch.setattr(oclinit, "_CHUNK_ELEMENTS", 1000)
    monkeypatch.setattr(oclinit, "_fill_host", interrupted)
    with pytest.raises(KeyboardInterrupt):
        oclinit.init((100, 1000), "normal", device="cpu")
    assert len(calls) < 100
    monkeypatch.setattr(oclinit, "_fill_host", fill)
    assert oclinit.init((3, 3), device="cpu").shape == (3, 3)  # the runtime's lock was released


# ---- Refusals ----------------------------------------------------------------------------------------------------

def test_scheme_options_table_matches_the_cli(tmp_path):
    """SCHEME_OPTIONS against the CLI's refusals, for every scheme and option."""
    assert CLI
    schemes = sorted(set().union(*oclinit.SCHEME_OPTIONS.values()) | {"zeros", "ones"})
    values = {"mode": "fan_in", "nonlinearity": "relu", "distribution": "normal", "convention": "pytorch", "groups": 1}
    for scheme in schemes:
        for option, takers in oclinit.SCHEME_OPTIONS.items():
            if option in ("fan_in", "fan_out"):
                continue  # the CLI's --fan-in and --fan-out are the layer's, given with any scheme
            arguments = [CLI, "init", "--scheme", scheme, "--shape", "4,4", "--output", str(tmp_path / "x.npy"),
                         "--device", "cpu", "--quiet", "--" + option.replace("_", "-"), str(values.get(option, 0.5))]
            if scheme == "constant" and option != "value":
                arguments += ["--value", "1"]
            if scheme == "sparse" and option != "sparsity":
                arguments += ["--sparsity", "0.5"]
            refused = "does not apply" in subprocess.run(arguments, capture_output=True, text=True).stderr
            assert refused == (scheme not in takers), (scheme, option)


def test_errors_carry_the_library_detail():
    with pytest.raises(ValueError, match="kaiming-norml") as caught:
        oclinit.init((4, 3), "kaiming-norml")
    assert isinstance(caught.value, oclinit.Error)
    assert caught.value.status == _library.ERROR_INVALID_ARGUMENT and caught.value.status_name == "invalid argument"
    with pytest.raises(ValueError, match="gain does not apply to scheme normal"):
        oclinit.init((4, 3), "normal", gain=2.0)
    with pytest.raises(ValueError, match="nonlinearity"):
        oclinit.init((4, 3), "kaiming-normal", nonlinearity="relu6")
    with pytest.raises(ValueError, match="needs value"):
        oclinit.init((4, 3), "constant")
    with pytest.raises(ValueError, match="needs sparsity"):
        oclinit.init((4, 3), "sparse")
    with pytest.raises(ValueError, match="std"):
        oclinit.init((4, 3), "normal", std=-1.0)
    with pytest.raises(ValueError, match="not both"):
        oclinit.init((4, 3), stream=1, name="w")
    with pytest.raises(ValueError, match="seed"):
        oclinit.init((4, 3), seed=-1)


def test_string_arguments_are_strings_without_nul():
    with pytest.raises(TypeError, match="device must be a string"):
        oclinit.init((4, 3), "normal", device=5)
    with pytest.raises(TypeError, match="name must be a string"):
        oclinit.init((4, 3), "normal", name=5)
    with pytest.raises(TypeError, match="scheme must be a string"):
        oclinit.init((4, 3), None)
    with pytest.raises(ValueError, match="NUL"):  # C would have read "a": another tensor's stream
        oclinit.init((4, 3), "normal", name="a\0b")
    with pytest.raises(ValueError, match="dtype"):
        oclinit.init((4, 3), dtype="int8")
    with pytest.raises(TypeError, match="unknown scheme option 'stdev'"):
        oclinit.init((4, 3), "normal", stdev=1.0)
    with pytest.raises(TypeError, match="number"):
        oclinit.init((4, 3), "normal", std="1")


@pytest.mark.parametrize("shape,match", [
    ((4, 0), "dimension"),
    ((), "dimension|rank"),
    ((2,) * 9, "1 to 8 dimensions"),
    ((-1, 3), "dimension"),
    ((2**40, 2**40), "2\\^61|overflow"),
    ((4,), "fewer than 2 dimensions"),  # kaiming needs fans
])
def test_bad_shapes_are_value_errors(shape, match):
    with pytest.raises(ValueError, match=match):
        oclinit.init(shape)


def test_a_shape_of_non_integers_is_a_type_error():
    with pytest.raises(TypeError, match="integers"):
        oclinit.init((4.0, 3))


def test_an_unknown_device_is_a_runtime_error():
    with pytest.raises(RuntimeError, match="no-such-device") as caught:
        oclinit.init((4, 3), device="no-such-device")
    assert isinstance(caught.value, oclinit.DeviceError)
    assert caught.value.status == _library.ERROR_DEVICE_NOT_FOUND


def test_devices_lists_the_default_device():
    listed = oclinit.devices()
    assert listed, "no OpenCL device: PoCL is expected"
    assert sum(d.default for d in listed) == 1
    first = listed[0]
    assert first.spec == "0:0" and first.name and first.implementation and first.global_memory > 0
    assert same_bits(oclinit.init((8, 8), device=first.spec), oclinit.init((8, 8), device="cpu"))


def test_help_teaches():
    assert "oclinit init --scheme" in oclinit.init.__doc__ and "in place" in oclinit.init_.__doc__
    assert sys.modules["oclinit"].__doc__.count(">>>") >= 3
