"""The encoder of all-MiniLM-L6-v2 in numpy: a 6-layer, 384-wide BERT, mean-pooled.

Word, position and token-type embeddings and a LayerNorm; six post-norm layers of 12-head
self-attention (padding masked out) and a GELU feed-forward of 1536; then the mean of the real
tokens' vectors, scaled to unit length, as sentence-transformers does for this model. Float32
throughout. Checked against the model's published similarities in tests/test_semantic.py.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass

import numpy as np

DIMENSION = 384
LAYERS = 6
HEADS = 12
_EPS = 1e-12  # config.json's layer_norm_eps
_MASKED = -1e9  # added to the attention scores of padding
_SQRT_HALF = 0.7071067811865476
_AS_P = 0.3275911  # Abramowitz and Stegun 7.1.26
_AS_A = (0.254829592, -0.284496736, 1.421413741, -1.453152027, 1.061405429)

Limit = Callable[[], AbstractContextManager[object]]


@dataclass(frozen=True, slots=True)
class _Layer:
    qkv: np.ndarray  # (384, 1152): query (pre-scaled by 1/sqrt(32)), key and value side by side
    qkv_bias: np.ndarray
    out: np.ndarray
    out_bias: np.ndarray
    norm1: tuple[np.ndarray, np.ndarray]
    up: np.ndarray  # (384, 1536)
    up_bias: np.ndarray
    down: np.ndarray  # (1536, 384)
    down_bias: np.ndarray
    norm2: tuple[np.ndarray, np.ndarray]


@dataclass(frozen=True, slots=True)
class MiniLM:
    """The encoder's weights, arranged for x @ W; `encode` turns token ids into unit vectors."""

    words: np.ndarray
    positions: np.ndarray
    token_type: np.ndarray  # type 0, the only one a single text uses
    norm: tuple[np.ndarray, np.ndarray]
    layers: tuple[_Layer, ...]

    @classmethod
    def from_weights(cls, weights: Mapping[str, np.ndarray]) -> MiniLM:
        """Arrange a BertModel state dict (as safetensors.numpy loads it)."""
        return cls(
            words=weights["embeddings.word_embeddings.weight"].astype(np.float32),
            positions=weights["embeddings.position_embeddings.weight"].astype(np.float32),
            token_type=weights["embeddings.token_type_embeddings.weight"][0].astype(np.float32),
            norm=_pair(weights, "embeddings.LayerNorm"),
            layers=tuple(_layer(weights, f"encoder.layer.{n}") for n in range(LAYERS)),
        )

    def encode(
        self, rows: Sequence[Sequence[int]], *, one_thread: Limit = nullcontext
    ) -> np.ndarray:
        """Unit sentence vectors (len(rows) x 384) of token id rows ([CLS] ... [SEP]), padded
        here to the longest; `one_thread` limits BLAS to one thread for the small products."""
        length = max(len(row) for row in rows)
        ids = np.zeros((len(rows), length), dtype=np.int64)  # 0 is [PAD]
        mask = np.zeros((len(rows), length), dtype=np.float32)
        for number, row in enumerate(rows):
            ids[number, : len(row)] = row
            mask[number, : len(row)] = 1.0
        x = self.words[ids] + self.positions[:length] + self.token_type
        x = _layer_norm(x, self.norm)
        key_bias = ((1.0 - mask) * np.float32(_MASKED))[:, None, None, :]
        for layer in self.layers:
            x = _encoder_layer(x, layer, key_bias, one_thread)
        pooled = (x * mask[:, :, None]).sum(axis=1) / np.maximum(mask.sum(axis=1), 1e-9)[:, None]
        norms = np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
        unit: np.ndarray = (pooled / norms).astype(np.float32)
        return unit


def _pair(weights: Mapping[str, np.ndarray], name: str) -> tuple[np.ndarray, np.ndarray]:
    return weights[f"{name}.weight"].astype(np.float32), weights[f"{name}.bias"].astype(np.float32)


