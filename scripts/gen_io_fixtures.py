#!/usr/bin/python3
"""Files other tools write, for the tests of tapegrad's readers (core/src/io/), and the check of
files tapegrad writes.

Run by hand with Debian's python3-torch (1.13) and python3-numpy when a case is added:
    /usr/bin/python3 scripts/gen_io_fixtures.py
writes tests/reference/io/: the fixtures and expected.json (each file's tensors by name, with
their loaded dtype, shape and values: floats as float.hex() text so NaN, infinities and -0.0
survive JSON, integers as numbers). Commit them; the tests never need Python.

    /usr/bin/python3 scripts/gen_io_fixtures.py --check DIR
reads the files a tapegrad test left in DIR (written by tapegrad's savers) with NumPy and the
safetensors layout, compares them with DIR/expected.json, and prints one line per file.
"""
import json
import os
import struct
import sys

import numpy as np
import io
import pickle
import zipfile

import torch

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "reference", "io")


def values(a):
    """The values a tapegrad load should see: integers as ints, floats as hex text."""
    a = np.asarray(a)
    if a.dtype.kind in "biu":
        return [int(v) for v in a.reshape(-1, order="C").tolist()]
    return [float(v).hex() for v in a.astype(np.float64).reshape(-1, order="C").tolist()]


def loaded_dtype(a):
    kind, size = np.asarray(a).dtype.kind, np.asarray(a).dtype.itemsize
    if kind in "biu":
        return "int64"
    return "float64" if size == 8 else "float32"


def entry(a):
    a = np.asarray(a)
    return {"dtype": loaded_dtype(a), "shape": list(a.shape), "values": values(a)}


def sample(dtype, shape=(2, 3)):
    """Distinct values of the dtype, with its edge cases where it has them."""
    n = int(np.prod(shape))
    dt = np.dtype(dtype)
    if dt.kind == "b":
        v = np.array([(i * 7) % 3 == 0 for i in range(n)])
    elif dt.kind in "iu":
        info = np.iinfo(dt)
        v = np.array([info.min, info.max] + [(i * 37) % 101 - (0 if dt.kind == "u" else 50)
                                             for i in range(n - 2)][:max(n - 2, 0)])[:n]
    else:
        v = np.array([-0.0, np.inf, -np.inf, np.nan] + [(i - 3) * 0.37 for i in range(n - 4)])[:n]
        if n < 4:
            v = np.array([(i - 1) * 0.37 for i in range(n)])
    return v.astype(dt).reshape(shape)


def npy_cases(expected):
    cases = {}
    for code in ["<f4", "<f8", "<f2", "<i8", "<i4", "<i2", "<u2", "<u4", "|i1", "|u1", "|b1",
                 ">f8", ">f4", ">i4", ">f2", ">i8"]:
        name = "npy_%s%s.npy" % ({"<": "le", ">": "be", "|": ""}[code[0]], code[1:])
        cases[name] = sample(code)
    cases["npy_fortran_f4.npy"] = np.asfortranarray(sample("<f4", (2, 3, 2)))
    cases["npy_scalar_f8.npy"] = np.array(2.5, dtype="<f8")
    cases["npy_empty_f4.npy"] = np.zeros((0, 3), dtype="<f4")
    cases["npy_1d_i8.npy"] = np.arange(5, dtype="<i8") - 2
    for name, a in cases.items():
        np.save(os.path.join(OUT, name), a)
        expected[name] = {"array": entry(a)}
    # Format versions 2.0 and 3.0 (NumPy writes them for huge or non-latin-1 headers).
    for version in [(2, 0), (3, 0)]:
        name = "npy_v%d.npy" % version[0]
        a = sample("<f4", (3, 2))
        with open(os.path.join(OUT, name), "wb") as f:
            np.lib.format.write_array(f, a, version=version)
        expected[name] = {"array": entry(a)}
    # .npz, stored and deflated; the names keep NumPy's order.
    arrays = {"weight": sample("<f4", (3, 4)), "step": np.array(7, dtype="<i8"),
              "mask": sample("|b1", (5,))}
    np.savez(os.path.join(OUT, "arrays.npz"), **arrays)
    np.savez_compressed(os.path.join(OUT, "arrays_compressed.npz"), **arrays)
    for name in ["arrays.npz", "arrays_compressed.npz"]:
        expected[name] = {k: entry(v) for k, v in arrays.items()}


