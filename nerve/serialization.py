"""``nerve.save`` / ``nerve.load``: tensors and state dicts in safetensors files, never pickles.

A file is one safetensors file (https://github.com/huggingface/safetensors): the tensors are stored
under flattened keys (a state dict's own keys, ``"state.0.exp_avg"`` for nested objects), and the
header's ``__metadata__`` holds a JSON description of everything else (``"nerve_structure"``):
dicts, lists, tuples, ints, floats (``inf``/``nan`` included), strings, None. Loading reads JSON and
raw arrays only, so a file can never run code, whatever ``weights_only`` says.

A model's state dict saved by nerve is an ordinary safetensors file that other tools read
(``safetensors.torch.load_file``), and a plain safetensors file written elsewhere loads as a dict
of tensors. PyTorch's ``.pt`` pickles are refused with the command that converts them.

Writes to a path are atomic: the data goes to a temporary file in the same directory, is flushed
to disk, then renamed over the target, so a crash leaves either the old file or the new one.
"""
from __future__ import annotations

import contextlib
import io
import json
import math
import os
import secrets
from collections import OrderedDict

import numpy as np

from . import backend
from .autograd.tensor import Tensor, wrap
from .backend import dtypes as _dt

__all__ = ["save", "load", "SerializationError"]

FORMAT_VERSION = 1
_META_VERSION = "nerve_format"
_META_STRUCTURE = "nerve_structure"
# safetensors' own convention: "pt" tells tools such as transformers that the tensors have
# PyTorch's layout, which nerve's are.
_META_FORMAT = "format"
_MAX_HEADER = 100_000_000  # safetensors' own limit on the JSON header

_TAGS = ("__tensor__", "__ndarray__", "__tuple__", "__dict__", "__odict__", "__float__", "__np__", "__dtype__",
         "__device__")

# safetensors dtype -> (NumPy dtype read from the file, NumPy dtype nerve keeps or None).
_ST_TO_NP = {
    "F64": np.float64, "F32": np.float32, "F16": np.float16,
    "I64": np.int64, "I32": np.int32, "I16": np.int16, "I8": np.int8,
    "U8": np.uint8, "BOOL": np.bool_,
    # Types nerve does not model are widened to one it does.
    "U16": np.uint16, "U32": np.uint32, "U64": np.uint64, "BF16": np.uint16,
}
_WIDEN = {"U16": np.int32, "U32": np.int64, "U64": np.int64}
_NP_TO_ST = {np.dtype(np.float64): "F64", np.dtype(np.float32): "F32", np.dtype(np.float16): "F16",
             np.dtype(np.int64): "I64", np.dtype(np.int32): "I32", np.dtype(np.int16): "I16",
             np.dtype(np.int8): "I8", np.dtype(np.uint8): "U8", np.dtype(np.bool_): "BOOL",
             np.dtype(np.uint16): "U16", np.dtype(np.uint32): "U32", np.dtype(np.uint64): "U64"}

_CONVERT_HINT = (
    "nerve never unpickles files, since unpickling can run arbitrary code. Convert it once with PyTorch: "
    "`import torch, safetensors.torch; sd = torch.load(PATH, weights_only=True); "
    "safetensors.torch.save_file(sd, 'x.safetensors')` (for a module: "
    "`safetensors.torch.save_file(model.state_dict(), 'x.safetensors')`; tied weights need "
    "`safetensors.torch.save_model(model, 'x.safetensors')`), then `nerve.load('x.safetensors')`.")


class SerializationError(RuntimeError):
    """A file that cannot be read back: corrupt, truncated, unsupported, or from a newer nerve."""


# ---------------------------------------------------------------------------------------------
# Python objects <-> (JSON skeleton, flat dict of arrays)
# ---------------------------------------------------------------------------------------------
def _mem_signature(arr):
    """Identifies the memory a tensor views, so a tensor saved twice is stored once."""
    if arr.size == 0:
        return None
    if type(arr) is np.ndarray:
        ptr = arr.__array_interface__["data"][0]
    else:  # CuPy
        ptr = ("cuda", arr.data.ptr)
    return (ptr, arr.shape, arr.strides, arr.dtype.str)