def _layer(weights: Mapping[str, np.ndarray], prefix: str) -> _Layer:
    """One layer's weights, transposed once; the query side carries the 1/sqrt(d) scale."""

    def get(name: str) -> np.ndarray:
        return weights[f"{prefix}.{name}"].astype(np.float32)

    scale = np.float32(1.0 / np.sqrt(DIMENSION // HEADS))
    parts = [
        (get(f"attention.self.{p}.weight"), get(f"attention.self.{p}.bias"))
        for p in ("query", "key", "value")
    ]
    parts[0] = (parts[0][0] * scale, parts[0][1] * scale)
    return _Layer(
        qkv=np.ascontiguousarray(np.concatenate([w for w, _ in parts]).T),
        qkv_bias=np.concatenate([b for _, b in parts]),
        out=np.ascontiguousarray(get("attention.output.dense.weight").T),
        out_bias=get("attention.output.dense.bias"),
        norm1=_pair(weights, f"{prefix}.attention.output.LayerNorm"),
        up=np.ascontiguousarray(get("intermediate.dense.weight").T),
        up_bias=get("intermediate.dense.bias"),
        down=np.ascontiguousarray(get("output.dense.weight").T),
        down_bias=get("output.dense.bias"),
        norm2=_pair(weights, f"{prefix}.output.LayerNorm"),
    )


def _encoder_layer(
    x: np.ndarray, layer: _Layer, key_bias: np.ndarray, one_thread: Limit
) -> np.ndarray:
    """Post-norm BERT layer: multi-head self-attention, then the GELU feed-forward.

    The per-head products are small (L x 32 by 32 x L) and run one by one on contiguous
    arrays: numpy's stacked matmul over strided views is several times slower, and split over
    BLAS threads they spend more time waiting for each other than computing.
    """
    batch, length, width = x.shape
    head = width // HEADS
    flat = x.reshape(batch * length, width)
    qkv = (flat @ layer.qkv + layer.qkv_bias).reshape(batch, length, 3, HEADS, head)
    q, k, v = np.ascontiguousarray(qkv.transpose(2, 0, 3, 1, 4)).reshape(
        3, batch * HEADS, length, head
    )
    scores = np.empty((batch * HEADS, length, length), dtype=np.float32)
    context = np.empty((batch * HEADS, length, head), dtype=np.float32)
    with one_thread():
        for number in range(batch * HEADS):
            np.dot(q[number], k[number].T, out=scores[number])
        grouped = scores.reshape(batch, HEADS, length, length)
        grouped += key_bias
        grouped -= grouped.max(axis=-1, keepdims=True)
        np.exp(grouped, out=grouped)
        grouped /= grouped.sum(axis=-1, keepdims=True)
        for number in range(batch * HEADS):
            np.dot(scores[number], v[number], out=context[number])
    merged = context.reshape(batch, HEADS, length, head).transpose(0, 2, 1, 3).reshape(-1, width)
    attended = _layer_norm(merged @ layer.out + layer.out_bias + flat, layer.norm1)
    hidden = _gelu(attended @ layer.up + layer.up_bias)
    output = _layer_norm(hidden @ layer.down + layer.down_bias + attended, layer.norm2)
    return output.reshape(batch, length, width)


def _gelu(x: np.ndarray) -> np.ndarray:
    """The exact (erf) GELU the model was trained with, in float32.

    erf by Abramowitz and Stegun 7.1.26 (absolute error under 1.5e-7, about float32's own):
    scipy's erf is several times slower, and the tanh approximation is not the model's GELU.
    """
    z = np.abs(x) * np.float32(_SQRT_HALF)
    t = np.float32(1.0) / (np.float32(1.0) + np.float32(_AS_P) * z)
    poly = np.full_like(t, _AS_A[4])
    for a in reversed(_AS_A[:4]):
        poly *= t
        poly += np.float32(a)
    poly *= t
    poly *= np.exp(-z * z)
    erf = np.float32(1.0) - poly
    result: np.ndarray = np.float32(0.5) * x * (np.float32(1.0) + np.copysign(erf, x))
    return result


def _layer_norm(x: np.ndarray, norm: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    centred = x - x.mean(axis=-1, keepdims=True)
    variance = (centred * centred).mean(axis=-1, keepdims=True)
    result: np.ndarray = centred / np.sqrt(variance + np.float32(_EPS)) * norm[0] + norm[1]
    return result
