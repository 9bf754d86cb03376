"""Event-camera and spiking-audio datasets through tonic, from a local folder only.

tonic (GPL-3.0, the optional ``[events]`` extra) is imported inside the loaders; without it
they raise a DataError saying ``pip install spikeport[events]``. spikeport never downloads:
the tonic dataset classes are used through a subclass whose ``download`` raises a DataError
naming the folder and the files expected, and whose existence check looks for the extracted
files only. (tonic's own check also wants the downloaded archive — ``train.zip``,
``ibmGestureTrain.tar.gz``, ``shd_train.h5.zip`` — and, for N-MNIST, at least 10,000 ``.bin``
files, or 100 ``.npy`` for DVSGesture; otherwise it downloads. We keep tonic's helper and
layout and ask for at least one extracted file.) Reading, file walking and labels are tonic's.

Folders (``data_dir``, or the dataset's environment variable, or ``../shared/data/<name>``)
hold tonic's layout — either the ``save_to`` folder given to tonic (holding ``NMNIST/``,
``DVSGesture/`` or ``SHD/``) or that dataset folder itself:

============  ===================================================================  ========
dataset       files (relative to the dataset folder)                               classes
============  ===================================================================  ========
nmnist        ``Train/<digit>/*.bin``, ``Test/<digit>/*.bin`` (N-MNIST's zips)      10
dvsgesture    ``ibmGestureTrain/user<NN>_<lighting>/<class>.npy``, same for Test   11
shd           ``shd_train.h5``, ``shd_test.h5`` (the unzipped ``.h5.zip`` files)    20
============  ===================================================================  ========

Features (events → tonic transforms → frames flattened in tonic's (P, H, W) order, feature
``p·H·W + y·W + x``):

* nmnist: 34×34×2 = 2,312 (``merge_polarities=True``: 34×34 = 1,156).
* dvsgesture: 128×128×2 → ``Downsample(spatial_factor=size/128)`` (coordinates floored) →
  ``MergePolarities`` → ``size``×``size`` = 1,024 with the default ``size=32``
  (``merge_polarities=False``: 2,048).
* shd: 700 channels (feature = channel).

Two outputs:

* ``as_spikes=False`` (default): ``X`` = each sample's event-count image over the whole
  recording, divided by its largest count (so in [0, 1]); encode it like any image.
* ``as_spikes=True`` (needs ``T``): the events binned in time are the input spikes,
  ``Dataset.spikes`` bool (n, T, features). Step k holds the events with
  ``t0 + k·bin_us <= t < t0 + (k+1)·bin_us``, ``t0`` = the recording's first event (tonic's
  ``ToFrame(time_window=bin_us, start_time=t0, end_time=t0 + T·bin_us)``); ``bin_us``
  defaults to ``dt`` (one step = dt of recorded time, 1 ms by default). Events after
  ``T·bin_us`` are dropped and several events of one input in one step become one spike:
  ``meta`` counts both. ``X`` is then the count image of the events inside the window.

Splits (fixed, independent of any spec seed): ``test`` = the official test set; the official
training set is permuted once (``default_rng(SeedSequence(SPLIT_SEED, spawn_key=(crc32(name),)))``)
and cut into ``val`` = the first ⌊n/10⌋ of that order and ``train`` = the rest; the test set is
permuted the same way (its own permutation), so that ``max_samples`` (the first samples of a
split) mixes classes. ``Dataset.index``: tonic's index in the official training set, or
``TEST_OFFSET`` + tonic's index in the test set.
"""

from __future__ import annotations

import os
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from spikeport.data.base import Dataset, check_split, default_data_dir, make_dataset
from spikeport.errors import DataError

SPLIT_SEED = 2024  # never change: it defines the event sets' train/val split
TEST_OFFSET = 1_000_000  # Dataset.index of official test sample i is TEST_OFFSET + i
VAL_DIVISOR = 10  # val = first ⌊n/10⌋ of the permuted official training set


@dataclass(frozen=True)
class _Spec:
    name: str            # spikeport's name
    tonic_class: str     # class in tonic.datasets
    env_var: str
    n_classes: int
    extension: str       # what the extracted files end with
    expected: str        # the layout, for error messages ({split} = Train/Test etc.)


