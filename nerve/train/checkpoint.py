"""Training checkpoints: model, optimizer, scheduler, RNG states and the loop's own state.

A checkpoint is a directory::

    model.safetensors       model.state_dict() (an ordinary safetensors state dict)
    optimizer.safetensors   the tensors of optimizer.state_dict() (exp_avg, step, ...)
    checkpoint.json         everything else: optimizer/scheduler plain values, the caller's state
                            (epoch, step, history, config...), RNG states, sizes and SHA-256 of
                            the two files, a format version and a timestamp

Nothing is pickled, so loading a checkpoint never runs code. ``save_checkpoint`` writes the new
checkpoint into a temporary directory beside the target, flushes it to disk, then swaps it in with
renames: a process killed at any moment leaves the old or the new checkpoint complete
(``load_checkpoint`` finds it even if the kill fell between the two renames of the swap).
One process at a time may write a given checkpoint path.

Example:
    >>> save_checkpoint("runs/last", model=model, optimizer=opt, scheduler=sched,
    ...                 state={"epoch": epoch, "history": history})
    >>> state = load_checkpoint("runs/last", model=model, optimizer=opt, scheduler=sched)
"""
from __future__ import annotations

import contextlib
import datetime
import hashlib
import json
import os
import random
import secrets
import shutil
import time
import warnings
from pathlib import Path

import numpy as np

from ..backend import random as _nrandom
from ..serialization import (
    SerializationError,
    _decode,
    _dumps,
    _encode,
    _fsync_dir,
    _read_safetensors,
    _write_safetensors,
)

__all__ = ["save_checkpoint", "load_checkpoint", "capture_rng_state", "restore_rng_state", "checkpoint_exists",
           "CheckpointError"]

FORMAT = "nerve.checkpoint"
VERSION = 1
MODEL_FILE = "model.safetensors"
OPTIMIZER_FILE = "optimizer.safetensors"
META_FILE = "checkpoint.json"
_OWN_FILES = (MODEL_FILE, OPTIMIZER_FILE, META_FILE)


class CheckpointError(SerializationError):
    """A checkpoint that cannot be loaded: missing, corrupt, truncated, or from a newer nerve."""


# ---------------------------------------------------------------------------------------------
# RNG states
# ---------------------------------------------------------------------------------------------
def capture_rng_state() -> dict:
    """The states of nerve's default generator, NumPy's global RNG and Python's ``random``.

    The result holds only JSON types (dicts, lists, ints, floats, strings, None).
    """
    np_state = np.random.get_state()
    py_version, py_internal, py_gauss = random.getstate()
    return {
        "nerve": _jsonable(_nrandom.default_generator.get_state()),
        "numpy": {"bit_generator": np_state[0], "keys": np_state[1].tolist(), "pos": int(np_state[2]),
                  "has_gauss": int(np_state[3]), "cached_gaussian": float(np_state[4])},
        "python": {"version": py_version, "state": list(py_internal), "gauss_next": py_gauss},
    }


def _jsonable(x):
    if isinstance(x, dict):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]
    if isinstance(x, np.ndarray):
        return x.tolist()
    if isinstance(x, np.generic):
        return x.item()
    return x


def restore_rng_state(d: dict) -> None:
    """Restore RNG states captured by ``capture_rng_state`` (entries missing from ``d`` are left alone)."""
    if not isinstance(d, dict):
        raise TypeError(f"restore_rng_state expects the dict made by capture_rng_state(), got {type(d).__name__}")
    try:
        if "nerve" in d:
            _nrandom.default_generator.set_state(d["nerve"])
        if "numpy" in d:
            s = d["numpy"]
            np.random.set_state((s["bit_generator"], np.asarray(s["keys"], dtype=np.uint32), int(s["pos"]),
                                 int(s["has_gauss"]), float(s["cached_gaussian"])))
        if "python" in d:
            s = d["python"]
            random.setstate((int(s["version"]), tuple(int(v) for v in s["state"]), s["gauss_next"]))
    except (KeyError, TypeError, ValueError) as e:
        raise ValueError(f"restore_rng_state: malformed RNG state ({type(e).__name__}: {e}); expected the dict "
                         "made by capture_rng_state()") from None


