"""Shared helpers for the plain-PyTorch reference models (fp32, CPU, eval, no dropout)."""
import math

import torch
import torch.nn.functional as F


class Init:
    """Fixture initialisation as in /work/shared/fixtures/README.md:
    weights & biases ~ N(0, 0.2^2); norm weights 1 + N(0, 0.2^2); norm biases N(0, 0.2^2).
    Tensors are drawn in the order the caller requests them, from one seeded generator."""

    def __init__(self, seed, std=0.2):
        self.g = torch.Generator().manual_seed(seed)
        self.std = std
        self.out = {}

    def w(self, name, *shape):
        self.out[name] = torch.randn(*shape, generator=self.g) * self.std
        return self.out[name]

    b = w          # biases: same distribution
    norm_b = w     # norm biases: same distribution

    def norm_w(self, name, *shape):
        self.out[name] = 1.0 + torch.randn(*shape, generator=self.g) * self.std
        return self.out[name]


def random_batch(seed, vocab, B=2, T=12):
    g = torch.Generator().manual_seed(seed)
    ids = torch.randint(0, vocab, (B, T), generator=g, dtype=torch.int64)
    return ids, torch.ones(B, T, dtype=torch.int64)


def additive_causal_mask(T, dtype=torch.float32, sliding_window=None):
    """[1, 1, T, T] additive mask: 0 where key j is visible to query i, finfo.min elsewhere.
    Visible iff j <= i and (sliding_window is None or i - j < sliding_window)."""
    i = torch.arange(T)[:, None]
    j = torch.arange(T)[None, :]
    visible = j <= i
    if sliding_window is not None:
        visible = visible & ((i - j) < sliding_window)
    m = torch.zeros(T, T, dtype=dtype)
    m.masked_fill_(~visible, torch.finfo(dtype).min)
    return m[None, None]


def shifted_ce(logits, labels):
    """HF causal-LM loss: mean CE of logits[:, t] vs labels[:, t+1] (no -100s here)."""
    shift_logits = logits[..., :-1, :].contiguous()
    shift_labels = labels[..., 1:].contiguous()
    return F.cross_entropy(shift_logits.view(-1, shift_logits.size(-1)), shift_labels.view(-1))


def rotate_half(x):
    x1 = x[..., : x.shape[-1] // 2]
    x2 = x[..., x.shape[-1] // 2:]
    return torch.cat((-x2, x1), dim=-1)


def rope_cos_sin(dim, base, positions):
    """LLaMA/NeoX-style (rotate_half) tables: inv_freq = 1/(base^(arange(0,dim,2)/dim)),
    emb = cat(freqs, freqs). positions: int64 [B, T] -> cos, sin [B, 1, T, dim]."""
    inv_freq = 1.0 / (base ** (torch.arange(0, dim, 2).float() / dim))
    t = torch.arange(int(positions.max()) + 1, dtype=inv_freq.dtype)
    freqs = torch.einsum("i,j->ij", t, inv_freq)
    emb = torch.cat((freqs, freqs), dim=-1)
    cos, sin = emb.cos(), emb.sin()
    return cos[positions].unsqueeze(1), sin[positions].unsqueeze(1)


def gelu_new(x):  # HF NewGELUActivation (gpt2 / gptj "gelu_new")
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3.0))))


def bloom_gelu(x):  # HF bloom_gelu_forward (tanh approximation with HF's literal constant)
    return x * 0.5 * (1.0 + torch.tanh(0.79788456 * x * (1 + 0.044715 * x * x)))


ACT = {
    "silu": F.silu,
    "gelu": F.gelu,  # exact erf
    "gelu_new": gelu_new,
    "relu": F.relu,
}
