"""oclinit: neural-network weights initialized with Philox, the same bits on every OpenCL device and on the CPU.

A tensor made with (seed, stream) holds the same numbers as `oclinit init` writes with those arguments, whichever
device makes it, whole or in slices. Schemes are PyTorch's (and Keras's), by the CLI's names.

    >>> import oclinit
    >>> w = oclinit.init((256, 784), "kaiming-normal", seed=7)          # a numpy float32 array
    >>> w = oclinit.init((64, 3, 3, 3), "xavier-uniform", seed=7, stream=1, gain=2.0)
    >>> oclinit.init_(model.fc.weight, "kaiming-uniform", seed=7, name="fc.weight", nonlinearity="relu")
    >>> oclinit.devices()                                                # what device= can name

Functions: init (a new array), init_ (in place: a C-contiguous float32 numpy array or CPU torch tensor), devices.
Modules: oclinit.torch (init_module: a whole torch model), oclinit.preprocessing (MinMaxScaler and StandardScaler
with scikit-learn's interface, reading and writing `oclinit normalize`'s statistics files).
Errors: oclinit.Error, with the library's detail, which is also a ValueError (invalid arguments), an OSError (files),
a MemoryError (host memory) or a RuntimeError (the device).
Threads and Ctrl-C: library calls release the GIL (ctypes.CDLL). Large tensors are made 64 MiB at a time and Ctrl-C
stops them between two; a call that is one piece (orthogonal, a scaler's fit) runs in a worker thread whose wait
Ctrl-C interrupts at once, while the call finishes in the background and the interpreter's exit waits for it.
Development: OCLINIT_LIBRARY=path/to/liboclinit.so makes the package use a build tree's library."""

from __future__ import annotations

import ctypes
import operator
import sys
from dataclasses import dataclass
from typing import Any, Iterable, List, Optional, Tuple, Union

import numpy as np

from . import _library
from ._library import DeviceError, Error, FileError, InvalidArgumentError, NotSupportedError, OutOfMemoryError

try:
    from importlib.metadata import PackageNotFoundError, version as _version

    try:
        __version__ = _version("oclinit")
    except PackageNotFoundError:  # run from the source tree with OCLINIT_LIBRARY
        __version__ = "unknown"
except ImportError:  # pragma: no cover
    __version__ = "unknown"

__all__ = [
    "Device",
    "DeviceError",
    "Error",
    "FileError",
    "InvalidArgumentError",
    "NotSupportedError",
    "OutOfMemoryError",
    "SCHEME_OPTIONS",
    "devices",
    "init",
    "init_",
]

_lib = _library.lib
for _error in (Error, InvalidArgumentError, FileError, OutOfMemoryError, NotSupportedError, DeviceError):
    _error.__module__ = __name__  # oclinit.DeviceError in tracebacks, as users catch it

# Elements per library call: between two calls Python runs its signal handlers, so Ctrl-C interrupts a large
# tensor within one chunk (64 MiB, the library's own device chunk).
_CHUNK_ELEMENTS = 1 << 24


def _scheme_names() -> Tuple[str, ...]:
    names, kind = [], 0
    while (name := _library.text(_lib.oclinit_scheme_kind_str(kind))) != "unknown":
        names.append(name)
        kind += 1
    return tuple(names)


_OPTION_NAMES = ("value", "mean", "std", "a", "b", "scale", "gain", "negative_slope", "sparsity", "groups", "fan_in",
                 "fan_out", "mode", "nonlinearity", "distribution", "convention")
#: Which scheme takes which option, as `oclinit init --help` lists them (asked of the library,
#: oclinit_scheme_takes): an option given to a scheme that does not use it is refused.
SCHEME_OPTIONS = {
    option: frozenset(name for kind, name in enumerate(_scheme_names())
                      if _lib.oclinit_scheme_takes(kind, option.encode()))
    for option in _OPTION_NAMES
}
_NUMBERS = ("value", "mean", "std", "a", "b", "scale", "gain", "negative_slope", "sparsity")
_INTEGERS = ("groups", "fan_in", "fan_out")
_NAMED = {
    "mode": _lib.oclinit_fan_mode_parse,
    "nonlinearity": _lib.oclinit_nonlinearity_parse,
    "distribution": _lib.oclinit_distribution_kind_parse,
    "convention": _lib.oclinit_convention_parse,
}
_REQUIRED = {"constant": ("value", "the value of every element"),
             "sparse": ("sparsity", "the fraction of each column set to 0")}

ShapeLike = Union[int, Iterable[int]]


