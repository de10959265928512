"""ctypes over liboclinit.so: the structs of host/include/oclinit.h field for field, the functions the package
calls, statuses turned into exceptions, and one runtime per device string.

ctypes.CDLL releases the GIL for the length of every call, so other Python threads run meanwhile."""

from __future__ import annotations

import atexit
import ctypes
import os
import threading
from pathlib import Path
from typing import Callable, Dict, Optional, Set, TypeVar

MAX_RANK = 8  # OCLINIT_MAX_RANK

# oclinit_status: OpenCL's own codes (-1 to -1999) pass through unchanged.
SUCCESS = 0
ERROR_INVALID_ARGUMENT = -2001
ERROR_OUT_OF_HOST_MEMORY = -2002
ERROR_NO_PLATFORM = -2003
ERROR_DEVICE_NOT_FOUND = -2004
ERROR_KERNEL_BUILD = -2005
ERROR_OUT_OF_DEVICE_MEMORY = -2006
ERROR_SIZE_OVERFLOW = -2007
ERROR_IO = -2008
ERROR_NO_SPACE = -2009
ERROR_CANCELLED = -2010
ERROR_NOT_SUPPORTED = -2011

DISTRIBUTION_ORTHOGONAL = 5  # oclinit_distribution_kind: made whole, so never filled in slices

NORMALIZE_MINMAX = 0  # oclinit_normalize_method
NORMALIZE_ZSCORE = 1


class Shape(ctypes.Structure):
    """oclinit_shape."""

    _fields_ = [("rank", ctypes.c_int), ("dims", ctypes.c_int64 * MAX_RANK)]


class Scheme(ctypes.Structure):
    """oclinit_scheme (enums are C ints)."""

    _fields_ = [
        ("kind", ctypes.c_int),
        ("value", ctypes.c_double),
        ("mean", ctypes.c_double),
        ("std", ctypes.c_double),
        ("a", ctypes.c_double),
        ("b", ctypes.c_double),
        ("scale", ctypes.c_double),
        ("gain", ctypes.c_double),
        ("negative_slope", ctypes.c_double),
        ("sparsity", ctypes.c_double),
        ("groups", ctypes.c_int64),
        ("fan_in", ctypes.c_int64),
        ("fan_out", ctypes.c_int64),
        ("convention", ctypes.c_int),
        ("mode", ctypes.c_int),
        ("nonlinearity", ctypes.c_int),
        ("distribution", ctypes.c_int),
    ]


class Distribution(ctypes.Structure):
    """oclinit_distribution."""

    _fields_ = [
        ("kind", ctypes.c_int),
        ("value", ctypes.c_float),
        ("mean", ctypes.c_float),
        ("std", ctypes.c_float),
        ("a", ctypes.c_float),
        ("b", ctypes.c_float),
        ("shape", Shape),
        ("groups", ctypes.c_int64),
        ("rows", ctypes.c_int64),
        ("zeros", ctypes.c_int64),
    ]


class Stats(ctypes.Structure):
    """oclinit_stats."""

    _fields_ = [("count", ctypes.c_uint64), ("mean", ctypes.c_double), ("std", ctypes.c_double),
                ("min", ctypes.c_double), ("max", ctypes.c_double)]


class DeviceInfo(ctypes.Structure):
    """oclinit_device_info."""

    _fields_ = [
        ("platform_index", ctypes.c_uint),
        ("device_index", ctypes.c_uint),
        ("platform_name", ctypes.c_char * 128),
        ("implementation", ctypes.c_char * 32),
        ("name", ctypes.c_char * 128),
        ("version", ctypes.c_char * 128),
        ("driver_version", ctypes.c_char * 64),
        ("type", ctypes.c_int),
        ("global_memory", ctypes.c_uint64),
        ("max_allocation", ctypes.c_uint64),
        ("compute_units", ctypes.c_uint),
        ("fp64", ctypes.c_bool),
        ("correctly_rounded_divide_sqrt", ctypes.c_bool),
    ]


class Error(Exception):
    """A failed call of the library: status (the oclinit_status number), status_name (oclinit_status_str) and
    detail (oclinit_error_get_detail: which argument, file or device). Every error is also a built-in exception:
    ValueError for invalid arguments and sizes, OSError for files and disks, MemoryError for host memory,
    RuntimeError for the device (NotImplementedError, a RuntimeError, for what it does not support)."""

    def __init__(self, status: int, status_name: str, detail: str):
        super().__init__(f"{detail} ({status_name})" if detail else status_name)
        self.status = status
        self.status_name = status_name
        self.detail = detail


class InvalidArgumentError(Error, ValueError):
    """OCLINIT_ERROR_INVALID_ARGUMENT and OCLINIT_ERROR_SIZE_OVERFLOW."""