def _to_host_contiguous(arr) -> np.ndarray:
    if type(arr) is not np.ndarray:
        arr = backend.to_device(arr, backend.CPU)
    if arr.dtype not in _NP_TO_ST:
        raise TypeError(f"cannot save arrays of dtype {arr.dtype}")
    if not arr.dtype.isnative:
        arr = arr.astype(arr.dtype.newbyteorder("="))
    if not arr.flags.c_contiguous:
        # np.ascontiguousarray would turn a 0-d array into shape (1,).
        arr = np.array(arr, order="C", copy=True)
    return arr


def _float_node(v: float):
    if math.isnan(v):
        return {"__float__": "nan"}
    if v in (float("inf"), float("-inf")):
        return {"__float__": "inf" if v > 0 else "-inf"}
    return v


class _Encoder:
    """Turns an object into a JSON skeleton, collecting its tensors in ``self.tensors``."""

    def __init__(self, who: str, allow_tensors: bool = True, tensors: dict | None = None):
        self.who = who
        self.allow_tensors = allow_tensors
        self.tensors: dict = {} if tensors is None else tensors
        self._by_mem: dict = {}

    def _key(self, hint: str) -> str:
        key = hint or "tensor"
        n = 1
        while key in self.tensors or key == "__metadata__":
            key = f"{hint or 'tensor'}#{n}"
            n += 1
        return key

    def _array(self, arr, hint: str, where: str) -> str:
        if not self.allow_tensors:
            raise TypeError(f"{self.who}: {where} is a tensor/array, but only plain JSON values are allowed here "
                            "(use .item() or .tolist())")
        sig = _mem_signature(arr)
        if sig is not None and sig in self._by_mem:
            return self._by_mem[sig]
        try:
            host = _to_host_contiguous(arr)
        except TypeError as e:
            raise TypeError(f"{self.who}: {where}: {e}") from None
        key = self._key(hint)
        self.tensors[key] = host
        if sig is not None:
            self._by_mem[sig] = key
        return key

    def encode(self, obj, where: str = "obj", hint: str = ""):
        if isinstance(obj, np.generic):  # before float: np.float64 is a float subclass
            if obj.dtype not in _NP_TO_ST:
                raise TypeError(f"{self.who}: {where} is a NumPy scalar of unsupported dtype {obj.dtype}")
            return {"__np__": obj.dtype.name, "value": self.encode(obj.item(), where, hint)}
        if obj is None or isinstance(obj, (bool, str)):
            return obj
        if isinstance(obj, int) and type(obj) is not bool:
            return int(obj)
        if isinstance(obj, float):
            return _float_node(float(obj))
        if isinstance(obj, Tensor):
            node = {"__tensor__": self._array(obj._data, hint, where)}
            from .nn.parameter import Parameter  # noqa: PLC0415 - nn imports this module's package
            if isinstance(obj, Parameter):
                node["parameter"] = True
            if obj.requires_grad:
                node["requires_grad"] = True
            dev = backend.device_of(obj._data)
            if dev.type != "cpu":
                node["device"] = str(dev)
            return node
        if isinstance(obj, np.ndarray):
            return {"__ndarray__": self._array(obj, hint, where)}
        if isinstance(obj, _dt.dtype):
            return {"__dtype__": obj.name}
        if isinstance(obj, backend.device):
            return {"__device__": str(obj)}
        if isinstance(obj, (list, tuple)):
            if isinstance(obj, tuple) and type(obj) is not tuple and hasattr(obj, "_fields"):
                raise self._unsupported(obj, where)
            items = [self.encode(v, f"{where}[{i}]", f"{hint}.{i}" if hint else str(i)) for i, v in enumerate(obj)]
            return {"__tuple__": items} if isinstance(obj, tuple) else items
        if isinstance(obj, dict):
            return self._encode_dict(obj, where, hint)
        if _is_torch_tensor(obj):
            from .nn.modules.module import _as_nerve_tensor  # noqa: PLC0415
            return self.encode(_as_nerve_tensor(obj), where, hint)
        raise self._unsupported(obj, where)

    def _encode_dict(self, obj: dict, where: str, hint: str):
        pairs = []
        for k, v in obj.items():
            if not (k is None or isinstance(k, (str, int, float, bool, tuple))):
                raise TypeError(f"{self.who}: {where} has a key of type {type(k).__name__} ({k!r}); keys must be "
                                "str, int, float, bool, None or tuples of those")
            child_hint = f"{hint}.{k}" if hint else str(k)
            pairs.append((k, self.encode(v, f"{where}[{k!r}]", child_hint)))
        plain = all(type(k) is str and k not in _TAGS for k, _ in pairs)
        if isinstance(obj, OrderedDict):
            node = {"__odict__": [[self.encode(k, where), v] for k, v in pairs]}
            meta = getattr(obj, "_metadata", None)
            if isinstance(meta, dict):
                with contextlib.suppress(TypeError):
                    node["_metadata"] = _Encoder(self.who, allow_tensors=False).encode(meta)
            return node
        if plain:
            return dict(pairs)
        return {"__dict__": [[self.encode(k, where), v] for k, v in pairs]}

    def _unsupported(self, obj, where: str) -> TypeError:
        from .nn.modules.module import Module  # noqa: PLC0415
        from .optim.optimizer import Optimizer  # noqa: PLC0415
        tname = f"{type(obj).__module__}.{type(obj).__qualname__}"
        if isinstance(obj, Module):
            return TypeError(f"{self.who}: {where} is a Module ({tname}); nerve never pickles objects or code. "
                             "Save its state dict instead: nerve.save(model.state_dict(), PATH), then "
                             "model.load_state_dict(nerve.load(PATH))")
        if isinstance(obj, Optimizer) or hasattr(obj, "state_dict"):
            return TypeError(f"{self.who}: {where} is a {tname} object; nerve never pickles objects. Save its "
                             "state_dict() instead and restore it with load_state_dict()")
        return TypeError(f"{self.who}: cannot save {where} of type {tname}: nerve saves tensors, NumPy arrays and "
                         "plain containers (dict, list, tuple) of them and of None/bool/int/float/str, and never "
                         "pickles other objects")


