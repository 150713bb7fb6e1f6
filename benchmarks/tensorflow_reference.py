#!/usr/bin/env python3
"""TensorFlow side of Loupe's framework comparison (see benchmarks/README.md).

Times the same workloads as `loupe-bench --json` and prints, with --json, one line per workload:
  {"workload": ..., "framework": "tensorflow", "ms_per_step": <median ms>, "peak_rss_mib": <MiB>,
   "config": "<how TensorFlow was set up>"}
Without --json it prints a readable table.

The training step is one compiled graph (@tf.function) of forward, GradientTape backward and
Adam update, on Keras layers, NHWC. --jit chooses XLA per workload: `best` (default) uses
jit_compile=True only where it was the faster on the reference machine (see XLA_FASTER), `off`
never, `on` always, `auto` times both briefly per workload (each in its own process) and keeps
the faster.

Each workload runs in a fresh Python process of its own (as loupe-bench does), so the peak
resident memory reported is that of a process that ran only that workload; --in-process runs them
all in this process instead (the peak is then the process's peak so far).

Exit status 3 when TensorFlow cannot be imported.
"""
import importlib.metadata
import importlib.util
import json
import os
import re
import sys

import harness

FRAMEWORK = "tensorflow"
# Where jit_compile=True was faster than the plain graph on the reference machine (2-core AMD EPYC,
# TensorFlow 2.21, 2 threads): LSTM-512 ~160 vs ~220 ms. XLA was slower for every other workload
# (CNN step 52 vs 39 ms, inference 200 vs 132 ms, LSTM-128 42 vs 25, GRU 32 vs 23, RNN 10 vs 9).
XLA_FASTER = {"lstm512-b128"}


def parse_arguments():
    parser = harness.argument_parser(__doc__.split("\n\n")[0])
    parser.add_argument("--jit", choices=["best", "off", "on", "auto"], default="best",
                        help="XLA (jit_compile=True) for the step: best (default) = off except where "
                             "it was faster on the reference 2-core machine (%s), off, on, or auto "
                             "(time both briefly per workload, keep the faster)" % ", ".join(sorted(XLA_FASTER)))
    return harness.parse(parser)


def import_tensorflow(threads):
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")   # quiet start-up logs; no effect on speed
    try:
        import tensorflow as tf
    except Exception as error:  # ImportError, or a broken install raising something else
        sys.stderr.write("tensorflow_reference.py: cannot import tensorflow (%s: %s); install "
                         "tensorflow-cpu, e.g. run benchmarks/compare, which sets up .venv-bench/\n"
                         % (type(error).__name__, error))
        sys.exit(3)
    if threads is not None:
        # Must come before the first op runs.
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(threads)
    return tf


def tensorflow_version():
    for distribution in ("tensorflow-cpu", "tensorflow"):
        try:
            return importlib.metadata.version(distribution)
        except importlib.metadata.PackageNotFoundError:
            pass
    return "?"


# Start-up lines TensorFlow writes before absl logging is set up, which TF_CPP_MIN_LOG_LEVEL set
# from inside Python does not silence: dropped when relaying a child's stderr.
NOISE = re.compile(r"^(WARNING: All log messages before absl::InitializeLog|[IW]\d{4} \d\d:\d\d:\d\d"
                   r"|To enable the following instructions)")


def build(tf):
    keras = tf.keras
    layers = keras.layers
    tf.random.set_seed(0)
    keras.utils.set_random_seed(0)

    def lenet():
        """The reference CNN, NHWC: conv5x5 1→32 SAME, ReLU, pool 2/2, conv5x5 32→64 SAME, ReLU,
        pool 2/2, dense 3136→1024, ReLU, dropout 0.5, dense 1024→10."""
        def init():
            return dict(kernel_initializer=keras.initializers.TruncatedNormal(stddev=0.1),
                        bias_initializer=keras.initializers.Constant(0.1))
        return keras.Sequential([
            keras.Input((28, 28, 1)),
            layers.Conv2D(32, 5, padding="same", activation="relu", **init()),
            layers.MaxPooling2D(2, 2),
            layers.Conv2D(64, 5, padding="same", activation="relu", **init()),
            layers.MaxPooling2D(2, 2),
            layers.Flatten(),
            layers.Dense(1024, activation="relu", **init()),
            layers.Dropout(0.5),                              # keep probability 0.5
            layers.Dense(10, **init()),
        ])

    def recurrent(kind, hidden):
        """One recurrent layer over 28 steps of 28 features; last hidden state → dense 10."""
        cell = {"rnn": layers.SimpleRNN, "lstm": layers.LSTM, "gru": layers.GRU}[kind]
        return keras.Sequential([keras.Input((28, 28)), cell(hidden), layers.Dense(10)])

    def loss_of(logits, labels):
        # Softmax cross-entropy, mean over the batch.
        return tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits))

    def training(make_model, input_shape, jit):
        # A fixed random batch is reused on every step: the data pipeline is not what is measured.
        model = make_model()
        optimizer = keras.optimizers.Adam(learning_rate=1e-3)
        inputs = tf.random.uniform(input_shape, seed=1)
        labels = tf.random.uniform((input_shape[0],), maxval=10, dtype=tf.int32, seed=2)

        @tf.function(jit_compile=jit)
        def train_step(x, y):
            with tf.GradientTape() as tape:
                loss = loss_of(model(x, training=True), y)
            gradients = tape.gradient(loss, model.trainable_variables)
            optimizer.apply_gradients(zip(gradients, model.trainable_variables))
            return loss

        def step():
            train_step(inputs, labels).numpy()    # .numpy() waits for the step to finish
        return step

    def inference(jit):
        model = lenet()
        inputs = tf.random.uniform((1000, 28, 28, 1), seed=1)

        @tf.function(jit_compile=jit)
        def forward(x):
            return model(x, training=False)      # evaluation mode: no dropout

        def step():
            forward(inputs).numpy()
        return step

    return {
        "cnn-b50": lambda jit: training(lenet, (50, 28, 28, 1), jit),
        "cnn-infer-1000": inference,
        "rnn128-b128": lambda jit: training(lambda: recurrent("rnn", 128), (128, 28, 28), jit),
        "lstm128-b128": lambda jit: training(lambda: recurrent("lstm", 128), (128, 28, 28), jit),
        "gru128-b128": lambda jit: training(lambda: recurrent("gru", 128), (128, 28, 28), jit),
        "lstm512-b128": lambda jit: training(lambda: recurrent("lstm", 512), (128, 28, 28), jit),
    }


