"""A tiny GPT (minGPT / nanoGPT style) trained on a short text, with ``import ember as torch``.

Causal self-attention through F.scaled_dot_product_attention, AdamW with decay/no-decay
parameter groups, a cosine learning rate written into param_groups every step, optional
bfloat16 autocast on the CPU and a (disabled) GradScaler, as in nanoGPT's train.py.  Started by the
launcher it trains data-parallel with DistributedDataParallel, as nanoGPT does under torchrun; each rank takes
its slice of one global batch, so N ranks with --batch-size B train as one process with N*B.

    python examples/gpt.py --iters 100 [--bf16]
    python -m ember.distributed.run --standalone --nproc-per-node 2 examples/gpt.py --batch-size 8
"""
import argparse
import math
import os

import ember as torch
import ember.nn as nn
from ember.nn import functional as F
from ember.distributed import init_process_group, destroy_process_group, all_reduce, ReduceOp
from ember.nn.parallel import DistributedDataParallel as DDP

from _data import load_text

parser = argparse.ArgumentParser(description='tiny GPT')
parser.add_argument('--text', default=None)
parser.add_argument('--iters', type=int, default=100)
parser.add_argument('--batch-size', type=int, default=16)
parser.add_argument('--block-size', type=int, default=32)
parser.add_argument('--n-layer', type=int, default=2)
parser.add_argument('--n-head', type=int, default=4)
parser.add_argument('--n-embd', type=int, default=64)
parser.add_argument('--lr', type=float, default=3e-3)
parser.add_argument('--bf16', action='store_true', help='autocast the forward pass to bfloat16')
parser.add_argument('--seed', type=int, default=1337)
args = parser.parse_args()

ddp = int(os.environ.get('RANK', -1)) != -1  # a launched (torchrun-style) run?
if ddp:
    init_process_group(backend='gloo')
    ddp_rank, ddp_world_size = int(os.environ['RANK']), int(os.environ['WORLD_SIZE'])
else:
    ddp_rank, ddp_world_size = 0, 1
master_process = ddp_rank == 0

torch.manual_seed(args.seed)
text = load_text(args.text)
chars = sorted(set(text))
stoi = {c: i for i, c in enumerate(chars)}
data = torch.tensor([stoi[c] for c in text], dtype=torch.long)


class CausalSelfAttention(nn.Module):
    def __init__(self, n_embd, n_head):
        super().__init__()
        self.c_attn = nn.Linear(n_embd, 3 * n_embd)
        self.c_proj = nn.Linear(n_embd, n_embd)
        self.n_head = n_head

    def forward(self, x):
        B, T, C = x.size()
        q, k, v = self.c_attn(x).split(C, dim=2)
        k = k.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
        q = q.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
        v = v.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
        y = F.scaled_dot_product_attention(q, k, v, attn_mask=None, dropout_p=0.0, is_causal=True)
        y = y.transpose(1, 2).contiguous().view(B, T, C)
        return self.c_proj(y)


class Block(nn.Module):
    def __init__(self, n_embd, n_head):
        super().__init__()
        self.ln_1 = nn.LayerNorm(n_embd)
        self.attn = CausalSelfAttention(n_embd, n_head)
        self.ln_2 = nn.LayerNorm(n_embd)
        self.mlp = nn.Sequential(nn.Linear(n_embd, 4 * n_embd), nn.GELU(approximate='tanh'),
                                 nn.Linear(4 * n_embd, n_embd))

    def forward(self, x):
        x = x + self.attn(self.ln_1(x))
        return x + self.mlp(self.ln_2(x))


