"""all-MiniLM-L6-v2 sentence embeddings in NumPy: no PyTorch at run time.

The brief reader needs a dozen short sentences embedded per route, and
importing PyTorch through sentence-transformers costs seconds per process
(every ``routeyard route`` paid ~8 s). The model is a 6-layer BERT
(384 wide, 12 heads); its forward pass is a few matrix products, done here
on the weights in the model folder (``model.safetensors``, read with
``safetensors``) and the folder's own WordPiece tokenizer (``tokenizers``).
Mean pooling over the tokens and L2 normalisation, as the model's
sentence-transformers configuration asks; the outputs match
sentence-transformers to float precision (tests/routing/test_intent.py).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

_LAYERS, _HEADS, _EPS = 6, 12, 1e-12
_MAX_TOKENS = 128


def _layer_norm(x: np.ndarray, w: np.ndarray, b: np.ndarray) -> np.ndarray:
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + _EPS) * w + b


def _gelu(x: np.ndarray) -> np.ndarray:
    from scipy.special import erf

    return 0.5 * x * (1.0 + erf(x / math.sqrt(2.0)))


class MiniLM:
    """Encode sentences to unit vectors with the model in ``folder``."""

    def __init__(self, folder: str | Path):
        from safetensors.numpy import load_file
        from tokenizers import Tokenizer

        folder = Path(folder)
        self.w = load_file(str(folder / "model.safetensors"))
        self.tok = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self.tok.enable_truncation(_MAX_TOKENS)
        self.tok.enable_padding(pad_id=0, pad_token="[PAD]")

    def _p(self, name: str) -> np.ndarray:
        return self.w[name]

    def encode(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, 384), np.float32)
        enc = self.tok.encode_batch(texts)
        ids = np.array([e.ids for e in enc], np.int64)
        mask = np.array([e.attention_mask for e in enc], np.float32)
        types = np.array([e.type_ids for e in enc], np.int64)
        n, t = ids.shape
        p = self._p
        x = (
            p("embeddings.word_embeddings.weight")[ids]
            + p("embeddings.position_embeddings.weight")[np.arange(t)][None]
            + p("embeddings.token_type_embeddings.weight")[types]
        )
        x = _layer_norm(x, p("embeddings.LayerNorm.weight"), p("embeddings.LayerNorm.bias"))
        bias = (1.0 - mask)[:, None, None, :] * -1e9
        d = x.shape[-1] // _HEADS
        for i in range(_LAYERS):
            pre = f"encoder.layer.{i}."

            def lin(z, name, pre=pre):
                return z @ p(pre + name + ".weight").T + p(pre + name + ".bias")

            def heads(z):
                return z.reshape(n, t, _HEADS, d).transpose(0, 2, 1, 3)

            q = heads(lin(x, "attention.self.query"))
            k = heads(lin(x, "attention.self.key"))
            v = heads(lin(x, "attention.self.value"))
            att = q @ k.transpose(0, 1, 3, 2) / math.sqrt(d) + bias
            att = np.exp(att - att.max(-1, keepdims=True))
            att /= att.sum(-1, keepdims=True)
            ctx = (att @ v).transpose(0, 2, 1, 3).reshape(n, t, -1)
            x = _layer_norm(
                x + lin(ctx, "attention.output.dense"),
                p(pre + "attention.output.LayerNorm.weight"),
                p(pre + "attention.output.LayerNorm.bias"),
            )
            h = _gelu(lin(x, "intermediate.dense"))
            x = _layer_norm(
                x + lin(h, "output.dense"),
                p(pre + "output.LayerNorm.weight"),
                p(pre + "output.LayerNorm.bias"),
            )
        pooled = (x * mask[..., None]).sum(1) / np.maximum(mask.sum(1, keepdims=True), 1e-9)
        norm = np.linalg.norm(pooled, axis=1, keepdims=True)
        return (pooled / np.maximum(norm, 1e-12)).astype(np.float32)
