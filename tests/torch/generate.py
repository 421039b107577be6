#!/usr/bin/python3
"""Reference values from PyTorch itself, for the C++ tests to compare against.

Run by hand with Debian's python3-torch (1.13) when a case is added:
    /usr/bin/python3 tests/torch/generate.py
and commit the JSON files it writes beside itself. The tests never need torch.

Each case stores its inputs (float64, drawn here), its options, torch's output, and torch's
gradients of sum(output * mix) for a fixed random mix, so that every output element's
gradient differs.
"""
import json
import os

import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))


def t(x):
    return {"shape": list(x.shape), "data": [float(v) for v in x.detach().reshape(-1).tolist()]}


def run(fn, inputs, options):
    """Output and gradients of sum(fn(*inputs) * mix) w.r.t. every input that requires grad."""
    leaves = [x.clone().requires_grad_(x.is_floating_point()) if x is not None else None
              for x in inputs]
    y = fn(*leaves)
    mix = torch.randn(y.shape, dtype=torch.float64)
    (y * mix).sum().backward()
    case = {"options": options, "inputs": [t(x) if x is not None else None for x in inputs],
            "mix": t(mix), "output": t(y),
            "grads": [t(x.grad) if x is not None and x.grad is not None else None
                      for x in leaves]}
    return case


def conv_cases():
    torch.manual_seed(12)
    cases = []
    conv2d = [
        # (N, C, H, W, O, kH, kW, stride, padding, dilation, groups, bias)
        (2, 3, 7, 6, 4, 3, 3, 1, 0, 1, 1, True),
        (2, 2, 7, 8, 3, 3, 2, 2, 0, 1, 1, True),
        (1, 2, 6, 7, 2, 3, 3, (2, 1), (1, 2), 1, 1, True),
        (2, 2, 9, 8, 2, 3, 2, 1, 0, (2, 3), 1, False),
        (2, 4, 5, 6, 6, 3, 3, 1, 1, 1, 2, True),
        (2, 3, 6, 5, 3, 3, 3, 1, 1, 1, 3, True),
        (2, 2, 6, 7, 3, 4, 2, 1, "same", 1, 1, True),
        (1, 2, 7, 6, 2, 3, 3, 1, "same", 2, 1, True),
        (3, 1, 8, 9, 2, 3, 3, 3, 2, 2, 1, False),
    ]
    for (n, c, h, w, o, kh, kw, stride, padding, dilation, groups, bias) in conv2d:
        x = torch.randn(n, c, h, w, dtype=torch.float64)
        wt = torch.randn(o, c // groups, kh, kw, dtype=torch.float64)
        b = torch.randn(o, dtype=torch.float64) if bias else None
        opts = {"op": "conv2d", "stride": stride, "padding": padding, "dilation": dilation,
                "groups": groups}
        cases.append(run(lambda x, wt, b: F.conv2d(x, wt, b, stride, padding, dilation, groups),
                         [x, wt, b], opts))
    conv1d = [
        # (N, C, L, O, k, stride, padding, dilation, groups)
        (2, 4, 11, 6, 3, 2, 2, 2, 2),
        (2, 3, 9, 2, 4, 1, "same", 1, 1),
    ]
    for (n, c, length, o, k, stride, padding, dilation, groups) in conv1d:
        x = torch.randn(n, c, length, dtype=torch.float64)
        wt = torch.randn(o, c // groups, k, dtype=torch.float64)
        b = torch.randn(o, dtype=torch.float64)
        opts = {"op": "conv1d", "stride": stride, "padding": padding, "dilation": dilation,
                "groups": groups}
        cases.append(run(lambda x, wt, b: F.conv1d(x, wt, b, stride, padding, dilation, groups),
                         [x, wt, b], opts))
    return cases


def write(name, cases):
    path = os.path.join(HERE, name)
    with open(path, "w") as f:
        json.dump({"torch": torch.__version__, "cases": cases}, f, separators=(",", ":"))
        f.write("\n")
    print(f"{path}: {len(cases)} cases")


if __name__ == "__main__":
    torch.set_num_threads(1)
    write("conv.json", conv_cases())