def _shape(shape: ShapeLike) -> Tuple[int, ...]:
    dims = (shape,) if isinstance(shape, (int, np.integer)) else tuple(shape)
    try:
        dims = tuple(operator.index(d) for d in dims)
    except TypeError:
        raise TypeError(f"oclinit: shape {shape!r}: dimensions must be integers") from None
    if len(dims) > _library.MAX_RANK or any(not -(1 << 63) <= d < 1 << 63 for d in dims):
        raise _library.invalid(f"shape {dims}: 1 to {_library.MAX_RANK} dimensions of 1 to 2^61 elements in all")
    return dims


def _uint64(value: Any, what: str) -> int:
    try:
        number = operator.index(value)
    except TypeError:
        raise TypeError(f"oclinit: {what} must be an integer, got {value!r}") from None
    if not 0 <= number < 1 << 64:
        raise _library.invalid(f"{what} must be in [0, 2^64), got {number}")
    return number


def _text(value: Any, what: str) -> bytes:
    """A string argument as the library takes it: a str, with no NUL (C would end it there, so "a\\0b" would be "a")."""
    if not isinstance(value, str):
        raise TypeError(f"oclinit: {what} must be a string, got {value!r}")
    if "\0" in value:
        raise _library.invalid(f"{what} {value!r} holds a NUL character")
    return value.encode()


def _stream(stream: Optional[int], name: Optional[str]) -> int:
    if name is None:
        return 0 if stream is None else _uint64(stream, "stream")
    if stream is not None:
        raise _library.invalid("give stream or name, not both (a name gives its stream)")
    return _lib.oclinit_tensor_stream(_text(name, "name"))


def _distribution(dims: Tuple[int, ...], scheme: str, options: dict) -> _library.Distribution:
    """The scheme with its options on top of its defaults (as the CLI builds it), resolved for the shape."""
    kind = ctypes.c_int()
    _library.check(_lib.oclinit_scheme_kind_parse(_text(scheme, "scheme"), ctypes.byref(kind)))
    canonical = _library.text(_lib.oclinit_scheme_kind_str(kind.value))
    given = {key: value for key, value in options.items() if value is not None}
    for key in given:
        if key not in SCHEME_OPTIONS:
            raise TypeError(f"oclinit: unknown scheme option {key!r} (options: {', '.join(SCHEME_OPTIONS)})")
        if canonical not in SCHEME_OPTIONS[key]:
            raise _library.invalid(f"option {key} does not apply to scheme {canonical} (see help(oclinit.init))")
    if canonical in _REQUIRED and _REQUIRED[canonical][0] not in given:
        key, meaning = _REQUIRED[canonical]
        raise _library.invalid(f"scheme {canonical} needs {key} ({meaning})")
    s = _lib.oclinit_scheme_default(kind.value)
    for key, value in given.items():
        if key in _NUMBERS:
            if isinstance(value, (str, bytes)) or not isinstance(value, (int, float, np.number)):
                raise TypeError(f"oclinit: {key} must be a number, got {value!r}")
            setattr(s, key, float(value))
        elif key in _INTEGERS:
            try:
                number = operator.index(value)
            except TypeError:
                raise TypeError(f"oclinit: {key} must be an integer, got {value!r}") from None
            if not -(1 << 63) <= number < 1 << 63:
                raise _library.invalid(f"{key} {number} does not fit int64")
            setattr(s, key, number)
        else:
            parsed = ctypes.c_int()
            _library.check(_NAMED[key](str(value).encode(), ctypes.byref(parsed)))
            setattr(s, key, parsed.value)
    shape = _library.Shape(len(dims), (ctypes.c_int64 * _library.MAX_RANK)(*dims))
    distribution = _library.Distribution()
    _library.check(_lib.oclinit_scheme_resolve_shape(ctypes.byref(s), ctypes.byref(shape), ctypes.byref(distribution)))
    return distribution


def _fill_host(runtime: _library.Runtime, distribution: _library.Distribution, seed: int, stream: int, first: int,
               count: int, address: int) -> None:
    _library.check(_lib.oclinit_init_fill_host(runtime.handle, ctypes.byref(distribution), seed, stream, first, count,
                                               address + 4 * first))


