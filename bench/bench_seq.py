"""Sequence-model training steps: a 2-layer LSTM language model and a tiny GPT, same code on both sides.

- LSTM LM: embedding(2000, 256) -> LSTM(256, 256, 2 layers) -> linear(256, 2000) -> cross-entropy on a
  35x20 batch of tokens (the classic word-language-model setup), SGD.
- tiny GPT: 2 pre-norm blocks (causal self-attention with 4 heads through scaled_dot_product_attention,
  GELU MLP), width 128, context 64, batch 16, vocabulary 512, AdamW.
- the same GPT written with nn.TransformerEncoder (MultiheadAttention, causal mask).
"""
import numpy as np

from bench._shared import copy_weights


def _lstm_lm(lib, vocab=2000, hidden=256, layers=2):
    nn = lib.nn

    class LSTMLM(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = nn.Embedding(vocab, hidden)
            self.rnn = nn.LSTM(hidden, hidden, layers)
            self.head = nn.Linear(hidden, vocab)

        def forward(self, tokens, state=None):
            out, state = self.rnn(self.embed(tokens), state)
            return self.head(out), state

    return LSTMLM()


def _gpt(lib, vocab=512, width=128, heads=4, layers=2, context=64):
    nn, F = lib.nn, lib.nn.functional

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.ln1 = nn.LayerNorm(width)
            self.qkv = nn.Linear(width, 3 * width)
            self.proj = nn.Linear(width, width)
            self.ln2 = nn.LayerNorm(width)
            self.fc = nn.Linear(width, 4 * width)
            self.out = nn.Linear(4 * width, width)

        def forward(self, x):
            B, T, C = x.shape
            q, k, v = self.qkv(self.ln1(x)).split(width, dim=2)
            q = q.view(B, T, heads, C // heads).transpose(1, 2)
            k = k.view(B, T, heads, C // heads).transpose(1, 2)
            v = v.view(B, T, heads, C // heads).transpose(1, 2)
            y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
            x = x + self.proj(y.transpose(1, 2).contiguous().view(B, T, C))
            return x + self.out(F.gelu(self.fc(self.ln2(x))))

    class GPT(nn.Module):
        def __init__(self):
            super().__init__()
            self.tok = nn.Embedding(vocab, width)
            self.pos = nn.Embedding(context, width)
            self.blocks = nn.ModuleList([Block() for _ in range(layers)])
            self.ln_f = nn.LayerNorm(width)
            self.head = nn.Linear(width, vocab, bias=False)

        def forward(self, idx):
            T = idx.shape[1]
            x = self.tok(idx) + self.pos(lib.arange(T))
            for b in self.blocks:
                x = b(x)
            return self.head(self.ln_f(x))

    return GPT()


def _encoder_lm(lib, vocab=512, width=128, heads=4, layers=2, context=64):
    nn = lib.nn

    class EncoderLM(nn.Module):
        """The same tiny GPT built from nn.TransformerEncoder with a causal mask (MultiheadAttention path)."""

        def __init__(self):
            super().__init__()
            self.tok = nn.Embedding(vocab, width)
            self.pos = nn.Embedding(context, width)
            layer = nn.TransformerEncoderLayer(width, heads, 4 * width, dropout=0.0, activation="gelu",
                                               batch_first=True, norm_first=True)
            self.encoder = nn.TransformerEncoder(layer, layers, norm=nn.LayerNorm(width), enable_nested_tensor=False)
            self.head = nn.Linear(width, vocab, bias=False)
            self.register_buffer("mask", nn.Transformer.generate_square_subsequent_mask(context))

        def forward(self, idx):
            T = idx.shape[1]
            x = self.tok(idx) + self.pos(lib.arange(T))
            return self.head(self.encoder(x, mask=self.mask[:T, :T], is_causal=True))

    return EncoderLM()


def cases():
    import torch
    import ember
    import ember.optim

    rng = np.random.default_rng(0)
    out = []

    # ---- LSTM language model
    torch.manual_seed(0)
    tm, em = _lstm_lm(torch), _lstm_lm(ember)
    copy_weights(em, tm)
    tokens = rng.integers(0, 2000, (36, 20))
    xt, yt = torch.tensor(tokens[:-1]), torch.tensor(tokens[1:])
    xe, ye = ember.tensor(tokens[:-1]), ember.tensor(tokens[1:])
    opt_t = torch.optim.SGD(tm.parameters(), lr=0.1)
    opt_e = ember.optim.SGD(em.parameters(), lr=0.1)

    def lstm_step(lib, model, opt, x, y):
        opt.zero_grad()
        logits, _ = model(x)
        loss = lib.nn.functional.cross_entropy(logits.view(-1, 2000), y.reshape(-1))
        loss.backward()
        opt.step()
        return loss

    out.append(("LSTM LM train step (2x256, 35x20 tokens, vocab 2000, SGD)",
                lambda: lstm_step(ember, em, opt_e, xe, ye), lambda: lstm_step(torch, tm, opt_t, xt, yt),
                {"workload": True, "memory": True}))

    # ---- tiny GPT
    torch.manual_seed(0)
    tg, eg = _gpt(torch), _gpt(ember)
    copy_weights(eg, tg)
    seq = rng.integers(0, 512, (16, 65))
    gxt, gyt = torch.tensor(seq[:, :-1]), torch.tensor(seq[:, 1:])
    gxe, gye = ember.tensor(seq[:, :-1]), ember.tensor(seq[:, 1:])
    gopt_t = torch.optim.AdamW(tg.parameters(), lr=3e-4)
    gopt_e = ember.optim.AdamW(eg.parameters(), lr=3e-4)

    def gpt_step(lib, model, opt, x, y):
        opt.zero_grad()
        logits = model(x)
        loss = lib.nn.functional.cross_entropy(logits.view(-1, 512), y.reshape(-1))
        loss.backward()
        opt.step()
        return loss

    out.append(("tiny GPT train step (2 layers, 4 heads, 128 wide, 16x64, AdamW)",
                lambda: gpt_step(ember, eg, gopt_e, gxe, gye), lambda: gpt_step(torch, tg, gopt_t, gxt, gyt),
                {"workload": True, "memory": True}))

    # ---- the same model through nn.TransformerEncoder / MultiheadAttention
    torch.manual_seed(0)
    tt, et = _encoder_lm(torch), _encoder_lm(ember)
    copy_weights(et, tt)
    topt_t = torch.optim.AdamW(tt.parameters(), lr=3e-4)
    topt_e = ember.optim.AdamW(et.parameters(), lr=3e-4)
    out.append(("tiny GPT via nn.TransformerEncoder train step (same sizes, AdamW)",
                lambda: gpt_step(ember, et, topt_e, gxe, gye), lambda: gpt_step(torch, tt, topt_t, gxt, gyt),
                {"memory": True}))
    return out
