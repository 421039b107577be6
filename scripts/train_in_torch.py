#!/usr/bin/python3
"""The PyTorch half of examples/from_pytorch.cpp: a network trained in PyTorch, its weights
moved to tapegrad, fine-tuned there and brought back. Run by hand with Debian's python3-torch:

    /usr/bin/python3 scripts/train_in_torch.py [--out DIR] [--data DIR] [--epochs N]
        trains the network below on Fashion-MNIST and writes DIR/model.pt
        (torch.save(model.state_dict())), DIR/model.safetensors (the same tensors in the
        safetensors layout) and DIR/predictions.npy (its class for each test image); prints
        its test accuracy.
    build/examples/from_pytorch --dir DIR
        loads both files in tapegrad, compares its predictions with PyTorch's, fine-tunes one
        epoch and writes DIR/finetuned.pt with save_torch.
    /usr/bin/python3 scripts/train_in_torch.py --evaluate DIR/finetuned.pt
        reads that file with torch.load(weights_only=True) and prints its test accuracy.

The network and the input scaling must match examples/from_pytorch.cpp exactly.
"""
import argparse
import gzip
import os
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gen_io_fixtures import write_safetensors  # noqa: E402  (the format's layout, one place)

MEAN, STD = 0.2860, 0.3530  # Fashion-MNIST's pixel mean and deviation, as data::MNIST uses


def network():
    """examples/from_pytorch.cpp's net(): the same modules at the same indices."""
    nn = torch.nn
    return nn.Sequential(
        nn.Unflatten(1, (1, 28, 28)), nn.Conv2d(1, 16, 5, padding=2, bias=False),
        nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(16, 32, 5, padding=2),
        nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(32 * 7 * 7, 10))


def idx(path):
    """An IDX file (gzip or not) as a NumPy array."""
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    ndim = data[3]
    dims = [int.from_bytes(data[4 + 4 * k:8 + 4 * k], "big") for k in range(ndim)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def load(data_dir, split):
    """Images scaled as data::MNIST scales them (one float32 multiply-add per pixel), labels."""
    def find(name):
        for candidate in (name, name + ".gz"):
            if os.path.exists(os.path.join(data_dir, candidate)):
                return os.path.join(data_dir, candidate)
        raise SystemExit("train_in_torch: no %s in %s (run scripts/get_data.sh)" % (name, data_dir))
    images = idx(find(split + "-images-idx3-ubyte")).reshape(-1, 784)
    labels = idx(find(split + "-labels-idx1-ubyte"))
    scale, shift = np.float32(1 / (255.0 * STD)), np.float32(-MEAN / STD)
    x = images.astype(np.float32) * scale + shift
    return torch.from_numpy(x), torch.from_numpy(labels.astype(np.int64))


def predict(model, x):
    model.eval()
    with torch.no_grad():
        return torch.cat([model(x[i:i + 1000]).argmax(1) for i in range(0, len(x), 1000)])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default="build/from_pytorch")
    ap.add_argument("--data", default="data/fashion-mnist")
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--evaluate", help="a state dict to test (tapegrad's finetuned.pt)")
    a = ap.parse_args()
    if not os.path.isdir(a.data):
        a.data = "/usr/share/datasets/fashion-mnist"
    torch.set_num_threads(os.cpu_count())
    x_test, y_test = load(a.data, "t10k")
    model = network()
    if a.evaluate:
        model.load_state_dict(torch.load(a.evaluate, weights_only=True))
        accuracy = (predict(model, x_test) == y_test).double().mean().item()
        print("PyTorch reads %s: test accuracy %.2f%%" % (a.evaluate, 100 * accuracy))
        return
    torch.manual_seed(0)
    model = network()
    x, y = load(a.data, "train")
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    start = time.time()
    for epoch in range(a.epochs):
        model.train()
        order = torch.randperm(len(x))
        for i in range(0, len(x), 128):
            batch = order[i:i + 128]
            loss = torch.nn.functional.cross_entropy(model(x[batch]), y[batch])
            opt.zero_grad()
            loss.backward()
            opt.step()
        accuracy = (predict(model, x_test) == y_test).double().mean().item()
        print("epoch %d: test accuracy %.2f%% (%.0f s)" % (epoch + 1, 100 * accuracy,
                                                          time.time() - start))
    os.makedirs(a.out, exist_ok=True)
    sd = model.state_dict()
    torch.save(sd, os.path.join(a.out, "model.pt"))
    dtypes = {torch.float32: "F32", torch.int64: "I64"}
    write_safetensors(os.path.join(a.out, "model.safetensors"),
                      {k: (dtypes[v.dtype], v.contiguous().numpy().tobytes(), tuple(v.shape))
                       for k, v in sd.items()}, {"format": "pt"})
    np.save(os.path.join(a.out, "predictions.npy"), predict(model, x_test).numpy())
    print("PyTorch: test accuracy %.2f%%; wrote %s/model.pt, model.safetensors, predictions.npy"
          % (100 * accuracy, a.out))


if __name__ == "__main__":
    main()
