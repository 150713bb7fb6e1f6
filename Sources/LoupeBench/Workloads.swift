import Foundation
import LoupeCore
import LoupeData
import LoupeInsight
import LoupeLab
import LoupeNN

/// The framework-comparison workloads. Each runs in a process of its own so that its peak
/// resident memory is its own.
enum Workload {
    /// The framework-comparison workloads, run by default.
    static let comparisons = ["cnn-b50", "cnn-infer-1000", "rnn128-b128", "lstm128-b128", "gru128-b128", "lstm512-b128"]
    /// Every workload; the data-loading ones run only when asked for (they need the datasets).
    static let names = comparisons + ["load-cifar10-gray28", "load-fashion-mnist", "inspect-lenet"]

    /// Times one workload and prints its line.
    static func run(_ name: String, repeats: Int, json: Bool) throws {
        let milliseconds: Double
        switch name {
        case "cnn-b50": milliseconds = try cnnTrainingStep(repeats: repeats)
        case "cnn-infer-1000": milliseconds = try cnnInference(repeats: repeats)
        case "rnn128-b128": milliseconds = try recurrentTrainingStep(name, cell: "rnn", units: 128, repeats: repeats)
        case "lstm128-b128": milliseconds = try recurrentTrainingStep(name, cell: "lstm", units: 128, repeats: repeats)
        case "gru128-b128": milliseconds = try recurrentTrainingStep(name, cell: "gru", units: 128, repeats: repeats)
        case "lstm512-b128": milliseconds = try recurrentTrainingStep(name, cell: "lstm", units: 512, repeats: repeats)
        case "load-cifar10-gray28": milliseconds = try load("cifar10-gray28", repeats: min(repeats, 5))
        case "load-fashion-mnist": milliseconds = try load("fashion-mnist", repeats: min(repeats, 5))
        case "inspect-lenet": milliseconds = try inspection(repeats: min(repeats, 3))
        default: throw LoupeError.invalidArgument(name: "--workloads", message: "unknown workload \(name)")
        }
        let peak = peakResidentMiB()
        if json {
            print("{\"workload\": \"\(name)\", \"framework\": \"loupe\", \"ms_per_step\": \(String(format: "%.3f", milliseconds)), \"peak_rss_mib\": \(String(format: "%.1f", peak))}")
        } else {
            print(column(name, 22) + column(String(format: "%.2f", milliseconds), 12) + String(format: "%.0f", peak))
        }
    }

    /// Re-runs this executable once per workload and relays its output.
    static func runEachInItsOwnProcess(_ names: [String], repeats: Int, json: Bool) throws {
        if !json { print("\n" + column("workload", 22) + column("ms/step", 12) + "peak MiB") }
        fflush(nil)  // flush every stream: the children write to the same output
        for name in names {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
            process.arguments = ["--workloads", name, "--repeats", String(repeats)] + (json ? ["--json"] : [])
            try process.run()
            process.waitUntilExit()
            guard process.terminationStatus == 0 else {
                throw LoupeError.invalidArgument(name: name, message: "workload process failed with status \(process.terminationStatus)")
            }
        }
    }

    /// The reference CNN (EXPERIMENTS.md part 1, dropout on), batch 50, one Adam step: forward,
    /// backward, the trainer's finite check of every gradient, update. A fixed random batch is
    /// reused, as in the Python references.
    static func cnnTrainingStep(repeats: Int) throws -> Double {
        let model = try lenet(seed: 0)
        let parameters = model.parameters
        let optimizer = Adam(learningRate: 1e-3)
        var g = RandomGenerator(seed: 1)
        let images = Tensor.randomUniform([50, 28, 28, 1], generator: &g)
        let labels = (0..<50).map { _ in Int32(g.nextInt(below: 10)) }
        return try medianMilliseconds(repeats) {
            let (_, grads) = try valueAndGradient(of: model, parameters: parameters) { m in
                try softmaxCrossEntropy(logits: m(images), labels: labels)
            }
            guard grads.tensors.allSatisfy(\.isFinite) else {
                throw LoupeError.invalidArgument(name: "cnn-b50", message: "a gradient is not finite")
            }
            try optimizer.update(parameters, along: grads)
        }
    }