SAFE_DTYPES = {"F32": "<f4", "F64": "<f8", "F16": "<f2", "I64": "<i8", "I32": "<i4",
               "I16": "<i2", "U16": "<u2", "U32": "<u4", "I8": "|i1", "U8": "|u1",
               "BOOL": "|b1"}


def write_safetensors(path, tensors, metadata=None):
    """The format's layout, as Hugging Face's writer produces it (no library needed):
    u64 header size, JSON header padded with spaces to 8 bytes, then the bytes in order."""
    header, blobs, at = {}, [], 0
    if metadata:
        header["__metadata__"] = metadata
    for name, (dtype, raw, shape) in tensors.items():
        header[name] = {"dtype": dtype, "shape": list(shape), "data_offsets": [at, at + len(raw)]}
        blobs.append(raw)
        at += len(raw)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))


def bf16_bytes(values):
    """bfloat16 as the top half of float32's bits (values chosen exact in bfloat16)."""
    f = np.asarray(values, dtype="<f4")
    return (f.view("<u4") >> 16).astype("<u2").tobytes()


def safetensors_cases(expected):
    tensors, exp = {}, {}
    for dtype, code in SAFE_DTYPES.items():
        a = sample(code)
        tensors["t_" + dtype.lower()] = (dtype, a.tobytes(), a.shape)
        exp["t_" + dtype.lower()] = entry(a)
    # The largest finite bfloat16, the smallest normal one and a subnormal, all exact.
    bf = np.array([1.0, -2.5, 0.0078125, -0.0, np.inf, np.nan, 255 * 2.0 ** 120, 2.0 ** -126,
                   2.0 ** -130], dtype="<f4")
    assert (np.frombuffer(bf16_bytes(bf), "<u2").astype("<u4") << 16).view("<f4").tobytes() \
        == bf.tobytes()
    tensors["t_bf16"] = ("BF16", bf16_bytes(bf), (3, 3))
    exp["t_bf16"] = entry(bf.reshape(3, 3))
    s = np.array(1.25, dtype="<f8")
    tensors["scalar"] = ("F64", s.tobytes(), ())
    exp["scalar"] = entry(s)
    tensors["empty"] = ("F32", b"", (0, 4))
    exp["empty"] = entry(np.zeros((0, 4), dtype="<f4"))
    write_safetensors(os.path.join(OUT, "tensors.safetensors"), tensors,
                      {"format": "pt", "source": "gen_io_fixtures.py"})
    expected["tensors.safetensors"] = exp


def tensor_entry(t):
    """What tapegrad loads for a torch tensor: bool and integers as int64, float16 and bfloat16
    widened to float32."""
    if t.dtype in (torch.float16, torch.bfloat16):
        t = t.float()
    if t.dtype == torch.bool:
        t = t.long()
    return entry(t.contiguous().numpy())


def torch_module_cases():
    """A state dict of each tapegrad module type, with torch's names, shapes and buffers."""
    torch.manual_seed(5)
    net = torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.Conv2d(1, 2, 3),
                              torch.nn.BatchNorm2d(2), torch.nn.LayerNorm(4),
                              torch.nn.Embedding(5, 3), torch.nn.Conv1d(2, 3, 2),
                              torch.nn.BatchNorm1d(3), torch.nn.GroupNorm(1, 2))
    net[2].train()
    net[2](torch.randn(4, 2, 3, 3))  # running statistics that are not the defaults
    return net.state_dict()


