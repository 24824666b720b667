"""Character-level LSTM language model, with ``import ember as torch``.

Embedding -> LSTM -> Linear, cross-entropy on the next character, gradient clipping,
StepLR, sampling with torch.multinomial, and a save/load round trip of the state_dict.

    python examples/char_rnn.py --iters 150
"""
import argparse
import os

import ember as torch
import ember.nn as nn
import ember.nn.functional as F
from ember.optim.lr_scheduler import StepLR

from _data import load_text

parser = argparse.ArgumentParser(description='char-rnn')
parser.add_argument('--text', default=None, help='training text file (default: a built-in passage)')
parser.add_argument('--iters', type=int, default=150)
parser.add_argument('--batch-size', type=int, default=16)
parser.add_argument('--seq-len', type=int, default=48)
parser.add_argument('--hidden', type=int, default=128)
parser.add_argument('--layers', type=int, default=2)
parser.add_argument('--lr', type=float, default=3e-3)
parser.add_argument('--clip', type=float, default=1.0)
parser.add_argument('--seed', type=int, default=0)
parser.add_argument('--save', default='char_rnn.pt')
args = parser.parse_args()

torch.manual_seed(args.seed)
text = load_text(args.text)
chars = sorted(set(text))
stoi = {c: i for i, c in enumerate(chars)}
data = torch.tensor([stoi[c] for c in text], dtype=torch.long)


class CharRNN(nn.Module):
    def __init__(self, vocab, hidden, layers):
        super().__init__()
        self.embed = nn.Embedding(vocab, 64)
        self.lstm = nn.LSTM(64, hidden, num_layers=layers, batch_first=True, dropout=0.1)
        self.head = nn.Linear(hidden, vocab)

    def forward(self, x, state=None):
        out, state = self.lstm(self.embed(x), state)
        return self.head(out), state


def get_batch():
    ix = torch.randint(len(data) - args.seq_len - 1, (args.batch_size,))
    x = torch.stack([data[i:i + args.seq_len] for i in ix])
    y = torch.stack([data[i + 1:i + 1 + args.seq_len] for i in ix])
    return x, y


@torch.no_grad()
def sample(model, prompt, n, temperature=0.8):
    model.eval()
    idx = torch.tensor([[stoi[c] for c in prompt]])
    logits, state = model(idx)
    out = list(prompt)
    for _ in range(n):
        probs = F.softmax(logits[:, -1] / temperature, dim=-1)
        nxt = torch.multinomial(probs, num_samples=1)
        out.append(chars[nxt.item()])
        logits, state = model(nxt, state)
    model.train()
    return ''.join(out)


model = CharRNN(len(chars), args.hidden, args.layers)
optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
scheduler = StepLR(optimizer, step_size=max(1, args.iters // 3), gamma=0.5)
criterion = nn.CrossEntropyLoss()

first = None
for it in range(args.iters):
    x, y = get_batch()
    logits, _ = model(x)
    loss = criterion(logits.reshape(-1, len(chars)), y.reshape(-1))
    optimizer.zero_grad()
    loss.backward()
    norm = torch.nn.utils.clip_grad_norm_(model.parameters(), args.clip)
    optimizer.step()
    scheduler.step()
    if first is None:
        first = loss.item()
    if it % 50 == 0 or it == args.iters - 1:
        print(f'iter {it:4d} loss {loss.item():.4f} grad-norm {norm.item():.3f} lr {scheduler.get_last_lr()[0]:.2e}')

print(f'first loss {first:.4f} final loss {loss.item():.4f}')
print(sample(model, 'First Citizen:\n', 120))

torch.save(model.state_dict(), args.save)
restored = CharRNN(len(chars), args.hidden, args.layers)
restored.load_state_dict(torch.load(args.save, weights_only=True))
restored.eval(); model.eval()
x, _ = get_batch()
with torch.no_grad():
    same = torch.allclose(model(x)[0], restored(x)[0])
print(f'saved to {args.save} ({os.path.getsize(args.save)} bytes); reloaded model agrees: {same}')
assert same