    /// One recurrent layer over 28 steps of 28 features (an image read row by row), batch 128, its
    /// last state into a dense layer to 10 classes, one Adam step (as benchmarks/*_reference.py).
    /// The GRU is PyTorch's and Keras' (reset after the product), as the references run it.
    static func recurrentTrainingStep(_ name: String, cell: String, units: Int, repeats: Int) throws -> Double {
        var g = RandomGenerator(seed: 0)
        let layer: any Layer
        switch cell {
        case "rnn": layer = SimpleRNN(inputSize: 28, units: units, generator: &g)
        case "lstm": layer = LSTM(inputSize: 28, units: units, generator: &g)
        default: layer = GRU(inputSize: 28, units: units, variant: .pytorch, generator: &g)
        }
        let model = try Sequential([("recurrent", layer), ("out", Dense(inputSize: units, outputSize: 10, generator: &g))])
        let parameters = model.parameters
        let optimizer = Adam(learningRate: 1e-3)
        var data = RandomGenerator(seed: 1)
        let inputs = Tensor.randomUniform([128, 28, 28], generator: &data)
        let labels = (0..<128).map { _ in Int32(data.nextInt(below: 10)) }
        return try medianMilliseconds(repeats) {
            let (_, grads) = try valueAndGradient(of: model, parameters: parameters) { m in
                try softmaxCrossEntropy(logits: m(inputs), labels: labels)
            }
            guard grads.tensors.allSatisfy(\.isFinite) else {
                throw LoupeError.invalidArgument(name: name, message: "a gradient is not finite")
            }
            try optimizer.update(parameters, along: grads)
        }
    }

    /// Forward pass of the reference CNN (evaluation mode) over 1,000 images in one batch.
    static func cnnInference(repeats: Int) throws -> Double {
        let model = try lenet(seed: 0)
        model.eval()
        var g = RandomGenerator(seed: 1)
        let images = Tensor.randomUniform([1000, 28, 28, 1], generator: &g)
        return try medianMilliseconds(repeats) { _ = try model(images) }
    }

    /// Reading both splits of a catalog dataset (11,000 PNGs; 70,000 gzipped IDX images), from
    /// the data directory (`$LOUPE_DATA`) or a system copy.
    static func load(_ name: String, repeats: Int) throws -> Double {
        let catalog = DatasetCatalog()
        guard try catalog.location(of: name) != nil else {
            throw LoupeError.invalidArgument(name: name, message: "not installed in \(catalog.dataDirectory) or a system location (set LOUPE_DATA)")
        }
        return try medianMilliseconds(repeats) {
            _ = try catalog.load(name, split: .train)
            _ = try catalog.load(name, split: .test)
        }
    }

    /// The whole inside-the-network set (`loupe inspect`) for the reference CNN on the 1,000 test
    /// images of cifar10-gray28: top 9 for all 96 conv feature maps, evolution over 8 snapshots,
    /// invariance, occlusion, deconv and saliency for 5 images, maps, histograms, filters; every
    /// file written. Untrained weights: the work does not depend on their values.
    static func inspection(repeats: Int) throws -> Double {
        let catalog = DatasetCatalog()
        guard try catalog.location(of: "cifar10-gray28") != nil else {
            throw LoupeError.invalidArgument(name: "cifar10-gray28", message: "not installed in \(catalog.dataDirectory) or a system location (set LOUPE_DATA)")
        }
        let test = try catalog.load("cifar10-gray28", split: .test)
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("loupe-bench-inspect-\(getpid())")
        defer { try? FileManager.default.removeItem(at: folder) }
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        var snapshots: [(step: Int, url: URL)] = []
        for (n, step) in [1, 2, 5, 10, 20, 50, 100, 200].enumerated() {
            let url = folder.appendingPathComponent("step-\(step).safetensors")
            try Checkpoint.saveWeights(of: try lenet(seed: UInt64(10 + n)), to: url)
            snapshots.append((step, url))
        }
        let inspector = try Inspector(model: try lenet(seed: 0), dataset: test, config: InspectConfig(steps: 5000), trialID: "bench",
                                      snapshots: snapshots, finalStep: 5000, makeModel: { try lenet(seed: 0) })
        return try medianMilliseconds(repeats) { try inspector.write(to: folder.appendingPathComponent("inspect")) }
    }

    static func peakResidentMiB() -> Double {
        var usage = rusage()
        #if os(Linux)
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return Double(usage.ru_maxrss) / 1024  // KiB on Linux
        #else
        getrusage(RUSAGE_SELF, &usage)
        return Double(usage.ru_maxrss) / 1_048_576  // bytes on macOS
        #endif
    }
}