_SPECS = {
    "nmnist": _Spec("nmnist", "NMNIST", "SPIKEPORT_NMNIST_DIR", 10, ".bin",
                    "{folder}/<digit 0-9>/*.bin (N-MNIST's {archive}, extracted)"),
    "dvsgesture": _Spec("dvsgesture", "DVSGesture", "SPIKEPORT_DVSGESTURE_DIR", 11, ".npy",
                        "{folder}/user<NN>_<lighting>/<class>.npy (tonic's {archive}, "
                        "extracted)"),
    "shd": _Spec("shd", "SHD", "SPIKEPORT_SHD_DIR", 20, ".h5",
                 "{folder} (unzipped from {archive})"),
}


def _import_tonic():
    try:
        import tonic  # noqa: F401
        import tonic.datasets
        import tonic.transforms
    except ImportError as exc:
        raise DataError(f"event datasets need tonic, which is not installed ({exc}): "
                        "pip install spikeport[events]") from None
    return tonic


def _location(spec: _Spec, data_dir) -> Path:
    base = Path(data_dir).expanduser() if data_dir is not None else default_data_dir(
        spec.name, spec.env_var, spec.name)
    if not base.is_dir():
        raise DataError(f"{spec.name}: {base}: no such folder (pass --data-dir DIR holding "
                        f"tonic's {spec.tonic_class}/ folder)")
    sub = base / spec.tonic_class
    return sub if sub.is_dir() else base


def _local_dataset(spec: _Spec, location: Path, train: bool, **kwargs):
    """tonic's dataset class, reading ``location`` and never downloading."""
    tonic = _import_tonic()
    base = getattr(tonic.datasets, spec.tonic_class)

    def _expected(self) -> str:
        if spec.name == "shd":
            folder = self.data_filename
        else:
            folder = self.folder_name
        return spec.expected.format(folder=location / folder, archive=self.filename)

    def _check_exists(self) -> bool:
        if spec.name == "shd":
            return os.path.isfile(os.path.join(self.location_on_system, self.data_filename))
        # tonic's own helper, with n = 1 instead of 10,000 / 100, and no archive needed
        return self._folder_contains_at_least_n_files_of_type(1, spec.extension)

    def download(self) -> None:
        raise DataError(f"{spec.name}: {location}: dataset files not found: expected "
                        f"{_expected(self)}; spikeport reads local files only and never "
                        "downloads")

    def _get_location(self) -> str:
        return str(location)

    def _set_location(self, value) -> None:
        pass  # tonic sets save_to/<ClassName>; spikeport reads the folder it resolved

    cls = type(base.__name__, (base,), {
        "_check_exists": _check_exists, "download": download,
        "location_on_system": property(_get_location, _set_location),
        "__module__": __name__, "__doc__": f"tonic's {base.__name__}, local files only."})
    try:
        ds = cls(str(location), train=train, **kwargs)
        if spec.name != "shd":
            _sort_by_path(ds)
        return ds
    except DataError:
        raise
    except (OSError, KeyError, ValueError) as exc:
        raise DataError(f"{spec.name}: {location}: cannot open the "
                        f"{'training' if train else 'test'} set ({type(exc).__name__}: "
                        f"{exc})") from None


def _sort_by_path(ds) -> None:
    """Put tonic's sample list in path order (tonic's DVSGesture walks its top folder in the
    file system's listing order, so its index → file mapping would vary between machines)."""
    order = sorted(range(len(ds.data)), key=lambda k: ds.data[k])
    for attr in ("data", "targets", "users", "lighting"):
        values = getattr(ds, attr, None)
        if isinstance(values, list) and len(values) == len(order):
            setattr(ds, attr, [values[k] for k in order])


def _permutation(name: str, n: int, part: str) -> np.ndarray:
    ss = np.random.SeedSequence(SPLIT_SEED, spawn_key=(zlib.crc32(name.encode()),
                                                       0 if part == "train" else 1))
    return np.random.default_rng(ss).permutation(n)


