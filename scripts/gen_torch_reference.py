#!/usr/bin/python3
"""Reference values from PyTorch itself, for the C++ tests to compare against.

Run by hand with Debian's python3-torch (1.13) when a case is added:
    /usr/bin/python3 scripts/gen_torch_reference.py
and commit the JSON files it writes into tests/reference/ (each records the torch version that
wrote it). The tests never need torch.

Each case stores its inputs (float64, drawn here), its options, torch's output, and torch's
gradients of sum(output * mix) for a fixed random mix, so that every output element's
gradient differs.
"""
import json
import math
import os

import torch
import torch.nn.functional as F

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "reference")


def number(v):
    """v as JSON holds it: a float, or "inf", "-inf", "nan" (JSON has no non-finite numbers)."""
    v = float(v)
    if math.isfinite(v):
        return v
    return "nan" if v != v else ("inf" if v > 0 else "-inf")


def t(x):
    j = {"shape": list(x.shape), "data": [number(v) for v in x.detach().reshape(-1).tolist()]}
    if not x.is_floating_point():
        j["dtype"] = "int64"
    return j


def run(fn, inputs, options, no_grad=()):
    """Output and gradients of sum(fn(*inputs) * mix) w.r.t. every floating input not listed
    in no_grad (no mix and no gradients for an output without one, such as sign's)."""
    leaves = [x.clone().requires_grad_(x.is_floating_point() and k not in no_grad)
              if x is not None else None for k, x in enumerate(inputs)]
    y = fn(*leaves)
    mix = None
    if y.requires_grad:
        mix = torch.randn(y.shape, dtype=torch.float64)
        (y * mix).sum().backward()
    case = {"options": options, "inputs": [t(x) if x is not None else None for x in inputs],
            "mix": t(mix) if mix is not None else None, "output": t(y),
            "grads": [t(x.grad) if x is not None and x.grad is not None else None
                      for x in leaves]}
    if no_grad:
        case["no_grad"] = list(no_grad)
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
    # One input channel, stride 1, unpadded (a first layer on grey images); drawn after the
    # cases above, so their values stay as they were.
    plain = {"stride": 1, "padding": 0, "dilation": 1, "groups": 1}
    x = torch.randn(3, 1, 7, 6, dtype=torch.float64)
    wt = torch.randn(4, 1, 3, 2, dtype=torch.float64)
    b = torch.randn(4, dtype=torch.float64)
    cases.append(run(lambda x, wt, b: F.conv2d(x, wt, b), [x, wt, b], {"op": "conv2d", **plain}))
    x = torch.randn(2, 1, 10, dtype=torch.float64)
    wt = torch.randn(3, 1, 4, dtype=torch.float64)
    b = torch.randn(3, dtype=torch.float64)
    cases.append(run(lambda x, wt, b: F.conv1d(x, wt, b), [x, wt, b], {"op": "conv1d", **plain}))
    return cases


def pool_cases():
    torch.manual_seed(13)
    cases = []
    maxp = [
        # (N, C, H, W, kernel, stride, padding, dilation, ceil_mode)
        (2, 3, 7, 6, 2, None, 0, 1, False),
        (1, 2, 9, 8, 3, 2, 1, 1, False),
        (2, 1, 8, 7, (3, 2), (2, 1), (1, 0), (2, 1), False),
        (1, 2, 7, 7, 3, 2, 1, 1, True),
        (1, 1, 6, 9, 2, 3, 0, 1, True),
    ]
    for (n, c, h, w, k, st, pad, dil, ceil) in maxp:
        x = torch.randn(n, c, h, w, dtype=torch.float64)
        opts = {"op": "max_pool2d", "kernel": k, "stride": st if st is not None else 0,
                "padding": pad, "dilation": dil, "ceil_mode": ceil}
        case = run(lambda x: F.max_pool2d(x, k, st, pad, dil, ceil), [x], opts)
        case["indices"] = F.max_pool2d(x, k, st, pad, dil, ceil, return_indices=True)[1] \
            .reshape(-1).tolist()
        cases.append(case)
    avgp = [
        # (N, C, H, W, kernel, stride, padding, ceil_mode, count_include_pad, divisor_override)
        (2, 3, 7, 6, 2, None, 0, False, True, None),
        (1, 2, 9, 8, 3, 2, 1, False, True, None),
        (1, 2, 9, 8, 3, 2, 1, False, False, None),
        (1, 2, 7, 7, 3, 2, 1, True, True, None),
        (1, 2, 7, 7, 3, 2, 1, True, False, None),
        (1, 1, 6, 9, (2, 3), (3, 2), (1, 1), True, True, None),
        (2, 1, 5, 5, 2, 2, 1, False, True, 3),
    ]
    for (n, c, h, w, k, st, pad, ceil, cip, div) in avgp:
        x = torch.randn(n, c, h, w, dtype=torch.float64)
        opts = {"op": "avg_pool2d", "kernel": k, "stride": st if st is not None else 0,
                "padding": pad, "ceil_mode": ceil, "count_include_pad": cip,
                "divisor_override": div if div is not None else 0}
        cases.append(run(lambda x: F.avg_pool2d(x, k, st, pad, ceil, cip, div), [x], opts))
    for (shape, out) in [((2, 3, 7, 9), (3, 4)), ((1, 2, 5, 5), (1, 1)), ((1, 1, 3, 4), (5, 7)),
                         ((2, 6, 6), (4, 3))]:
        x = torch.randn(*shape, dtype=torch.float64)
        cases.append(run(lambda x: F.adaptive_avg_pool2d(x, out), [x],
                         {"op": "adaptive_avg_pool2d", "output_size": out}))
        x = torch.randn(*shape, dtype=torch.float64)
        case = run(lambda x: F.adaptive_max_pool2d(x, out), [x],
                   {"op": "adaptive_max_pool2d", "output_size": out})
        case["indices"] = F.adaptive_max_pool2d(x, out, return_indices=True)[1].reshape(-1).tolist()
        cases.append(case)
    return cases


def batch_norm_cases():
    torch.manual_seed(14)
    cases = []
    for (shape, training, affine, momentum) in [((6, 3), True, True, 0.1),
                                                ((4, 3, 5), True, False, 0.3),
                                                ((2, 3, 4, 5), True, True, 0.1),
                                                ((2, 3, 4, 5), False, True, 0.1),
                                                ((5, 2, 3), False, False, 0.1)]:
        c = shape[1]
        x = torch.randn(*shape, dtype=torch.float64) * 2 + 1
        rm = torch.randn(c, dtype=torch.float64)
        rv = torch.rand(c, dtype=torch.float64) + 0.5
        w = torch.randn(c, dtype=torch.float64) if affine else None
        b = torch.randn(c, dtype=torch.float64) if affine else None
        rm_in, rv_in = rm.clone(), rv.clone()
        opts = {"op": "batch_norm", "training": training, "momentum": momentum, "eps": 1e-5}
        case = run(lambda x, w, b: F.batch_norm(x, rm, rv, w, b, training, momentum, 1e-5),
                   [x, w, b], opts)
        case["running_in"] = [t(rm_in), t(rv_in)]
        # run() called the op once: rm and rv now hold the updated statistics.
        case["running_out"] = [t(rm), t(rv)]
        cases.append(case)
    return cases


def batchnorm_module_cases():
    """nn.BatchNorm2d through three training steps, then one evaluation."""
    torch.manual_seed(15)
    cases = []
    for momentum in [0.1, None]:
        bn = torch.nn.BatchNorm2d(3, momentum=momentum).double()
        with torch.no_grad():
            bn.weight.copy_(torch.randn(3, dtype=torch.float64))
            bn.bias.copy_(torch.randn(3, dtype=torch.float64))
        case = {"momentum": momentum if momentum is not None else "None",
                "weight": t(bn.weight), "bias": t(bn.bias), "steps": []}
        for _ in range(3):
            x = torch.randn(4, 3, 2, 3, dtype=torch.float64) * 3 - 1
            case["steps"].append({"x": t(x), "y": t(bn(x))})
        case["running_mean"] = t(bn.running_mean)
        case["running_var"] = t(bn.running_var)
        case["num_batches_tracked"] = int(bn.num_batches_tracked)
        bn.eval()
        x = torch.randn(2, 3, 2, 3, dtype=torch.float64)
        case["eval"] = {"x": t(x), "y": t(bn(x))}
        cases.append(case)
    return cases


def layer_norm_cases():
    """layer_norm and group_norm, with and without affine parameters."""
    torch.manual_seed(16)
    cases = []
    for (shape, normalized, affine) in [((4, 5), (5,), True), ((2, 3, 4), (3, 4), True),
                                        ((3, 2, 7), (7,), False), ((6,), (6,), True)]:
        x = torch.randn(*shape, dtype=torch.float64) * 3 + 2
        w = torch.randn(*normalized, dtype=torch.float64) if affine else None
        b = torch.randn(*normalized, dtype=torch.float64) if affine else None
        cases.append(run(lambda x, w, b: F.layer_norm(x, normalized, w, b, 1e-5), [x, w, b],
                         {"op": "layer_norm", "normalized_shape": list(normalized), "eps": 1e-5}))
    for (shape, groups, affine, eps) in [((2, 6, 5), 3, True, 1e-5), ((3, 4, 2, 3), 2, True, 1e-3),
                                         ((2, 4, 3, 3), 4, False, 1e-5), ((4, 6), 1, True, 1e-5),
                                         ((2, 6, 2, 2), 6, True, 1e-5)]:
        x = torch.randn(*shape, dtype=torch.float64) * 2 - 1
        c = shape[1]
        w = torch.randn(c, dtype=torch.float64) if affine else None
        b = torch.randn(c, dtype=torch.float64) if affine else None
        cases.append(run(lambda x, w, b: F.group_norm(x, groups, w, b, eps), [x, w, b],
                         {"op": "group_norm", "num_groups": groups, "eps": eps}))
    return cases


def embedding_cases():
    """Repeated indices accumulate; the padding row gets no gradient."""
    torch.manual_seed(17)
    cases = []
    for (v, d, idx, padding_idx) in [(7, 3, [[1, 4, 1], [6, 0, 4]], None),
                                     (5, 4, [2, 0, 2, 3, 0, 4], 0),
                                     (6, 2, [[[5, 1], [5, 5]]], -1)]:
        w = torch.randn(v, d, dtype=torch.float64)
        i = torch.tensor(idx, dtype=torch.int64)
        case = run(lambda i, w: F.embedding(i, w, padding_idx), [i, w],
                   {"op": "embedding", "padding_idx": padding_idx})
        cases.append(case)
    # max_norm renormalises the rows looked up, in the weight itself (weight_after); with
    # scale_grad_by_freq a row's gradient is divided by its index's count.
    for (v, d, idx, padding_idx, max_norm, norm_type, freq) in [
            (7, 3, [[1, 4, 1], [6, 0, 4]], None, 1.0, 2.0, False),
            (6, 4, [2, 0, 2, 3, 0, 5], 0, 1.5, 1.0, True),
            (5, 3, [[4, 4], [1, 4]], None, 0.8, float("inf"), False),
            (6, 2, [[[5, 1], [5, 5]]], -1, None, 2.0, True)]:
        w = torch.randn(v, d, dtype=torch.float64) * 2
        i = torch.tensor(idx, dtype=torch.int64)
        case = run(lambda i, w: F.embedding(i, w, padding_idx, max_norm, norm_type, freq), [i, w],
                   {"op": "embedding", "padding_idx": padding_idx, "max_norm": max_norm,
                    "norm_type": norm_type if norm_type != float("inf") else "inf",
                    "scale_grad_by_freq": freq})
        w_after = w.clone()
        with torch.no_grad():
            F.embedding(i, w_after, padding_idx, max_norm, norm_type, freq)
        case["weight_after"] = t(w_after)
        cases.append(case)
    return cases


def pad_cases():
    torch.manual_seed(18)
    cases = []
    for (shape, pads, mode, value) in [((2, 3, 4), (1, 2), "constant", 0.0),
                                       ((2, 3, 4), (1, 0, 2, 1), "constant", -1.5),
                                       ((2, 3, 4, 5), (-1, 2, 0, -2, 1, 1), "constant", 0.5),
                                       ((2, 3, 5), (2, 3), "reflect", None),
                                       ((1, 2, 4, 5), (3, 1, 2, 3), "reflect", None),
                                       ((3, 4), (3, 2), "reflect", None),
                                       ((2, 2, 4), (2, 3), "replicate", None),
                                       ((1, 2, 3, 4), (1, 4, 2, 0), "replicate", None),
                                       ((1, 1, 2, 3, 4), (1, 1, 1, 2, 2, 0), "replicate", None),
                                       ((2, 3, 5), (2, 5), "circular", None),
                                       ((1, 2, 3, 4), (1, 2, 3, 1), "circular", None)]:
        x = torch.randn(*shape, dtype=torch.float64)
        if mode == "constant":
            fn = lambda x: F.pad(x, pads, mode, value)
        else:
            fn = lambda x: F.pad(x, pads, mode)
        cases.append(run(fn, [x], {"op": "pad", "pads": list(pads), "mode": mode,
                                   "value": value if value is not None else 0.0}))
    return cases


