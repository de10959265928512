"""Scalers with scikit-learn's interface, fitted and applied by oclinit on a device, that read and write the
statistics files of `oclinit normalize --save-stats` / `--stats`: a scaler fitted in Python applies with the CLI,
and one fitted by the CLI applies in Python.

    >>> from oclinit.preprocessing import StandardScaler
    >>> scaler = StandardScaler().fit(X_train)          # statistics computed on the device
    >>> X_test_z = scaler.transform(X_test)
    >>> scaler.save("z.txt")                            # oclinit normalize --stats z.txt --input test.csv ...
    >>> scaler = StandardScaler.load("z.txt")           # or one `oclinit normalize --save-stats` wrote

MinMaxScaler(feature_range=(0, 1), *, copy=True, clip=False) and StandardScaler(*, copy=True, with_mean=True,
with_std=True) take scikit-learn's arguments, plus device= (as oclinit.init's). They give scikit-learn's results
within float32 rounding (data go to the device as float32; statistics are merged in double, as the CLI does, so a
fit equals `oclinit normalize`'s on the same float32 data): fit, transform, fit_transform, inverse_transform,
get_params, set_params, get_feature_names_out, and the fitted attributes (n_features_in_, n_samples_seen_, mean_,
var_, scale_; data_min_, data_max_, data_range_, min_, scale_). They pickle.

Where they differ from scikit-learn:
- Data must be finite: NaN and infinity are refused (ValueError); scikit-learn's ignore NaN in fit and keep it.
  Float64 data are rounded to float32 first, so values beyond float32's range are refused too.
- Fitting needs at least 2 samples (scikit-learn takes 1).
- No partial_fit: the library fits in one pass and has no way to merge two fits exactly.
- Results are float32 numbers, returned in X's floating dtype (float32 or float64; float64 for other dtypes, as
  scikit-learn).
- A transform whose result would pass float32's range (data far outside the training range) is refused
  (ValueError naming the row and feature) instead of giving an infinity.
- A feature that was constant in training is scaled by 1 as scikit-learn does (StandardScaler: x - mean;
  MinMaxScaler: lo + (x - min) (hi - lo)); `oclinit normalize --stats` maps such a feature to 0 (or lo) whatever
  its value. The two agree on the training data, where x == mean == min.
"""

from __future__ import annotations

import ctypes
import os
import re
import tempfile
from typing import Any, Dict, List, Optional, Tuple, Union

import numpy as np

from . import _library

__all__ = ["MinMaxScaler", "NotFittedError", "StandardScaler", "load"]

_lib = _library.lib
PathLike = Union[str, "os.PathLike[str]"]

# Elements per library call when transforming: between two calls Python runs its signal handlers, so Ctrl-C stops
# a large transform within one chunk (64 MiB of float32).
_CHUNK_ELEMENTS = 1 << 24


class NotFittedError(ValueError, AttributeError):
    """A scaler used before fit or load (the same bases as scikit-learn's NotFittedError)."""