def _is_torch_tensor(obj) -> bool:
    t = type(obj)
    return t.__module__.startswith("torch") and hasattr(obj, "detach") and hasattr(obj, "numpy")


class _Decoder:
    """Rebuilds an object from its skeleton; ``tensor(key, node)`` returns a loaded Tensor."""

    def __init__(self, who: str, arrays: dict | None, place=None):
        self.who = who
        self.arrays = arrays
        self.place = place  # (array, saved_device_str) -> array on the target device
        self._tensors: dict = {}

    def _get(self, key):
        if not isinstance(key, str):
            raise SerializationError(f"{self.who}: bad structure: tensor reference {key!r} is not a string")
        if self.arrays is None or key not in self.arrays:
            raise SerializationError(f"{self.who}: missing tensor {key!r}: the structure refers to it but the "
                                     "tensor data has no such entry (file corrupt or from another checkpoint)")
        return self.arrays[key]

    def decode(self, node):
        if node is None or isinstance(node, (bool, int, float, str)):
            return node
        if isinstance(node, list):
            return [self.decode(v) for v in node]
        if not isinstance(node, dict):
            raise SerializationError(f"{self.who}: bad structure: unexpected JSON value {node!r}")
        tag = next((k for k in node if k in _TAGS), None)
        if tag is None:
            return {k: self.decode(v) for k, v in node.items()}
        val = node[tag]
        try:
            if tag == "__tensor__":
                return self._tensor(val, node)
            if tag == "__ndarray__":
                return self._get(val)
            if tag == "__tuple__":
                return tuple(self.decode(v) for v in val)
            if tag == "__dict__":
                return {_hashable(self.decode(k)): self.decode(v) for k, v in val}
            if tag == "__odict__":
                out = OrderedDict((_hashable(self.decode(k)), self.decode(v)) for k, v in val)
                if "_metadata" in node:
                    out._metadata = self.decode(node["_metadata"])
                return out
            if tag == "__float__":
                return {"nan": float("nan"), "inf": float("inf"), "-inf": float("-inf")}[val]
            if tag == "__np__":
                return np.dtype(val).type(self.decode(node["value"]))
            if tag == "__dtype__":
                return _dt.from_name(val)
            if tag == "__device__":
                return backend.device(val)
        except SerializationError:
            raise
        except (KeyError, TypeError, ValueError) as e:
            raise SerializationError(f"{self.who}: bad structure: cannot decode {tag} node {node!r} ({e})") from None
        raise AssertionError(tag)  # pragma: no cover

    def _tensor(self, key, node):
        rg = bool(node.get("requires_grad", False))
        param = bool(node.get("parameter", False))
        cache_key = (key, rg, param)
        if cache_key in self._tensors:
            return self._tensors[cache_key]
        arr = self._get(key)
        if self.place is not None:
            arr = self.place(arr, node.get("device", "cpu"))
        t = wrap(arr)
        if param:
            from .nn.parameter import Parameter  # noqa: PLC0415
            t = Parameter(t, requires_grad=rg)
        elif rg:
            t.requires_grad_(True)
        self._tensors[cache_key] = t
        return t