def module_cases():
    """The padding layers, InstanceNorm1d/2d and BatchNorm3d as torch's modules compute them:
    a padding layer's output and input gradient; a normalisation layer's outputs and gradients
    (input, weight, bias) over two training steps, its running statistics, and an evaluation."""
    torch.manual_seed(19)
    nn = torch.nn
    cases = []
    for (name, args, shape) in [("ZeroPad2d", (2,), (2, 3, 4)),
                                ("ZeroPad2d", ((1, 0, 2, 3),), (1, 2, 3, 4)),
                                ("ConstantPad1d", (2, 3.5), (2, 3, 4)),
                                ("ConstantPad1d", ((3, -1), -2.0), (3, 5)),
                                ("ConstantPad2d", ((1, 2, 0, 1), 0.5), (2, 2, 3, 3)),
                                ("ReflectionPad1d", (2,), (2, 3, 5)),
                                ("ReflectionPad1d", ((3, 1),), (2, 4)),
                                ("ReflectionPad2d", ((1, 2, 2, 0),), (1, 2, 4, 5)),
                                ("ReflectionPad2d", (1,), (2, 3, 3)),
                                ("ReplicationPad1d", ((0, 4),), (1, 2, 3)),
                                ("ReplicationPad2d", (2,), (1, 1, 2, 3)),
                                ("ReplicationPad2d", ((3, 0, 1, 2),), (2, 3, 4))]:
        m = getattr(nn, name)(*args)
        x = torch.randn(*shape, dtype=torch.float64)
        padding = list(args[0]) if isinstance(args[0], tuple) else args[0]
        options = {"module": name, "padding": padding}
        if name.startswith("Constant"):
            options["value"] = args[1]
        cases.append(run(m, [x], options))
    for (name, shape, config) in [
            ("InstanceNorm1d", (3, 4, 5), {}),
            ("InstanceNorm1d", (2, 3, 6), {"affine": True, "track_running_stats": True}),
            ("InstanceNorm1d", (3, 7), {"affine": True, "eps": 1e-3}),
            ("InstanceNorm2d", (2, 3, 4, 5), {"affine": True, "track_running_stats": True,
                                              "momentum": 0.3}),
            ("InstanceNorm2d", (3, 4, 3), {"track_running_stats": True}),
            ("BatchNorm3d", (3, 2, 2, 3, 2), {}),
            ("BatchNorm3d", (2, 3, 2, 2, 3), {"momentum": None, "affine": False})]:
        channels = shape[-3] if name == "InstanceNorm2d" else shape[1]
        if name == "InstanceNorm1d":
            channels = shape[-2]
        m = getattr(nn, name)(channels, **config).double()
        case = {"module": name, "config": {k: ("None" if v is None else v)
                                           for (k, v) in config.items()},
                "channels": channels, "steps": []}
        if m.weight is not None:
            with torch.no_grad():
                m.weight.copy_(torch.randn(channels, dtype=torch.float64))
                m.bias.copy_(torch.randn(channels, dtype=torch.float64))
            case["weight"] = t(m.weight)
            case["bias"] = t(m.bias)
        for _ in range(2):
            x = (torch.randn(*shape, dtype=torch.float64) * 2 + 0.5).requires_grad_(True)
            m.zero_grad()
            y = m(x)
            mix = torch.randn(y.shape, dtype=torch.float64)
            (y * mix).sum().backward()
            step = {"x": t(x), "y": t(y), "mix": t(mix), "gx": t(x.grad)}
            if m.weight is not None:
                step["gweight"] = t(m.weight.grad)
                step["gbias"] = t(m.bias.grad)
            case["steps"].append(step)
        if m.running_mean is not None:
            case["running_mean"] = t(m.running_mean)
            case["running_var"] = t(m.running_var)
            case["num_batches_tracked"] = int(m.num_batches_tracked)
        m.eval()
        x = torch.randn(*shape, dtype=torch.float64)
        case["eval"] = {"x": t(x), "y": t(m(x))}
        cases.append(case)
    return cases


def cases_into(cases):
    """case(op, fn, inputs, no_grad=(), **options) appends run(...) of one case to cases, its
    options holding op as the C++ table spells it."""
    def case(op, fn, inputs, no_grad=(), **options):
        cases.append(run(fn, inputs, dict(op=op, **options), no_grad))
    return case


def randn(*shape):
    return torch.randn(*shape, dtype=torch.float64)


def ties(*shape):
    """Values on a coarse grid, so that equal elements (ties) occur."""
    return torch.randint(-3, 4, shape).to(torch.float64) / 2


def elementwise_cases():
    """Elementwise math, activations, clamp, extrema and selection: each case names its op and
    options as the C++ test's table spells them."""
    torch.manual_seed(19)
    cases = []

    case = cases_into(cases)

    for (sa, sb) in [((3, 4), (3, 4)), ((2, 3, 4), (4,)), ((3, 1), (1, 5)), ((2, 1, 3), (4, 1))]:
        case("add", torch.add, [randn(*sa), randn(*sb)])
        case("sub", torch.sub, [randn(*sa), randn(*sb)])
        case("mul", torch.mul, [randn(*sa), randn(*sb)])
        case("div", torch.div, [randn(*sa), randn(*sb).abs() + 0.5])
        case("maximum", torch.maximum, [randn(*sa), randn(*sb)])
        case("minimum", torch.minimum, [randn(*sa), randn(*sb)])
    case("maximum", torch.maximum, [ties(4, 5), ties(4, 5)])
    case("minimum", torch.minimum, [ties(3, 4), ties(4)])
    pos = randn(3, 5).abs() + 0.2
    for p in [2.0, 0.5, -1.0, 3.0, 1.7, -0.5]:
        case("pow", lambda x: torch.pow(x, p), [pos], p=p)
    x = randn(4, 5) * 2
    case("exp", torch.exp, [x])
    case("log", torch.log, [pos])
    case("sqrt", torch.sqrt, [pos])
    case("rsqrt", torch.rsqrt, [pos])
    case("abs", torch.abs, [ties(3, 5)])
    case("square", torch.square, [x])
    case("sin", torch.sin, [x * 2])
    case("cos", torch.cos, [x * 2])
    case("neg", torch.neg, [x])
    case("sign", torch.sign, [ties(3, 4)])
    # Comparisons broadcast and give 1 or 0 in the inputs' dtype in tapegrad (bool in torch).
    for name in ["eq", "ne", "lt", "le", "gt", "ge"]:
        case(name, lambda a, b: getattr(torch, name)(a, b).double(), [ties(3, 4), ties(1, 4)])
    case("affine", lambda x: x * 2.5 - 0.75, [x], a=2.5, b=-0.75)
    for (lo, hi) in [(-0.5, 1.0), (-1.0, None), (None, 0.5), (1.0, -1.0), (-1.0, -1.0)]:
        case("clamp", lambda x: torch.clamp(x, lo, hi), [ties(4, 5)], lo=lo, hi=hi)
    case("clamp_min", lambda x: torch.clamp_min(x, 0.5), [ties(4, 5)], lo=0.5)
    case("clamp_max", lambda x: torch.clamp_max(x, -0.5), [ties(4, 5)], hi=-0.5)
    a = x * 3
    case("sigmoid", torch.sigmoid, [a])
    case("tanh", torch.tanh, [a])
    case("relu", torch.relu, [ties(4, 5)])
    for slope in [0.01, 0.2, -0.3]:
        case("leaky_relu", lambda x: F.leaky_relu(x, slope), [ties(4, 5)], negative_slope=slope)
    for (beta, threshold) in [(1.0, 20.0), (2.0, 1.5), (0.5, 0.5), (-1.0, 2.0)]:
        case("softplus", lambda x: F.softplus(x, beta, threshold), [a], beta=beta,
             threshold=threshold)
    case("softplus", lambda x: F.softplus(x, 1.0, 1.0), [ties(4, 5)], beta=1.0, threshold=1.0)
    for alpha in [1.0, 0.3, 2.0]:
        case("elu", lambda x: F.elu(x, alpha), [a], alpha=alpha)
    case("elu", lambda x: F.elu(x, 0.7), [ties(4, 5)], alpha=0.7)
    for approximate in ["none", "tanh"]:
        case("gelu", lambda x: F.gelu(x, approximate=approximate), [a], approximate=approximate)
        case("gelu", lambda x: F.gelu(x, approximate=approximate), [ties(3, 4)],
             approximate=approximate)
    case("silu", F.silu, [a])
    for (lo, hi) in [(-1.0, 1.0), (-0.5, 1.5), (0.0, 0.0)]:
        case("hardtanh", lambda x: F.hardtanh(x, lo, hi), [ties(4, 5)], min_val=lo, max_val=hi)
    case("hardtanh", lambda x: F.hardtanh(x, -2.0, 2.5), [a], min_val=-2.0, max_val=2.5)
    case("relu6", F.relu6, [a * 3])
    case("relu6", F.relu6, [ties(4, 5) * 4])
    for (sc, sa, sb) in [((3, 4), (3, 4), (3, 4)), ((4,), (3, 1), (2, 1, 1)),
                         ((2, 1, 3), (3,), (1, 4, 1))]:
        cond = torch.randn(*sc) > 0
        case("where", torch.where, [cond, randn(*sa), randn(*sb)])
    case("where_scalar_b", lambda c, x: torch.where(c, x, 0.25), [torch.randn(3, 4) > 0,
                                                                   randn(3, 4)], b=0.25)
    case("where_scalar_a", lambda c, x: torch.where(c, -1.5, x), [torch.randn(4) > 0,
                                                                  randn(3, 4)], a=-1.5)
    for (sx, sm, value) in [((3, 4), (3, 4), -2.0), ((2, 3, 4), (4,), 0.5), ((3, 4), (3, 1), 7.0)]:
        case("masked_fill", lambda x, m: x.masked_fill(m, value), [randn(*sx),
                                                                   torch.randn(*sm) > 0],
             value=value)
    case("erf", torch.erf, [randn(4, 5) * 1.5])
    return cases