def _fill(distribution: _library.Distribution, seed: int, stream: int, address: int, count: int,
          device: Optional[str], owner: Any) -> None:
    """count elements at address, which owner's memory holds (kept alive while a background call writes it)."""
    runtime = _library.runtime(device if device is None else _text(device, "device").decode())
    if distribution.kind == _library.DISTRIBUTION_ORTHOGONAL:
        # Computed whole for any slice, in one call (seconds at 4096 x 4096): run so that Ctrl-C still interrupts.
        # The default argument keeps owner's memory alive for the call, should it go on in the background.
        def whole(_owner: Any = owner) -> None:
            with runtime.lock:
                _fill_host(runtime, distribution, seed, stream, 0, count, address)

        _library.interruptible(whole)
        return
    with runtime.lock:
        for first in range(0, count, _CHUNK_ELEMENTS):
            _fill_host(runtime, distribution, seed, stream, first, min(_CHUNK_ELEMENTS, count - first), address)


def _dtype(dtype: Any) -> np.dtype:
    names = {"float32": "float32", "f32": "float32", "float16": "float16", "f16": "float16", "half": "float16",
             "bfloat16": "bfloat16", "bf16": "bfloat16"}
    name = names.get(dtype.lower()) if isinstance(dtype, str) else np.dtype(dtype).name
    if name == "bfloat16":
        try:
            import ml_dtypes
        except ImportError:
            raise ImportError("oclinit: dtype bfloat16 needs ml_dtypes (pip install ml_dtypes)") from None
        return np.dtype(ml_dtypes.bfloat16)
    if name not in ("float32", "float16"):
        raise _library.invalid(f"dtype {dtype!r}: float32, float16 or bfloat16")
    return np.dtype(name)


def init(
    shape: ShapeLike,
    scheme: str = "kaiming-normal",
    *,
    seed: int = 0,
    stream: Optional[int] = None,
    name: Optional[str] = None,
    dtype: Any = "float32",
    device: Optional[str] = None,
    convention: Optional[str] = None,
    **scheme_options: Any,
) -> np.ndarray:
    """A new tensor of that shape drawn from scheme: the same numbers as
    `oclinit init --scheme SCHEME --shape D0,D1,... --seed SEED --stream STREAM [options]` writes.

    shape: the dimensions, outermost first (a PyTorch weight is (out, in, k...)); 1 to 8 of them.
    scheme: zeros, ones, constant, eye, dirac, uniform, normal, trunc-normal, scaled-normal, xavier-normal,
        xavier-uniform, kaiming-normal, kaiming-uniform, lecun-normal, lecun-uniform, variance-scaling, orthogonal,
        sparse, pytorch-default-linear, pytorch-default-conv (aliases: he-normal, glorot-uniform, snake_case, ...).
    seed, stream: the Philox key and stream, 64-bit (stream 0 unless given); name: the stream of a named tensor
        (FNV-1a 64 of the name, as `oclinit model` and `oclinit init --name` use), instead of stream.
    dtype: float32 (made), or float16 or bfloat16 (float32's numbers rounded to nearest even; bfloat16 needs
        ml_dtypes).
    device: "cpu" for the host C path, "P:D", or part of a device, platform or implementation name ("pocl",
        "nvidia"); None: $OCLINIT_DEVICE, else the first GPU, else the first CPU device. Each device's runtime is
        made on first use and kept for the process.
    convention: "pytorch" (default) or "keras": how the shape gives fan_in and fan_out, and how orthogonal
        flattens it.
    scheme_options: the CLI's options, by keyword; each scheme takes only its own (SCHEME_OPTIONS):
        value (constant), mean and std (normal, trunc-normal; std also sparse), a and b (uniform bounds,
        trunc-normal's cut-offs), scale (scaled-normal, variance-scaling), gain (xavier-*, orthogonal, eye, dirac),
        mode ("fan_in", "fan_out"; variance-scaling also "fan_avg"), nonlinearity and negative_slope (kaiming-*),
        distribution (variance-scaling: "truncated_normal", "normal", "uniform"), sparsity (sparse), groups (dirac),
        fan_in and fan_out (the fans to use instead of the shape's, e.g. a bias given its weight's fan_in).

    Raises ValueError (oclinit.InvalidArgumentError) for a bad scheme, option or shape, RuntimeError
    (oclinit.DeviceError) for a device that is missing or fails, TypeError for an unknown option.

    >>> oclinit.init((4, 3), seed=1)                                     # kaiming-normal, fan_in 3
    >>> oclinit.init((512,), "pytorch-default-linear", fan_in=784)       # nn.Linear(784, 512)'s bias
    """
    dims = _shape(shape)
    out_dtype = _dtype(dtype)
    distribution = _distribution(dims, scheme, dict(scheme_options, convention=convention))
    stream_value = _stream(stream, name)
    seed_value = _uint64(seed, "seed")
    out = np.empty(dims, dtype=np.float32)
    _fill(distribution, seed_value, stream_value, out.ctypes.data, out.size, device, out)
    return out if out_dtype == np.float32 else out.astype(out_dtype)


