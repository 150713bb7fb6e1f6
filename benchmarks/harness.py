"""What the PyTorch and TensorFlow reference programs share: timing, peak memory, running one
child process per workload, and the plain-text table. Standard library only."""

import argparse
import importlib.metadata
import json
import os
import resource
import statistics
import subprocess
import sys
import time


def version_of(package):
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return "?"


def peak_rss_mib():
    # ru_maxrss is in KiB on Linux (bytes on macOS).
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def median_ms(step, steps, warmup):
    for _ in range(warmup):
        step()
    times = []
    for _ in range(steps):
        start = time.perf_counter()
        step()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def record(name, framework, milliseconds, config):
    """One result line: the workload, its median milliseconds and this process's peak memory."""
    return {"workload": name, "framework": framework, "ms_per_step": round(milliseconds, 3),
            "peak_rss_mib": round(peak_rss_mib(), 1), "config": config}


def run_child(script, name, extra_arguments, program, noise=None):
    """Runs `script --in-process --json --workloads name …` in a child process and returns its last
    result line, or None when it failed. Exits with 3 when the child could not import its framework.
    The child's standard error is relayed, less the lines `noise` (a compiled pattern) matches."""
    command = [sys.executable, os.path.abspath(script), "--in-process", "--json", "--workloads", name] + extra_arguments
    child = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    sys.stderr.write("".join(line for line in child.stderr.splitlines(True) if not (noise and noise.match(line))))
    if child.returncode == 3:
        sys.exit(3)
    lines = [line for line in child.stdout.splitlines() if line.startswith("{")]
    if child.returncode != 0 or not lines:
        sys.stderr.write("%s: workload %s failed (exit %d)\n" % (program, name, child.returncode))
        return None
    return json.loads(lines[-1])


def print_table(title, results):
    print(title)
    print("%-16s %10s %10s  %s" % ("workload", "ms/step", "peak MiB", "config"))
    for result in results:
        print("%-16s %10.2f %10.0f  %s" % (result["workload"], result["ms_per_step"],
                                          result["peak_rss_mib"], result["config"]))


WORKLOADS = ["cnn-b50", "cnn-infer-1000", "rnn128-b128", "lstm128-b128", "gru128-b128", "lstm512-b128"]


def argument_parser(description):
    """The options both programs take; each adds its own before calling `parse`."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--workloads", default=",".join(WORKLOADS),
                        help="comma-separated subset of: " + ", ".join(WORKLOADS) + " (default: all)")
    parser.add_argument("--steps", type=int, default=30, help="timed steps per workload (default 30)")
    parser.add_argument("--warmup", type=int, default=5, help="untimed warm-up steps (default 5)")
    parser.add_argument("--threads", type=int, default=2, help="intra- and inter-op threads (default 2)")
    parser.add_argument("--json", action="store_true", help="print one JSON object per line")
    parser.add_argument("--in-process", action="store_true",
                        help="run every workload in this process instead of one process each")
    return parser


def parse(parser):
    """Parses and checks the options; `names` holds the chosen workloads."""
    arguments = parser.parse_args()
    names = [name for name in arguments.workloads.split(",") if name]
    unknown = [name for name in names if name not in WORKLOADS]
    if unknown or not names:
        parser.error("unknown workload(s) %s; known: %s" % (", ".join(unknown), ", ".join(WORKLOADS)))
    if arguments.steps < 1 or arguments.warmup < 0 or arguments.threads < 1:
        parser.error("--steps and --threads must be positive, --warmup not negative")
    arguments.names = names
    return arguments