def reduce_cases():
    """Reductions and statistics over dims, with ties where torch defines who gets the gradient."""
    torch.manual_seed(20)
    cases = []

    case = cases_into(cases)

    x = randn(3, 4, 5)
    for (dims, keepdim) in [(None, False), ([1], False), ([0, 2], True), ([-1], True),
                            ([2, 0], False)]:
        d = tuple(dims) if dims is not None else None
        if d is None:
            case("sum", lambda x: x.sum(), [x], dims=None, keepdim=False)
            case("mean", lambda x: x.mean(), [x], dims=None, keepdim=False)
        elif len(d) == 1:
            case("sum", lambda x: x.sum(d[0], keepdim), [x], dims=dims, keepdim=keepdim)
            case("mean", lambda x: x.mean(d[0], keepdim), [x], dims=dims, keepdim=keepdim)
        for xin in [x, ties(3, 4, 5)]:
            if d is None:
                case("amax", lambda x: x.amax(), [xin], dims=dims, keepdim=keepdim)
                case("amin", lambda x: x.amin(), [xin], dims=dims, keepdim=keepdim)
            else:
                case("amax", lambda x: x.amax(d, keepdim), [xin], dims=dims, keepdim=keepdim)
                case("amin", lambda x: x.amin(d, keepdim), [xin], dims=dims, keepdim=keepdim)
        case("logsumexp", lambda x: torch.logsumexp(x, d if d is not None else (0, 1, 2),
                                                    keepdim),
             [x * 3], dims=dims if dims is not None else [0, 1, 2], keepdim=keepdim)
        for correction in [1, 0, 2]:
            unbiased = {1: True, 0: False}.get(correction)
            if d is None:
                fv = lambda x: torch.var(x, None, correction=correction)
                fs = lambda x: torch.std(x, None, correction=correction)
            else:
                fv = lambda x: torch.var(x, d, correction=correction, keepdim=keepdim)
                fs = lambda x: torch.std(x, d, correction=correction, keepdim=keepdim)
            case("var", fv, [x], dims=dims, correction=correction, keepdim=keepdim)
            case("std", fs, [x], dims=dims, correction=correction, keepdim=keepdim)
        for p in [2.0, 1.0, float("inf"), 3.0, 1.5, 0.5]:
            xin = ties(3, 4, 5) if p == float("inf") else x
            case("norm", lambda x: torch.linalg.vector_norm(x, p, d, keepdim), [xin],
                 p=p if p != float("inf") else "inf", dims=dims, keepdim=keepdim)
    # Logits of +-1000 stay finite.
    big = torch.tensor([[1000.0, -1000.0, 999.0], [-1000.0, -1000.0, -999.0]],
                       dtype=torch.float64)
    case("logsumexp", lambda x: torch.logsumexp(x, 1), [big], dims=[1], keepdim=False)
    case("logsumexp", lambda x: torch.logsumexp(x, 0, True), [big], dims=[0], keepdim=True)
    # max / min along a dim: values and the index's gradient (first occurrence on ties).
    t = ties(4, 6)
    for dim in [0, 1, -1]:
        for keepdim in [False, True]:
            cm = run(lambda x: x.max(dim, keepdim).values, [t],
                     {"op": "max_dim", "dim": dim, "keepdim": keepdim})
            cm["indices"] = t.max(dim, keepdim).indices.reshape(-1).tolist()
            cases.append(cm)
            cm = run(lambda x: x.min(dim, keepdim).values, [t],
                     {"op": "min_dim", "dim": dim, "keepdim": keepdim})
            cm["indices"] = t.min(dim, keepdim).indices.reshape(-1).tolist()
            cases.append(cm)
    # max() / min() of a whole tensor: ties share the gradient.
    case("max_all", lambda x: x.max(), [ties(3, 5)])
    case("min_all", lambda x: x.min(), [ties(3, 5)])
    case("max_all", lambda x: x.max(), [randn(7)])
    for dim in [0, 1, 2, -1]:
        case("cumsum", lambda x: torch.cumsum(x, dim), [x], dim=dim)
    # softmax and log_softmax along each dim, and on logits of +-1000.
    for dim in [0, 1, 2, -1]:
        case("softmax", lambda x: torch.softmax(x, dim), [x * 2], dim=dim)
        case("log_softmax", lambda x: torch.log_softmax(x, dim), [x * 2], dim=dim)
    case("softmax", lambda x: torch.softmax(x, 1), [big], dim=1)
    case("log_softmax", lambda x: torch.log_softmax(x, 1), [big], dim=1)
    case("log_softmax", lambda x: torch.log_softmax(x, 0), [big], dim=0)
    # argmax: the first of tied maxima, as an int64 tensor (no gradient).
    for dim in [0, 1, -1]:
        for keepdim in [False, True]:
            cm = run(lambda x: x.argmax(dim, keepdim), [t], {"op": "argmax", "dim": dim,
                                                           "keepdim": keepdim},
                     no_grad=[0])
            cases.append(cm)
    # sort (stable in torch 1.13 on the CPU, ties included) and topk (distinct values: among
    # ties torch's topk picks indices in an order of its own), values with their gradient and
    # the indices.
    for (x, dim) in [(ties(4, 6), 1), (ties(4, 6), 0), (ties(2, 5, 3), 1), (randn(3, 4, 5), -1)]:
        for descending in [False, True]:
            cm = run(lambda x: torch.sort(x, dim=dim, descending=descending, stable=True).values, [x],
                     {"op": "sort", "dim": dim, "descending": descending})
            cm["indices"] = torch.sort(x, dim=dim, descending=descending, stable=True).indices.reshape(-1).tolist()
            cases.append(cm)
    for (shape, k, dim) in [((4, 6), 3, 1), ((5, 4), 2, 0), ((2, 7, 3), 4, 1), ((6,), 6, 0),
                            ((3, 5), 0, 1), ((2, 3, 8), 1, -1)]:
        x = randn(*shape)
        for largest in [True, False]:
            cm = run(lambda x: torch.topk(x, k, dim, largest).values, [x],
                     {"op": "topk", "k": k, "dim": dim, "largest": largest})
            cm["indices"] = torch.topk(x, k, dim, largest).indices.reshape(-1).tolist()
            cases.append(cm)
    # softmax over attention scores masked with -inf: a causal mask (triu above the diagonal)
    # and a key-padding mask broadcast over the queries; no row is masked entirely (that row is
    # NaN, which JSON cannot hold: the C++ tests check it).
    neg_inf = float("-inf")
    causal = torch.triu(torch.ones(4, 4, dtype=torch.int64), 1)
    case("masked_softmax", lambda x, m: torch.softmax(x.masked_fill(m.bool(), neg_inf), -1),
         [randn(2, 4, 4), causal], no_grad=[1], dim=-1)
    padding = torch.tensor([[[0, 0, 0, 1, 1]], [[0, 1, 0, 0, 1]]])
    case("masked_softmax", lambda x, m: torch.softmax(x.masked_fill(m.bool(), neg_inf), -1),
         [randn(2, 3, 5), padding], no_grad=[1], dim=-1)
    case("masked_softmax", lambda x, m: torch.softmax(x.masked_fill(m.bool(), neg_inf), 1),
         [randn(2, 5, 3), padding.transpose(1, 2)], no_grad=[1], dim=1)
    return cases


def shape_cases():
    """Layout ops (copies, views, splits) and the products, each with its gradient."""
    torch.manual_seed(21)
    cases = []

    case = cases_into(cases)

    x = randn(2, 3, 4)
    for dims in [[2, 0, 1], [1, 0, 2], [0, 1, 2], [-1, -3, 1]]:
        case("permute", lambda x: x.permute(*dims), [x], dims=dims)
    for dim in [0, 1, 3, -1, -4]:
        case("unsqueeze", lambda x: x.unsqueeze(dim), [x], dim=dim)
    y = randn(2, 1, 3, 1)
    case("squeeze", lambda x: x.squeeze(), [y], dim=None)
    for dim in [1, -1, 0]:
        case("squeeze", lambda x: x.squeeze(dim), [y], dim=dim)
    for (shape, target) in [((3, 1), (3, 4)), ((1, 4), (2, 3, 4)), ((2, 1, 3), (-1, 5, -1)),
                            ((3,), (2, 2, 3))]:
        case("expand", lambda x: x.expand(*target), [randn(*shape)], shape=list(target))
    case("broadcast_to", lambda x: torch.broadcast_to(x, (4, 2, 3)), [randn(2, 1)],
         shape=[4, 2, 3])
    for (shape, reps) in [((2, 3), (2, 2)), ((2, 3), (3, 1, 2)), ((3,), (2, 2)), ((2, 1, 2), (1, 3, 2))]:
        case("repeat", lambda x: x.repeat(*reps), [randn(*shape)], repeats=list(reps))
    for dims in [[0], [2], [0, 2], [-1, 1], [0, 1, 2]]:
        case("flip", lambda x: torch.flip(x, dims), [x], dims=dims)
    z = randn(7, 3)
    for (size, dim) in [(3, 0), (2, 1), (7, 0), (10, 0)]:
        for k in range(len(torch.split(z, size, dim))):
            case("split", lambda x: torch.split(x, size, dim)[k], [z], split_size=size, dim=dim,
                 piece=k)
    for k, _ in enumerate([2, 4, 1]):
        case("split_sizes", lambda x: torch.split(x, [2, 4, 1], 0)[k], [z], sizes=[2, 4, 1], dim=0,
             piece=k)
    for (chunks, dim) in [(3, 0), (2, 1), (4, 0), (7, 0)]:
        for k in range(len(torch.chunk(z, chunks, dim))):
            case("chunk", lambda x: torch.chunk(x, chunks, dim)[k], [z], chunks=chunks, dim=dim,
                 piece=k)
    case("one_hot", lambda i: F.one_hot(i, 5), [torch.tensor([[0, 4, 2], [1, 1, 3]])],
         num_classes=5)
    case("one_hot", lambda i: F.one_hot(i), [torch.tensor([3, 0, 1])], num_classes=-1)
    # Shape ops that already existed.
    case("reshape", lambda x: x.reshape(4, -1), [x], shape=[4, -1])
    case("flatten", lambda x: x.flatten(1), [x], start_dim=1, end_dim=-1)
    case("transpose", lambda x: x.transpose(0, 2), [x], dim0=0, dim1=2)
    case("t", lambda x: x.t(), [z])
    case("narrow", lambda x: x.narrow(1, 1, 2), [x], dim=1, start=1, length=2)
    case("slice", lambda x: x[:, :, 1::2], [x], dim=2, start=1, end=4, step=2)
    case("index_select", lambda x, i: x.index_select(1, i), [x, torch.tensor([2, 0, 2])], dim=1)
    case("gather", lambda x, i: x.gather(1, i), [randn(3, 4), torch.tensor([[0, 3], [1, 1], [2, 0]])],
         dim=1)
    case("cat", lambda a, b, c: torch.cat([a, b, c], 1), [randn(2, 1, 3), randn(2, 3, 3),
                                                            randn(2, 2, 3)], dim=1)
    case("stack", lambda a, b: torch.stack([a, b], 1), [randn(3, 2), randn(3, 2)], dim=1)
    case("matmul", torch.matmul, [randn(3, 4), randn(4, 5)])
    case("matmul", torch.matmul, [randn(2, 3, 4), randn(2, 4, 5)])
    case("matmul", torch.matmul, [randn(1, 3, 4), randn(3, 4, 2)])
    case("matmul", torch.matmul, [randn(3, 4), randn(2, 4, 5)])
    case("linear", F.linear, [randn(5, 4), randn(3, 4), randn(3)])
    case("linear", lambda x, w: F.linear(x, w), [randn(2, 5, 4), randn(3, 4)])
    # torch.matmul's full semantics: 1-D operands promoted and removed, N-d batch dims
    # broadcast (appended, so the cases above keep their random draws).
    case("matmul", torch.matmul, [randn(4), randn(4)])
    case("matmul", torch.matmul, [randn(4), randn(4, 3)])
    case("matmul", torch.matmul, [randn(2, 4), randn(4)])
    case("matmul", torch.matmul, [randn(5, 2, 4), randn(4)])
    case("matmul", torch.matmul, [randn(4), randn(2, 4, 3)])
    case("matmul", torch.matmul, [randn(2, 1, 3, 4), randn(5, 4, 2)])
    case("matmul", torch.matmul, [randn(3, 1, 2, 4), randn(1, 2, 4, 3)])
    case("bmm", torch.bmm, [randn(3, 2, 4), randn(3, 4, 5)])
    for d in [0, 1, -1, 3, -4, 9]:
        case("tril", lambda x: torch.tril(x, d), [randn(2, 3, 4)], diagonal=d)
        case("triu", lambda x: torch.triu(x, d), [randn(4, 3)], diagonal=d)
    # matmul reading an operand transposed (attention's q k^T): torch's product with the
    # operand's last two dims swapped.
    tr = lambda x, on: x.transpose(-2, -1) if on else x
    for (sa, sb, ta, tb) in [((2, 3, 4), (2, 5, 4), False, True), ((4, 3), (4, 5), True, False),
                             ((3, 1, 4, 2), (5, 3, 4), True, True), ((4,), (2, 5, 4), False, True),
                             ((2, 4, 3), (4,), True, False), ((6, 3), (2, 6, 5), True, False)]:
        case("matmul_t", lambda a, b: torch.matmul(tr(a, ta), tr(b, tb)), [randn(*sa), randn(*sb)],
             transpose_a=ta, transpose_b=tb)
    return cases


