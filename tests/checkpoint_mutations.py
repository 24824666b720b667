"""Hand-made and mutated checkpoints, for the loading-safety tests and ``tools/fuzz_checkpoints.py``.

``craft`` writes a zip checkpoint holding one ``_rebuild_tensor_v2`` call with any sizes, strides, offset
and declared storage size over a record of any bytes (what a hostile file can say).  ``MUTATIONS`` turn a
valid checkpoint into a damaged one, driven by a ``random.Random``.
"""
import io
import pickle
import struct
import warnings
import zipfile

import numpy as np

import ember


def load_outcome(lib, data, **kwargs):
    """('ok', result) or (exception type, message) of ``lib.load`` (ember or torch) on the bytes ``data``."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return "ok", lib.load(io.BytesIO(data), **kwargs)
    except Exception as exc:  # noqa: BLE001 - the type is what is compared
        return type(exc), str(exc)


def _body(obj):
    """The opcodes that push ``obj`` (a protocol-2 pickle without its PROTO and STOP)."""
    return pickle.dumps(obj, protocol=2)[2:-1]


def tensor_pickle(size, stride, offset, numel, key="0", storage="FloatStorage", requires_grad=False):
    """data.pkl of ``_rebuild_tensor_v2(storage(key, numel), offset, size, stride, requires_grad, {})``."""
    pid = (b"(" + _body("storage") + f"ctorch\n{storage}\n".encode() + _body(key) + _body("cpu") + _body(numel)
           + b"tQ")
    return (b"\x80\x02ctorch._utils\n_rebuild_tensor_v2\n(" + pid + _body(offset) + _body(tuple(size))
            + _body(tuple(stride)) + _body(requires_grad) + b"ccollections\nOrderedDict\n)Rt" + b"R.")


def archive(members, compression=zipfile.ZIP_STORED):
    """A zip file holding ``members`` ({name: bytes}) under the folder ``archive/``, plus ``version``."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=compression) as z:
        for name, data in members.items():
            z.writestr(f"archive/{name}", data)
        if "version" not in members:
            z.writestr("archive/version", "3\n")
    return buf.getvalue()


def craft(size, stride, offset, numel, record, **kwargs):
    """A checkpoint of one tensor with these (unchecked) fields over the record bytes ``record``."""
    return archive({"data.pkl": tensor_pickle(size, stride, offset, numel, **kwargs), "data/0": record})


def members_of(data):
    z = zipfile.ZipFile(io.BytesIO(data))
    return {n[len("archive/"):] if n.startswith("archive/") else n: z.read(n) for n in z.namelist()}


def _renamed(data, rng):
    """Every member moved to a top folder of another name (PyTorch names the folder after the file)."""
    z = zipfile.ZipFile(io.BytesIO(data))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as out:
        for n in z.namelist():
            out.writestr(f"other/{n.partition('/')[2]}", z.read(n))
    return buf.getvalue()


def _flip(blob, rng, count):
    blob = bytearray(blob)
    for _ in range(count):
        if blob:
            blob[rng.randrange(len(blob))] = rng.randrange(256)
    return bytes(blob)


def flip_pickle(data, rng):
    """Random bytes of data.pkl replaced (the zip stays valid)."""
    m = members_of(data)
    m["data.pkl"] = _flip(m["data.pkl"], rng, rng.randint(1, 4))
    return archive(m)


def _change_a_record(data, rng, change):
    m = members_of(data)
    keys = sorted(k for k in m if k.startswith("data/"))
    if keys:
        k = rng.choice(keys)
        m[k] = change(m[k])
    return archive(m)


def flip_record(data, rng):
    """Random bytes of one storage record replaced (the zip stays valid)."""
    return _change_a_record(data, rng, lambda rec: _flip(rec, rng, rng.randint(1, 4)))


def resize_record(data, rng):
    """One storage record cut short or extended."""
    return _change_a_record(data, rng, lambda rec: rec[:rng.randrange(len(rec) + 1)] if rng.random() < 0.5
                            else rec + bytes(rng.randint(1, 9)))


def flip_file(data, rng):
    """Random bytes anywhere in the file (headers, directory, CRCs)."""
    return _flip(data, rng, rng.randint(1, 8))


def remove_member(data, rng):
    m = members_of(data)
    del m[rng.choice(sorted(m))]
    return archive(m)


def rename_member(data, rng):
    m = members_of(data)
    k = rng.choice(sorted(m))
    m[k + rng.choice(["x", "/0", ".bak"])] = m.pop(k)
    return archive(m) if rng.random() < 0.7 else _renamed(data, rng)


