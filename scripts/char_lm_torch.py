#!/usr/bin/python3
"""examples/char_lm's network trained by PyTorch, from the same initial parameters over the
same batches, for the comparison in the README. Run by hand with Debian's python3-torch:

  build/examples/char_lm --model lstm --export-torch /tmp/lstm.pt
  /usr/bin/python3 scripts/char_lm_torch.py --model lstm --init /tmp/lstm.pt

Give both the same flags (model, sizes, lr, schedule, epochs, text slices): the script reads
the parameters and every epoch's window order from the file char_lm wrote, and prints the
validation loss after each epoch in char_lm's words. Dropout draws from torch's own generator,
so with --dropout > 0 the two runs agree in distribution only."""
import argparse
import math
import os
import time
import warnings

import torch
import torch.nn as nn


def read_text(path, limit):
    with open(path, "rb") as f:
        data = f.read()
    return data[:limit] if limit > 0 else data


def windows(ids, context):
    """Window k: ids[k * context : k * context + context + 1], inputs first, targets last."""
    n = (len(ids) - 1) // context
    x = torch.tensor(ids[:n * context], dtype=torch.int64).view(n, context)
    y = torch.tensor(ids[1:n * context + 1], dtype=torch.int64).view(n, context)
    return x, y


class RecurrentLM(nn.Module):
    def __init__(self, gru, vocab, a):
        super().__init__()
        self.embed = nn.Embedding(vocab, a.embed)
        kind = nn.GRU if gru else nn.LSTM
        self.rnn = kind(a.embed, a.hidden, num_layers=a.layers, batch_first=True,
                        dropout=a.dropout)
        self.head = nn.Linear(a.hidden, vocab)

    def forward(self, x):
        return self.head(self.rnn(self.embed(x))[0])


class TransformerLM(nn.Module):
    def __init__(self, vocab, a):
        super().__init__()
        self.tok = nn.Embedding(vocab, a.dim)
        self.pos = nn.Embedding(a.context, a.dim)
        layer = nn.TransformerEncoderLayer(a.dim, a.heads, dim_feedforward=4 * a.dim,
                                           dropout=a.dropout, activation="gelu",
                                           batch_first=True, norm_first=True)
        self.encoder = nn.TransformerEncoder(layer, a.layers, norm=nn.LayerNorm(a.dim),
                                             enable_nested_tensor=False)
        self.head = nn.Linear(a.dim, vocab)

    def forward(self, x):
        t = x.shape[-1]
        causal = torch.full((t, t), float("-inf")).triu(1)
        h = self.tok(x) + self.pos(torch.arange(t))
        return self.head(self.encoder(h, mask=causal))