def loss_cases():
    """Every loss and reduction; targets carry gradients where torch computes them."""
    torch.manual_seed(22)
    cases = []

    case = cases_into(cases)

    for reduction in ["mean", "sum", "none"]:
        x, y = randn(4, 3), randn(4, 3)
        case("mse_loss", lambda a, b: F.mse_loss(a, b, reduction=reduction), [x, y],
             reduction=reduction)
        case("l1_loss", lambda a, b: F.l1_loss(a, b, reduction=reduction), [x, y],
             reduction=reduction)
        for delta in [1.0, 0.5, 2.0]:
            case("huber_loss", lambda a, b: F.huber_loss(a, b, reduction=reduction, delta=delta),
                 [x * 2, y], reduction=reduction, delta=delta)
        for beta in [1.0, 0.5, 0.0]:
            case("smooth_l1_loss",
                 lambda a, b: F.smooth_l1_loss(a, b, reduction=reduction, beta=beta),
                 [x * 2, y], reduction=reduction, beta=beta)
        logits = randn(5, 4) * 2
        labels = torch.tensor([0, 3, 1, 1, 2])
        case("cross_entropy", lambda a, b: F.cross_entropy(a, b, reduction=reduction),
             [logits, labels], reduction=reduction)
        probs = torch.softmax(randn(5, 4), 1)
        case("cross_entropy", lambda a, b: F.cross_entropy(a, b, reduction=reduction),
             [logits, probs], reduction=reduction)
        case("nll_loss", lambda a, b: F.nll_loss(a, b, reduction=reduction),
             [torch.log_softmax(logits, 1), labels], reduction=reduction)
        p = torch.sigmoid(randn(4, 3))
        tgt = torch.rand(4, 3, dtype=torch.float64)
        case("binary_cross_entropy",
             lambda a, b: F.binary_cross_entropy(a, b, reduction=reduction), [p, tgt],
             no_grad=(1,), reduction=reduction)
        case("binary_cross_entropy_with_logits",
             lambda a, b: F.binary_cross_entropy_with_logits(a, b, reduction=reduction),
             [randn(4, 3) * 3, tgt], reduction=reduction)
    # Binary cross-entropies with weight (input 2) and pos_weight (input 3), neither with a
    # gradient.
    for reduction in ["mean", "sum", "none"]:
        p = torch.sigmoid(randn(4, 3))
        tgt = torch.rand(4, 3, dtype=torch.float64)
        x = randn(4, 3) * 3
        for wshape in [(4, 3), (3,), (4, 1)]:
            wt = torch.rand(*wshape, dtype=torch.float64) + 0.5
            case("binary_cross_entropy_w",
                 lambda a, b, c: F.binary_cross_entropy(a, b, weight=c, reduction=reduction),
                 [p, tgt, wt], no_grad=(1, 2), reduction=reduction)
            case("binary_cross_entropy_with_logits_w",
                 lambda a, b, c: F.binary_cross_entropy_with_logits(a, b, weight=c,
                                                                    reduction=reduction),
                 [x, tgt, wt], no_grad=(2,), reduction=reduction)
        pw = torch.rand(3, dtype=torch.float64) * 3 + 0.2
        case("binary_cross_entropy_with_logits_pw",
             lambda a, b, c: F.binary_cross_entropy_with_logits(a, b, pos_weight=c,
                                                                reduction=reduction),
             [x, tgt, pw], no_grad=(2,), reduction=reduction)
        wt = torch.rand(4, 1, dtype=torch.float64) + 0.5
        case("binary_cross_entropy_with_logits_w_pw",
             lambda a, b, c, d: F.binary_cross_entropy_with_logits(a, b, weight=c, pos_weight=d,
                                                                   reduction=reduction),
             [x, tgt, wt, pw], no_grad=(2, 3), reduction=reduction)
    # cross_entropy and nll_loss options: class weights (input 2, no gradient), ignore_index,
    # label smoothing, and (N, C, d1, ...) inputs.
    w = torch.rand(4, dtype=torch.float64) + 0.5
    for reduction in ["mean", "sum", "none"]:
        for (shape, tshape) in [((6, 4), (6,)), ((2, 4, 3), (2, 3)), ((2, 4, 2, 3), (2, 2, 3)),
                                ((4,), ())]:
            logits = randn(*shape) * 2
            labels = torch.randint(0, 4, tshape)
            if len(tshape) > 0:  # some targets at class 2, one at the default ignore_index
                labels.view(-1)[::3] = 2
                labels.view(-1)[1] = -100
            else:  # one sample, never ignored: an all-ignored mean is 0/0
                labels = torch.tensor(3)
            for (weighted, smoothing, ignore) in [(True, 0.0, -100), (False, 0.2, -100),
                                                  (True, 0.3, 2), (False, 0.0, 2)]:
                # -100 is a class index only while it is the one ignored.
                lab = labels if ignore == -100 else labels.clamp(min=0)
                ins = [logits, lab, w] if weighted else [logits, lab]
                def ce(a, b, *ww):
                    return F.cross_entropy(a, b, weight=ww[0] if ww else None,
                                           ignore_index=ignore, reduction=reduction,
                                           label_smoothing=smoothing)
                case("cross_entropy_opts", ce, ins, no_grad=(2,), reduction=reduction,
                     ignore_index=ignore, label_smoothing=smoothing)
                if smoothing == 0.0:
                    def nll(a, b, *ww):
                        return F.nll_loss(a, b, weight=ww[0] if ww else None,
                                          ignore_index=ignore, reduction=reduction)
                    ins[0] = torch.log_softmax(logits, 1 if len(shape) > 1 else 0)
                    case("nll_loss_opts", nll, ins, no_grad=(2,), reduction=reduction,
                         ignore_index=ignore)
            # Probability targets, weighted and smoothed.
            probs = torch.softmax(randn(*shape), 1 if len(shape) > 1 else 0)
            for (weighted, smoothing) in [(True, 0.0), (False, 0.25), (True, 0.1)]:
                ins = [logits, probs, w] if weighted else [logits, probs]
                def cep(a, b, *ww):
                    return F.cross_entropy(a, b, weight=ww[0] if ww else None,
                                           reduction=reduction, label_smoothing=smoothing)
                case("cross_entropy_opts", cep, ins, no_grad=(2,), reduction=reduction,
                     ignore_index=-100, label_smoothing=smoothing)
    for reduction in ["mean", "sum", "none", "batchmean"]:
        inp = torch.log_softmax(randn(3, 5), 1)
        tp = torch.softmax(randn(3, 5), 1)
        case("kl_div", lambda a, b: F.kl_div(a, b, reduction=reduction), [inp, tp],
             reduction=reduction, log_target=False)
        case("kl_div", lambda a, b: F.kl_div(a, b, reduction=reduction, log_target=True),
             [inp, torch.log(tp)], reduction=reduction, log_target=True)
    return cases


def schedule_cases():
    """30 epochs of every schedule on two parameter groups (lr 0.1 and 0.05), as torch steps it,
    with the momentum (or Adam's beta1) of each group where a schedule cycles it."""
    sched = torch.optim.lr_scheduler
    # The functions of LambdaLR and MultiplicativeLR, by the names the C++ test knows them by.
    lambdas = {"inverse": lambda e: 1.0 / (1.0 + 0.5 * e),
               "sawtooth": lambda e: 0.8 if e % 3 == 0 else 0.95}
    configs = [
        ("StepLR", {"step_size": 7, "gamma": 0.5}),
        ("MultiStepLR", {"milestones": [5, 12, 12, 20], "gamma": 0.3}),
        ("ExponentialLR", {"gamma": 0.9}),
        ("CosineAnnealingLR", {"T_max": 10, "eta_min": 0.001}),
        ("CosineAnnealingLR", {"T_max": 7, "eta_min": 0.0}),
        ("LinearLR", {"start_factor": 0.25, "end_factor": 1.0, "total_iters": 8}),
        ("LinearLR", {"start_factor": 1.0, "end_factor": 0.1, "total_iters": 12}),
        ("ConstantLR", {"factor": 0.5, "total_iters": 4}),
        ("ConstantLR", {"factor": 0.25, "total_iters": 0}),
        ("PolynomialLR", {"total_iters": 10, "power": 1.0}),
        ("PolynomialLR", {"total_iters": 20, "power": 2.0}),
        ("PolynomialLR", {"total_iters": 6, "power": 0.5}),
        ("LambdaLR", {"lr_lambda": "inverse"}),
        ("MultiplicativeLR", {"lr_lambda": "sawtooth"}),
        ("CosineAnnealingWarmRestarts", {"T_0": 5}),
        ("CosineAnnealingWarmRestarts", {"T_0": 3, "T_mult": 2, "eta_min": 0.001}),
        ("CyclicLR", {"base_lr": 0.01, "max_lr": 0.1, "step_size_up": 4}, "SGD+momentum"),
        ("CyclicLR", {"base_lr": [0.01, 0.02], "max_lr": [0.1, 0.05], "step_size_up": 3,
                      "step_size_down": 5, "mode": "triangular2", "cycle_momentum": False}),
        ("CyclicLR", {"base_lr": 0.01, "max_lr": 0.1, "step_size_up": 4, "mode": "exp_range",
                      "gamma": 0.9, "base_momentum": 0.5, "max_momentum": 0.95}, "SGD+momentum"),
        ("OneCycleLR", {"max_lr": 0.1, "total_steps": 30}, "SGD+momentum"),
        ("OneCycleLR", {"max_lr": [0.1, 0.2], "total_steps": 30, "pct_start": 0.25,
                        "anneal_strategy": "linear", "div_factor": 10.0,
                        "final_div_factor": 100.0, "three_phase": True}, "Adam"),
        ("OneCycleLR", {"max_lr": 0.1, "total_steps": 40, "cycle_momentum": False}),
        ("ChainedScheduler", {"schedulers": [["ConstantLR", {"factor": 0.5, "total_iters": 4}],
                                             ["ExponentialLR", {"gamma": 0.9}]]}),
        ("SequentialLR", {"schedulers": [["LinearLR", {"start_factor": 0.25,
                                                       "total_iters": 5}],
                                         ["CosineAnnealingLR", {"T_max": 10}]],
                          "milestones": [5]}),
        ("SequentialLR", {"schedulers": [["ConstantLR", {"factor": 0.5, "total_iters": 3}],
                                         ["CosineAnnealingWarmRestarts", {"T_0": 4,
                                                                          "T_mult": 2}]],
                          "milestones": [3]}),
    ]
    optimizers = {
        "SGD": lambda groups: torch.optim.SGD(groups, lr=0.1),
        "SGD+momentum": lambda groups: torch.optim.SGD(groups, lr=0.1, momentum=0.9),
        "Adam": lambda groups: torch.optim.Adam(groups, lr=0.1),
    }

    def build(opt, name, options):
        kwargs = dict(options)
        if "lr_lambda" in kwargs:
            kwargs["lr_lambda"] = lambdas[kwargs["lr_lambda"]]
        if name == "ChainedScheduler":
            return sched.ChainedScheduler([build(opt, n, o) for (n, o) in kwargs["schedulers"]])
        if name == "SequentialLR":
            kwargs["schedulers"] = [build(opt, n, o) for (n, o) in kwargs["schedulers"]]
        return getattr(sched, name)(opt, **kwargs)

    def momentum(opt):
        return [g["betas"][0] if "betas" in g else g["momentum"] for g in opt.param_groups]

    def resumed(optimizer, name, options, at=10):
        """Torch's resume: the optimizer's state after `at` steps loaded into a fresh one, and the
        schedule built on it with last_epoch=at; the next 15 lrs (and momenta)."""
        def fresh():
            ws = [torch.zeros(2, requires_grad=True), torch.zeros(2, requires_grad=True)]
            return optimizers[optimizer]([{"params": [ws[0]]}, {"params": [ws[1]], "lr": 0.05}])
        first = fresh()
        s = build(first, name, options)
        for _ in range(at):
            first.step()
            s.step()
        opt = fresh()
        opt.load_state_dict(first.state_dict())
        s = build(opt, name, dict(options, last_epoch=at))
        lrs, momenta = [], []
        for _ in range(15):
            lrs.append([g["lr"] for g in opt.param_groups])
            momenta.append(momentum(opt))
            opt.step()
            s.step()
        r = {"at": at, "lrs": lrs}
        # Resumed, 1.13's CyclicLR takes base_momentum from the group's current momentum (where
        # the cycle left it) instead of its argument; tapegrad keeps the argument.
        if optimizer != "SGD" and name != "CyclicLR":
            r["momenta"] = momenta
        return r

    cases = []
    for (name, options, *optimizer) in configs:
        optimizer = optimizer[0] if optimizer else "SGD"
        w1 = torch.zeros(2, requires_grad=True)
        w2 = torch.zeros(2, requires_grad=True)
        opt = optimizers[optimizer]([{"params": [w1]}, {"params": [w2], "lr": 0.05}])
        s = build(opt, name, options)
        lrs, momenta = [], []
        for _ in range(30):
            lrs.append([g["lr"] for g in opt.param_groups])
            momenta.append(momentum(opt))
            opt.step()
            s.step()
        case = {"schedule": name, "options": options, "optimizer": optimizer, "lrs": lrs}
        if optimizer != "SGD":
            case["momenta"] = momenta
        if name not in ("SequentialLR", "ChainedScheduler"):
            case["resumed"] = resumed(optimizer, name, options)
        cases.append(case)
    cases.append(warm_restarts_per_batch())
    cases.extend(plateau_cases())
    return cases


def warm_restarts_per_batch():
    """CosineAnnealingWarmRestarts stepped at fractional epochs, four batches an epoch."""
    w = torch.zeros(2, requires_grad=True)
    opt = torch.optim.SGD([{"params": [w]}, {"params": [torch.zeros(2)], "lr": 0.05}], lr=0.1)
    options = {"T_0": 2, "T_mult": 3, "eta_min": 0.01}
    s = torch.optim.lr_scheduler.CosineAnnealingWarmRestarts(opt, **options)
    epochs, lrs = [], []
    for e in range(10):
        for b in range(4):
            epochs.append(e + b / 4)
            s.step(e + b / 4)
            lrs.append([g["lr"] for g in opt.param_groups])
    return {"schedule": "CosineAnnealingWarmRestarts", "options": options, "optimizer": "SGD",
            "epochs": epochs, "lrs": lrs}


def plateau_cases():
    """ReduceLROnPlateau fed a fixed metric sequence: lrs after each step."""
    metrics = [1.0, 0.9, 0.95, 0.91, 0.905, 0.92, 0.8, 0.81, 0.82, 0.83, 0.79, 0.795, 0.7,
               0.71, 0.72, 0.73, 0.74, 0.69, 0.7, 0.7, 0.7, 0.7, 0.5, 0.51, 0.52, 0.53, 0.54,
               0.55, 0.56, 0.57]
    configs = [
        {"patience": 2, "factor": 0.5},
        {"patience": 1, "factor": 0.3, "cooldown": 2, "threshold": 0.05, "min_lr": 0.004},
        {"mode": "max", "patience": 0, "threshold_mode": "abs", "threshold": 0.02,
         "factor": 0.8, "eps": 1e-3},
    ]
    cases = []
    for options in configs:
        w = torch.zeros(2, requires_grad=True)
        opt = torch.optim.SGD([{"params": [w]}, {"params": [torch.zeros(2)], "lr": 0.05}],
                              lr=0.1)
        s = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, **options)
        lrs = []
        for m in metrics:
            s.step(m)
            lrs.append([g["lr"] for g in opt.param_groups])
        cases.append({"schedule": "ReduceLROnPlateau", "options": options, "optimizer": "SGD",
                      "metrics": metrics, "lrs": lrs})
    return cases