class FileError(Error, OSError):
    """OCLINIT_ERROR_IO and OCLINIT_ERROR_NO_SPACE."""


class OutOfMemoryError(Error, MemoryError):
    """OCLINIT_ERROR_OUT_OF_HOST_MEMORY."""


class NotSupportedError(Error, NotImplementedError):
    """OCLINIT_ERROR_NOT_SUPPORTED."""


class DeviceError(Error, RuntimeError):
    """The device and everything else: no platform, device not found, kernel build, device memory, OpenCL's codes."""


_ERROR_CLASSES = {
    ERROR_INVALID_ARGUMENT: InvalidArgumentError,
    ERROR_SIZE_OVERFLOW: InvalidArgumentError,
    ERROR_IO: FileError,
    ERROR_NO_SPACE: FileError,
    ERROR_OUT_OF_HOST_MEMORY: OutOfMemoryError,
    ERROR_NOT_SUPPORTED: NotSupportedError,
}


def _library_path() -> str:
    """$OCLINIT_LIBRARY (a build tree's liboclinit.so, for development), else the one installed with the package."""
    path = os.environ.get("OCLINIT_LIBRARY")
    if path:
        return path
    here = Path(__file__).resolve().parent
    for name in ("liboclinit.so", "liboclinit.dylib", "oclinit.dll"):
        if (here / name).exists():
            return str(here / name)
    raise ImportError(
        f"oclinit: no liboclinit.so in {here}: install the package with `pip install .` from the repository, or set "
        "OCLINIT_LIBRARY to a built liboclinit.so"
    )


lib = ctypes.CDLL(_library_path())

_P = ctypes.POINTER
_FUNCTIONS = {
    # name: (restype, argtypes)
    "oclinit_status_str": (ctypes.c_char_p, [ctypes.c_int]),
    "oclinit_error_get_detail": (ctypes.c_char_p, []),
    "oclinit_device_type_str": (ctypes.c_char_p, [ctypes.c_int]),
    "oclinit_device_list": (ctypes.c_int, [_P(DeviceInfo), ctypes.c_size_t, _P(ctypes.c_size_t)]),
    "oclinit_device_find": (ctypes.c_int, [ctypes.c_char_p, _P(DeviceInfo)]),
    "oclinit_runtime_create": (ctypes.c_int, [ctypes.c_char_p, _P(ctypes.c_void_p)]),
    "oclinit_runtime_free": (None, [ctypes.c_void_p]),
    "oclinit_runtime_get_device": (_P(DeviceInfo), [ctypes.c_void_p]),
    "oclinit_scheme_default": (Scheme, [ctypes.c_int]),
    "oclinit_scheme_kind_parse": (ctypes.c_int, [ctypes.c_char_p, _P(ctypes.c_int)]),
    "oclinit_scheme_kind_str": (ctypes.c_char_p, [ctypes.c_int]),
    "oclinit_fan_mode_parse": (ctypes.c_int, [ctypes.c_char_p, _P(ctypes.c_int)]),
    "oclinit_nonlinearity_parse": (ctypes.c_int, [ctypes.c_char_p, _P(ctypes.c_int)]),
    "oclinit_distribution_kind_parse": (ctypes.c_int, [ctypes.c_char_p, _P(ctypes.c_int)]),
    "oclinit_convention_parse": (ctypes.c_int, [ctypes.c_char_p, _P(ctypes.c_int)]),
    "oclinit_scheme_resolve_shape": (ctypes.c_int, [_P(Scheme), _P(Shape), _P(Distribution)]),
    "oclinit_distribution_describe": (None, [_P(Distribution), ctypes.c_char_p, ctypes.c_size_t]),
    "oclinit_distribution_get_moments": (None, [_P(Distribution), _P(ctypes.c_double), _P(ctypes.c_double)]),
    "oclinit_tensor_stream": (ctypes.c_uint64, [ctypes.c_char_p]),
    "oclinit_scheme_takes": (ctypes.c_bool, [ctypes.c_int, ctypes.c_char_p]),
    "oclinit_init_fill_host": (
        ctypes.c_int,
        [ctypes.c_void_p, _P(Distribution), ctypes.c_uint64, ctypes.c_uint64, ctypes.c_uint64, ctypes.c_uint64,
         ctypes.c_void_p],
    ),
    "oclinit_table_create": (ctypes.c_int, [ctypes.c_size_t, ctypes.c_size_t, ctypes.c_void_p, _P(ctypes.c_void_p)]),
    "oclinit_table_free": (None, [ctypes.c_void_p]),
    "oclinit_table_get_data": (ctypes.c_void_p, [ctypes.c_void_p]),
    "oclinit_normalizer_fit": (
        ctypes.c_int,
        [ctypes.c_void_p, ctypes.c_int, ctypes.c_double, ctypes.c_double, ctypes.c_void_p, _P(ctypes.c_void_p)],
    ),
    "oclinit_normalizer_apply": (ctypes.c_int, [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p]),
    "oclinit_normalizer_save": (ctypes.c_int, [ctypes.c_void_p, ctypes.c_char_p]),
    "oclinit_normalizer_load": (ctypes.c_int, [ctypes.c_char_p, _P(ctypes.c_void_p)]),
    "oclinit_normalizer_free": (None, [ctypes.c_void_p]),
    "oclinit_normalizer_get_method": (ctypes.c_int, [ctypes.c_void_p]),
    "oclinit_normalizer_get_range": (None, [ctypes.c_void_p, _P(ctypes.c_double), _P(ctypes.c_double)]),
    "oclinit_normalizer_get_features": (ctypes.c_size_t, [ctypes.c_void_p]),
    "oclinit_normalizer_get_stats": (Stats, [ctypes.c_void_p, ctypes.c_size_t]),
    "oclinit_normalizer_get_feature_name": (ctypes.c_char_p, [ctypes.c_void_p, ctypes.c_size_t]),
}
for _name, (_restype, _argtypes) in _FUNCTIONS.items():
    _function = getattr(lib, _name)
    _function.restype = _restype
    _function.argtypes = _argtypes


