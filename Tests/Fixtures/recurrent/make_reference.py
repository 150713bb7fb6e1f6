"""Reference values for Loupe's recurrent cells (Tests/LoupeNNTests/RecurrentLayerTests.swift).

Computes, in float64 NumPy and independently of Loupe, every step's hidden state of one layer of
each cell over a small random sequence with an initial state, following the published equations:

- rnn:  h = tanh(x Wx + h Wh + b)                                   (BasicRNNCell, nn.RNN)
- lstm: i, f, g, o = split(x Wx + h Wh + b); c = sig(f + 1) c + sig(i) tanh(g);
        h = sig(o) tanh(c)                    (BasicLSTMCell(forget_bias=1.0), PyTorch gate order)
- gru_tf1: r, u = sig(x Wx[:, :2H] + h Wh[:, :2H] + b[:2H]);
        c = tanh(x Wx[:, 2H:] + (r h) Wh[:, 2H:] + b[2H:]); h = u h + (1 - u) c    (GRUCell)
- gru_pytorch: r, z = sig(x Wx + b + h Wh + bh) blocks; n = tanh(xn + bn + r (h Whn + bhn));
        h = (1 - z) n + z h                                          (nn.GRU, reset_after)

Inputs are float32 values written to reference.json with the outputs, so the test needs no
random generator of its own. Run once: python3 make_reference.py (writes reference.json).
"""
import json

import numpy as np

B, T, F, H = 2, 3, 4, 5
rng = np.random.default_rng(20261201)


def sig(v):
    return 1.0 / (1.0 + np.exp(-v))


def values(*shape, scale=0.5):
    return rng.uniform(-scale, scale, size=shape).astype(np.float32)


cases = []
for cell, gates in [("rnn", 1), ("lstm", 4), ("gru_tf1", 3), ("gru_pytorch", 3)]:
    x = values(B, T, F, scale=1.0)
    wx, wh, b = values(F, gates * H), values(H, gates * H), values(gates * H)
    bh = values(gates * H) if cell == "gru_pytorch" else None
    h0 = values(B, H)
    c0 = values(B, H) if cell == "lstm" else None
    d = lambda a: a.astype(np.float64)
    h, c = d(h0), (d(c0) if c0 is not None else None)
    outputs = []
    for t in range(T):
        xt = d(x[:, t, :])
        if cell == "rnn":
            h = np.tanh(xt @ d(wx) + h @ d(wh) + d(b))
        elif cell == "lstm":
            z = xt @ d(wx) + h @ d(wh) + d(b)
            i, f, g, o = (z[:, k * H:(k + 1) * H] for k in range(4))
            c = sig(f + 1.0) * c + sig(i) * np.tanh(g)
            h = sig(o) * np.tanh(c)
        elif cell == "gru_tf1":
            gz = xt @ d(wx[:, :2 * H]) + h @ d(wh[:, :2 * H]) + d(b[:2 * H])
            r, u = sig(gz[:, :H]), sig(gz[:, H:])
            cand = np.tanh(xt @ d(wx[:, 2 * H:]) + (r * h) @ d(wh[:, 2 * H:]) + d(b[2 * H:]))
            h = u * h + (1 - u) * cand
        else:
            xz = xt @ d(wx) + d(b)
            hz = h @ d(wh) + d(bh)
            r = sig(xz[:, :H] + hz[:, :H])
            z = sig(xz[:, H:2 * H] + hz[:, H:2 * H])
            n = np.tanh(xz[:, 2 * H:] + r * hz[:, 2 * H:])
            h = (1 - z) * n + z * h
        outputs.append(h.copy())
    sequence = np.stack(outputs, axis=1)  # [B, T, H]
    case = {"cell": cell, "batch": B, "steps": T, "features": F, "units": H,
            "input": x.ravel().tolist(), "kernel": wx.ravel().tolist(), "recurrent_kernel": wh.ravel().tolist(),
            "bias": b.ravel().tolist(), "initial_state": h0.ravel().tolist(),
            "sequence": sequence.ravel().tolist()}
    if bh is not None:
        case["recurrent_bias"] = bh.ravel().tolist()
    if c0 is not None:
        case["initial_cell"] = c0.ravel().tolist()
    cases.append(case)

with open("reference.json", "w") as out:
    json.dump({"generated_by": "make_reference.py", "numpy": np.__version__, "cases": cases}, out, indent=1)