def optimizer_cases():
    """20 steps of every optimizer on a fixed float64 quartic with two parameter groups (the
    second at half the lr), every parameter after every step; ASGD's averages at the end too.
    Runs with maximize=True climb the negated quartic."""
    torch.set_default_dtype(torch.float64)  # ASGD's eta and mu are tensors of this dtype
    problem = {
        "w0": [[0.3, -0.7, 1.1, -0.2, 0.9, 0.4], [1.5, -0.3, 0.05, -1.2]],
        "q": [[1.0, 0.5, 2.0, 1.5, 0.25, 3.0], [0.8, 1.2, 0.4, 2.5]],
        "c": [[0.5, -1.0, 2.0, 0.0, 1.0, -0.5], [-0.25, 0.75, 1.5, -2.0]],
    }
    configs = [
        ("SGD", {"lr": 0.05}),
        ("SGD", {"lr": 0.05, "momentum": 0.9}),
        ("SGD", {"lr": 0.05, "momentum": 0.8, "dampening": 0.3}),
        ("SGD", {"lr": 0.05, "momentum": 0.9, "nesterov": True}),
        ("SGD", {"lr": 0.05, "momentum": 0.5, "weight_decay": 0.1, "nesterov": True}),
        ("SGD", {"lr": 0.02, "momentum": 0.5, "maximize": True}),
        ("Adagrad", {"lr": 0.1}),
        ("Adagrad", {"lr": 0.1, "lr_decay": 0.05, "weight_decay": 0.2,
                     "initial_accumulator_value": 0.5, "eps": 1e-6}),
        ("Adagrad", {"lr": 0.1, "maximize": True}),
        ("RMSprop", {"lr": 0.01}),
        ("RMSprop", {"lr": 0.01, "alpha": 0.9, "eps": 1e-6, "weight_decay": 0.1, "momentum": 0.5,
                     "centered": True}),
        ("RMSprop", {"lr": 0.01, "momentum": 0.9, "maximize": True}),
        ("Adam", {"lr": 0.05}),
        ("Adam", {"lr": 0.05, "betas": [0.8, 0.95], "eps": 1e-6, "weight_decay": 0.1,
                  "amsgrad": True}),
        ("Adam", {"lr": 0.05, "maximize": True}),
        ("AdamW", {"lr": 0.05}),
        ("AdamW", {"lr": 0.05, "betas": [0.8, 0.95], "weight_decay": 0.2, "amsgrad": True}),
        ("AdamW", {"lr": 0.05, "maximize": True}),
        ("Adamax", {"lr": 0.05}),
        ("Adamax", {"lr": 0.05, "betas": [0.8, 0.95], "eps": 1e-4, "weight_decay": 0.1}),
        ("Adamax", {"lr": 0.05, "maximize": True}),
        ("Adadelta", {"lr": 1.0}),
        ("Adadelta", {"lr": 0.5, "rho": 0.8, "eps": 1e-4, "weight_decay": 0.1}),
        ("Adadelta", {"lr": 1.0, "maximize": True}),
        # tapegrad's NAdam is torch's foreach form: 1.13's single-tensor form multiplies mu_t+1
        # into its running product (see the README).
        ("NAdam", {"lr": 0.05, "foreach": True}),
        ("NAdam", {"lr": 0.05, "betas": [0.8, 0.95], "weight_decay": 0.1,
                   "momentum_decay": 0.01, "foreach": True}),
        # beta2 = 0.999 leaves the variance untrusted (rho_t <= 5) for the first 5 steps; 0.9
        # for the first 9.
        ("RAdam", {"lr": 0.05}),
        ("RAdam", {"lr": 0.05, "betas": [0.8, 0.9], "eps": 1e-6, "weight_decay": 0.1}),
        ("Rprop", {"lr": 0.01}),
        ("Rprop", {"lr": 0.05, "etas": [0.3, 1.5], "step_sizes": [1e-3, 0.2]}),
        ("Rprop", {"lr": 0.01, "maximize": True}),
        ("ASGD", {"lr": 0.01}),
        ("ASGD", {"lr": 0.05, "lambd": 0.01, "alpha": 0.5, "t0": 5, "weight_decay": 0.1}),
        ("ASGD", {"lr": 0.01, "t0": 0, "maximize": True}),
    ]
    q = [torch.tensor(x, dtype=torch.float64) for x in problem["q"]]
    c = [torch.tensor(x, dtype=torch.float64) for x in problem["c"]]
    cases = []
    for (name, options) in configs:
        w = [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in problem["w0"]]
        opt = getattr(torch.optim, name)([{"params": [w[0]]},
                                          {"params": [w[1]], "lr": options["lr"] / 2}],
                                         **options)
        steps = []
        for _ in range(20):
            opt.zero_grad()
            loss = sum((qi * (wi - ci) ** 2 + 0.1 * wi ** 4).sum() for (qi, wi, ci) in zip(q, w, c))
            # Maximizing runs uphill on the negated loss, which has a top to climb to.
            (-loss if options.get("maximize") else loss).backward()
            opt.step()
            steps.append([wi.tolist() for wi in w])
        case = {"optimizer": name, "options": {k: v for (k, v) in options.items() if k != "foreach"},
                "steps": steps}
        if name == "ASGD":
            case["ax"] = [opt.state[wi]["ax"].tolist() for wi in w]
        cases.append(case)
    torch.set_default_dtype(torch.float32)
    return cases, problem


def lbfgs_cases():
    """LBFGS steps (with and without the strong-Wolfe line search) on Rosenbrock and on the
    optimizer quartic: every parameter, the loss step() returned, and the evaluation and
    iteration counts after each step. float64 throughout."""
    torch.set_default_dtype(torch.float64)

    def rosenbrock(ws):
        x = torch.cat([w.reshape(-1) for w in ws])
        return (100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2).sum()

    q = [torch.tensor([1.0, 0.5, 2.0, 1.5, 0.25, 3.0]), torch.tensor([0.8, 1.2, 0.4, 2.5])]
    c = [torch.tensor([0.5, -1.0, 2.0, 0.0, 1.0, -0.5]), torch.tensor([-0.25, 0.75, 1.5, -2.0])]

    def quartic(ws):
        return sum((qi * (wi - ci) ** 2 + 0.1 * wi ** 4).sum() for (qi, wi, ci) in zip(q, ws, c))

    problems = {"rosenbrock": rosenbrock, "quartic": quartic}
    configs = [
        ("rosenbrock", [[-1.5, 2.0]], {"line_search_fn": "strong_wolfe"}, 8),
        ("rosenbrock", [[-1.2, 1.0, 0.5], [0.0, -0.5, 1.5]],
         {"line_search_fn": "strong_wolfe", "max_iter": 15, "history_size": 5}, 8),
        ("rosenbrock", [[-1.5, 2.0]], {"lr": 0.5, "max_iter": 8, "max_eval": 6,
                                       "line_search_fn": "strong_wolfe"}, 6),
        ("quartic", [[0.3, -0.7, 1.1, -0.2, 0.9, 0.4], [1.5, -0.3, 0.05, -1.2]],
         {"lr": 0.5, "max_iter": 5, "history_size": 3}, 6),
        ("quartic", [[0.3, -0.7, 1.1, -0.2, 0.9, 0.4], [1.5, -0.3, 0.05, -1.2]],
         {"max_iter": 10, "history_size": 4, "line_search_fn": "strong_wolfe",
          "tolerance_grad": 1e-9, "tolerance_change": 1e-12}, 4),
    ]
    cases = []
    for (problem, w0, options, steps) in configs:
        ws = [torch.tensor(x, requires_grad=True) for x in w0]
        opt = torch.optim.LBFGS(ws, **options)
        calls = [0]

        def closure():
            calls[0] += 1
            opt.zero_grad()
            loss = problems[problem](ws)
            loss.backward()
            return loss

        record = []
        for _ in range(steps):
            loss = opt.step(closure)
            state = opt.state[ws[0]]
            record.append({"params": [w.tolist() for w in ws], "loss": float(loss),
                           "func_evals": state["func_evals"], "n_iter": state["n_iter"],
                           "closure_calls": calls[0]})
        cases.append({"problem": problem, "w0": w0, "options": options, "steps": record})
    torch.set_default_dtype(torch.float32)
    return cases


def rnn_cases():
    """nn.RNN, LSTM and GRU (stacked, bidirectional, batch_first, unbatched, and packed with
    unsorted lengths) and their cells, with torch's default parameters after the seed: the
    output, h_n and c_n, and the gradients (input, initial state, every parameter) of
    sum(output * mix_output) + sum(h_n * mix_h_n) + sum(c_n * mix_c_n). With lengths, the
    output is padded back to the full T with zeros past each sequence's end."""
    torch.manual_seed(23)
    nn = torch.nn
    configs = [
        # (module, config, T (None for a cell), B (None unbatched), lengths, initial state)
        ("RNN", {"input_size": 3, "hidden_size": 4, "nonlinearity": "tanh"}, 5, 2, None, True),
        ("RNN", {"input_size": 3, "hidden_size": 4, "num_layers": 2, "nonlinearity": "relu",
                 "bias": False, "batch_first": True}, 4, 3, None, False),
        ("RNN", {"input_size": 2, "hidden_size": 3, "nonlinearity": "tanh",
                 "bidirectional": True}, 5, 3, [5, 2, 4], True),
        ("LSTM", {"input_size": 3, "hidden_size": 5}, 4, 3, None, True),
        ("LSTM", {"input_size": 4, "hidden_size": 3, "num_layers": 2, "bidirectional": True,
                  "batch_first": True}, 5, 2, None, False),
        ("LSTM", {"input_size": 3, "hidden_size": 4, "num_layers": 2, "bidirectional": True},
         6, 3, [4, 6, 2], True),
        ("LSTM", {"input_size": 3, "hidden_size": 4, "bias": False}, 5, None, None, True),
        ("GRU", {"input_size": 3, "hidden_size": 4}, 5, 2, None, True),
        ("GRU", {"input_size": 3, "hidden_size": 4, "num_layers": 2, "bidirectional": True,
                 "batch_first": True}, 5, 2, [3, 5], False),
        ("GRU", {"input_size": 2, "hidden_size": 3, "num_layers": 3, "bias": False}, 3, 4,
         [3, 1, 2, 3], True),
        ("RNNCell", {"input_size": 3, "hidden_size": 4, "nonlinearity": "tanh"}, None, 2, None,
         True),
        ("RNNCell", {"input_size": 3, "hidden_size": 4, "nonlinearity": "relu", "bias": False},
         None, 3, None, False),
        ("LSTMCell", {"input_size": 3, "hidden_size": 5}, None, 2, None, True),
        ("LSTMCell", {"input_size": 4, "hidden_size": 3}, None, 3, None, False),
        ("GRUCell", {"input_size": 3, "hidden_size": 4}, None, 2, None, True),
        ("GRUCell", {"input_size": 3, "hidden_size": 2}, None, None, None, True),
    ]
    cases = []
    for (name, options, steps, batch, lengths, state) in configs:
        cell = name.endswith("Cell")
        config = {"input_size": options["input_size"], "hidden_size": options["hidden_size"],
                  "bias": options.get("bias", True)}
        if not cell:
            config.update(num_layers=options.get("num_layers", 1),
                          batch_first=options.get("batch_first", False),
                          bidirectional=options.get("bidirectional", False))
        if name in ("RNN", "RNNCell"):
            config["nonlinearity"] = options["nonlinearity"]
        m = getattr(nn, name)(**config).double()
        lstm = name.startswith("LSTM")
        i, h = config["input_size"], config["hidden_size"]
        if cell:
            xshape = (batch, i) if batch is not None else (i,)
            sshape = (batch, h) if batch is not None else (h,)
        else:
            layers = config["num_layers"] * (2 if config["bidirectional"] else 1)
            if batch is None:
                xshape = (steps, i)
            else:
                xshape = (batch, steps, i) if config["batch_first"] else (steps, batch, i)
            sshape = (layers, batch, h) if batch is not None else (layers, h)
        x = torch.randn(*xshape, dtype=torch.float64).requires_grad_(True)
        h0 = torch.randn(*sshape, dtype=torch.float64).requires_grad_(True) if state else None
        c0 = (torch.randn(*sshape, dtype=torch.float64).requires_grad_(True)
              if state and lstm else None)
        hx = (h0, c0) if lstm and state else h0
        pack = nn.utils.rnn
        if cell:
            y = m(x, hx)
            (output, h_n, c_n) = (y[0], None, y[1]) if lstm else (y, None, None)
        else:
            xin = x
            if lengths is not None:
                xin = pack.pack_padded_sequence(x, lengths, batch_first=config["batch_first"],
                                                enforce_sorted=False)
            (output, hn) = m(xin, hx)
            (h_n, c_n) = hn if lstm else (hn, None)
            if lengths is not None:
                output = pack.pad_packed_sequence(output, batch_first=config["batch_first"],
                                                  total_length=steps)[0]
        outs = [output, h_n, c_n]
        mixes = [torch.randn(y.shape, dtype=torch.float64) if y is not None else None
                 for y in outs]
        sum((y * mix).sum() for (y, mix) in zip(outs, mixes) if y is not None).backward()
        opt = lambda y: t(y) if y is not None else None
        cases.append({
            "module": name, "config": config,
            "params": [{"name": k, "value": t(p)} for (k, p) in m.named_parameters()],
            "x": t(x), "lengths": lengths, "h0": opt(h0), "c0": opt(c0),
            "output": t(output), "h_n": opt(h_n), "c_n": opt(c_n),
            "mix_output": t(mixes[0]), "mix_h_n": opt(mixes[1]), "mix_c_n": opt(mixes[2]),
            "grad_x": t(x.grad), "grad_h0": opt(h0.grad if h0 is not None else None),
            "grad_c0": opt(c0.grad if c0 is not None else None),
            "grads": [{"name": k, "value": t(p.grad)} for (k, p) in m.named_parameters()]})
    return cases