def _hashable(k):
    return tuple(_hashable(x) for x in k) if isinstance(k, list) else k


def _encode(obj, who: str, allow_tensors: bool = True, tensors: dict | None = None, hint: str = "",
            root: str = "obj"):
    """``(skeleton, tensors)``: a JSON-serialisable skeleton and the arrays it refers to by key.

    ``root`` names ``obj`` in error messages (``state['history'][3]``); ``hint`` prefixes tensor keys.
    """
    enc = _Encoder(who, allow_tensors, tensors)
    skeleton = enc.encode(obj, root, hint)
    return skeleton, enc.tensors


def _decode(skeleton, arrays, who: str, place=None):
    return _Decoder(who, arrays, place).decode(skeleton)


def _dumps(skeleton, **kw) -> str:
    return json.dumps(skeleton, allow_nan=False, **kw)


# ---------------------------------------------------------------------------------------------
# Files
# ---------------------------------------------------------------------------------------------
def _fsync_dir(directory) -> None:
    """Make a rename inside ``directory`` durable (no-op where directories cannot be opened)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _fsync_file(path) -> None:
    fd = os.open(path, os.O_RDWR)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _import_safetensors():
    try:
        import safetensors.numpy as stnp  # noqa: PLC0415 - optional dependency
    except ImportError:
        raise ImportError("saving needs the `safetensors` package: pip install safetensors "
                          "(or pip install 'nerve[train]')") from None
    return stnp


@contextlib.contextmanager
def atomic_path(path):
    """Yield a temporary path beside ``path``; on success it is fsynced and renamed over ``path``.

    A crash at any moment leaves either the old file or the complete new one, never a mix.
    """
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise RuntimeError(f"Parent directory {directory} does not exist.")  # PyTorch's error
    tmp = os.path.join(directory, f".{os.path.basename(path)}.{secrets.token_hex(4)}.tmp")
    # Created here (not by mkstemp) so the final file gets the usual permissions from the umask.
    os.close(os.open(tmp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666))
    try:
        yield tmp
        _fsync_file(tmp)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _fsync_dir(directory)


def atomic_write(path, data) -> None:
    """Write ``data`` (bytes, or str as UTF-8) to ``path`` atomically (temp file, fsync, rename)."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        fh.write(data)


def _write_safetensors(path, tensors: dict, metadata: dict, *, atomic: bool = True) -> None:
    """Write ``tensors`` to ``path`` (fsynced); ``atomic`` goes through a temp file and a rename."""
    stnp = _import_safetensors()
    path = os.fspath(path)
    if not atomic:
        stnp.save_file(tensors, path, metadata=metadata)
        _fsync_file(path)
        return
    with atomic_path(path) as tmp:
        stnp.save_file(tensors, tmp, metadata=metadata)


def _describe(f) -> str:
    if isinstance(f, (str, bytes, os.PathLike)):
        return repr(os.fsdecode(f))
    name = getattr(f, "name", None)
    return repr(name) if isinstance(name, str) else f"<{type(f).__name__}>"


def _sniff(first: bytes, name: str) -> None:
    """Refuse pickles and other well-known non-safetensors files with a message that says what to do."""
    if first.startswith(b"PK\x03\x04"):
        raise SerializationError(f"{name} is a zip archive, as PyTorch's torch.save writes (.pt/.pth), not a "
                                 "safetensors file. " + _CONVERT_HINT)
    if first[:1] == b"\x80" and first[1:2] in (b"\x02", b"\x03", b"\x04", b"\x05"):
        raise SerializationError(f"{name} is a Python pickle (e.g. a legacy torch.save file), not a safetensors "
                                 "file. " + _CONVERT_HINT)
    if first.startswith(b"\x93NUMPY"):
        raise SerializationError(f"{name} is a NumPy .npy file, not a safetensors file: read it with "
                                 "numpy.load(PATH, allow_pickle=False) and wrap it with nerve.from_numpy")


