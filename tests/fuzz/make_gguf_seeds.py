#!/usr/bin/env python3
"""Seed corpus for fuzz_gguf: header prefixes of the shared models, the small vocab files whole,
and a few small valid GGUF files with every value type and some tensors.

usage: make_gguf_seeds.py SHARED_DIR OUT_DIR
"""
import struct
import sys
from pathlib import Path


def gguf_string(s: bytes) -> bytes:
    return struct.pack("<Q", len(s)) + s


def kv(key: str, vtype: int, payload: bytes) -> bytes:
    return gguf_string(key.encode()) + struct.pack("<I", vtype) + payload


def synthetic(alignment: int, with_tensors: bool) -> bytes:
    kvs = [
        kv("general.architecture", 8, gguf_string(b"llama")),
        kv("general.alignment", 4, struct.pack("<I", alignment)),
        kv("t.u8", 0, b"\x07"), kv("t.i8", 1, b"\xf9"),
        kv("t.u16", 2, struct.pack("<H", 7)), kv("t.i16", 3, struct.pack("<h", -7)),
        kv("t.u32", 4, struct.pack("<I", 7)), kv("t.i32", 5, struct.pack("<i", -7)),
        kv("t.f32", 6, struct.pack("<f", 1e-5)), kv("t.bool", 7, b"\x01"),
        kv("t.u64", 10, struct.pack("<Q", 7)), kv("t.i64", 11, struct.pack("<q", -7)),
        kv("t.f64", 12, struct.pack("<d", 0.5)),
        kv("a.str", 9, struct.pack("<IQ", 8, 2) + gguf_string(b"<unk>") + gguf_string(b"the")),
        kv("a.i32", 9, struct.pack("<IQiii", 5, 3, 1, 2, 3)),
        kv("a.f32", 9, struct.pack("<IQff", 6, 2, 0.5, -1.0)),
        kv("a.nested", 9, struct.pack("<IQ", 9, 2) + struct.pack("<IQHH", 2, 2, 1, 2)
           + struct.pack("<IQ", 8, 1) + gguf_string(b"x")),
    ]
    # (name, dims, type, nbytes): f32 [4,2], q8_0 [32], q4_K [256], i8 [3]
    tensors = [(b"a", [4, 2], 0, 32), (b"b", [32], 8, 34), (b"c", [256], 12, 144),
               (b"d", [3], 24, 3)] if with_tensors else []
    out = b"GGUF" + struct.pack("<IQQ", 3, len(tensors), len(kvs)) + b"".join(kvs)
    offset, data = 0, b""
    for name, dims, ttype, nbytes in tensors:
        out += gguf_string(name) + struct.pack("<I", len(dims))
        out += b"".join(struct.pack("<Q", d) for d in dims)
        out += struct.pack("<IQ", ttype, offset)
        chunk = bytes(range(nbytes % 256)) + bytes(nbytes - nbytes % 256)
        chunk += bytes(-len(chunk) % alignment)
        data += chunk
        offset += len(chunk)
    if tensors:
        out += bytes(-len(out) % alignment) + data
    return out


def main() -> None:
    shared, out = Path(sys.argv[1]), Path(sys.argv[2])
    out.mkdir(parents=True, exist_ok=True)
    for model in sorted((shared / "models").glob("*.gguf")):
        data = model.read_bytes()
        for n in (4096, 32768):
            (out / f"{model.stem}-{n}.gguf").write_bytes(data[:n])
    for vocab in sorted((shared / "vocab").glob("*.gguf")):
        if vocab.stat().st_size <= 1 << 20:
            (out / vocab.name).write_bytes(vocab.read_bytes())
    for alignment in (1, 32, 64):
        (out / f"synthetic-a{alignment}.gguf").write_bytes(synthetic(alignment, True))
    (out / "synthetic-no-tensors.gguf").write_bytes(synthetic(32, False))


if __name__ == "__main__":
    main()