def lstm_lm_trajectory():
    """A tiny character LSTM language model (Embedding(7, 4) - LSTM(4, 5, 2 layers, dropout 0) -
    Linear(5, 7), cross-entropy on every step) trained 20 steps by Adam (lr 0.02) on random
    batches (T 6, B 3) in float64: the starting parameters by name, each step's batch and
    loss, and the parameters after the last step."""
    torch.manual_seed(24)
    nn = torch.nn
    embed = nn.Embedding(7, 4).double()
    lstm = nn.LSTM(4, 5, num_layers=2).double()
    head = nn.Linear(5, 7).double()
    named = ([("embed." + n, p) for (n, p) in embed.named_parameters()] +
             [("lstm." + n, p) for (n, p) in lstm.named_parameters()] +
             [("head." + n, p) for (n, p) in head.named_parameters()])
    case = {"params": [{"name": n, "value": t(p)} for (n, p) in named], "steps": []}
    opt = torch.optim.Adam([p for (_, p) in named], lr=0.02)
    for _ in range(20):
        x = torch.randint(0, 7, (6, 3))
        y = torch.randint(0, 7, (6, 3))
        logits = head(lstm(embed(x))[0])
        loss = F.cross_entropy(logits.reshape(-1, 7), y.reshape(-1))
        opt.zero_grad()
        loss.backward()
        opt.step()
        case["steps"].append({"x": t(x), "y": t(y), "loss": float(loss)})
    case["final"] = [{"name": n, "value": t(p)} for (n, p) in named]
    return [case]


def attention_cases():
    """Scaled dot-product attention written in torch's ops (softmax(q k^T * scale + mask) v,
    the weights after it when asked: output and weights flattened into one), and
    nn.MultiheadAttention with torch's init after the seed: its output and averaged or per-head
    weights, and the gradients (query, key, value, every parameter) of
    sum(output * mix_output) + sum(weights * mix_weights). Boolean masks are stored as int64
    (1 shuts a key out), the form tapegrad takes."""
    torch.manual_seed(25)
    nn = torch.nn
    cases = []

    def sdpa(q, k, v, mask, causal, need_weights, scale):
        s = q @ k.transpose(-2, -1) * scale
        if mask is not None:
            s = s + mask
        if causal:
            cut = torch.ones(s.shape[-2], s.shape[-1], dtype=torch.bool).triu(1)
            s = s.masked_fill(cut, float("-inf"))
        w = torch.softmax(s, -1)
        out = w @ v
        return torch.cat([out.reshape(-1), w.reshape(-1)]) if need_weights else out

    for (batch, L, S, E, Ev, mask, causal, need_weights, scale) in [
            ((2, 3), 4, 5, 6, 3, None, False, True, None),
            ((3,), 5, 5, 4, 4, "shared", True, False, None),
            ((2,), 3, 6, 5, 2, "batch", False, True, 0.3),
            ((), 4, 3, 2, 5, "shared", False, True, None)]:
        q = torch.randn(*batch, L, E, dtype=torch.float64)
        k = torch.randn(*batch, S, E, dtype=torch.float64)
        v = torch.randn(*batch, S, Ev, dtype=torch.float64)
        m = None
        if mask is not None:
            m = torch.randn(*(batch if mask == "batch" else ()), L, S, dtype=torch.float64)
            m[..., 0, 1] = float("-inf")  # a key shut out of one row
        sc = scale if scale is not None else 1 / E ** 0.5
        cases.append(run(lambda q, k, v, m: sdpa(q, k, v, m, causal, need_weights, sc),
                         [q, k, v, m], {"op": "sdpa", "causal": causal,
                                        "need_weights": need_weights, "scale": scale},
                         no_grad=(3,)))
    mha = [
        # (E, H, bias, batch_first, self, L, S, N, key_padding, attn_mask, need, average)
        (8, 2, True, False, True, 5, 5, 3, None, None, True, True),
        (6, 3, True, True, False, 4, 6, 2, "bool", None, True, False),
        (8, 4, True, False, True, 5, 5, 2, "bool", "causal", False, True),
        (4, 1, False, False, False, 3, 4, 2, None, "float3d", True, True),
        (6, 2, True, False, False, 3, 4, None, "float", "bool2d", True, True)]
    for (E, H, bias, batch_first, self_attn, L, S, N, kpm, am, need, average) in mha:
        m = nn.MultiheadAttention(E, H, bias=bias, batch_first=batch_first).double()

        def shape(T):
            if N is None:
                return (T, E)
            return (N, T, E) if batch_first else (T, N, E)
        query = torch.randn(*shape(L), dtype=torch.float64)
        key = None if self_attn else torch.randn(*shape(S), dtype=torch.float64)
        value = None if self_attn else torch.randn(*shape(S), dtype=torch.float64)
        pad = None
        if kpm is not None:
            pad = torch.zeros(*((N, S) if N is not None else (S,)), dtype=torch.bool)
            pad[..., -1] = True  # every element ignores its last key
            if N is not None and N > 1 and am != "causal":  # causal: query 0 needs key 0
                pad[1, 0] = True
            if kpm == "float":
                pad = torch.zeros(pad.shape, dtype=torch.float64).masked_fill(pad, float("-inf"))
        mask = None
        if am == "causal":
            mask = torch.ones(L, S, dtype=torch.bool).triu(1)
        elif am == "bool2d":
            mask = torch.zeros(L, S, dtype=torch.bool)
            mask[0, 1] = True
        elif am == "float3d":
            mask = torch.randn((N or 1) * H, L, S, dtype=torch.float64)
        leaves = [x.clone().requires_grad_(True) if x is not None else None
                  for x in (query, key, value)]
        q_in = leaves[0]
        out, weights = m(q_in, leaves[1] if not self_attn else q_in,
                         leaves[2] if not self_attn else q_in, key_padding_mask=pad,
                         need_weights=need, attn_mask=mask, average_attn_weights=average)
        mix_o = torch.randn(out.shape, dtype=torch.float64)
        loss = (out * mix_o).sum()
        mix_w = None
        if need:
            mix_w = torch.randn(weights.shape, dtype=torch.float64)
            loss = loss + (weights * mix_w).sum()
        loss.backward()

        def stored(mask_tensor):
            if mask_tensor is None:
                return None
            return t(mask_tensor.to(torch.int64) if mask_tensor.dtype == torch.bool
                     else mask_tensor)
        cases.append({
            "module": "MultiheadAttention",
            "config": {"embed_dim": E, "num_heads": H, "bias": bias, "batch_first": batch_first},
            "params": [{"name": n, "value": t(p)} for (n, p) in m.named_parameters()],
            "self": self_attn, "query": t(query), "key": t(key) if key is not None else None,
            "value": t(value) if value is not None else None,
            "key_padding_mask": stored(pad), "attn_mask": stored(mask),
            "need_weights": need, "average_attn_weights": average,
            "output": t(out), "weights": t(weights) if need else None, "mix_output": t(mix_o),
            "mix_weights": t(mix_w) if need else None,
            "grad_query": t(leaves[0].grad),
            "grad_key": t(leaves[1].grad) if not self_attn else None,
            "grad_value": t(leaves[2].grad) if not self_attn else None,
            "grads": [{"name": n, "value": t(p.grad)} for (n, p) in m.named_parameters()]})
    return cases


def transformer_cases():
    """nn.TransformerEncoderLayer and nn.TransformerEncoder (dropout 0, both norm orders, relu
    and gelu, time-first and batch_first, causal and key-padding masks), torch's init after the
    seed with the LayerNorms' weights and biases moved off 1 and 0: the output and the
    gradients (src, every parameter) of sum(output * mix)."""
    torch.manual_seed(26)
    nn = torch.nn
    cases = []
    for (layers, norm_first, activation, batch_first, final_norm, masks) in [
            (None, False, "relu", False, False, "float"),
            (2, False, "relu", False, False, "both"),
            (2, True, "gelu", True, True, "padding"),
            (1, True, "relu", False, False, None)]:
        (S, N, E, H, FF) = (5, 3, 8, 2, 16)
        layer = nn.TransformerEncoderLayer(E, H, dim_feedforward=FF, dropout=0.0,
                                           activation=activation, batch_first=batch_first,
                                           norm_first=norm_first).double()
        if layers is None:
            m = layer
        else:
            norm = nn.LayerNorm(E).double() if final_norm else None
            m = nn.TransformerEncoder(layer, layers, norm=norm).double()
        with torch.no_grad():
            for (n, p) in m.named_parameters():
                if "norm" in n:
                    p.add_(torch.randn(p.shape, dtype=torch.float64) * 0.1)
        src = torch.randn(*((N, S, E) if batch_first else (S, N, E)), dtype=torch.float64)
        mask, pad = None, None
        if masks in ("both", "padding"):
            pad = torch.zeros(N, S, dtype=torch.bool)
            pad[0, -2:] = True
            pad[2, -1] = True
        if masks == "both":
            mask = torch.ones(S, S, dtype=torch.bool).triu(1)
        if masks == "float":
            mask = torch.randn(S, S, dtype=torch.float64)
        x = src.clone().requires_grad_(True)
        if layers is None:
            out = m(x, src_mask=mask, src_key_padding_mask=pad)
        else:
            out = m(x, mask=mask, src_key_padding_mask=pad)
        mix = torch.randn(out.shape, dtype=torch.float64)
        (out * mix).sum().backward()
        cases.append({
            "module": "TransformerEncoderLayer" if layers is None else "TransformerEncoder",
            "config": {"d_model": E, "nhead": H, "dim_feedforward": FF, "activation": activation,
                       "batch_first": batch_first, "norm_first": norm_first,
                       "num_layers": layers, "final_norm": final_norm},
            "params": [{"name": n, "value": t(p)} for (n, p) in m.named_parameters()],
            "src": t(src),
            "mask": t(mask.to(torch.int64) if mask.dtype == torch.bool else mask)
            if mask is not None else None,
            "src_key_padding_mask": t(pad.to(torch.int64)) if pad is not None else None,
            "output": t(out), "mix": t(mix), "grad_src": t(x.grad),
            "grads": [{"name": n, "value": t(p.grad)} for (n, p) in m.named_parameters()]})
    return cases


def transformer_decoder_cases():
    """nn.TransformerDecoderLayer and nn.TransformerDecoder (dropout 0, both norm orders, relu
    and gelu, time-first and batch_first, causal, memory and both key-padding masks), torch's
    init after the seed with the LayerNorms moved off 1 and 0: the output and the gradients
    (tgt, memory, every parameter) of sum(output * mix)."""
    torch.manual_seed(27)
    nn = torch.nn
    cases = []
    for (layers, norm_first, activation, batch_first, final_norm, masks) in [
            (None, False, "relu", False, False, "causal"),
            (None, True, "gelu", True, False, "float"),
            (2, False, "gelu", True, True, "all"),
            (2, True, "relu", False, False, "padding")]:
        (T, S, N, E, H, FF) = (4, 5, 3, 8, 2, 16)
        layer = nn.TransformerDecoderLayer(E, H, dim_feedforward=FF, dropout=0.0,
                                           activation=activation, batch_first=batch_first,
                                           norm_first=norm_first).double()
        if layers is None:
            m = layer
        else:
            norm = nn.LayerNorm(E).double() if final_norm else None
            m = nn.TransformerDecoder(layer, layers, norm=norm).double()
        with torch.no_grad():
            for (n, p) in m.named_parameters():
                if "norm" in n:
                    p.add_(torch.randn(p.shape, dtype=torch.float64) * 0.1)
        tgt = torch.randn(*((N, T, E) if batch_first else (T, N, E)), dtype=torch.float64)
        memory = torch.randn(*((N, S, E) if batch_first else (S, N, E)), dtype=torch.float64)
        given = {}
        if masks in ("causal", "all"):
            given["tgt_mask"] = torch.ones(T, T, dtype=torch.bool).triu(1)
        if masks == "float":
            given["tgt_mask"] = torch.randn(T, T, dtype=torch.float64)
            given["memory_mask"] = torch.randn(T, S, dtype=torch.float64)
        if masks in ("all", "padding"):
            pad = torch.zeros(N, S, dtype=torch.bool)
            pad[0, -2:] = True
            pad[2, 0] = True
            given["memory_key_padding_mask"] = pad
            tpad = torch.zeros(N, T, dtype=torch.bool)
            tpad[1, -1] = True
            given["tgt_key_padding_mask"] = tpad
        if masks == "all":
            given["memory_mask"] = torch.zeros(T, S, dtype=torch.bool)
            given["memory_mask"][0, 1] = True
        x = tgt.clone().requires_grad_(True)
        mem = memory.clone().requires_grad_(True)
        out = m(x, mem, **given)
        mix = torch.randn(out.shape, dtype=torch.float64)
        (out * mix).sum().backward()
        cases.append({
            "module": "TransformerDecoderLayer" if layers is None else "TransformerDecoder",
            "config": {"d_model": E, "nhead": H, "dim_feedforward": FF, "activation": activation,
                       "batch_first": batch_first, "norm_first": norm_first,
                       "num_layers": layers, "final_norm": final_norm},
            "params": [{"name": n, "value": t(p)} for (n, p) in m.named_parameters()],
            "tgt": t(tgt), "memory": t(memory),
            "masks": {k: t(v.to(torch.int64) if v.dtype == torch.bool else v)
                      for (k, v) in given.items()},
            "output": t(out), "mix": t(mix), "grad_tgt": t(x.grad), "grad_memory": t(mem.grad),
            "grads": [{"name": n, "value": t(p.grad)} for (n, p) in m.named_parameters()]})
    return cases


