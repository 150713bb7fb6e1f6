#!/usr/bin/env python3
"""PyTorch side of Loupe's framework comparison (see benchmarks/README.md).

Times the same workloads as `loupe-bench --json` and prints, with --json, one line per workload:
  {"workload": ..., "framework": "pytorch", "ms_per_step": <median ms>, "peak_rss_mib": <MiB>,
   "config": "<how PyTorch was set up>"}
Without --json it prints a readable table.

Each workload runs in a fresh Python process of its own (as loupe-bench does), so the peak
resident memory reported is that of a process that ran only that workload; --in-process runs them
all in this process instead (the peak is then the process's peak so far).

Exit status 3 when PyTorch cannot be imported.
"""
import importlib.metadata
import importlib.util
import json
import sys

import harness

FRAMEWORK = "pytorch"


def parse_arguments():
    parser = harness.argument_parser(__doc__.split("\n\n")[0])
    parser.add_argument("--memory-format", choices=["nchw", "channels_last"], default="nchw",
                        help="the CNN's layout: PyTorch's ordinary NCHW (default) or channels_last "
                             "(NHWC in memory; faster here for cnn-infer-1000)")
    return harness.parse(parser)


def import_torch():
    try:
        import torch  # noqa: F401
    except Exception as error:  # ImportError, or a broken install raising something else
        sys.stderr.write("pytorch_reference.py: cannot import torch (%s: %s); install it, e.g. "
                         "run benchmarks/compare, which sets up .venv-bench/\n" % (type(error).__name__, error))
        sys.exit(3)
    return torch


def build(torch, memory_format):
    nn = torch.nn
    F = torch.nn.functional

    def make_adam(parameters):
        """Fused Adam when this PyTorch supports it on the CPU (2.4+), else the foreach one."""
        parameters = list(parameters)
        try:
            return torch.optim.Adam(parameters, lr=1e-3, fused=True), "adam=fused"
        except (RuntimeError, TypeError, ValueError):
            return torch.optim.Adam(parameters, lr=1e-3, foreach=True), "adam=foreach"

    class LeNet(nn.Module):
        """The reference CNN: conv5x5 1→32 SAME, ReLU, pool 2/2, conv5x5 32→64 SAME, ReLU,
        pool 2/2, dense 3136→1024, ReLU, dropout 0.5, dense 1024→10. PyTorch's ordinary NCHW."""

        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(1, 32, 5, padding=2)   # stride 1, odd kernel: SAME = padding 2
            self.conv2 = nn.Conv2d(32, 64, 5, padding=2)
            self.fc1 = nn.Linear(7 * 7 * 64, 1024)
            self.fc2 = nn.Linear(1024, 10)
            self.dropout = nn.Dropout(0.5)                # keep probability 0.5
            for layer in (self.conv1, self.conv2, self.fc1, self.fc2):
                # TensorFlow's truncated normal: redrawn beyond two standard deviations.
                nn.init.trunc_normal_(layer.weight, mean=0.0, std=0.1, a=-0.2, b=0.2)
                nn.init.constant_(layer.bias, 0.1)

        def forward(self, x):
            x = F.max_pool2d(F.relu(self.conv1(x)), 2, 2)
            x = F.max_pool2d(F.relu(self.conv2(x)), 2, 2)
            x = torch.flatten(x, 1)
            x = self.dropout(F.relu(self.fc1(x)))
            return self.fc2(x)

    class Recurrent(nn.Module):
        """One recurrent layer over 28 steps of 28 features; last hidden state → dense 10."""

        def __init__(self, kind, hidden):
            super().__init__()
            if kind == "rnn":
                self.cell = nn.RNN(28, hidden, nonlinearity="tanh", batch_first=True)
            elif kind == "lstm":
                self.cell = nn.LSTM(28, hidden, batch_first=True)
            else:
                self.cell = nn.GRU(28, hidden, batch_first=True)
            self.out = nn.Linear(hidden, 10)

        def forward(self, x):
            _, state = self.cell(x)
            last = state[0] if isinstance(state, tuple) else state   # LSTM returns (h_n, c_n)
            return self.out(last[-1])

    generator = torch.Generator().manual_seed(1)
    layout = torch.channels_last if memory_format == "channels_last" else torch.contiguous_format

    def images(count):
        return torch.rand(count, 1, 28, 28, generator=generator).to(memory_format=layout)

    def training(model, inputs, labels):
        # A fixed random batch is reused on every step: the data pipeline is not what is measured.
        optimizer, config = make_adam(model.parameters())
        model.train()

        def step():
            optimizer.zero_grad(set_to_none=True)
            loss = F.cross_entropy(model(inputs), labels)   # softmax cross-entropy, mean over batch
            loss.backward()
            optimizer.step()
        return step, config

    def cnn_b50():
        model = LeNet().to(memory_format=layout)
        inputs = images(50)
        labels = torch.randint(0, 10, (50,), generator=generator)
        step, config = training(model, inputs, labels)
        return step, "%s %s" % (config, memory_format)

    def cnn_infer_1000():
        model = LeNet().to(memory_format=layout).eval()     # evaluation mode: no dropout
        inputs = images(1000)

        def step():
            with torch.inference_mode():
                model(inputs)
        return step, "inference_mode %s" % memory_format

    def recurrent(kind, hidden):
        def make():
            model = Recurrent(kind, hidden)
            inputs = torch.rand(128, 28, 28, generator=generator)   # batch, time (rows), features
            labels = torch.randint(0, 10, (128,), generator=generator)
            return training(model, inputs, labels)
        return make

    return {
        "cnn-b50": cnn_b50,
        "cnn-infer-1000": cnn_infer_1000,
        "rnn128-b128": recurrent("rnn", 128),
        "lstm128-b128": recurrent("lstm", 128),
        "gru128-b128": recurrent("gru", 128),
        "lstm512-b128": recurrent("lstm", 512),
    }