def _parse_header(fh, name: str, total: int | None):
    """Read and validate a safetensors header; returns ``(entries, metadata, data_start)``.

    ``entries`` maps each tensor key to ``(st_dtype, shape, begin, end)`` in header order.
    ``total`` is the file's size when known (to report truncation precisely).
    """
    first = _read_exact(fh, 8)
    _sniff(first, name)
    if len(first) < 8:
        raise SerializationError(f"{name}: truncated file: it has only {len(first)} bytes, but a safetensors file "
                                 "starts with an 8-byte header size")
    n = int.from_bytes(first, "little")
    if n > _MAX_HEADER:
        raise SerializationError(f"{name}: bad header: the header size field says {n} bytes, which is not "
                                 "plausible (not a safetensors file, or a corrupt one)")
    raw = _read_exact(fh, n)
    if len(raw) < n:
        raise SerializationError(f"{name}: truncated header: expected {n} header bytes, the file has only "
                                 f"{len(raw)} after the size field")
    try:
        header = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise SerializationError(f"{name}: bad header: the safetensors header is not valid JSON ({e})") from None
    if not isinstance(header, dict):
        raise SerializationError(f"{name}: bad header: expected a JSON object, got {type(header).__name__}")
    metadata = header.pop("__metadata__", None) or {}
    if not isinstance(metadata, dict) or not all(isinstance(v, str) for v in metadata.values()):
        raise SerializationError(f"{name}: bad header: __metadata__ must map strings to strings")
    entries = {}
    data_len = None if total is None else total - 8 - n
    for key, info in header.items():
        try:
            st, shape, (begin, end) = info["dtype"], info["shape"], info["data_offsets"]
            shape = tuple(int(s) for s in shape)
            begin, end = int(begin), int(end)
            if any(s < 0 for s in shape) or not 0 <= begin <= end:
                raise ValueError("negative size or offset")
        except (KeyError, TypeError, ValueError) as e:
            raise SerializationError(f"{name}: bad header: malformed entry for tensor {key!r}: {info!r} ({e})") from None
        if st not in _ST_TO_NP:
            what = "complex" if st.startswith("C") else "unsupported"
            raise SerializationError(f"{name}: tensor {key!r} has dtype {st}, which nerve cannot represent ({what}); "
                                     f"supported: {', '.join(_ST_TO_NP)}")
        need = int(np.prod(shape, dtype=np.int64)) * np.dtype(_ST_TO_NP[st]).itemsize
        if end - begin != need:
            raise SerializationError(f"{name}: bad header: tensor {key!r} of dtype {st} and shape {list(shape)} needs "
                                     f"{need} bytes, but its data_offsets [{begin}, {end}] span {end - begin}")
        if data_len is not None and end > data_len:
            raise SerializationError(
                f"{name}: truncated data: tensor {key!r} needs bytes up to {end} of the data section, but the file "
                f"has only {max(data_len, 0)} (file size {total} bytes, expected at least {8 + n + end})")
        entries[key] = (st, shape, begin, end)
    return entries, metadata, 8 + n


def _read_exact(fh, n: int) -> bytes:
    chunks, got = [], 0
    while got < n:
        b = fh.read(n - got)
        if not b:
            break
        chunks.append(b)
        got += len(b)
    return b"".join(chunks)


def _readinto_exact(fh, mv) -> int:
    got, n = 0, len(mv)
    readinto = getattr(fh, "readinto", None)
    while got < n:
        if readinto is not None:
            k = readinto(mv[got:])
        else:
            b = fh.read(n - got)
            k = len(b)
            mv[got:got + k] = b
        if not k:
            break
        got += k
    return got


def _finish_array(st: str, arr: np.ndarray) -> np.ndarray:
    if st == "BF16":  # the upper half of a float32
        return (arr.astype(np.uint32) << 16).view(np.float32)
    if st in _WIDEN:
        return arr.astype(_WIDEN[st])
    return arr