def torch_cases(expected):
    torch.manual_seed(3)
    files = {}
    sd = torch_module_cases()
    files["modules.pt"] = (sd, {k: tensor_entry(v) for k, v in sd.items()})
    # Every dtype torch stores, 0-d and empty tensors.
    dtypes = {}
    for name, dt in [("f32", torch.float32), ("f64", torch.float64), ("f16", torch.float16),
                     ("bf16", torch.bfloat16), ("i64", torch.int64), ("i32", torch.int32),
                     ("i16", torch.int16), ("i8", torch.int8), ("u8", torch.uint8),
                     ("bool", torch.bool)]:
        if dt.is_floating_point:
            v = torch.tensor([[-0.0, float("inf"), float("-inf")], [float("nan"), 1.5, -0.375]])
        elif dt == torch.bool:
            v = torch.tensor([[True, False, True], [False, False, True]])
        else:
            info = torch.iinfo(dt)
            v = torch.tensor([[info.min, info.max, 0], [1, -1 if info.min < 0 else 2, 7]])
        dtypes[name] = v.to(dt)
    dtypes["scalar"] = torch.tensor(2.5, dtype=torch.float64)
    dtypes["empty"] = torch.zeros(0, 3)
    files["dtypes.pt"] = (dtypes, {k: tensor_entry(v) for k, v in dtypes.items()})
    # Views: offsets, strides, several tensors sharing one storage, a parameter.
    base = torch.arange(24, dtype=torch.float32).reshape(4, 6) * 0.5
    views = {"whole": base, "row": base[1], "column": base[:, 2], "transposed": base.t(),
             "block": base[1:3, 2:5], "every_other": base[:, ::2], "tied": base,
             "param": torch.nn.Parameter(torch.ones(2, 2) * 3)}
    files["views.pt"] = (views, {k: tensor_entry(v.detach()) for k, v in views.items()})
    # A checkpoint: dicts of dicts, an optimizer's state dict (int keys, floats, None, bools,
    # tuples, lists), numbers and strings.
    lin = torch.nn.Linear(2, 2)
    opt = torch.optim.Adam(lin.parameters(), lr=0.01)
    lin(torch.randn(3, 2)).pow(2).sum().backward()
    opt.step()
    ckpt = {"model": lin.state_dict(), "optimizer": opt.state_dict(), "epoch": 7,
            "loss": 0.125, "name": "run-1", "big": 1 << 40, "negative": -3}
    exp = {"model." + k: tensor_entry(v) for k, v in lin.state_dict().items()}
    for pid, state in opt.state_dict()["state"].items():
        for k, v in state.items():
            exp["optimizer.state.%d.%s" % (pid, k)] = tensor_entry(v)
    files["checkpoint.pt"] = (ckpt, exp)
    for name, (obj, exp) in files.items():
        torch.save(obj, os.path.join(OUT, name))
        expected[name] = exp
    # Protocol 4 (framing, memoize, short strings), as torch.save(..., pickle_protocol=4) writes.
    torch.save(sd, os.path.join(OUT, "modules_protocol4.pt"), pickle_protocol=4)
    expected["modules_protocol4.pt"] = files["modules.pt"][1]
    hostile_torch_cases()


class _Global:
    """Pickles as a reference to module.name called with args (what a hostile file holds)."""

    def __init__(self, fn, args):
        self.fn, self.args = fn, args

    def __reduce__(self):
        return self.fn, self.args


def _entry(name):
    """A zip entry with a fixed date, so regenerating leaves the fixtures' bytes unchanged."""
    return zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))


def _torch_zip(path, pickle_bytes, records, version=b"3\n"):
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as z:
        z.writestr(_entry("archive/data.pkl"), pickle_bytes)
        for k, v in records.items():
            z.writestr(_entry("archive/data/" + k), v)
        if version is not None:
            z.writestr(_entry("archive/version"), version)


class _StorageRef:
    def __init__(self, storage_type, key, numel):
        self.pid = ("storage", storage_type, key, "cpu", numel)


class _TensorPickler(pickle.Pickler):
    def persistent_id(self, obj):
        return obj.pid if isinstance(obj, _StorageRef) else None


