// loupe-bench: speed figures for Loupe, in release builds only.
//
//   swift run -c release loupe-bench [--kernels] [--workloads a,b] [--json] [--repeats N]
//
// --kernels: this machine's sgemm GFLOP/s at 1024³ (the ceiling), then forward and backward time
// and GFLOP/s of the reference CNN's two convolutions at batch 50 (EXPERIMENTS.md part 1), of
// conv2 fused with its ReLU and pooling (as the model runs it), of the dense layer fc1 and of the
// Adam update, and conv2's forward+backward rate as a share of the ceiling (target ≥ 60%). Each
// convolution's output is checked against a direct computation before it is timed. GFLOP/s count
// every multiply-add of the im2col formulation, padding included, as frameworks report them; the
// direct kernels skip most padding and the fused backward skips the zero gradients, so their
// figures can pass the ceiling: read them as speed relative to that formulation.
// Workloads (the same models and shapes as benchmarks/*_reference.py): median milliseconds per
// training step and the peak resident memory of a process that ran only that workload.
// With neither flag, both are printed.
import Foundation
import LoupeCore
import LoupeNN

struct Options {
    var repeats = 30
    var kernels = false
    var json = false
    var workloads: [String]?
    init(_ arguments: [String]) throws {
        var rest = arguments.dropFirst()
        while let flag = rest.popFirst() {
            switch flag {
            case "--repeats":
                guard let value = rest.popFirst().flatMap(Int.init), value > 0 else {
                    throw LoupeError.invalidArgument(name: "--repeats", message: "needs a positive integer")
                }
                repeats = value
            case "--kernels": kernels = true
            case "--json": json = true
            case "--workloads":
                guard let list = rest.popFirst() else {
                    throw LoupeError.invalidArgument(name: "--workloads", message: "needs a comma-separated list: \(Workload.names.joined(separator: ", "))")
                }
                let names = list.split(separator: ",").map(String.init)
                if let unknown = names.first(where: { !Workload.names.contains($0) }) {
                    throw LoupeError.invalidArgument(name: "--workloads", message: "unknown workload \(unknown); known: \(Workload.names.joined(separator: ", "))")
                }
                workloads = names
            case "--help", "-h":
                print("usage: loupe-bench [--kernels] [--workloads \(Workload.names.joined(separator: ","))] [--json] [--repeats N]")
                exit(0)
            default:
                throw LoupeError.invalidArgument(name: flag, message: "unknown flag (try --help)")
            }
        }
    }
}

/// Median wall time of `body` in milliseconds, after two warm-up runs.
func medianMilliseconds(_ repeats: Int, _ body: () throws -> Void) rethrows -> Double {
    try body()
    try body()
    var times: [Double] = []
    for _ in 0..<repeats {
        let start = DispatchTime.now().uptimeNanoseconds
        try body()
        times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
    }
    times.sort()
    return times[times.count / 2]
}

func gflops(_ flops: Double, _ milliseconds: Double) -> Double { flops / milliseconds / 1e6 }

func column(_ text: String, _ width: Int) -> String {
    text.count >= width ? text : text + String(repeating: " ", count: width - text.count)
}

/// Checks a few outputs of conv2d against a direct sum before timing it.
func verify(_ y: Tensor, _ x: Tensor, _ w: Tensor, name: String) throws {
    let (h, wd, c) = (x.shape[1], x.shape[2], x.shape[3])
    let (kh, kw, oc) = (w.shape[0], w.shape[1], w.shape[3])
    let xs = x.scalars, ws = w.scalars, ys = y.scalars
    var g = RandomGenerator(seed: 99)
    for _ in 0..<20 {
        let (b, oy, ox, o) = (g.nextInt(below: x.shape[0]), g.nextInt(below: h), g.nextInt(below: wd), g.nextInt(below: oc))
        var total = 0.0
        for ky in 0..<kh { for kx in 0..<kw { for ch in 0..<c {
            let iy = oy - (kh - 1) / 2 + ky, ix = ox - (kw - 1) / 2 + kx
            if iy < 0 || iy >= h || ix < 0 || ix >= wd { continue }
            total += Double(xs[((b * h + iy) * wd + ix) * c + ch]) * Double(ws[((ky * kw + kx) * c + ch) * oc + o])
        } } }
        let got = Double(ys[((b * h + oy) * wd + ox) * oc + o])
        guard abs(got - total) <= 1e-3 + 1e-3 * abs(total) else {
            throw LoupeError.invalidArgument(name: name, message: "conv2d output \(got) differs from direct sum \(total)")
        }
    }
}