class GPT(nn.Module):
    def __init__(self, vocab_size, block_size, n_layer, n_head, n_embd):
        super().__init__()
        self.block_size = block_size
        self.transformer = nn.ModuleDict(dict(
            wte=nn.Embedding(vocab_size, n_embd),
            wpe=nn.Embedding(block_size, n_embd),
            h=nn.ModuleList([Block(n_embd, n_head) for _ in range(n_layer)]),
            ln_f=nn.LayerNorm(n_embd)))
        self.lm_head = nn.Linear(n_embd, vocab_size, bias=False)
        self.transformer.wte.weight = self.lm_head.weight  # weight tying
        self.apply(self._init_weights)
        for pn, p in self.named_parameters():
            if pn.endswith('c_proj.weight'):
                torch.nn.init.normal_(p, mean=0.0, std=0.02 / math.sqrt(2 * n_layer))
        print("number of parameters: %.2fK" % (sum(p.numel() for p in self.parameters()) / 1e3,))

    def _init_weights(self, module):
        if isinstance(module, nn.Linear):
            torch.nn.init.normal_(module.weight, mean=0.0, std=0.02)
            if module.bias is not None:
                torch.nn.init.zeros_(module.bias)
        elif isinstance(module, nn.Embedding):
            torch.nn.init.normal_(module.weight, mean=0.0, std=0.02)

    def forward(self, idx, targets=None):
        b, t = idx.size()
        pos = torch.arange(0, t, dtype=torch.long, device=idx.device)
        x = self.transformer.wte(idx) + self.transformer.wpe(pos)
        for block in self.transformer.h:
            x = block(x)
        logits = self.lm_head(self.transformer.ln_f(x))
        loss = None
        if targets is not None:
            loss = F.cross_entropy(logits.view(-1, logits.size(-1)), targets.view(-1), ignore_index=-1)
        return logits, loss

    def configure_optimizers(self, weight_decay, learning_rate, betas):
        param_dict = {pn: p for pn, p in self.named_parameters() if p.requires_grad}
        decay_params = [p for n, p in param_dict.items() if p.dim() >= 2]
        nodecay_params = [p for n, p in param_dict.items() if p.dim() < 2]
        optim_groups = [{'params': decay_params, 'weight_decay': weight_decay},
                        {'params': nodecay_params, 'weight_decay': 0.0}]
        return torch.optim.AdamW(optim_groups, lr=learning_rate, betas=betas)

    @torch.no_grad()
    def generate(self, idx, max_new_tokens, temperature=1.0, top_k=None):
        for _ in range(max_new_tokens):
            idx_cond = idx if idx.size(1) <= self.block_size else idx[:, -self.block_size:]
            logits, _ = self(idx_cond)
            logits = logits[:, -1, :] / temperature
            if top_k is not None:
                v, _ = torch.topk(logits, min(top_k, logits.size(-1)))
                logits[logits < v[:, [-1]]] = -float('Inf')
            probs = F.softmax(logits, dim=-1)
            idx = torch.cat((idx, torch.multinomial(probs, num_samples=1)), dim=1)
        return idx


def get_batch():
    # every rank draws the same global batch and keeps its slice
    ix = torch.randint(len(data) - args.block_size, (args.batch_size * ddp_world_size,))
    ix = ix[ddp_rank * args.batch_size:(ddp_rank + 1) * args.batch_size]
    x = torch.stack([data[i:i + args.block_size] for i in ix])
    y = torch.stack([data[i + 1:i + 1 + args.block_size] for i in ix])
    return x, y


def get_lr(it, warmup_iters=10, min_lr=args.lr / 10):
    if it < warmup_iters:
        return args.lr * (it + 1) / (warmup_iters + 1)
    decay_ratio = (it - warmup_iters) / max(1, args.iters - warmup_iters)
    coeff = 0.5 * (1.0 + math.cos(math.pi * decay_ratio))
    return min_lr + coeff * (args.lr - min_lr)


model = GPT(len(chars), args.block_size, args.n_layer, args.n_head, args.n_embd)
raw_model = model
if ddp:
    model = DDP(model)
optimizer = raw_model.configure_optimizers(weight_decay=0.1, learning_rate=args.lr, betas=(0.9, 0.95))
ctx = torch.autocast('cpu', dtype=torch.bfloat16, enabled=args.bf16)
scaler = torch.amp.GradScaler('cpu', enabled=False)

first = None
for it in range(args.iters):
    lr = get_lr(it)
    for param_group in optimizer.param_groups:
        param_group['lr'] = lr
    X, Y = get_batch()
    with ctx:
        logits, loss = model(X, Y)
    scaler.scale(loss).backward()
    scaler.unscale_(optimizer)
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    scaler.step(optimizer)
    scaler.update()
    optimizer.zero_grad(set_to_none=True)
    loss = loss.detach()
    if ddp:
        all_reduce(loss, op=ReduceOp.AVG)  # the loss of the whole global batch
    if first is None:
        first = loss.item()
    if master_process and (it % 50 == 0 or it == args.iters - 1):
        print(f"iter {it}: loss {loss.item():.6f}, lr {lr:.2e}")

if master_process:
    print(f'first loss {first:.4f} final loss {loss.item():.4f}')
    raw_model.eval()
    start = torch.tensor([[stoi['F']]], dtype=torch.long)
    print(''.join(chars[i] for i in raw_model.generate(start, 100, temperature=0.8, top_k=10)[0].tolist()))
if ddp:
    destroy_process_group()