class _Normalizer:
    """An oclinit_normalizer_t, freed with its owner."""

    def __init__(self, handle: ctypes.c_void_p):
        self.handle = handle

    def __del__(self) -> None:
        if self.handle:
            _lib.oclinit_normalizer_free(self.handle)
            self.handle = ctypes.c_void_p()

    @classmethod
    def load(cls, path: str) -> "_Normalizer":
        handle = ctypes.c_void_p()
        _library.check(_lib.oclinit_normalizer_load(os.fsencode(path), ctypes.byref(handle)))
        return cls(handle)

    def save(self, path: str) -> None:
        _library.check(_lib.oclinit_normalizer_save(self.handle, os.fsencode(path)))

    def text(self) -> str:
        with tempfile.TemporaryDirectory() as directory:
            path = os.path.join(directory, "stats.txt")
            self.save(path)
            with open(path, encoding="utf-8") as f:
                return f.read()

    @classmethod
    def from_text(cls, text: str) -> "_Normalizer":
        with tempfile.TemporaryDirectory() as directory:
            path = os.path.join(directory, "stats.txt")
            with open(path, "w", encoding="utf-8") as f:
                f.write(text)
            return cls.load(path)

    def method(self) -> int:
        return _lib.oclinit_normalizer_get_method(self.handle)

    def range(self) -> Tuple[float, float]:
        lo, hi = ctypes.c_double(), ctypes.c_double()
        _lib.oclinit_normalizer_get_range(self.handle, ctypes.byref(lo), ctypes.byref(hi))
        return lo.value, hi.value

    def stats(self) -> Dict[str, np.ndarray]:
        features = _lib.oclinit_normalizer_get_features(self.handle)
        each = [_lib.oclinit_normalizer_get_stats(self.handle, f) for f in range(features)]
        stats = {key: np.array([getattr(s, key) for s in each], dtype=np.float64)
                 for key in ("mean", "std", "min", "max")}
        stats["count"] = np.array([s.count for s in each], dtype=np.int64)
        return stats

    def names(self) -> Optional[List[str]]:
        names = [_lib.oclinit_normalizer_get_feature_name(self.handle, f)
                 for f in range(_lib.oclinit_normalizer_get_features(self.handle))]
        return None if not names or any(n is None for n in names) else [_library.text(n) for n in names]


class _Table:
    """An oclinit_table_t holding a copy of (rows, features) float32 data."""

    def __init__(self, data: np.ndarray):
        self.handle = ctypes.c_void_p()
        rows, features = data.shape
        _library.check(_lib.oclinit_table_create(rows, features, data.ctypes.data, ctypes.byref(self.handle)))
        self.shape = data.shape

    def data(self) -> np.ndarray:
        """The table's data, a view valid while the table lives."""
        address = _lib.oclinit_table_get_data(self.handle)
        count = self.shape[0] * self.shape[1]
        return np.ctypeslib.as_array((ctypes.c_float * count).from_address(address)).reshape(self.shape)

    def __enter__(self) -> "_Table":
        return self

    def __exit__(self, *exc: Any) -> None:
        _lib.oclinit_table_free(self.handle)
        self.handle = ctypes.c_void_p()


def _feature_names(X: Any) -> Optional[np.ndarray]:
    """A data frame's column names when they are all strings (scikit-learn's rule), else None."""
    columns = getattr(X, "columns", None)
    if columns is None or isinstance(X, np.ndarray):
        return None
    names = list(columns)
    return np.asarray(names, dtype=object) if names and all(isinstance(n, str) for n in names) else None


def _as_float32(X: Any) -> Tuple[np.ndarray, np.dtype]:
    """X as a C-contiguous (samples, features) float32 array, with the dtype results are returned in."""
    array = np.asarray(X)
    if array.dtype.kind not in "biuf":
        raise _library.invalid(f"X: numbers are needed, got an array of dtype {array.dtype}")
    if array.ndim != 2:
        raise _library.invalid(f"X: a 2-D array (samples, features) is needed, got {array.ndim}-D; reshape one "
                               "feature with X.reshape(-1, 1), one sample with X.reshape(1, -1)")
    if array.shape[0] == 0 or array.shape[1] == 0:
        raise _library.invalid(f"X: {array.shape[0]} samples of {array.shape[1]} features; at least one of each is "
                               "needed")
    out_dtype = array.dtype if array.dtype in (np.float32, np.float64) else np.dtype(np.float64)
    with np.errstate(over="ignore"):
        data = np.ascontiguousarray(array, dtype=np.float32)
    return data, out_dtype


def _refuse_non_finite(data: np.ndarray, first_row: int) -> None:
    finite = np.isfinite(data)
    if not finite.all():
        row, feature = np.argwhere(~finite)[0]
        kind = "NaN" if np.isnan(data[row, feature]) else "an infinity (or a value beyond float32's range)"
        raise _library.invalid(f"X contains {kind} at row {first_row + row + 1}, feature {feature + 1}: oclinit's "
                               "scalers need finite float32 data")