def _read_arrays(fh, entries: dict, name: str, skip, mmap_path=None, data_start=0) -> dict:
    """Read every tensor of ``entries`` (sequentially, each into its own writable array)."""
    arrays = {}
    pos = 0
    for key, (st, shape, begin, end) in sorted(entries.items(), key=lambda kv: kv[1][2]):
        npd = np.dtype(_ST_TO_NP[st])
        if mmap_path is not None and end > begin:
            # Copy-on-write: pages are read on first touch; writes stay private to this process.
            arr = np.memmap(mmap_path, dtype=npd, mode="c", offset=data_start + begin,
                            shape=shape).view(np.ndarray)
        else:
            arr = np.empty(shape, dtype=npd)
            if end > begin:
                if begin < pos:  # overlapping data: the format forbids it
                    raise SerializationError(f"{name}: bad header: data of tensor {key!r} overlaps another tensor")
                if begin > pos:
                    skip(begin - pos)
                got = _readinto_exact(fh, memoryview(arr.reshape(-1).view(np.uint8)))
                if got < end - begin:
                    raise SerializationError(f"{name}: truncated data: tensor {key!r} needs {end - begin} bytes, only "
                                             f"{got} were left in the file")
                pos = end
        arrays[key] = _finish_array(st, arr)
    return {k: arrays[k] for k in entries}  # header order


def _read_safetensors(f, who: str = "nerve.load", mmap: bool = False):
    """``(arrays, metadata)`` from a safetensors path or binary file object, validated."""
    if isinstance(f, (str, bytes, os.PathLike)):
        path = os.fsdecode(f)
        name = f"{who}: {path!r}"
        if os.path.isdir(path):
            raise IsADirectoryError(f"{name} is a directory, not a file (a training checkpoint is read with "
                                    "nerve.train.checkpoint.load_checkpoint)")
        with open(path, "rb") as fh:
            total = os.fstat(fh.fileno()).st_size
            entries, metadata, start = _parse_header(fh, name, total)
            arrays = _read_arrays(fh, entries, name, lambda k: fh.seek(k, io.SEEK_CUR),
                                  path if mmap else None, start)
        return arrays, metadata
    if mmap:
        raise ValueError(f"{who}: mmap=True needs a file path, not a file object")
    if not hasattr(f, "read"):
        raise TypeError(f"{who}: expected a path (str or os.PathLike) or a binary file object, got "
                        f"{type(f).__name__}")
    name = f"{who}: {_describe(f)}"
    total = None
    with contextlib.suppress(AttributeError, OSError, ValueError, io.UnsupportedOperation):
        if f.seekable():
            here = f.tell()
            total = f.seek(0, io.SEEK_END) - here
            f.seek(here)

    def skip(k):
        if _read_exact(f, k).__len__() < k:
            raise SerializationError(f"{name}: truncated data")
    entries, metadata, _ = _parse_header(f, name, total)
    return _read_arrays(f, entries, name, skip), metadata


# ---------------------------------------------------------------------------------------------
# Devices
# ---------------------------------------------------------------------------------------------
def _make_placer(map_location, who: str):
    """``place(array, saved_device) -> array`` following torch.load's ``map_location`` rules."""

    def to(arr, dev):
        dev = backend.device(dev)
        if dev.type == "cuda" and not backend.cuda_available():
            raise RuntimeError(f"{who}: attempting to deserialize a tensor on a CUDA device but "
                               "nerve.cuda.is_available() is False. If you are running on a CPU-only machine, "
                               "use nerve.load with map_location='cpu' to map your tensors to the CPU.")
        return backend.to_device(arr, dev)

    if map_location is None:
        return to
    if isinstance(map_location, (str, backend.device)):
        target = backend.device(map_location)
        return lambda arr, saved: to(arr, target)
    if isinstance(map_location, dict):
        def place(arr, saved):
            target = map_location.get(saved, map_location.get(backend.device(saved).type, saved))
            return to(arr, target)
        return place
    if callable(map_location):
        def place(arr, saved):
            out = map_location(wrap(arr), saved)
            if out is None:
                return to(arr, saved)
            return out._data if isinstance(out, Tensor) else out
        return place
    raise TypeError(f"{who}: map_location must be None, a str, a nerve.device, a dict or a callable, got "
                    f"{type(map_location).__name__}")


