"""Small models the ONNX export tests run, written once against ember's PyTorch API."""
import math


import ember
import ember.nn as nn
import ember.nn.functional as F


class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(6, 16), nn.GELU(), nn.Dropout(0.3), nn.Linear(16, 16), nn.Tanh(),
                                 nn.Linear(16, 4))

    def forward(self, x):
        return F.log_softmax(self.net(x), dim=-1)


class CNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(8, 12, 3, stride=1, padding="same", groups=4), nn.BatchNorm2d(12), nn.LeakyReLU(0.1),
            nn.AvgPool2d(2), nn.Conv2d(12, 8, 1), nn.GroupNorm(2, 8), nn.SiLU())
        self.head = nn.Linear(8, 5)

    def forward(self, x):
        x = self.features(x)
        x = F.adaptive_avg_pool2d(x, 1).flatten(1)
        return self.head(x)


class LeNet(nn.Module):
    """The seeds' LeNet (conv-pool-conv-pool-fc-fc-fc on 1x32x32)."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 6, 5)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), (2, 2))
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = x.view(x.size()[0], -1)
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        return self.fc3(x)


class TwoOutputs(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Linear(5, 8)
        self.cls = nn.Linear(8, 3)
        self.reg = nn.Linear(8, 1)

    def forward(self, x):
        h = ember.relu(self.body(x))
        return self.cls(h).softmax(-1), self.reg(h).squeeze(-1) * 2.0 + 1.0


class MaskedPool(nn.Module):
    """``forward(x, mask=None)``: mean over the unmasked positions of each sequence."""

    def __init__(self):
        super().__init__()
        self.proj = nn.Linear(4, 6)
        self.norm = nn.LayerNorm(6)

    def forward(self, x, mask=None):
        h = self.norm(self.proj(x))
        if mask is not None:
            h = h.masked_fill(~mask.unsqueeze(-1), 0.0)
            return h.sum(1) / mask.sum(1, keepdim=True).clamp(min=1).to(h.dtype)
        return h.mean(1)


class RNNLM(nn.Module):
    """Embedding -> RNN/LSTM/GRU -> Linear -> log_softmax, as word_language_model's RNNModel.

    ``kind``: "LSTM", "GRU", "RNN_TANH" or "RNN_RELU".
    """

    def __init__(self, kind, ntoken=20, ninp=8, nhid=12, nlayers=2):
        super().__init__()
        self.drop = nn.Dropout(0.2)
        self.encoder = nn.Embedding(ntoken, ninp)
        if kind in ("LSTM", "GRU"):
            self.rnn = getattr(nn, kind)(ninp, nhid, nlayers, dropout=0.2)
        else:
            self.rnn = nn.RNN(ninp, nhid, nlayers, nonlinearity=kind[4:].lower(), dropout=0.2)
        self.decoder = nn.Linear(nhid, ntoken)
        self.kind, self.ntoken, self.nhid, self.nlayers = kind, ntoken, nhid, nlayers

    def forward(self, input, hidden):
        emb = self.drop(self.encoder(input))
        output, hidden = self.rnn(emb, hidden)
        decoded = self.decoder(self.drop(output)).view(-1, self.ntoken)
        return F.log_softmax(decoded, dim=1), hidden

    def init_hidden(self, bsz):
        weight = next(self.parameters())
        if self.kind == "LSTM":
            return (weight.new_zeros(self.nlayers, bsz, self.nhid), weight.new_zeros(self.nlayers, bsz, self.nhid))
        return weight.new_zeros(self.nlayers, bsz, self.nhid)


class TransformerLM(nn.Module):
    """word_language_model's TransformerModel: embedding * sqrt(d), a sinusoidal position buffer sliced to the
    sequence length, a causal float mask built from ``len(src)``, a TransformerEncoder, log_softmax."""

    def __init__(self, ntoken=20, ninp=16, nhead=2, nhid=32, nlayers=2, max_len=64):
        super().__init__()
        pe = ember.zeros(max_len, ninp)
        position = ember.arange(0, max_len, dtype=ember.float).unsqueeze(1)
        div_term = ember.exp(ember.arange(0, ninp, 2).float() * (-math.log(10000.0) / ninp))
        pe[:, 0::2] = ember.sin(position * div_term)
        pe[:, 1::2] = ember.cos(position * div_term)
        self.register_buffer("pe", pe.unsqueeze(0).transpose(0, 1))
        self.input_emb = nn.Embedding(ntoken, ninp)
        layer = nn.TransformerEncoderLayer(ninp, nhead, nhid, 0.2)
        self.encoder = nn.TransformerEncoder(layer, nlayers, enable_nested_tensor=False)
        self.decoder = nn.Linear(ninp, ntoken)
        self.ninp = ninp

    def forward(self, src, has_mask=True):
        mask = None
        if has_mask:
            mask = ember.log(ember.tril(ember.ones(len(src), len(src))))
        src = self.input_emb(src) * math.sqrt(self.ninp)
        src = src + self.pe[:src.size(0), :]
        return F.log_softmax(self.decoder(self.encoder(src, mask=mask)), dim=-1)


class Encoder(nn.Module):
    def __init__(self):
        super().__init__()
        layer = nn.TransformerEncoderLayer(d_model=16, nhead=4, dim_feedforward=32, dropout=0.1, batch_first=True)
        self.encoder = nn.TransformerEncoder(layer, num_layers=2, enable_nested_tensor=False)
        self.out = nn.Linear(16, 3)

    def forward(self, x, src_key_padding_mask=None):
        return self.out(self.encoder(x, src_key_padding_mask=src_key_padding_mask))


class GPTBlock(nn.Module):
    """A pre-norm GPT block: causal self-attention (scaled_dot_product_attention) and an MLP."""

    def __init__(self, n_embd=16, n_head=4):
        super().__init__()
        self.n_head = n_head
        self.ln_1 = nn.LayerNorm(n_embd)
        self.c_attn = nn.Linear(n_embd, 3 * n_embd)
        self.c_proj = nn.Linear(n_embd, n_embd)
        self.ln_2 = nn.LayerNorm(n_embd)
        self.mlp = nn.Sequential(nn.Linear(n_embd, 4 * n_embd), nn.GELU(approximate="tanh"),
                                 nn.Linear(4 * n_embd, n_embd))

    def attn(self, x):
        B, T, C = x.size()
        q, k, v = self.c_attn(x).split(C, dim=2)
        q = q.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
        k = k.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
        v = v.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        return self.c_proj(y.transpose(1, 2).contiguous().view(B, T, C))

    def forward(self, x):
        x = x + self.attn(self.ln_1(x))
        return x + self.mlp(self.ln_2(x))


