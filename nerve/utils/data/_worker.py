"""What runs inside a DataLoader worker process, and the fetchers shared with single-process loading.

A worker takes ``(task_id, indices)`` from its index queue, fetches and collates the batch, and
puts ``(task_id, batch)`` on the shared result queue. Exceptions travel back as an
:class:`ExceptionWrapper` carrying the worker's formatted traceback, and are re-raised by the main
process. ``None`` on the index queue tells a worker to exit; a worker also exits when its parent
process disappears, so it can never outlive the program that started it.
"""
from __future__ import annotations

import os
import pickle
import queue
import random
import sys
import traceback
from dataclasses import dataclass

import numpy as np

MP_STATUS_CHECK_INTERVAL = 5.0  # seconds between liveness checks while waiting on a queue
_IDLE_POLL = 0.2  # seconds an idle worker waits for a task before checking whether it should exit

_worker_info = None


@dataclass(frozen=True)
class WorkerInfo:
    """What a worker process knows about itself (see :func:`get_worker_info`).

    Attributes:
        id: this worker's id, in ``[0, num_workers)``.
        num_workers: the number of workers.
        seed: the seed this worker's RNGs (``random``, NumPy's global RNG, nerve's default
            generator) were seeded with: ``base_seed + id``.
        dataset: this process's copy of the dataset.
    """

    id: int
    num_workers: int
    seed: int
    dataset: object


def get_worker_info():
    """Information about the current DataLoader worker process, or None in the main process.

    Use it in an ``IterableDataset.__iter__`` or a ``worker_init_fn`` to split work between workers.

    Example:
        >>> def __iter__(self):
        ...     info = get_worker_info()
        ...     start, step = (0, 1) if info is None else (info.id, info.num_workers)
        ...     return iter(self.items[start::step])
    """
    return _worker_info


class ExceptionWrapper:
    """An exception (type and formatted traceback text) to be re-raised in another process."""

    def __init__(self, exc_info=None, where: str = "in background"):
        if exc_info is None:
            exc_info = sys.exc_info()
        self.exc_type = exc_info[0]
        self.exc_name = exc_info[0].__name__
        self.exc_msg = "".join(traceback.format_exception(*exc_info))
        self.where = where

    def __getstate__(self):
        state = self.__dict__.copy()
        try:  # an exception class defined inside a function cannot be pickled: send a RuntimeError
            pickle.dumps(self.exc_type)
        except Exception:
            state["exc_type"] = RuntimeError
        return state

    def reraise(self):
        msg = f"Caught {self.exc_name} {self.where}.\nOriginal {self.exc_msg}"
        if self.exc_type is KeyError:
            msg = _KeyErrorMessage(msg)
        try:
            exception = self.exc_type(msg)
        except Exception:
            raise RuntimeError(msg) from None
        raise exception


class _KeyErrorMessage(str):
    """KeyError repr()s its argument; this keeps the traceback text readable."""

    def __repr__(self):
        return self


@dataclass(frozen=True)
class _IterableDatasetStopIteration:
    worker_id: int


@dataclass(frozen=True)
class _ResumeIteration:
    seed: int | None = None


class _MapDatasetFetcher:
    """Fetches a sample, or a batch of samples and collates it, from a map-style dataset."""

    def __init__(self, dataset, auto_collation, collate_fn, drop_last):
        from ._collate import default_collate
        self.dataset = dataset
        self.auto_collation = auto_collation
        self.collate_fn = collate_fn
        self.drop_last = drop_last
        getbatch = getattr(dataset, "__getbatch__", None)
        self._getbatch = getbatch if (auto_collation and collate_fn is default_collate and callable(getbatch)) else None
        getitems = getattr(dataset, "__getitems__", None)
        self._getitems = getitems if callable(getitems) else None

    def fetch(self, possibly_batched_index):
        if self.auto_collation:
            if self._getbatch is not None:
                out = self._getbatch(possibly_batched_index)
                if out is not NotImplemented:
                    return out
            if self._getitems is not None:
                data = self._getitems(possibly_batched_index)
            else:
                data = [self.dataset[idx] for idx in possibly_batched_index]
        else:
            data = self.dataset[possibly_batched_index]
        return self.collate_fn(data)