# ---------------------------------------------------------------------------------------------
# Public API
# ---------------------------------------------------------------------------------------------
def save(obj, f, pickle_module=None, pickle_protocol=2, _use_new_zipfile_serialization=True,
         _disable_byteorder_record=False) -> None:
    """Save tensors, a state dict or plain containers of them to a safetensors file (``torch.save``).

    Args:
        obj: a Tensor, a state dict (``model.state_dict()``, ``optimizer.state_dict()``), or dicts /
            lists / tuples of tensors, NumPy arrays and None/bool/int/float/str. Modules and other
            objects are refused: nerve never pickles (save their ``state_dict()``).
        f: a path (str / os.PathLike), written atomically, or a binary file object (``io.BytesIO``).
        pickle_module, pickle_protocol: accepted for compatibility with ``torch.save``; ignored.

    dtypes, shapes (0-d and empty included) and non-contiguous tensors are kept; a tensor that
    appears twice (tied weights) is stored once. A flat state dict's tensors keep their own keys, so
    ``safetensors.torch.load_file`` reads the file as a state dict.

    Example:
        >>> nerve.save(model.state_dict(), "model.safetensors")
        >>> model.load_state_dict(nerve.load("model.safetensors"))
    """
    skeleton, tensors = _encode(obj, "nerve.save")
    metadata = {_META_FORMAT: "pt", _META_VERSION: str(FORMAT_VERSION), _META_STRUCTURE: _dumps(skeleton)}
    if isinstance(f, (str, bytes, os.PathLike)):
        _write_safetensors(os.fsdecode(f), tensors, metadata)
        return
    if not hasattr(f, "write"):
        raise TypeError(f"nerve.save: f must be a path (str or os.PathLike) or a binary file object, got "
                        f"{type(f).__name__}")
    f.write(_import_safetensors().save(tensors, metadata=metadata))
    with contextlib.suppress(AttributeError, OSError, ValueError, io.UnsupportedOperation):
        f.flush()


def load(f, map_location=None, pickle_module=None, *, weights_only=True, mmap=None, **pickle_load_args):
    """Load an object saved by ``nerve.save``, or any safetensors file (``torch.load``).

    Args:
        f: a path (str / os.PathLike) or a binary file object.
        map_location: where tensors go: None (where they were saved), ``'cpu'``, ``'cuda'``, a
            ``nerve.device``, a dict ``{'cuda:0': 'cpu'}``, or ``fn(tensor, saved_location)``.
        weights_only: accepted for compatibility; nerve always loads as ``weights_only=True`` does,
            and more strictly: files never run code, whatever this says.
        mmap: with a path, map the file and read tensor pages lazily (copy-on-write).
        pickle_module, pickle_load_args: accepted for compatibility with ``torch.load``; ignored.

    Returns:
        the saved object with nerve Tensors in it; a safetensors file written by another tool loads as
        a dict ``{name: Tensor}``.

    Raises:
        SerializationError (a RuntimeError): corrupt or truncated files, a PyTorch ``.pt`` pickle
            (with how to convert it), or a file from a newer nerve.
        FileNotFoundError: ``f`` does not exist.
    """
    who = "nerve.load"
    arrays, metadata = _read_safetensors(f, who, bool(mmap))
    name = f"{who}: {_describe(f)}"
    place = _make_placer(map_location, who)
    if _META_STRUCTURE not in metadata:  # a plain safetensors file
        return {k: wrap(place(a, "cpu")) for k, a in arrays.items()}
    try:
        version = int(metadata.get(_META_VERSION, "1"))
    except ValueError:
        raise SerializationError(f"{name}: bad metadata: {_META_VERSION}={metadata[_META_VERSION]!r}") from None
    if version > FORMAT_VERSION:
        raise SerializationError(f"{name}: version mismatch: the file was written by a newer nerve (format "
                                 f"version {version}; this nerve reads up to {FORMAT_VERSION}): upgrade nerve")
    try:
        skeleton = json.loads(metadata[_META_STRUCTURE])
    except json.JSONDecodeError as e:
        raise SerializationError(f"{name}: bad metadata: {_META_STRUCTURE} is not valid JSON ({e})") from None
    return _decode(skeleton, arrays, name, place)