# ---------------------------------------------------------------------------------------------
# Locating a checkpoint (also one left mid-swap by a killed writer)
# ---------------------------------------------------------------------------------------------
def _siblings(path: Path):
    """Temporary / previous directories that ``save_checkpoint`` leaves beside ``path`` while it works."""
    parent = path.parent
    if not parent.is_dir():
        return []
    prefixes = (f".{path.name}.tmp-", f".{path.name}.old-")
    return [p for p in parent.iterdir() if p.name.startswith(prefixes) and p.is_dir()]


def _timestamp_of(d: Path) -> float:
    try:
        return float(json.loads((d / META_FILE).read_text(encoding="utf-8"))["timestamp"])
    except (OSError, ValueError, KeyError, TypeError):
        return float("-inf")


def _resolve(path) -> Path | None:
    """The directory holding the complete checkpoint for ``path``, or None."""
    path = Path(path)
    if (path / META_FILE).is_file():
        return path
    if path.exists():
        return None
    # A writer killed between "rename old away" and "rename new in" leaves both complete beside the
    # target (checkpoint.json is written last, so its presence means the directory is complete).
    candidates = [d for d in _siblings(path) if (d / META_FILE).is_file() and _timestamp_of(d) > float("-inf")]
    if not candidates:
        return None
    return max(candidates, key=lambda d: (_timestamp_of(d), ".tmp-" in d.name))


def checkpoint_exists(path) -> bool:
    """Whether ``path`` holds a complete checkpoint (one that ``load_checkpoint`` can find)."""
    return _resolve(path) is not None


# ---------------------------------------------------------------------------------------------
# Saving
# ---------------------------------------------------------------------------------------------
def _file_record(path: Path) -> dict:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return {"file": path.name, "size": path.stat().st_size, "sha256": h.hexdigest()}


def _write_json(path: Path, obj) -> None:
    data = _dumps(obj, indent=1).encode("utf-8")
    with open(path, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())


def _carry_extra_files(old: Path, new: Path) -> None:
    """Keep files that others put in the checkpoint directory (plots, configs...) across the swap."""
    for entry in old.iterdir():
        if entry.name in _OWN_FILES or (new / entry.name).exists():
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.copytree(entry, new / entry.name, symlinks=True)
        else:
            try:
                os.link(entry, new / entry.name, follow_symlinks=False)
            except OSError:
                shutil.copy2(entry, new / entry.name, follow_symlinks=False)