def _tensor_pickle(storage, offset, size, stride):
    """A dict {'t': tensor} rebuilt by _rebuild_tensor_v2 from chosen (hostile) arguments."""
    import collections
    obj = {"t": _Global(torch._utils._rebuild_tensor_v2,
                        (storage, offset, size, stride, False, collections.OrderedDict()))}
    buf = io.BytesIO()
    _TensorPickler(buf, protocol=2).dump(obj)
    return buf.getvalue()


def hostile_torch_cases():
    """Files torch itself would run or misread; tapegrad must refuse each, naming the fault."""
    import os as _os
    import builtins
    evil = {"os_system.pt": {"x": _Global(_os.system, ("echo pwned",))},
            "builtins_eval.pt": {"x": _Global(builtins.eval, ("1+1",))}}
    for name, obj in evil.items():
        torch.save(obj, os.path.join(OUT, name))
    torch.save(torch.nn.Linear(2, 2), os.path.join(OUT, "whole_module.pt"))
    torch.save({"w": torch.ones(2)}, os.path.join(OUT, "legacy.pt"),
               _use_new_zipfile_serialization=False)
    f32 = torch.FloatStorage
    four = struct.pack("<4f", 1, 2, 3, 4)
    cases = {
        # The record holds 4 floats; the persistent id claims 6 and the tensor reads 6.
        "storage_short.pt": (_tensor_pickle(_StorageRef(f32, "0", 6), 0, (6,), (1,)),
                             {"0": four}),
        # A stride that reads element 4 of a storage of 4.
        "stride_past.pt": (_tensor_pickle(_StorageRef(f32, "0", 4), 0, (2, 2), (4, 1)),
                           {"0": four}),
        # An offset past the storage.
        "offset_past.pt": (_tensor_pickle(_StorageRef(f32, "0", 4), 3, (2,), (1,)),
                           {"0": four}),
        # Sizes whose product overflows int64.
        "size_overflow.pt": (_tensor_pickle(_StorageRef(f32, "0", 4), 0,
                                            (1 << 32, 1 << 32), (0, 0)), {"0": four}),
        # A stride of 0 that would turn 4 bytes into 2^40 elements.
        "stride_zero.pt": (_tensor_pickle(_StorageRef(f32, "0", 1), 0, (1 << 40,), (0,)),
                           {"0": four[:4]}),
        # A storage record that is missing.
        "storage_missing.pt": (_tensor_pickle(_StorageRef(f32, "7", 4), 0, (4,), (1,)),
                               {"0": four}),
    }
    for name, (pkl, records) in cases.items():
        _torch_zip(os.path.join(OUT, name), pkl, records)
    # _rebuild_from_type_v2 asked to call itself (each level could nest another).
    buf = io.BytesIO()
    inner = (torch._utils._rebuild_tensor_v2, torch.Tensor, (), None)
    _TensorPickler(buf, protocol=2).dump(
        {"t": _Global(torch._tensor._rebuild_from_type_v2,
                      (torch._tensor._rebuild_from_type_v2, torch.Tensor, inner, None))})
    _torch_zip(os.path.join(OUT, "rebuild_recursive.pt"), buf.getvalue(), {})
    # Two entries that flatten to one name.
    torch.save({"a.b": torch.ones(1), "a": {"b": torch.zeros(1)}},
               os.path.join(OUT, "name_collision.pt"))
    # A torch.save file re-zipped with deflate (torch never compresses; tapegrad refuses).
    with zipfile.ZipFile(os.path.join(OUT, "views.pt")) as src, \
            zipfile.ZipFile(os.path.join(OUT, "deflated.pt"), "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            dst.writestr(_entry(info.filename), src.read(info.filename),
                         compress_type=zipfile.ZIP_DEFLATED)
    # A zip entry whose zip64 headers claim 2^40 bytes for 16 stored ones (torch 1.13 trusts
    # the claim and allocates it).
    good = _tensor_pickle(_StorageRef(f32, "0", 4), 0, (4,), (1,))
    _zip_with_claim(os.path.join(OUT, "zip_claims_2_40.pt"),
                    [("archive/data.pkl", good, None), ("archive/data/0", four, 1 << 40),
                     ("archive/version", b"3\n", None)])