func run() throws {
    let options = try Options(CommandLine.arguments)
    let showKernels = options.kernels || (options.workloads == nil && !options.json)
    if showKernels && !options.json { try kernels(options) }
    let selected = options.workloads ?? ((options.kernels && !options.json) ? [] : Workload.comparisons)
    if selected.count == 1 {
        try Workload.run(selected[0], repeats: options.repeats, json: options.json)
    } else if !selected.isEmpty {
        try Workload.runEachInItsOwnProcess(selected, repeats: options.repeats, json: options.json)
    }
}

func kernels(_ options: Options) throws {
    let blas = BLAS.configure()
    print("Loupe kernels — \(computeThreads) threads, BLAS \(blas.library) \(blas.initialCore.isEmpty ? "" : "kernels \(blas.initialCore) → \(blas.core)")")
    print("median of \(options.repeats) runs\n")

    var g = RandomGenerator(seed: 1)
    // Ceiling: one 1024³ product through Loupe's gemm (BLAS on one thread per block, blocks in parallel).
    let n = 1024
    let a = Tensor.randomUniform([n, n], generator: &g), b = Tensor.randomUniform([n, n], generator: &g)
    var c = [Float](repeating: 0, count: n * n)
    let sgemmMs = a.withUnsafeBufferPointer { pa in
        b.withUnsafeBufferPointer { pb in
            medianMilliseconds(options.repeats) {
                gemm(transposeA: false, transposeB: false, m: n, n: n, k: n, a: pa.baseAddress!, b: pb.baseAddress!, c: &c)
            }
        }
    }
    let ceiling = gflops(2 * Double(n * n * n), sgemmMs)
    print("sgemm 1024³: \(String(format: "%.2f", sgemmMs)) ms, \(String(format: "%.0f", ceiling)) GFLOP/s (ceiling)\n")

    print(column("op", 40) + column("forward ms", 12) + column("GFLOP/s", 10) + column("backward ms", 13) + column("GFLOP/s", 10) + "fwd+bwd GFLOP/s")
    /// Times `forward` and `both` (forward and backward), prints the op's row (backward time is
    /// their difference) and returns its forward+backward GFLOP/s.
    func timeOp(_ name: String, forwardFlops: Double, backwardFlops: Double, forward: () throws -> Void,
                both: () throws -> Void) throws -> Double {
        let forwardMs = try medianMilliseconds(options.repeats, forward)
        let bothMs = try medianMilliseconds(options.repeats, both)
        let backwardMs = max(bothMs - forwardMs, 1e-6)
        let rate = gflops(forwardFlops + backwardFlops, bothMs)
        print(column(name, 40) + column(String(format: "%.2f", forwardMs), 12) + column(String(format: "%.0f", gflops(forwardFlops, forwardMs)), 10)
              + column(String(format: "%.2f", backwardMs), 13) + column(String(format: "%.0f", gflops(backwardFlops, backwardMs)), 10)
              + String(format: "%.0f", rate))
        return rate
    }
    var conv2Rate = 0.0
    for (name, input, filter, inputNeedsGradient) in [
        ("conv1 28x28x1→32 5x5 SAME, batch 50", [50, 28, 28, 1], [5, 5, 1, 32], false),
        ("conv2 14x14x32→64 5x5 SAME, batch 50", [50, 14, 14, 32], [5, 5, 32, 64], true),
    ] {
        let x = Tensor.randomUniform(input, generator: &g)
        let w = Tensor.truncatedNormal(filter, standardDeviation: 0.1, generator: &g)
        let y = try conv2d(x, filter: w, padding: .same)
        try verify(y, x, w, name: name)
        let seed = Tensor.randomUniform(y.shape, generator: &g)
        let products = 2.0 * Double(y.count) * Double(filter[0] * filter[1] * filter[2])
        let rate = try timeOp(name, forwardFlops: products, backwardFlops: products * (inputNeedsGradient ? 2 : 1),
                              forward: { _ = try conv2d(x, filter: w, padding: .same) }) {
            if inputNeedsGradient {
                _ = try valueAndGradient(at: [x, w], seed: seed) { p in try conv2d(p[0], filter: p[1], padding: .same) }
            } else {  // images need no gradient: only the filter's is computed
                _ = try valueAndGradient(at: [w], seed: seed) { p in try conv2d(x, filter: p[0], padding: .same) }
            }
        }
        if inputNeedsGradient { conv2Rate = rate }
    }
    do {  // conv2 + ReLU + 2x2 max-pool as the model runs it: fused forward, sparse backward
        let name = "conv2 + ReLU + pool, fused, batch 50"
        let x = Tensor.randomUniform([50, 14, 14, 32], generator: &g)
        let w = Tensor.truncatedNormal([5, 5, 32, 64], standardDeviation: 0.1, generator: &g)
        let b = Tensor(repeating: 0.1, shape: [64])
        let seed = Tensor.randomUniform([50, 7, 7, 64], generator: &g)
        let products = 2.0 * 50 * 14 * 14 * 64 * 5 * 5 * 32
        _ = try timeOp(name, forwardFlops: products, backwardFlops: 2 * products,
                       forward: { _ = try conv2dReLUMaxPool(x, filter: w, bias: b, padding: .same) }) {
            _ = try valueAndGradient(at: [x, w, b], seed: seed) { p in try conv2dReLUMaxPool(p[0], filter: p[1], bias: p[2], padding: .same) }
        }
    }
    do {  // the dense layer fc1: few rows forward, a short inner dimension for the weight gradient
        let name = "fc1 3136→1024, batch 50"
        let x = Tensor.randomUniform([50, 3136], generator: &g)
        let w = Tensor.truncatedNormal([3136, 1024], standardDeviation: 0.1, generator: &g)
        let seed = Tensor.randomUniform([50, 1024], generator: &g)
        let products = 2.0 * 50 * 3136 * 1024
        _ = try timeOp(name, forwardFlops: products, backwardFlops: 2 * products, forward: { _ = try matmul(x, w) }) {
            _ = try valueAndGradient(at: [x, w], seed: seed) { p in try matmul(p[0], p[1]) }
        }
    }
    do {  // the optimizer: memory-bound (θ, g, m, v read; θ, m, v written)
        let model = try lenet(seed: 0)
        let parameters = model.namedParameters()
        let gradients = Gradients(names: parameters.map(\.name), tensors: parameters.map {
            Tensor.randomUniform($0.parameter.shape, lowerBound: -1e-3, upperBound: 1e-3, generator: &g)
        })
        let count = parameters.reduce(0) { $0 + $1.parameter.value.count }
        let optimizer = Adam(learningRate: 1e-3)
        let ms = try medianMilliseconds(options.repeats) { try optimizer.update(parameters, along: gradients) }
        let rate = Double(count) * 4 * 7 / ms / 1e6
        let label = "Adam update, LeNet (\(count) parameters)"
        print(column(label, 40) + column(String(format: "%.2f", ms), 12) + String(format: "%.1f GB/s", rate))
    }
    print(String(format: "\nconv2 forward+backward: %.0f%% of the sgemm ceiling (target ≥ 60%%)", 100 * conv2Rate / ceiling))
}

do {
    try run()
} catch {
    FileHandle.standardError.write(Data("loupe-bench: \(error)\n".utf8))
    exit(1)
}