def run_in_process(arguments):
    torch = import_torch()
    # Set before any parallel work; inter-op threads can be set only once per process.
    torch.set_num_threads(arguments.threads)
    torch.set_num_interop_threads(arguments.threads)
    torch.set_flush_denormal(True)
    torch.manual_seed(0)
    makers = build(torch, arguments.memory_format)
    results = []
    for name in arguments.names:
        step, config = makers[name]()
        milliseconds = harness.median_ms(step, arguments.steps, arguments.warmup)
        results.append(harness.record(name, FRAMEWORK, milliseconds,
                                      "%s threads=%d flush_denormal" % (config, arguments.threads)))
        if arguments.json:
            print(json.dumps(results[-1]), flush=True)
    return torch.__version__, results


def run_isolated(arguments):
    """One child process per workload; returns the version and the children's results. The parent
    does not import torch itself: a child that cannot import it exits with 3, and so does this."""
    if importlib.util.find_spec("torch") is None:
        import_torch()   # prints why and exits with 3
    results = []
    for name in arguments.names:
        result = harness.run_child(__file__, name, [
            "--steps", str(arguments.steps), "--warmup", str(arguments.warmup),
            "--threads", str(arguments.threads), "--memory-format", arguments.memory_format], "pytorch_reference.py")
        if result is None:
            continue
        results.append(result)
        if arguments.json:
            print(json.dumps(result), flush=True)
    return harness.version_of("torch"), results


def main():
    arguments = parse_arguments()
    if arguments.in_process:
        version, results = run_in_process(arguments)
    else:
        version, results = run_isolated(arguments)
    if not arguments.json:
        harness.print_table("PyTorch %s, Python %s, %d threads, %d timed steps after %d warm-up; "
                            "one process per workload: %s" % (version, sys.version.split()[0], arguments.threads,
                                                              arguments.steps, arguments.warmup,
                                                              "no" if arguments.in_process else "yes"), results)
    return 0 if len(results) == len(arguments.names) else 1


if __name__ == "__main__":
    sys.exit(main())