def text(raw: Optional[bytes]) -> str:
    return raw.decode("utf-8", "replace") if raw else ""


def error(status: int, detail: Optional[str] = None) -> Error:
    """The exception for a status; detail defaults to the library's for this thread's last failed call."""
    if detail is None:
        detail = text(lib.oclinit_error_get_detail())
    return _ERROR_CLASSES.get(status, DeviceError)(status, text(lib.oclinit_status_str(status)), detail)


def check(status: int) -> None:
    if status != SUCCESS:
        raise error(status)


def invalid(detail: str) -> InvalidArgumentError:
    """The package's own refusals, as the library's would be."""
    return error(ERROR_INVALID_ARGUMENT, detail)  # type: ignore[return-value]


class Runtime:
    """An oclinit_runtime_t and the lock that keeps it to one thread at a time (runtimes are not thread-safe)."""

    def __init__(self, device: Optional[str]):
        handle = ctypes.c_void_p()
        check(lib.oclinit_runtime_create(None if device is None else device.encode(), ctypes.byref(handle)))
        self.handle = handle
        self.lock = threading.Lock()
        self.info = lib.oclinit_runtime_get_device(handle).contents

    def free(self) -> None:
        with self.lock:
            lib.oclinit_runtime_free(self.handle)
            self.handle = ctypes.c_void_p()


T = TypeVar("T")


def interruptible(work: Callable[[], T]) -> T:
    """work() (one long library call, which nothing can stop midway) in a worker thread while the calling thread
    waits for it: the wait is what Ctrl-C interrupts, so KeyboardInterrupt comes at once; the call then runs to its
    end in the background, holding its runtime's lock, what it made is dropped, and the interpreter exits after it.
    Errors are made in the worker, whose thread holds the library's detail, and raised here."""
    outcome: Dict[str, object] = {}
    done = threading.Event()  # not Thread.join, which an interrupt can leave believing the thread ended (3.11)

    def run() -> None:
        try:
            outcome["value"] = work()
        except BaseException as caught:  # raised again in the caller's thread
            outcome["error"] = caught
        finally:
            with _runtimes_lock:
                _pending.discard(done)
            done.set()

    with _runtimes_lock:
        _pending.add(done)
    threading.Thread(target=run, name="oclinit", daemon=True).start()
    done.wait()
    if "error" in outcome:
        raise outcome["error"]  # type: ignore[misc]
    return outcome["value"]  # type: ignore[return-value]


_runtimes: Dict[Optional[str], Runtime] = {}
_pending: Set[threading.Event] = set()  # interruptible's calls, waited for before the runtimes they use are freed
_runtimes_lock = threading.Lock()


def runtime(device: Optional[str]) -> Runtime:
    """The module's runtime for a device string, made on first use (a device's kernels compile once per process).
    None is the library's default, resolved at that first use."""
    if device == "":
        device = None
    with _runtimes_lock:
        found = _runtimes.get(device)
        if found is None:
            found = _runtimes[device] = Runtime(device)
        return found


@atexit.register
def _free_runtimes() -> None:
    with _runtimes_lock:
        pending = list(_pending)
    for done in pending:  # a call Ctrl-C left running in the background
        done.wait()
    with _runtimes_lock:
        for made in _runtimes.values():
            made.free()
        _runtimes.clear()