def transformer_lm_trajectory():
    """A tiny GPT (token Embedding(7, 8) plus position Embedding(6, 8), a 2-layer pre-norm
    TransformerEncoder (2 heads, feed-forward 16, gelu, dropout 0, batch_first) under a causal
    mask with a final LayerNorm, Linear(8, 7)) trained 20 steps by Adam (lr 0.02) on random
    batches (B 3, T 6) in float64: the starting parameters by name, each step's batch and loss,
    and the parameters after the last step."""
    torch.manual_seed(25)
    nn = torch.nn
    tok = nn.Embedding(7, 8).double()
    pos = nn.Embedding(6, 8).double()
    layer = nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, dropout=0.0, activation="gelu",
                                       batch_first=True, norm_first=True)
    encoder = nn.TransformerEncoder(layer, 2, norm=nn.LayerNorm(8),
                                    enable_nested_tensor=False).double()
    head = nn.Linear(8, 7).double()
    named = ([("tok." + n, p) for (n, p) in tok.named_parameters()] +
             [("pos." + n, p) for (n, p) in pos.named_parameters()] +
             [("encoder." + n, p) for (n, p) in encoder.named_parameters()] +
             [("head." + n, p) for (n, p) in head.named_parameters()])
    case = {"params": [{"name": n, "value": t(p)} for (n, p) in named], "steps": []}
    opt = torch.optim.Adam([p for (_, p) in named], lr=0.02)
    causal = torch.full((6, 6), float("-inf"), dtype=torch.float64).triu(1)
    for _ in range(20):
        x = torch.randint(0, 7, (3, 6))
        y = torch.randint(0, 7, (3, 6))
        logits = head(encoder(tok(x) + pos(torch.arange(6)), mask=causal))
        loss = F.cross_entropy(logits.reshape(-1, 7), y.reshape(-1))
        opt.zero_grad()
        loss.backward()
        opt.step()
        case["steps"].append({"x": t(x), "y": t(y), "loss": float(loss)})
    case["final"] = [{"name": n, "value": t(p)} for (n, p) in named]
    return [case]


def double_backward_cases():
    """Second derivatives through create_graph: for each op, its inputs, a grad_outputs v and a
    direction u per input, the first-order gradients grad(y, inputs, v, create_graph=True) and
    the second-order d/dx_i <those gradients, u>. C++ names the op by "op"."""
    torch.manual_seed(31)
    r = lambda *s: torch.randn(*s, dtype=torch.float64)
    pos = lambda *s: torch.rand(*s, dtype=torch.float64) * 1.5 + 0.5
    ce_weight = torch.tensor([0.5, 2.0, 1.0, 1.5], dtype=torch.float64)
    specs = [
        ("add", lambda a, b: a + b, [r(3, 1), r(4)]),
        ("sub", lambda a, b: a - b, [r(3, 4), r(4)]),
        ("mul", lambda a, b: a * b, [r(3, 1), r(1, 4)]),
        ("div", lambda a, b: a / b, [r(3, 4), pos(4)]),
        ("affine", lambda a: a * 3.0 - 2.0, [r(2, 3)]),
        ("pow3", lambda a: a ** 3, [r(2, 3)]),
        ("pow-1.5", lambda a: a ** -1.5, [pos(2, 3)]),
        ("sqrt", torch.sqrt, [pos(5)]),
        ("square", torch.square, [r(5)]),
        ("exp", torch.exp, [r(2, 3)]),
        ("log", torch.log, [pos(2, 3)]),
        ("sin", torch.sin, [r(2, 3)]),
        ("cos", torch.cos, [r(2, 3)]),
        ("sigmoid", torch.sigmoid, [r(2, 3)]),
        ("tanh", torch.tanh, [r(2, 3)]),
        ("relu", lambda a: torch.relu(a) * a, [r(2, 3)]),
        ("sum", lambda a: (a * a).sum(), [r(2, 3)]),
        ("sum_dim", lambda a: (a * a).sum(1), [r(2, 3, 4)]),
        ("mean_dim_keepdim", lambda a: (a * a).mean(2, keepdim=True), [r(2, 3, 4)]),
        ("linear", lambda x, w, b: torch.tanh(F.linear(x, w, b)), [r(2, 3, 5), r(4, 5), r(4)]),
        ("matmul", lambda a, b: torch.matmul(a, b) ** 2, [r(2, 3, 5), r(5, 2)]),
        ("matmul_vector", lambda a, b: torch.matmul(a, b) ** 2, [r(3, 5), r(5)]),
        ("transpose", lambda a: torch.transpose(a, 0, 2) ** 2, [r(2, 3, 4)]),
        ("expand", lambda a: a.expand(2, 3, 4) ** 2, [r(3, 1)]),
        ("reshape", lambda a: a.reshape(6, 4) ** 2, [r(2, 3, 4)]),
        ("softmax", lambda a: torch.softmax(a, 1) ** 2, [r(2, 3, 4)]),
        ("log_softmax", lambda a: torch.log_softmax(a, 2) ** 2, [r(2, 3, 4)]),
        ("mse_loss", lambda a, b: F.mse_loss(torch.tanh(a), b), [r(3, 4), r(3, 4)]),
        ("cross_entropy", lambda a: F.cross_entropy(a * a, torch.tensor([1, -100, 3]),
                                                    weight=ce_weight, label_smoothing=0.1),
         [r(3, 4)]),
        ("cross_entropy_probabilities",
         lambda a, b: F.cross_entropy(a * a, torch.softmax(b, 1), weight=ce_weight,
                                      label_smoothing=0.1), [r(3, 4), r(3, 4)]),
        ("leaky_relu", lambda a: F.leaky_relu(a, 0.1) * a, [r(2, 5)]),
        ("softplus", lambda a: F.softplus(a, 2.0, 1.0) * a, [r(2, 5)]),
        ("elu", lambda a: F.elu(a, 1.3) * a, [r(2, 5)]),
        ("gelu_tanh", lambda a: F.gelu(a, approximate="tanh") * a, [r(2, 5)]),
        ("silu", lambda a: F.silu(a) * a, [r(2, 5)]),
        ("hardtanh", lambda a: F.hardtanh(a * 2.0, -1.0, 1.0) * a, [r(2, 5)]),
        ("abs", lambda a: torch.abs(a) * a, [r(2, 5)]),
        ("rsqrt", torch.rsqrt, [pos(2, 5)]),
        ("clamp", lambda a: torch.clamp(a, -0.5, 0.7) * a, [r(2, 5)]),
        ("layer_norm", lambda x, w, b: F.layer_norm(x, (5,), w, b) ** 2, [r(2, 3, 5), r(5), r(5)]),
        ("group_norm", lambda x, w, b: F.group_norm(x, 2, w, b) ** 2, [r(2, 4, 3), r(4), r(4)]),
        ("permute", lambda a: a.permute(2, 0, 1) ** 2, [r(2, 3, 5)]),
        ("flip", lambda a: a.flip(0, 2) ** 2 * a, [r(2, 3, 5)]),
        ("cumsum", lambda a: a.cumsum(1) ** 2, [r(2, 3, 5)]),
        ("cat", lambda a, b, c: torch.cat([a, b * a, c], 1) ** 2, [r(3, 4), r(3, 4), r(3, 1)]),
        ("slice", lambda a: a[:, :, 1:5:2] ** 2, [r(2, 3, 5)]),
        ("where", lambda a, b, c: torch.where(a > b, a * b, c) ** 2, [r(3, 4), r(3, 4), r(4)]),
        ("masked_fill", lambda a, b: (a * b).masked_fill(a > b, 2.0) ** 2, [r(3, 4), r(3, 4)]),
        ("tril_triu", lambda a, b: a.tril(1) ** 2 + b.triu(-1) ** 2, [r(3, 4), r(3, 4)]),
        ("conv2d", lambda x, w, b: F.conv2d(x, w, b, padding=(1, 0)) ** 2,
         [r(2, 2, 5, 4), r(3, 2, 3, 2), r(3)]),
        ("conv2d_groups", lambda x, w: F.conv2d(x, w, None, stride=(2, 1), dilation=(1, 2),
                                                groups=2) ** 2, [r(1, 4, 5, 6), r(4, 2, 2, 2)]),
        ("conv1d", lambda x, w: F.conv1d(x, w, None, padding=1) ** 2, [r(2, 3, 7), r(2, 3, 3)]),
        ("erf", lambda a: torch.erf(a) * a, [r(2, 5)]),
        ("gelu", lambda a: F.gelu(a) * a, [r(2, 5)]),
        ("max_pool2d", lambda x: F.max_pool2d(x * x, 2) ** 2, [r(2, 2, 5, 4)]),
        ("avg_pool2d", lambda x: F.avg_pool2d(x * x, 2, stride=1) ** 2, [r(2, 2, 5, 4)]),
        ("adaptive_avg_pool2d", lambda x: F.adaptive_avg_pool2d(x * x, (2, 3)) ** 2,
         [r(2, 2, 5, 4)]),
        ("batch_norm_training", lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True)
         ** 2, [r(2, 2, 5, 4), r(2), r(2)]),
        ("batch_norm_eval", lambda x, w, b: F.batch_norm(
            x * x, torch.tensor([0.3, -0.2], dtype=torch.float64),
            torch.tensor([1.5, 0.7], dtype=torch.float64), w, b, training=False) ** 2,
         [r(2, 2, 5, 4), r(2), r(2)]),
    ]
    return second_order_cases(specs)


def second_order_cases(specs):
    """For each (op, fn, inputs): a grad_outputs v and a direction u per input, the first-order
    gradients grad(fn(inputs), inputs, v, create_graph=True) and the second-order
    d/dx_i <those gradients, u>."""
    cases = []
    for (op, fn, inputs) in specs:
        leaves = [x.clone().requires_grad_() for x in inputs]
        y = fn(*leaves)
        v = torch.randn(y.shape, dtype=torch.float64)
        us = [torch.randn(x.shape, dtype=torch.float64) for x in inputs]
        first = torch.autograd.grad(y, leaves, v, create_graph=True)
        s = sum((g * u).sum() for (g, u) in zip(first, us))
        # A gradient linear in nothing (add's, affine's) has no second derivative at all.
        second = (torch.autograd.grad(s, leaves, allow_unused=True) if s.requires_grad
                  else [None] * len(leaves))
        cases.append({"op": op, "inputs": [t(x) for x in inputs], "v": t(v),
                      "u": [t(u) for u in us], "first": [t(g) for g in first],
                      "second": [t(g) if g is not None else None for g in second]})
    return cases