def save_checkpoint(path, *, model, optimizer=None, scheduler=None, state=None) -> None:
    """Save a training checkpoint into directory ``path`` (created if needed), replacing it atomically.

    Args:
        path: the checkpoint directory. An existing directory must be a checkpoint (or empty);
            files in it other than the checkpoint's own are kept.
        model: its ``state_dict()`` goes to ``model.safetensors``.
        optimizer: its ``state_dict()``: tensors to ``optimizer.safetensors``, the rest to JSON.
        scheduler: its ``state_dict()`` (plain values) to JSON.
        state: the caller's own JSON-serialisable dict (epoch, step, history, config...); tuples,
            int keys and inf/nan survive the round trip. ``load_checkpoint`` returns it.

    RNG states (``capture_rng_state()``) are saved too and restored by ``load_checkpoint``.

    Raises:
        TypeError: a value that cannot be saved (named by its path, e.g. ``state['history'][3]``).
        FileExistsError: ``path`` is a file, or a non-empty directory that is not a checkpoint.
    """
    who = "save_checkpoint"
    path = Path(os.path.abspath(os.fspath(path)))
    # Encode everything before touching the disk, so an unsupported value fails cleanly.
    if state is not None and not isinstance(state, dict):
        raise TypeError(f"{who}: state must be a dict, got {type(state).__name__}")
    model_skeleton, model_tensors = _encode(model.state_dict(), who, root="model.state_dict()")
    opt_tensors: dict = {}
    meta = {"format": FORMAT, "version": VERSION, "timestamp": time.time(),
            "saved_at": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")}
    with contextlib.suppress(ImportError):
        from .. import __version__ as nerve_version  # noqa: PLC0415
        meta["nerve_version"] = nerve_version
    meta["optimizer"] = None if optimizer is None else _encode(
        optimizer.state_dict(), who, tensors=opt_tensors, root="optimizer.state_dict()")[0]
    meta["scheduler"] = None if scheduler is None else _encode(
        scheduler.state_dict(), who, tensors=opt_tensors, hint="scheduler",
        root="scheduler.state_dict()")[0]
    meta["state"] = _encode({} if state is None else state, who, allow_tensors=False, root="state")[0]
    meta["rng"] = capture_rng_state()

    if path.exists() and not path.is_dir():
        raise FileExistsError(f"{who}: {str(path)!r} is a file; a checkpoint is a directory")
    if path.is_dir() and not (path / META_FILE).is_file() and any(path.iterdir()):
        raise FileExistsError(f"{who}: {str(path)!r} is a non-empty directory that is not a nerve checkpoint (no "
                              f"{META_FILE}); refusing to replace it")
    path.parent.mkdir(parents=True, exist_ok=True)
    token = secrets.token_hex(4)
    tmp = path.parent / f".{path.name}.tmp-{token}"
    old = path.parent / f".{path.name}.old-{token}"
    tmp.mkdir()
    moved_old = False
    try:
        # A flat state dict: its structure (key order, module versions) rides in the file's metadata,
        # so nerve.load(path / "model.safetensors") gives back the state dict on its own.
        _write_safetensors(tmp / MODEL_FILE, model_tensors,
                           {"format": "pt", "nerve_format": "1", "nerve_structure": _dumps(model_skeleton)},
                           atomic=False)
        meta["files"] = {"model": _file_record(tmp / MODEL_FILE)}
        if optimizer is not None or opt_tensors:
            _write_safetensors(tmp / OPTIMIZER_FILE, opt_tensors, {"format": "pt"}, atomic=False)
            meta["files"]["optimizer"] = _file_record(tmp / OPTIMIZER_FILE)
        if path.is_dir():
            _carry_extra_files(path, tmp)
        _write_json(tmp / META_FILE, meta)  # last: its presence marks the directory complete
        _fsync_dir(tmp)
        if path.exists():
            os.replace(path, old)
            moved_old = True
        os.replace(tmp, path)
        _fsync_dir(path.parent)
    except BaseException:
        if moved_old and not path.exists():
            with contextlib.suppress(OSError):
                os.replace(old, path)
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    # Leftovers: the previous checkpoint, and any from earlier interrupted saves.
    for d in [old, *_siblings(path)]:
        shutil.rmtree(d, ignore_errors=True)


# ---------------------------------------------------------------------------------------------
# Loading
# ---------------------------------------------------------------------------------------------
def _read_tensors(d: Path, record, kind: str) -> dict:
    f = d / (record.get("file") if isinstance(record, dict) and record.get("file") else
             MODEL_FILE if kind == "model" else OPTIMIZER_FILE)
    name = f"load_checkpoint: {str(f)!r}"
    if not f.is_file():
        raise CheckpointError(f"{name}: missing file: checkpoint.json lists it but it does not exist")
    if isinstance(record, dict) and "size" in record:
        size = f.stat().st_size
        if size != record["size"]:
            raise CheckpointError(f"{name}: truncated or replaced: the file has {size} bytes, checkpoint.json "
                                  f"recorded {record['size']}")
        if "sha256" in record and _file_record(f)["sha256"] != record["sha256"]:
            raise CheckpointError(f"{name}: corrupt data: SHA-256 differs from the one in checkpoint.json "
                                  "(the file changed after the checkpoint was written)")
    try:
        return _read_safetensors(f, "load_checkpoint")
    except SerializationError as e:
        raise CheckpointError(str(e)) from None


def load_checkpoint(path, *, model, optimizer=None, scheduler=None) -> dict:
    """Restore a checkpoint written by ``save_checkpoint``, in place; returns the saved ``state`` dict.

    The model is loaded strictly (keys and shapes must match); the optimizer, scheduler and the RNG
    states (nerve, NumPy, Python ``random``) are restored too. Every file is read and checked before
    anything is modified, so a bad checkpoint leaves the model and optimizer untouched.

    Raises:
        FileNotFoundError: no checkpoint at ``path``.
        CheckpointError (a RuntimeError): a corrupt or truncated file (named), a checkpoint from a
            newer nerve, or one without the optimizer/scheduler state asked for.
    """
    who = "load_checkpoint"
    d = _resolve(path)
    if d is None:
        raise FileNotFoundError(f"{who}: no checkpoint at {os.fspath(path)!r} (expected a directory holding "
                                f"{META_FILE}, written by save_checkpoint)")
    if Path(d) != Path(path):
        warnings.warn(f"{who}: {os.fspath(path)!r} is missing; loading {str(d)!r}, the complete checkpoint left "
                      "by an interrupted save_checkpoint", RuntimeWarning, stacklevel=2)
    meta_path = d / META_FILE
    mname = f"{who}: {str(meta_path)!r}"
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as e:
        raise CheckpointError(f"{mname}: not valid JSON text ({e})") from None
    except json.JSONDecodeError as e:
        raise CheckpointError(f"{mname}: JSON error: {e}") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise CheckpointError(f"{mname}: not a nerve checkpoint (expected \"format\": \"{FORMAT}\")")
    version = meta.get("version")
    if not isinstance(version, int) or version > VERSION:
        raise CheckpointError(f"{mname}: version mismatch: checkpoint format version {version!r}, this nerve reads "
                              f"up to {VERSION}: upgrade nerve")
    files = meta.get("files") or {}

    # Read and decode everything first; only then modify the model, optimizer and scheduler.
    model_sd = _decode_model(_read_tensors(d, files.get("model"), "model"), d)
    opt_sd = sched_sd = None
    opt_arrays: dict = {}
    if "optimizer" in files:
        opt_arrays, _ = _read_tensors(d, files["optimizer"], "optimizer")
    oname = f"{who}: {str(d / OPTIMIZER_FILE)!r}"
    if optimizer is not None:
        if meta.get("optimizer") is None:
            raise CheckpointError(f"{mname}: the checkpoint has no optimizer state, but an optimizer was given")
        opt_sd = _decode_checked(meta["optimizer"], opt_arrays, oname)
    if scheduler is not None:
        if meta.get("scheduler") is None:
            raise CheckpointError(f"{mname}: the checkpoint has no scheduler state, but a scheduler was given")
        sched_sd = _decode_checked(meta["scheduler"], opt_arrays, oname)
    state = _decode_checked(meta.get("state", {}), None, mname)

    model.load_state_dict(model_sd, strict=True)
    if optimizer is not None:
        optimizer.load_state_dict(opt_sd)
    if scheduler is not None:
        scheduler.load_state_dict(sched_sd)
    if meta.get("rng") is not None:
        restore_rng_state(meta["rng"])
    return state


def _decode_checked(skeleton, arrays, name):
    try:
        return _decode(skeleton, arrays, name)
    except SerializationError as e:
        raise CheckpointError(str(e)) from None


def _decode_model(read, d: Path):
    arrays, metadata = read
    name = f"load_checkpoint: {str(d / MODEL_FILE)!r}"
    if "nerve_structure" not in metadata:
        from ..autograd.tensor import wrap  # noqa: PLC0415
        return {k: wrap(a) for k, a in arrays.items()}
    try:
        skeleton = json.loads(metadata["nerve_structure"])
    except json.JSONDecodeError as e:
        raise CheckpointError(f"{name}: bad metadata: nerve_structure is not valid JSON ({e})") from None
    return _decode_checked(skeleton, arrays, name)