def validation_loss(model, x, y, vocab):
    model.eval()
    total = 0.0
    with torch.no_grad():
        for k in range(0, x.shape[0], 64):
            out = model(x[k:k + 64])
            loss = nn.functional.cross_entropy(out.reshape(-1, vocab), y[k:k + 64].reshape(-1))
            total += loss.item() * out.shape[0]
    return total / x.shape[0]


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--init", required=True, help="the file char_lm --export-torch wrote")
    p.add_argument("--model", default="lstm", choices=["lstm", "gru", "transformer"])
    p.add_argument("--train-text", default="data/brown/train.txt")
    p.add_argument("--valid-text", default="data/brown/valid.txt")
    p.add_argument("--train-chars", type=int, default=0)
    p.add_argument("--valid-chars", type=int, default=0)
    p.add_argument("--context", type=int, default=0)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--layers", type=int, default=0)
    p.add_argument("--hidden", type=int, default=256)
    p.add_argument("--embed", type=int, default=64)
    p.add_argument("--dim", type=int, default=128)
    p.add_argument("--heads", type=int, default=4)
    p.add_argument("--dropout", type=float, default=0.0)
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--lr", type=float, default=0.0)
    p.add_argument("--weight-decay", type=float, default=0.0)
    p.add_argument("--schedule", default="cosine", choices=["cosine", "onecycle", "none"])
    p.add_argument("--warmup", type=int, default=0)
    p.add_argument("--clip-norm", type=float, default=1.0)
    p.add_argument("--threads", type=int, default=0)
    a = p.parse_args()
    transformer = a.model == "transformer"
    a.context = a.context or (128 if transformer else 64)
    a.layers = a.layers or (4 if transformer else 2)
    a.lr = a.lr or (1e-3 if transformer else 2e-3)
    torch.set_num_threads(a.threads or len(os.sched_getaffinity(0)))
    # SequentialLR steps its parts with an epoch argument, which torch 1.13 itself deprecates.
    warnings.filterwarnings("ignore", message="The epoch parameter")

    train_raw = read_text(a.train_text, a.train_chars)
    valid_raw = read_text(a.valid_text, a.valid_chars)
    chars = sorted(set(train_raw) | set(valid_raw))  # char_lm's vocabulary: byte order
    index = {c: k for (k, c) in enumerate(chars)}
    vocab = len(chars)
    (tx, ty) = windows([index[c] for c in train_raw], a.context)
    (vx, vy) = windows([index[c] for c in valid_raw], a.context)

    model = TransformerLM(vocab, a) if transformer else RecurrentLM(a.model == "gru", vocab, a)
    state = torch.load(a.init)
    order = state.pop("order")
    model.load_state_dict(state, strict=True)
    if tuple(order.shape) != (a.epochs, tx.shape[0]):
        raise SystemExit(f"{a.init} holds an order of shape {tuple(order.shape)}, but these "
                         f"flags give {a.epochs} epochs of {tx.shape[0]} windows")
    if a.weight_decay > 0:
        opt = torch.optim.AdamW(model.parameters(), lr=a.lr, weight_decay=a.weight_decay)
    else:
        opt = torch.optim.Adam(model.parameters(), lr=a.lr)
    steps_per_epoch = (tx.shape[0] + a.batch_size - 1) // a.batch_size
    total = a.epochs * steps_per_epoch
    sched = None
    if a.schedule == "onecycle":
        sched = torch.optim.lr_scheduler.OneCycleLR(opt, a.lr, total_steps=total)
    elif a.schedule == "cosine" and a.warmup > 0:
        sched = torch.optim.lr_scheduler.SequentialLR(
            opt, [torch.optim.lr_scheduler.LinearLR(opt, 1.0 / a.warmup, 1.0, a.warmup),
                  torch.optim.lr_scheduler.CosineAnnealingLR(opt, total - a.warmup)],
            [a.warmup])
    elif a.schedule == "cosine":
        sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, total)
    print(f"{a.model}: {sum(p.numel() for p in model.parameters())} parameters, {total} steps, "
          f"{torch.get_num_threads()} threads")

    for epoch in range(a.epochs):
        model.train()
        start = time.time()
        total_loss = 0.0
        for k in range(steps_per_epoch):
            rows = order[epoch, k * a.batch_size:(k + 1) * a.batch_size]
            out = model(tx[rows])
            loss = nn.functional.cross_entropy(out.reshape(-1, vocab), ty[rows].reshape(-1))
            opt.zero_grad()
            loss.backward()
            if a.clip_norm > 0:
                nn.utils.clip_grad_norm_(model.parameters(), a.clip_norm)
            opt.step()
            if sched:
                sched.step()
            total_loss += loss.item()
        seconds = time.time() - start
        val = validation_loss(model, vx, vy, vocab)
        train = total_loss / steps_per_epoch
        print(f"epoch {epoch + 1}  train loss {train:.4f} ({train / math.log(2):.3f} bits/char)  "
              f"validation loss {val:.4f} ({val / math.log(2):.3f} bits/char)  {seconds:.1f}s",
              flush=True)


if __name__ == "__main__":
    main()