def _split_indices(name: str, split: str, n_train: int | None, n_test: int | None):
    """[(part, tonic indices)] in the split's order; part is "train" or "test"."""
    out = []
    if split in ("train", "val", "all"):
        perm = _permutation(name, n_train, "train")
        n_val = n_train // VAL_DIVISOR
        if split in ("train", "all"):
            out.append(("train", perm[n_val:]))
        if split in ("val", "all"):
            out.append(("train", perm[:n_val]))
    if split in ("test", "all"):
        out.append(("test", _permutation(name, n_test, "test")))
    return out


def _check_options(name: str, as_spikes: bool, T, dt, bin_us, max_samples) -> float | None:
    if not isinstance(as_spikes, bool):
        raise DataError(f"{name}: as_spikes = {as_spikes!r}; expected True or False")
    if max_samples is not None and (isinstance(max_samples, bool) or not isinstance(
            max_samples, (int, np.integer)) or max_samples < 1):
        raise DataError(f"{name}: max_samples = {max_samples!r}; expected an integer >= 1 or "
                        "None (all)")
    if not as_spikes:
        return None
    if T is None or isinstance(T, bool) or not isinstance(T, (int, np.integer)) or T < 1:
        raise DataError(f"{name}: T = {T!r}; as_spikes=True needs T, an integer >= 1 (steps "
                        "per sample)")
    if not isinstance(dt, (int, float)) or isinstance(dt, bool) or not dt > 0:
        raise DataError(f"{name}: dt = {dt!r}; expected seconds per step > 0")
    width = dt * 1e6 if bin_us is None else bin_us
    if not isinstance(width, (int, float)) or isinstance(width, bool) or not width > 0:
        raise DataError(f"{name}: bin_us = {bin_us!r}; expected microseconds per step > 0")
    return float(width)


def _load(spec: _Spec, split: str, data_dir, sensor_out: tuple[int, int, int], transform,
          as_spikes: bool, T, dt, bin_us, max_samples, ds_kwargs: dict) -> Dataset:
    check_split(spec.name, split)
    width = _check_options(spec.name, as_spikes, T, dt, bin_us, max_samples)
    tonic = _import_tonic()
    location = _location(spec, data_dir)
    parts = {}
    if split in ("train", "val", "all"):
        parts["train"] = _local_dataset(spec, location, True, **ds_kwargs)
    if split in ("test", "all"):
        parts["test"] = _local_dataset(spec, location, False, **ds_kwargs)
    order = _split_indices(spec.name, split,
                           len(parts["train"]) if "train" in parts else None,
                           len(parts["test"]) if "test" in parts else None)
    picks = [(part, int(i)) for part, idx in order for i in idx]
    if max_samples is not None:
        picks = picks[:max_samples]
    n_feat = int(np.prod(sensor_out))
    X = np.zeros((len(picks), n_feat), np.float32)
    y = np.zeros(len(picks), np.int64)
    spikes = np.zeros((len(picks), T, n_feat), bool) if as_spikes else None
    n_events = n_in_window = n_spiking = 0
    for row, (part, i) in enumerate(picks):
        ds = parts[part]
        source = ds.data[i] if spec.name != "shd" else os.path.join(
            ds.location_on_system, ds.data_filename)
        try:
            events, target = ds[i]
            _check_coordinates(spec, events, source, i)
            events = transform(events)
            events = events[np.argsort(events["t"], kind="stable")]
            n_events += len(events)
            if as_spikes:
                if len(events):
                    t0 = events["t"][0]
                    frames = tonic.transforms.ToFrame(
                        sensor_size=sensor_out, time_window=width, start_time=t0,
                        end_time=t0 + T * width)(events)
                    frames = frames.reshape(len(frames), -1)[:T]
                    spikes[row, :len(frames)] = frames > 0
                    counts = frames.sum(axis=0)
                    n_in_window += int(counts.sum())
                else:
                    counts = np.zeros(n_feat)
            else:
                counts = (tonic.transforms.ToFrame(sensor_size=sensor_out,
                                                   event_count=len(events))(events)
                          .reshape(-1) if len(events) else np.zeros(n_feat))
        except DataError:
            raise
        except (IndexError, ValueError, KeyError, OSError, TypeError) as exc:
            raise DataError(f"{spec.name}: {source}: cannot read sample {i} as events on a "
                            f"{sensor_out} sensor ({type(exc).__name__}: {exc})") from None
        peak = counts.max() if counts.size else 0
        if peak > 0:
            X[row] = counts / peak
        y[row] = int(np.asarray(target).reshape(-1)[0])
        if y[row] < 0 or y[row] >= spec.n_classes:
            raise DataError(f"{spec.name}: {source}: label {y[row]}; expected 0.."
                            f"{spec.n_classes - 1}")
        if as_spikes:
            n_spiking += int(spikes[row].sum())
    index = np.array([i if part == "train" else TEST_OFFSET + i for part, i in picks],
                     np.int64)
    meta = {"folder": str(location), "sensor": sensor_out, "feature": "p*H*W + y*W + x",
            "split_rule": f"val = first 1/{VAL_DIVISOR} of a fixed permutation of the official "
                          "training set, train = the rest, test = the official test set",
            "events": n_events, "tonic": tonic.__version__ if hasattr(tonic, "__version__")
            else "unknown"}
    if as_spikes:
        meta.update(T=int(T), bin_us=width, events_in_window=n_in_window,
                    events_dropped_after_window=n_events - n_in_window,
                    events_merged_in_bins=n_in_window - n_spiking)
    return make_dataset(spec.name, X, y, spec.n_classes, split, meta, index, spikes)