def _zip_with_claim(path, entries):
    """A stored zip written by hand: each (name, data, claim) entry with a claimed
    uncompressed size in zip64 extra fields when claim is given."""
    import zlib
    local, central = b"", b""
    for name, data, claim in entries:
        name = name.encode()
        crc = zlib.crc32(data)
        offset = len(local)
        if claim is None:
            sizes, extra = struct.pack("<II", len(data), len(data)), b""
        else:
            sizes = struct.pack("<II", 0xFFFFFFFF, 0xFFFFFFFF)
            extra = struct.pack("<HHQQ", 1, 16, claim, len(data))
        local += struct.pack("<4sHHHHHI", b"PK\x03\x04", 45, 0, 0, 0, 0x21, crc) + sizes + \
            struct.pack("<HH", len(name), len(extra)) + name + extra + data
        central += struct.pack("<4sHHHHHHI", b"PK\x01\x02", 45, 45, 0, 0, 0, 0x21, crc) + \
            sizes + struct.pack("<HHHHHII", len(name), len(extra), 0, 0, 0, 0, offset) + \
            name + extra
    eocd = struct.pack("<4sHHHHIIH", b"PK\x05\x06", 0, 0, len(entries), len(entries),
                       len(central), len(local), 0)
    with open(path, "wb") as f:
        f.write(local + central + eocd)


def check(directory):
    """Reads what tapegrad wrote into directory and compares it with expected.json there."""
    with open(os.path.join(directory, "expected.json")) as f:
        want = json.load(f)
    failures = 0
    for name, tensors in sorted(want.items()):
        path = os.path.join(directory, name)
        if name.endswith(".npy"):
            got = {"array": np.load(path, allow_pickle=False)}
        elif name.endswith(".npz"):
            got = dict(np.load(path, allow_pickle=False))
        elif name.endswith(".safetensors"):
            got = read_safetensors(path)
        elif name.endswith(".pt"):
            got = flatten(torch.load(path, weights_only=name != "checkpoint.pt"))
            ok = list(got) == list(tensors) and all(
                tensor_entry(got[k]) == normalized(tensors[k]) for k in tensors)
            failures += not ok
            print("%s: %s (%d tensors)" % (name, "same" if ok else "DIFFERENT", len(tensors)))
            continue
        else:
            continue
        ok = list(got) == list(tensors) and all(
            entry(got[k]) == normalized(tensors[k]) for k in tensors)
        failures += not ok
        print("%s: %s (%d tensors)" % (name, "same" if ok else "DIFFERENT", len(tensors)))
    sys.exit(1 if failures else 0)


def flatten(obj, prefix=""):
    """A loaded object's tensors under dotted names, as TorchValue::tensors() names them."""
    out = {}
    for k, v in obj.items():
        if isinstance(v, torch.Tensor):
            out[prefix + str(k)] = v.detach()
        elif isinstance(v, dict):
            out.update(flatten(v, prefix + str(k) + "."))
    return out


def normalized(e):
    """An expected entry with its float values as hex text (tapegrad writes JSON numbers)."""
    if e["dtype"] == "int64":
        return e
    return dict(e, values=[v if isinstance(v, str) else float(v).hex() for v in e["values"]])


def read_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    header.pop("__metadata__", None)
    out = {}
    for name, info in sorted(header.items(), key=lambda kv: kv[1]["data_offsets"][0]):
        begin, end = info["data_offsets"]
        raw = data[8 + n + begin:8 + n + end]
        out[name] = np.frombuffer(raw, dtype=SAFE_DTYPES[info["dtype"]]).reshape(info["shape"])
    return out


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--check":
        check(sys.argv[2])
        return
    os.makedirs(OUT, exist_ok=True)
    expected = {}
    npy_cases(expected)
    safetensors_cases(expected)
    torch_cases(expected)
    with open(os.path.join(OUT, "expected.json"), "w") as f:
        json.dump({"numpy": np.__version__, "files": expected}, f, indent=1, sort_keys=True)
        f.write("\n")


if __name__ == "__main__":
    main()