def double_backward_op_cases():
    """double_backward_cases' records for the indexing ops, the extrema, the statistics, the
    losses, attention (written in torch's ops, as attention_cases) and recurrent layers (torch's
    lstm_cell and gru_cell stepped through time: reverse runs from the end, and a sequence past
    its length keeps its state and outputs zeros, as a packed sequence)."""
    torch.manual_seed(37)
    r = lambda *s: torch.randn(*s, dtype=torch.float64)
    i64 = lambda v: torch.tensor(v, dtype=torch.int64)
    f64 = lambda v: torch.tensor(v, dtype=torch.float64)

    def attention(q, k, v):
        s = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])
        cut = torch.ones(s.shape[-2], s.shape[-1], dtype=torch.bool).triu(1)
        w = torch.softmax(s.masked_fill(cut, float("-inf")), -1)
        return ((w @ v) ** 2).sum() + torch.sin(w).sum()

    def recurrent(cell, reverse, lengths):
        def run(x, w_ih, w_hh, h, *rest):
            lstm = cell is torch.lstm_cell
            c, (b_ih, b_hh) = (rest[0], rest[1:]) if lstm else (None, rest)
            outs = [None] * x.shape[0]
            for t in (reversed(range(x.shape[0])) if reverse else range(x.shape[0])):
                if lstm:
                    hn, cn = cell(x[t], (h, c), w_ih, w_hh, b_ih, b_hh)
                else:
                    hn = cell(x[t], h, w_ih, w_hh, b_ih, b_hh)
                on = (torch.ones(x.shape[1], 1, dtype=x.dtype) if lengths is None else
                      torch.tensor([[float(t < n)] for n in lengths], dtype=x.dtype))
                outs[t] = hn * on
                h = torch.where(on != 0, hn, h)
                if lstm:
                    c = torch.where(on != 0, cn, c)
            loss = (torch.stack(outs) ** 2).sum() + torch.sin(h).sum()
            return loss + (c * h).sum() if lstm else loss
        return run

    def heads(x):  # (T, N, 2 * E) to (N, 2, T, E)
        return x.reshape(x.shape[0], x.shape[1], 2, -1).permute(1, 2, 0, 3)

    H = 2
    specs = [
        ("gather", lambda a: torch.gather(a, 1, i64([[1, 3], [0, 0], [2, 1]])) ** 2, [r(3, 4)]),
        ("index_select", lambda a: torch.index_select(a, 1, i64([3, 0, 3])) ** 2, [r(3, 4)]),
        ("embedding", lambda w: F.embedding(i64([[1, 4, 1], [0, 2, 4]]), w, padding_idx=4,
                                            scale_grad_by_freq=True) ** 2, [r(5, 3)]),
        ("sort", lambda a: torch.sort(a, 1, descending=True).values ** 2 * a, [r(2, 3, 4)]),
        ("topk", lambda a: torch.topk(a, 2, 1).values ** 2, [r(3, 4)]),
        ("pad_reflect", lambda a: F.pad(a, (1, 2, 1, 1), mode="reflect") ** 2, [r(1, 2, 3, 4)]),
        ("pad_circular", lambda a: F.pad(a, (1, 3), mode="circular") ** 2, [r(2, 3, 4)]),
        ("max_dim", lambda a: torch.max(a, 1).values ** 2, [r(2, 3, 4)]),
        ("amax", lambda a: torch.amax(a, (0, 2)) ** 2, [r(2, 3, 4)]),
        ("maximum", lambda a, b: torch.maximum(a, b) * a, [r(3, 4), r(3, 4)]),
        ("logsumexp", lambda a: torch.logsumexp(a, 1) ** 2, [r(2, 3, 4)]),
        ("var", lambda a: torch.var(a, (1, 2)) ** 2, [r(2, 3, 4)]),
        ("std", lambda a: torch.std(a, 1) ** 2, [r(2, 3, 4)]),
        ("norm", lambda a: torch.linalg.vector_norm(a, 2, dim=1) ** 2, [r(2, 3, 4)]),
        ("norm_p3", lambda a: torch.linalg.vector_norm(a, 3), [r(3, 4)]),
        ("l1_loss", lambda a, b: F.l1_loss(torch.tanh(a), b), [r(3, 4), r(3, 4)]),
        ("huber_loss", lambda a, b: F.huber_loss(a * a, b, reduction="sum", delta=0.8),
         [r(3, 4), r(3, 4)]),
        ("smooth_l1_loss", lambda a, b, c: F.smooth_l1_loss(a * b, c, beta=0.7),
         [r(3, 4), r(3, 4), r(3, 4)]),
        ("kl_div", lambda a, b: F.kl_div(torch.log_softmax(a, 1), torch.softmax(b, 1),
                                         reduction="mean"), [r(3, 4), r(3, 4)]),
        ("kl_div_log_target", lambda a, b: F.kl_div(torch.log_softmax(a, 1),
                                                    torch.log_softmax(b, 1),
                                                    reduction="batchmean", log_target=True),
         [r(3, 4), r(3, 4)]),
        ("nll_loss", lambda a: F.nll_loss(torch.log_softmax(a * a, 1), i64([3, 0, 2])),
         [r(3, 4)]),
        ("binary_cross_entropy", lambda a, b: F.binary_cross_entropy(
            torch.sigmoid(a * b), torch.sigmoid(b).detach()), [r(3, 4), r(3, 4)]),
        ("binary_cross_entropy_with_logits", lambda a, b, c: F.binary_cross_entropy_with_logits(
            a * b, torch.sigmoid(c), reduction="sum", pos_weight=f64([0.5, 2.0, 1.0, 3.0])),
         [r(3, 4), r(3, 4), r(3, 4)]),
        ("scaled_dot_product_attention", attention, [r(2, 3, 4), r(2, 5, 4), r(2, 5, 3)]),
        ("lstm", recurrent(torch.lstm_cell, False, [3, 2]),
         [r(3, 2, 3), r(4 * H, 3), r(4 * H, H), r(2, H), r(2, H), r(4 * H), r(4 * H)]),
        ("gru_reverse", recurrent(torch.gru_cell, True, None),
         [r(3, 2, 3), r(3 * H, 3), r(3 * H, H), r(2, H), r(3 * H), r(3 * H)]),
        ("min_dim_keepdim", lambda a: torch.min(a, 2, keepdim=True).values ** 2, [r(2, 3, 4)]),
        ("amin", lambda a: torch.amin(a, 1) ** 2, [r(2, 3, 4)]),
        ("max_all", lambda a: torch.max(a) ** 2 * a, [r(3, 4)]),
        ("minimum", lambda a, b: torch.minimum(a, b) ** 2, [r(3, 1), r(4)]),
        ("pad_constant", lambda a: F.pad(a, (1, -1, 2, 0), value=0.5) ** 2, [r(2, 3, 4)]),
        ("pad_replicate", lambda a: F.pad(a, (2, 1), mode="replicate") ** 2, [r(2, 3, 4)]),
        ("norm_inf", lambda a: torch.linalg.vector_norm(a, float("inf"), dim=2) ** 2,
         [r(2, 3, 4)]),
        ("norm_p1", lambda a: torch.linalg.vector_norm(a, 1, dim=(0, 2)) ** 2, [r(2, 3, 4)]),
        ("var_population", lambda a: torch.var(a, 2, unbiased=False, keepdim=True) * a,
         [r(2, 3, 4)]),
        # multi_head_attention's (L, N, H * E) layout, H = 2, split into heads by torch's ops.
        ("multi_head_attention", lambda q, k, v: (
            (torch.softmax(heads(q) @ heads(k).transpose(-2, -1) / math.sqrt(2), -1) @ heads(v))
            .permute(2, 0, 1, 3).reshape(3, 2, 6) ** 2), [r(3, 2, 4), r(5, 2, 4), r(5, 2, 6)]),
        ("rnn_tanh", recurrent(torch.rnn_tanh_cell, False, None),
         [r(4, 2, 3), r(H, 3), r(H, H), r(2, H), r(H), r(H)]),
    ]
    return second_order_cases(specs)


def functional_cases():
    """torch.autograd.functional on small functions, and a Hessian-vector product of an MLP's
    loss with respect to all its parameters (the MLP: Linear(3, 5), tanh, Linear(5, 2), MSE
    against fixed targets on 4 samples)."""
    torch.manual_seed(32)
    r = lambda *s: torch.randn(*s, dtype=torch.float64)
    AF = torch.autograd.functional
    f = lambda x: torch.exp(x) * (x * x).sum()
    x = r(3)
    v = r(3)
    g = lambda a, b: torch.tanh(torch.matmul(a, b)).sum()
    a, b = r(3, 2), r(2, 2)
    va, vb = r(3, 2), r(2, 2)
    cases = [
        {"name": "jacobian", "x": t(x), "value": t(AF.jacobian(f, x))},
        {"name": "vjp", "x": t(x), "v": t(v), "value": t(AF.vjp(f, x, v)[1])},
        {"name": "jvp", "x": t(x), "v": t(v), "value": t(AF.jvp(f, x, v)[1])},
        {"name": "hessian", "a": t(a), "b": t(b),
         "value": [[t(h) for h in row] for row in AF.hessian(g, (a, b))]},
        {"name": "hvp", "a": t(a), "b": t(b), "va": t(va), "vb": t(vb),
         "value": [t(h) for h in AF.hvp(g, (a, b), (va, vb))[1]]},
        {"name": "vhp", "a": t(a), "b": t(b), "va": t(va), "vb": t(vb),
         "value": [t(h) for h in AF.vhp(g, (a, b), (va, vb))[1]]},
    ]
    mlp = torch.nn.Sequential(torch.nn.Linear(3, 5), torch.nn.Tanh(),
                              torch.nn.Linear(5, 2)).double()
    xs, ys = r(4, 3), r(4, 2)
    params = [p.detach().clone() for p in mlp.parameters()]
    names = [n for (n, _) in mlp.named_parameters()]
    directions = [r(*p.shape) for p in params]

    def loss(*ps):
        h = torch.tanh(F.linear(xs, ps[0], ps[1]))
        return F.mse_loss(F.linear(h, ps[2], ps[3]), ys)

    hv = AF.hvp(loss, tuple(params), tuple(directions))[1]
    cases.append({"name": "mlp_hvp", "x": t(xs), "y": t(ys),
                  "params": [{"name": n, "value": t(p)} for (n, p) in zip(names, params)],
                  "v": [{"name": n, "value": t(d)} for (n, d) in zip(names, directions)],
                  "value": [{"name": n, "value": t(h)} for (n, h) in zip(names, hv)]})
    return cases


def penalty_cases():
    """Training steps that differentiate a gradient: one WGAN-GP critic step (critic Linear(2, 8),
    tanh, Linear(8, 1) on 6 real and 6 fake points, penalty weight 10) and one physics-informed
    loss (Linear(1, 8), tanh, Linear(8, 8), tanh, Linear(8, 1); the residual of u'' + pi^2
    sin(pi x) at 10 points of [0, 1] and the boundary values): the loss and the gradients of
    every parameter, by name."""
    torch.manual_seed(33)
    r = lambda *s: torch.randn(*s, dtype=torch.float64)
    named = lambda m: [{"name": n, "value": t(p)} for (n, p) in m.named_parameters()]
    critic = torch.nn.Sequential(torch.nn.Linear(2, 8), torch.nn.Tanh(),
                                 torch.nn.Linear(8, 1)).double()
    real, fake, eps = r(6, 2), r(6, 2), torch.rand(6, 1, dtype=torch.float64)
    mix = (eps * real + (1 - eps) * fake).requires_grad_()
    g = torch.autograd.grad(critic(mix).sum(), mix, create_graph=True)[0]
    penalty = ((torch.sqrt((g * g).sum(1)) - 1) ** 2).mean()
    loss = critic(fake).mean() - critic(real).mean() + 10 * penalty
    grads = torch.autograd.grad(loss, list(critic.parameters()))
    cases = [{"name": "wgan_gp", "real": t(real), "fake": t(fake), "eps": t(eps),
              "params": named(critic), "loss": float(loss),
              "grads": [{"name": n, "value": t(gr)}
                        for ((n, _), gr) in zip(critic.named_parameters(), grads)]}]
    net = torch.nn.Sequential(torch.nn.Linear(1, 8), torch.nn.Tanh(), torch.nn.Linear(8, 8),
                              torch.nn.Tanh(), torch.nn.Linear(8, 1)).double()
    x = torch.linspace(0, 1, 10, dtype=torch.float64).reshape(10, 1).requires_grad_()
    u = net(x)
    du = torch.autograd.grad(u.sum(), x, create_graph=True)[0]
    d2u = torch.autograd.grad(du.sum(), x, create_graph=True)[0]
    ends = torch.tensor([[0.0], [1.0]], dtype=torch.float64)
    loss = ((d2u + math.pi ** 2 * torch.sin(math.pi * x)) ** 2).mean() + (net(ends) ** 2).mean()
    grads = torch.autograd.grad(loss, list(net.parameters()))
    cases.append({"name": "pinn", "x": t(x), "params": named(net), "loss": float(loss),
                  "grads": [{"name": n, "value": t(gr)}
                            for ((n, _), gr) in zip(net.named_parameters(), grads)]})
    return cases


def write(name, cases, **fields):
    """fields: what every case shares (optimizers.json's problem), beside the cases."""
    path = os.path.normpath(os.path.join(OUT, name))
    with open(path, "w") as f:
        json.dump({"torch": torch.__version__, **fields, "cases": cases}, f, separators=(",", ":"),
                  allow_nan=False)
        f.write("\n")
    print(f"{path}: {len(cases)} cases")


if __name__ == "__main__":
    import sys
    torch.set_num_threads(1)
    # File names as arguments write only those (a new case, without rewriting every file).
    ONLY = set(sys.argv[1:])
    if ONLY:
        real_write = write
        write = lambda name, *a, **k: real_write(name, *a, **k) if name in ONLY else None
    write("double_backward.json", double_backward_cases())
    write("double_backward_ops.json", double_backward_op_cases())
    write("functional.json", functional_cases())
    write("penalties.json", penalty_cases())
    write("conv.json", conv_cases())
    write("pool.json", pool_cases())
    write("batch_norm.json", batch_norm_cases())
    write("batchnorm_module.json", batchnorm_module_cases())
    write("layer_norm.json", layer_norm_cases())
    write("embedding.json", embedding_cases())
    write("pad.json", pad_cases())
    write("elementwise.json", elementwise_cases())
    write("reduce.json", reduce_cases())
    write("shape.json", shape_cases())
    write("losses.json", loss_cases())
    write("schedules.json", schedule_cases())
    (cases, problem) = optimizer_cases()
    write("optimizers.json", cases, problem=problem)
    write("lbfgs.json", lbfgs_cases())
    write("modules.json", module_cases())
    write("rnn.json", rnn_cases())
    write("rnn_lm.json", lstm_lm_trajectory())
    write("attention.json", attention_cases())
    write("transformer.json", transformer_cases())
    write("transformer_lm.json", transformer_lm_trajectory())
    write("transformer_decoder.json", transformer_decoder_cases())