def _check_coordinates(spec: _Spec, events, source, i: int) -> None:
    """Events off the sensor would index frames wrongly (negative ones silently wrap)."""
    native = {"nmnist": (34, 34), "dvsgesture": (128, 128), "shd": (700, 1)}[spec.name]
    for axis, size in zip(("x", "y"), native):
        if axis in events.dtype.names and len(events):
            lo, hi = int(events[axis].min()), int(events[axis].max())
            if lo < 0 or hi >= size:
                raise DataError(f"{spec.name}: {source}: sample {i} has {axis} in [{lo}, {hi}]; "
                                f"expected 0..{size - 1} on the {native[0]}x{native[1]} sensor")


def _chain(*fns):
    def run(events):
        for fn in fns:
            events = fn(events)
        return events
    return run


def load_nmnist(split: str = "train", data_dir=None, as_spikes: bool = False,
                T: int | None = None, dt: float = 1e-3, bin_us: float | None = None,
                max_samples: int | None = None, merge_polarities: bool = False,
                first_saccade_only: bool = False) -> Dataset:
    """N-MNIST: 34×34×2 events → 2,312 features (1,156 merged); see the module docstring."""
    _import_tonic()
    import tonic.transforms as tt

    fns = [tt.MergePolarities()] if merge_polarities else []
    sensor = (34, 34, 1 if merge_polarities else 2)  # tonic's (W, H, P)
    return _load(_SPECS["nmnist"], split, data_dir, sensor, _chain(*fns), as_spikes, T,
                 dt, bin_us, max_samples, {"first_saccade_only": bool(first_saccade_only)})


def load_dvsgesture(split: str = "train", data_dir=None, as_spikes: bool = False,
                    T: int | None = None, dt: float = 1e-3, bin_us: float | None = None,
                    max_samples: int | None = None, size: int = 32,
                    merge_polarities: bool = True) -> Dataset:
    """DVS128 Gesture: 128×128×2 → Downsample to size×size (1,024 merged at 32); see module."""
    _import_tonic()
    import tonic.transforms as tt

    if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or not 1 <= size <= 128:
        raise DataError(f"dvsgesture: size = {size!r}; expected an integer in [1, 128] (pixels "
                        "per side after downsampling 128×128)")
    fns = [tt.Downsample(spatial_factor=size / 128)]
    if merge_polarities:
        fns.append(tt.MergePolarities())
    sensor = (int(size), int(size), 1 if merge_polarities else 2)
    return _load(_SPECS["dvsgesture"], split, data_dir, sensor, _chain(*fns), as_spikes, T, dt,
                 bin_us, max_samples, {})


def load_shd(split: str = "train", data_dir=None, as_spikes: bool = False,
             T: int | None = None, dt: float = 1e-3, bin_us: float | None = None,
             max_samples: int | None = None) -> Dataset:
    """Spiking Heidelberg Digits: 700 channels, 20 classes; see the module docstring."""
    return _load(_SPECS["shd"], split, data_dir, (700, 1, 1), _chain(), as_spikes, T, dt,
                 bin_us, max_samples, {})