def truncate(data, rng):
    """The file cut at k/16 of its length, 1 <= k <= 15."""
    return data[:len(data) * rng.randint(1, 15) // 16]


def _set_declared_size(data, index, size):
    """``data`` with the uncompressed size of member number ``index`` set to ``size`` in both its headers."""
    blob = bytearray(data)
    z = zipfile.ZipFile(io.BytesIO(data))
    pos = z.start_dir
    for i, info in enumerate(z.infolist()):
        name_len, extra_len, comment_len = struct.unpack_from("<HHH", blob, pos + 28)
        if i == index:
            struct.pack_into("<I", blob, pos + 24, size)
            struct.pack_into("<I", blob, info.header_offset + 22, size)
        pos += 46 + name_len + extra_len + comment_len
    return bytes(blob)


def declare_huge(data, rng):
    """A zip bomb by declared size: a member's uncompressed size in its headers set to a huge value."""
    count = len(zipfile.ZipFile(io.BytesIO(data)).infolist())
    return _set_declared_size(data, rng.randrange(count),
                              rng.choice([2 ** 31, 2 ** 32 - 2, 10 ** 9, rng.randrange(2 ** 32)]))


def deflate_bomb(data, rng):
    """A storage declaring 10**9 floats whose record is a few deflated bytes declaring the same 4 GB:
    loading must refuse it before inflating anything."""
    numel = 10 ** 9
    small = archive({"data.pkl": tensor_pickle((numel,), (1,), 0, numel), "data/0": bytes(4096)},
                    compression=zipfile.ZIP_DEFLATED)
    return _set_declared_size(small, 1, numel * 4)


def _wild_int(rng):
    return rng.choice([rng.randint(-3, 8), rng.randint(0, 64), rng.choice([0, 1, 2 ** 31, 2 ** 62, 10 ** 8, -2 ** 40])])


def random_tensor_record(data, rng):
    """A new checkpoint whose one tensor has random sizes, strides, offset and declared storage size over a
    random-length record (``data`` is not used)."""
    ndim = rng.randint(0, 4)
    numel = rng.choice([rng.randint(0, 16), _wild_int(rng)])
    length = max(0, rng.choice([numel * 4, numel * 4, rng.randint(0, 70)]))
    return craft([_wild_int(rng) for _ in range(ndim)], [_wild_int(rng) for _ in range(ndim)], _wild_int(rng),
                 numel, bytes(rng.randrange(256) for _ in range(min(length, 4096))))


def flip_legacy(data, rng):
    """Random bytes replaced in a legacy (non-zip) checkpoint."""
    return _flip(data, rng, rng.randint(1, 6))


ZIP_MUTATIONS = [flip_pickle, flip_record, resize_record, flip_file, remove_member, rename_member, truncate,
                 declare_huge, deflate_bomb, random_tensor_record]
LEGACY_MUTATIONS = [flip_legacy, truncate]


def base_checkpoints():
    """Valid checkpoints to mutate: {"zip": ember's zip format, "legacy": PyTorch's legacy format}."""
    import torch
    t = ember.arange(12.0)
    zip_buf, legacy_buf = io.BytesIO(), io.BytesIO()
    ember.save({"t": t, "view": t[2:8].view(2, 3), "sd": ember.nn.Linear(3, 2).state_dict(),
                "meta": [1, "a", {2.5}, b"raw"]}, zip_buf)
    tt = torch.arange(12.0)
    torch.save({"t": tt, "view": tt[2:8].view(2, 3), "i": torch.arange(3)}, legacy_buf,
               _use_new_zipfile_serialization=False)
    return {"zip": zip_buf.getvalue(), "legacy": legacy_buf.getvalue()}


def record_bytes(values, dtype=np.float32):
    return np.asarray(values, dtype=dtype).tobytes()


def assert_within_storages(obj, seen=None):
    """Every tensor in ``obj`` lies inside the memory of the array that owns its data (no read past a record)."""
    seen = set() if seen is None else seen
    if id(obj) in seen:
        return
    seen.add(id(obj))
    if isinstance(obj, ember.Tensor):
        arr = obj._data
        owner = arr
        while isinstance(owner.base, np.ndarray):
            owner = owner.base
        if arr.size:
            lo, hi = np.lib.array_utils.byte_bounds(arr)
            own_lo, own_hi = np.lib.array_utils.byte_bounds(owner)
            assert own_lo <= lo and hi <= own_hi and owner.flags.owndata
        return
    if isinstance(obj, dict):
        obj = list(obj.keys()) + list(obj.values())
    if isinstance(obj, (list, tuple, set, frozenset)):
        for item in obj:
            assert_within_storages(item, seen)