def _target(tensor: Any) -> Tuple[Tuple[int, ...], int]:
    """The shape and data address of what init_ may fill in place."""
    if isinstance(tensor, np.ndarray):
        if tensor.dtype != np.float32:
            raise TypeError(f"oclinit.init_: a float32 array is needed, got {tensor.dtype}")
        if not tensor.flags.c_contiguous or not tensor.flags.writeable:
            raise _library.invalid("init_: the array must be C-contiguous and writeable (np.ascontiguousarray)")
        return tensor.shape, tensor.ctypes.data
    torch = sys.modules.get("torch")
    if torch is not None and isinstance(tensor, torch.Tensor):
        if tensor.dtype != torch.float32:
            raise TypeError(f"oclinit.init_: a float32 tensor is needed, got {tensor.dtype}")
        if tensor.device.type != "cpu":
            raise _library.invalid(f"init_: a CPU tensor is needed, got one on {tensor.device} (use "
                                   "tensor.copy_(torch.from_numpy(oclinit.init(...))) there)")
        if not tensor.is_contiguous():
            raise _library.invalid("init_: the tensor must be contiguous (tensor.contiguous())")
        return tuple(tensor.shape), tensor.data_ptr()
    raise TypeError(f"oclinit.init_: a numpy array or torch tensor is needed, got {type(tensor).__name__}")


def init_(
    tensor: Any,
    scheme: str = "kaiming-normal",
    *,
    seed: int = 0,
    stream: Optional[int] = None,
    name: Optional[str] = None,
    device: Optional[str] = None,
    convention: Optional[str] = None,
    **scheme_options: Any,
) -> Any:
    """Fills tensor in place, with no copy, as init(tensor.shape, ...) would make it, and returns it (as
    torch.nn.init's functions do).

    tensor: a C-contiguous, writeable float32 numpy array, or a contiguous float32 torch tensor on the CPU (an
    nn.Parameter too: written through its data, outside autograd, as torch.nn.init does under no_grad).
    Arguments as init.

    >>> layer = torch.nn.Linear(784, 256)
    >>> oclinit.init_(layer.weight, "kaiming-uniform", seed=7, name="fc1.weight", nonlinearity="relu")
    """
    dims, address = _target(tensor)
    dims = _shape(dims)
    distribution = _distribution(dims, scheme, dict(scheme_options, convention=convention))
    stream_value = _stream(stream, name)
    seed_value = _uint64(seed, "seed")
    count = 1
    for d in dims:
        count *= d
    _fill(distribution, seed_value, stream_value, address, count, device, tensor)
    return tensor


@dataclass(frozen=True)
class Device:
    """An OpenCL device as `oclinit devices` lists it. spec ("P:D") names it for device=."""

    spec: str
    name: str
    platform: str
    implementation: str
    type: str
    version: str
    driver_version: str
    global_memory: int
    max_allocation: int
    compute_units: int
    fp64: bool
    correctly_rounded_divide_sqrt: bool
    default: bool  # the one device=None picks


def devices() -> List[Device]:
    """Every OpenCL device of every platform, in platform order ([] without any OpenCL platform). The host C path,
    device="cpu", is always there besides them."""
    count = ctypes.c_size_t()
    status = _lib.oclinit_device_list(None, 0, ctypes.byref(count))
    if status == _library.ERROR_NO_PLATFORM:
        return []
    _library.check(status)
    infos = (_library.DeviceInfo * count.value)()
    _library.check(_lib.oclinit_device_list(infos, count.value, ctypes.byref(count)))
    chosen = _library.DeviceInfo()
    found = _lib.oclinit_device_find(None, ctypes.byref(chosen)) == _library.SUCCESS
    listed = []
    for info in infos[: count.value]:
        listed.append(Device(
            spec=f"{info.platform_index}:{info.device_index}",
            name=_library.text(info.name),
            platform=_library.text(info.platform_name),
            implementation=_library.text(info.implementation),
            type=_library.text(_lib.oclinit_device_type_str(info.type)),
            version=_library.text(info.version),
            driver_version=_library.text(info.driver_version),
            global_memory=info.global_memory,
            max_allocation=info.max_allocation,
            compute_units=info.compute_units,
            fp64=info.fp64,
            correctly_rounded_divide_sqrt=info.correctly_rounded_divide_sqrt,
            default=found and (chosen.platform_index, chosen.device_index) == (info.platform_index,
                                                                              info.device_index),
        ))
    return listed