class _IterableDatasetFetcher:
    """Pulls samples from an iterable dataset's iterator, batching them when auto-collation is on."""

    def __init__(self, dataset, auto_collation, collate_fn, drop_last):
        self.dataset = dataset
        self.auto_collation = auto_collation
        self.collate_fn = collate_fn
        self.drop_last = drop_last
        self.dataset_iter = iter(dataset)
        self.ended = False

    def fetch(self, possibly_batched_index):
        if self.ended:
            raise StopIteration
        if self.auto_collation:
            data = []
            for _ in possibly_batched_index:
                try:
                    data.append(next(self.dataset_iter))
                except StopIteration:
                    self.ended = True
                    break
            if len(data) == 0 or (self.drop_last and len(data) < len(possibly_batched_index)):
                raise StopIteration
        else:
            data = next(self.dataset_iter)
        return self.collate_fn(data)


def create_fetcher(is_iterable, dataset, auto_collation, collate_fn, drop_last):
    cls = _IterableDatasetFetcher if is_iterable else _MapDatasetFetcher
    return cls(dataset, auto_collation, collate_fn, drop_last)


def _generate_state(base_seed: int, worker_id: int):
    """Four 32-bit words seeding NumPy's global RNG in a worker (PyTorch's SeedSequence-style mix)."""
    ss = np.random.SeedSequence([worker_id, base_seed & 0xFFFFFFFF, base_seed >> 32])
    return ss.generate_state(4)


def _seed_worker(seed: int, base_seed: int, worker_id: int):
    from ...backend.random import manual_seed
    random.seed(seed)
    manual_seed(seed)
    np.random.seed(_generate_state(base_seed, worker_id))


def _dumps(obj) -> bytes:
    from multiprocessing.reduction import ForkingPickler
    return bytes(ForkingPickler.dumps(obj, pickle.HIGHEST_PROTOCOL))


def _worker_loop(is_iterable, dataset, index_queue, data_queue, done_event, auto_collation, collate_fn,
                 drop_last, base_seed, init_fn, worker_id, num_workers, persistent_workers):
    global _worker_info
    try:
        seed = base_seed + worker_id
        _seed_worker(seed, base_seed, worker_id)
        _worker_info = WorkerInfo(id=worker_id, num_workers=num_workers, seed=seed, dataset=dataset)
        init_exception = None
        fetcher = None
        try:
            if init_fn is not None:
                init_fn(worker_id)
            fetcher = create_fetcher(is_iterable, dataset, auto_collation, collate_fn, drop_last)
        except Exception:
            init_exception = ExceptionWrapper(where=f"in DataLoader worker process {worker_id}")
        iteration_end = False
        parent = os.getppid()
        while True:
            try:
                r = index_queue.get(timeout=_IDLE_POLL)
            except queue.Empty:
                # The main process died (nobody will read our results), or it is shutting us down
                # but its None could not be sent (its queue was finalised first by the garbage collector).
                if os.getppid() != parent or done_event.is_set():
                    break
                continue
            if isinstance(r, _ResumeIteration):
                data_queue.put((r, None))
                iteration_end = False
                try:
                    fetcher = create_fetcher(is_iterable, dataset, auto_collation, collate_fn, drop_last)
                except Exception:
                    init_exception = ExceptionWrapper(where=f"in DataLoader worker process {worker_id}")
                continue
            if r is None:
                break
            if done_event.is_set() or iteration_end:
                continue
            idx, index = r
            if init_exception is not None:
                data = init_exception
                init_exception = None
            else:
                try:
                    data = fetcher.fetch(index)
                except Exception as e:
                    if isinstance(e, StopIteration) and is_iterable:
                        data = _IterableDatasetStopIteration(worker_id)
                        iteration_end = True
                    else:
                        data = ExceptionWrapper(where=f"in DataLoader worker process {worker_id}")
            # Pickled here, not in the queue's feeder thread, so an unpicklable batch is reported
            # to the main process instead of being dropped (which would leave it waiting forever).
            try:
                payload = _dumps(data)
            except Exception:
                payload = _dumps(ExceptionWrapper(where=f"in DataLoader worker process {worker_id} (while "
                                                        "pickling the batch to send it to the main process)"))
            data_queue.put((idx, payload))
            del data, idx, index, r, payload
    except KeyboardInterrupt:
        pass
    if done_event.is_set():
        data_queue.cancel_join_thread()
        data_queue.close()