def time_workload(name, make, arguments):
    """Returns (milliseconds, config) for one workload under the chosen --jit policy."""
    if arguments.jit in ("off", "on"):
        jit = arguments.jit == "on"
        return harness.median_ms(make(jit), arguments.steps, arguments.warmup), "jit_compile=%s" % jit
    if arguments.jit == "best":
        jit = name in XLA_FASTER
        return harness.median_ms(make(jit), arguments.steps, arguments.warmup), "jit_compile=%s (best)" % jit
    # auto: a short trial of each (2 warm-up, 5 timed), then the full timing of the faster.
    trial = {}
    for jit in (False, True):
        try:
            trial[jit] = harness.median_ms(make(jit), 5, 2)
        except Exception as error:  # XLA cannot compile something: keep the plain graph
            sys.stderr.write("tensorflow_reference.py: jit_compile=True failed (%s)\n" % type(error).__name__)
    jit = min(trial, key=trial.get)
    return harness.median_ms(make(jit), arguments.steps, arguments.warmup), "jit_compile=%s (auto)" % jit


def run_in_process(arguments):
    tf = import_tensorflow(arguments.threads)
    makers = build(tf)
    results = []
    for name in arguments.names:
        milliseconds, config = time_workload(name, makers[name], arguments)
        results.append(harness.record(name, FRAMEWORK, milliseconds,
                                      "tf.function %s threads=%d" % (config, arguments.threads)))
        if arguments.json:
            print(json.dumps(results[-1]), flush=True)
    return tf.__version__, results


def run_child(arguments, name, jit, steps, warmup):
    """Runs one workload in a child process; its result, or None when it failed."""
    return harness.run_child(__file__, name, ["--steps", str(steps), "--warmup", str(warmup),
                                             "--threads", str(arguments.threads), "--jit", jit],
                             "tensorflow_reference.py (jit %s)" % jit, noise=NOISE)


def run_isolated(arguments):
    """One child process per workload; returns the version and the children's results. The parent
    does not import tensorflow itself: a child that cannot import it exits with 3, and so does this."""
    if importlib.util.find_spec("tensorflow") is None:
        import_tensorflow(None)   # prints why and exits with 3
    results = []
    for name in arguments.names:
        jit, note = arguments.jit, ""
        if jit == "auto":
            # Short trials, each in a process of its own so that neither adds to the other's peak.
            trial = {}
            for candidate in ("off", "on"):
                result = run_child(arguments, name, candidate, steps=5, warmup=2)
                if result is not None:
                    trial[candidate] = result["ms_per_step"]
            if not trial:
                continue
            jit, note = min(trial, key=trial.get), " (auto)"
        result = run_child(arguments, name, jit, arguments.steps, arguments.warmup)
        if result is None:
            continue
        result["config"] += note
        results.append(result)
        if arguments.json:
            print(json.dumps(result), flush=True)
    return tensorflow_version(), results


def main():
    arguments = parse_arguments()
    if arguments.in_process:
        version, results = run_in_process(arguments)
    else:
        version, results = run_isolated(arguments)
    if not arguments.json:
        harness.print_table("TensorFlow %s, Keras %s, Python %s, %d threads, %d timed steps after %d warm-up; "
                            "one process per workload: %s" % (version, harness.version_of("keras"), sys.version.split()[0],
                                                              arguments.threads, arguments.steps, arguments.warmup,
                                                              "no" if arguments.in_process else "yes"), results)
    return 0 if len(results) == len(arguments.names) else 1


if __name__ == "__main__":
    sys.exit(main())