class _Scaler:
    _METHOD = -1
    _PARAMS: Tuple[str, ...] = ()
    device: Optional[str]
    copy: bool

    def _range(self) -> Tuple[float, float]:
        return 0.0, 1.0

    # ---- scikit-learn's estimator protocol ----------------------------------------------------------------------

    def get_params(self, deep: bool = True) -> Dict[str, Any]:
        """The constructor's arguments, as scikit-learn's estimators give them (for clone, pipelines, searches)."""
        return {name: getattr(self, name) for name in self._PARAMS}

    def set_params(self, **params: Any) -> "_Scaler":
        """Sets constructor arguments, as scikit-learn's estimators do; the fitted statistics stay until the next
        fit."""
        for name, value in params.items():
            if name not in self._PARAMS:
                raise _library.invalid(f"{type(self).__name__} has no parameter {name!r} (parameters: "
                                       f"{', '.join(self._PARAMS)})")
            setattr(self, name, value)
        return self

    def __repr__(self) -> str:
        defaults = type(self)().get_params()
        changed = [f"{k}={v!r}" for k, v in self.get_params().items() if v != defaults[k]]
        return f"{type(self).__name__}({', '.join(changed)})"

    def __sklearn_is_fitted__(self) -> bool:
        return getattr(self, "_normalizer", None) is not None

    def _check_fitted(self) -> _Normalizer:
        normalizer = getattr(self, "_normalizer", None)
        if normalizer is None:
            raise NotFittedError(f"This {type(self).__name__} instance is not fitted yet. Call 'fit' with appropriate "
                                 "arguments (or load statistics) before using this estimator.")
        return normalizer

    def __getstate__(self) -> Dict[str, Any]:
        """Pickling keeps the statistics as their file's text (the library's handle cannot be pickled)."""
        state = {key: value for key, value in self.__dict__.items() if key != "_normalizer"}
        if self.__sklearn_is_fitted__():
            state["_statistics"] = self._normalizer.text()
        return state

    def __setstate__(self, state: Dict[str, Any]) -> None:
        text = state.pop("_statistics", None)
        self.__dict__.update(state)
        if text is not None:
            self._normalizer = _Normalizer.from_text(text)

    # ---- Fitting ------------------------------------------------------------------------------------------------

    def fit(self, X: Any, y: Any = None) -> "_Scaler":
        """Computes the statistics of X, (samples, features), on the device (y is ignored) and returns self."""
        data, _ = _as_float32(X)
        lo, hi = self._range()
        runtime = _library.runtime(self.device)

        def fit() -> _Normalizer:
            handle = ctypes.c_void_p()
            with _Table(data) as table, runtime.lock:
                _library.check(_lib.oclinit_normalizer_fit(runtime.handle, self._METHOD, lo, hi, table.handle,
                                                           ctypes.byref(handle)))
            return _Normalizer(handle)

        # One library call (about 2 s per GiB on 2 cores): run so that Ctrl-C still interrupts.
        self._set_normalizer(_library.interruptible(fit), _feature_names(X))
        return self

    def fit_transform(self, X: Any, y: Any = None) -> np.ndarray:
        """fit(X), then transform(X)."""
        return self.fit(X, y).transform(X)

    def _set_normalizer(self, normalizer: _Normalizer, names: Optional[np.ndarray]) -> None:
        stats = normalizer.stats()
        self._normalizer = normalizer
        self.n_features_in_ = len(stats["count"])
        self.n_samples_seen_ = int(stats["count"][0])
        self._constant = stats["max"] == stats["min"]
        if names is not None:
            self.feature_names_in_ = names
        elif hasattr(self, "feature_names_in_"):
            del self.feature_names_in_
        self._set_attributes(stats)

    def _set_attributes(self, stats: Dict[str, np.ndarray]) -> None:
        raise NotImplementedError

    # ---- Transforming -------------------------------------------------------------------------------------------

    def _input(self, X: Any, copy: Optional[bool]) -> Tuple[np.ndarray, np.ndarray]:
        """X as float32 data checked against the fit, and the array results go to (X itself for copy=False)."""
        self._check_fitted()
        names = _feature_names(X)
        fitted_names = getattr(self, "feature_names_in_", None)
        if names is not None and fitted_names is not None and list(names) != list(fitted_names):
            raise _library.invalid(f"X: the feature names should match those that were passed during fit "
                                   f"({list(fitted_names)}), got {list(names)}")
        data, out_dtype = _as_float32(X)
        if data.shape[1] != self.n_features_in_:
            raise _library.invalid(f"X has {data.shape[1]} features, but {type(self).__name__} is expecting "
                                   f"{self.n_features_in_} features as input.")
        in_place = (self.copy if copy is None else copy) is False and isinstance(X, np.ndarray) \
            and X.dtype in (np.float32, np.float64) and X.flags.writeable
        return data, X if in_place else np.empty(data.shape, dtype=out_dtype)

    def _apply(self, data: np.ndarray, out: np.ndarray) -> None:
        """out = the library's transform of data, through the device in chunks of rows (Ctrl-C between them)."""
        normalizer = self._check_fitted()
        runtime = _library.runtime(self.device)
        step = max(1, _CHUNK_ELEMENTS // data.shape[1])
        for first in range(0, data.shape[0], step):
            part = data[first:first + step]
            _refuse_non_finite(part, first)
            with _Table(part) as table, runtime.lock:
                status = _lib.oclinit_normalizer_apply(runtime.handle, normalizer.handle, table.handle)
                if status != _library.SUCCESS:
                    error = _library.error(status)
                    # The library counts rows from the chunk's first.
                    detail = re.sub(r"^row (\d+)", lambda m: f"row {int(m.group(1)) + first}", error.detail)
                    raise _library.error(status, detail)
                out[first:first + step] = table.data()

    def _scale_constant_features(self, data: np.ndarray, out: np.ndarray, scale: np.ndarray,
                                 shift: np.ndarray) -> None:
        """x * scale + shift, scikit-learn's transform, on the features constant in training (scikit-learn scales
        them by 1 where the library maps them to one value)."""
        if self._constant.any():
            columns = np.flatnonzero(self._constant)
            out[:, columns] = data[:, columns].astype(np.float64) * scale[columns] + shift[columns]

    def save(self, path: PathLike) -> None:
        """Writes the statistics file `oclinit normalize --stats PATH` applies (README, "Normalization
        statistics"); the file appears only when complete. Feature names from a data frame are not written."""
        normalizer = self._check_fitted()
        self._check_savable()
        normalizer.save(os.fspath(path))

    def _check_savable(self) -> None:
        pass

    @classmethod
    def _from_normalizer(cls, normalizer: _Normalizer, device: Optional[str], **params: Any) -> Any:
        method = normalizer.method()
        if method != cls._METHOD:
            raise _library.invalid(f"the statistics are {_METHODS[method]}'s; {cls.__name__} needs "
                                   f"{_METHODS[cls._METHOD]}'s (oclinit.preprocessing.load takes either)")
        scaler = cls(device=device, **params)
        names = normalizer.names()
        scaler._set_normalizer(normalizer, None if names is None else np.asarray(names, dtype=object))
        return scaler

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """The output features' names: input_features, else those given at fit (a data frame's columns, or the
        statistics file's), else x0, x1, ... as scikit-learn's."""
        self._check_fitted()
        if input_features is not None:
            names = np.asarray(input_features, dtype=object)
            if len(names) != self.n_features_in_:
                raise _library.invalid(f"input_features has {len(names)} names; the scaler has "
                                       f"{self.n_features_in_} features")
            return names
        fitted = getattr(self, "feature_names_in_", None)
        if fitted is not None:
            return fitted.copy()
        return np.asarray([f"x{i}" for i in range(self.n_features_in_)], dtype=object)


_METHODS = {_library.NORMALIZE_MINMAX: "minmax", _library.NORMALIZE_ZSCORE: "zscore"}


class MinMaxScaler(_Scaler):
    """Scales each feature to feature_range: lo + (x - data_min_) (hi - lo) / (data_max_ - data_min_), as
    scikit-learn's MinMaxScaler and `oclinit normalize --method minmax --range LO,HI` (both ends of the training
    range map exactly to lo and hi). Statistics and transform run on the device (device=, as oclinit.init's:
    None for the CLI's choice, "cpu" for the host C path).

    feature_range: (lo, hi), finite, lo < hi.
    copy: False transforms a float32 or float64 numpy array in place (others are copied, as scikit-learn's).
    clip: clips transformed data to feature_range (the statistics file does not record it: the CLI does not clip).

    Attributes after fit: n_features_in_, n_samples_seen_, data_min_, data_max_, data_range_, scale_, min_ (so that
    transform(X) == X * scale_ + min_), feature_names_in_ (fitted on a data frame with string column names, or
    loaded from a file that names them). A feature constant in training has data_range_ 0 and scale_ hi - lo,
    as scikit-learn's. Differences from scikit-learn: see help(oclinit.preprocessing).

    >>> scaler = MinMaxScaler(feature_range=(-1, 1)).fit(X_train)
    >>> scaler.save("minmax.txt")       # oclinit normalize --stats minmax.txt applies it
    """

    _METHOD = _library.NORMALIZE_MINMAX
    _PARAMS = ("feature_range", "copy", "clip", "device")

    def __init__(self, feature_range: Tuple[float, float] = (0, 1), *, copy: bool = True, clip: bool = False,
                 device: Optional[str] = None):
        self.feature_range = feature_range
        self.copy = copy
        self.clip = clip
        self.device = device

    def _range(self) -> Tuple[float, float]:
        try:
            lo, hi = self.feature_range
            return float(lo), float(hi)
        except (TypeError, ValueError):
            raise _library.invalid(f"feature_range must be (min, max), got {self.feature_range!r}") from None

    def _set_attributes(self, stats: Dict[str, np.ndarray]) -> None:
        lo, hi = self._normalizer.range()
        self.data_min_ = stats["min"]
        self.data_max_ = stats["max"]
        self.data_range_ = self.data_max_ - self.data_min_
        self.scale_ = (hi - lo) / np.where(self._constant, 1.0, self.data_range_)
        self.min_ = lo - self.data_min_ * self.scale_

    def transform(self, X: Any, copy: Optional[bool] = None) -> np.ndarray:
        """X scaled to feature_range with the fitted statistics, on the device."""
        data, out = self._input(X, copy)
        self._apply(data, out)
        self._scale_constant_features(data, out, self.scale_, self.min_)
        if self.clip:
            np.clip(out, *self._normalizer.range(), out=out)
        return out

    def inverse_transform(self, X: Any, copy: Optional[bool] = None) -> np.ndarray:
        """Undoes transform: (X - min_) / scale_ (numpy, in double, rounded to X's float dtype)."""
        _, out = self._input(X, copy)
        out[...] = (np.asarray(X, dtype=np.float64) - self.min_) / self.scale_
        return out

    @classmethod
    def load(cls, path: PathLike, *, device: Optional[str] = None) -> "MinMaxScaler":
        """A fitted MinMaxScaler from a minmax statistics file (`oclinit normalize --method minmax --save-stats`,
        or save); feature_range is the file's range."""
        normalizer = _Normalizer.load(os.fspath(path))
        return cls._from_normalizer(normalizer, device, feature_range=normalizer.range())


class StandardScaler(_Scaler):
    """Standardizes each feature: (x - mean_) / scale_, scale_ the population std (ddof 0), as scikit-learn's
    StandardScaler and `oclinit normalize --method zscore`. Statistics and transform run on the device (device=,
    as oclinit.init's: None for the CLI's choice, "cpu" for the host C path).

    copy: False transforms a float32 or float64 numpy array in place (others are copied, as scikit-learn's).
    with_mean, with_std: False leaves out centering or scaling, as scikit-learn's; the statistics are still
        fitted on the device, but such a transform is numpy's one operation, and save() refuses such a scaler
        (the statistics file always means (x - mean) / std).

    Attributes after fit: n_features_in_, n_samples_seen_, mean_ (None when neither with_mean nor with_std),
    var_ and scale_ (None without with_std), feature_names_in_ (fitted on a data frame with string column names,
    or loaded from a file that names them). A feature constant in training has var_ 0 and scale_ 1, as
    scikit-learn's. Differences from scikit-learn: see help(oclinit.preprocessing).

    >>> scaler = StandardScaler().fit(X_train)
    >>> scaler.save("z.txt")            # oclinit normalize --stats z.txt applies it
    """

    _METHOD = _library.NORMALIZE_ZSCORE
    _PARAMS = ("copy", "with_mean", "with_std", "device")

    def __init__(self, *, copy: bool = True, with_mean: bool = True, with_std: bool = True,
                 device: Optional[str] = None):
        self.copy = copy
        self.with_mean = with_mean
        self.with_std = with_std
        self.device = device

    def _set_attributes(self, stats: Dict[str, np.ndarray]) -> None:
        self._mean = stats["mean"]
        self._scale = np.where(self._constant, 1.0, stats["std"])
        self.mean_ = self._mean if self.with_mean or self.with_std else None
        self.var_ = stats["std"] ** 2 if self.with_std else None
        self.scale_ = self._scale if self.with_std else None

    def transform(self, X: Any, copy: Optional[bool] = None) -> np.ndarray:
        """X standardized with the fitted statistics, on the device."""
        data, out = self._input(X, copy)
        if self.with_mean and self.with_std:
            self._apply(data, out)
            self._scale_constant_features(data, out, 1 / self._scale, -self._mean / self._scale)
        else:
            _refuse_non_finite(data, 0)
            offset = self._mean if self.with_mean else 0.0
            scale = self._scale if self.with_std else 1.0
            out[...] = (data.astype(np.float64) - offset) / scale
        return out

    def inverse_transform(self, X: Any, copy: Optional[bool] = None) -> np.ndarray:
        """Undoes transform: X * scale_ + mean_ (numpy, in double, rounded to X's float dtype)."""
        _, out = self._input(X, copy)
        scale = self._scale if self.with_std else 1.0
        offset = self._mean if self.with_mean else 0.0
        out[...] = np.asarray(X, dtype=np.float64) * scale + offset
        return out

    def _check_savable(self) -> None:
        if not (self.with_mean and self.with_std):
            raise _library.invalid("save: a statistics file means (x - mean) / std, which with_mean=False or "
                                   "with_std=False does not apply; set both to True to share the scaler with the CLI")

    @classmethod
    def load(cls, path: PathLike, *, device: Optional[str] = None) -> "StandardScaler":
        """A fitted StandardScaler from a zscore statistics file (`oclinit normalize --method zscore
        --save-stats`, or save)."""
        return cls._from_normalizer(_Normalizer.load(os.fspath(path)), device)


def load(path: PathLike, *, device: Optional[str] = None) -> Union[MinMaxScaler, StandardScaler]:
    """The fitted scaler a statistics file holds: a MinMaxScaler for minmax, a StandardScaler for zscore."""
    normalizer = _Normalizer.load(os.fspath(path))
    if normalizer.method() == _library.NORMALIZE_MINMAX:
        return MinMaxScaler._from_normalizer(normalizer, device, feature_range=normalizer.range())
    return StandardScaler._from_normalizer(normalizer, device)
