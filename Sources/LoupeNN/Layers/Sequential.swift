import LoupeCore

/// Layers applied one after another, each with a name (`conv1`, `relu1`, …) that prefixes its
/// parameters' names and lets probes capture its output.
///
/// The plan is made once, here: each Conv2D → ReLU → 2x2/2 MaxPool2D run becomes one fused stage
/// (`conv2dReLUMaxPool`: the same values, and gradients to rounding, without storing the full-size
/// convolution output), which runs as its three layers only when a probe captures the
/// convolution's or the ReLU's output. An error from a layer keeps its kind and names the layer.
public final class Sequential: LayerContainer, Model {
    public let layers: [(name: String, layer: any Layer)]
    /// Parameters found once, when first asked for (the layers' `Parameter` objects never change).
    public private(set) lazy var parameters: [NamedParameter] = namedParameters()
    private let stages: [Stage]

    /// One step of the plan.
    private enum Stage {
        case layer(Int)
        /// Layers `index` (a Conv2D), `index + 1` (ReLU), `index + 2` (the pool).
        case convolutionReLUPool(Int, Conv2D, poolPadding: Padding)
    }

    /// Named layers, in order. Names must be unique and non-empty.
    public init(_ layers: [(name: String, layer: any Layer)]) throws {
        var seen = Set<String>()
        for (name, _) in layers {
            guard !name.isEmpty, !name.contains("."), seen.insert(name).inserted else {
                throw LoupeError.invalidArgument(name: "Sequential", message: "layer name '\(name)' is empty, contains '.', or is used twice")
            }
        }
        self.layers = layers
        var stages: [Stage] = []
        var i = 0
        while i < layers.count {
            if i + 2 < layers.count, let conv = layers[i].layer as? Conv2D, layers[i + 1].layer is ReLU,
               let pool = layers[i + 2].layer as? MaxPool2D, pool.poolSize == (2, 2), pool.strides == (2, 2) {
                stages.append(.convolutionReLUPool(i, conv, poolPadding: pool.padding))
                i += 3
            } else {
                stages.append(.layer(i))
                i += 1
            }
        }
        self.stages = stages
    }

    /// Layers named by their index: `0`, `1`, ….
    public convenience init(_ layers: [any Layer]) {
        try! self.init(layers.enumerated().map { (String($0.offset), $0.element) })
    }

    public var namedChildren: [(name: String, layer: any Layer)] { layers }

    public var probePoints: [String] { layers.map(\.name) }

    public func callAsFunction(_ input: Tensor) throws -> Tensor {
        try forward(input, capturing: []).output
    }

    /// The output, and the outputs of the layers named in `capture` (activation probes).
    public func callAsFunction(_ input: Tensor, capturing capture: Set<String>) throws -> (output: Tensor, captured: [String: Tensor]) {
        try forward(input, capturing: capture)
    }

    public func forward(_ input: Tensor, capturing capture: Set<String>) throws -> (output: Tensor, captured: [String: Tensor]) {
        var x = input
        var captured: [String: Tensor] = [:]
        func apply(_ index: Int) throws {
            let (name, layer) = layers[index]
            do { x = try layer(x) } catch let error as LoupeError { throw error.inLayer(name) }
            if capture.contains(name) { captured[name] = x }
        }
        for stage in stages {
            switch stage {
            case let .layer(index):
                try apply(index)
            case let .convolutionReLUPool(index, conv, poolPadding):
                if capture.contains(layers[index].name) || capture.contains(layers[index + 1].name) {
                    for i in index...(index + 2) { try apply(i) }
                    continue
                }
                do { x = try conv.reluMaxPool(x, poolPadding: poolPadding) } catch let error as LoupeError {
                    throw error.inLayer(layers[index].name)
                }
                if capture.contains(layers[index + 2].name) { captured[layers[index + 2].name] = x }
            }
        }
        return (x, captured)
    }

    /// The point a probe named `name` reads: the named layer, or the activation right after it
    /// (so `conv1` reads activations after ReLU, before pooling, as the reference did).
    public func probePoint(named name: String) throws -> String {
        guard let index = layers.firstIndex(where: { $0.name == name }) else {
            var message = "no layer named '\(name)'; the model has \(layers.map(\.name).joined(separator: ", "))"
            if let suggestion = closestName(name, among: layers.map(\.name)) { message += "; did you mean '\(suggestion)'?" }
            throw LoupeError.config(key: "probes.activations", message: message)
        }
        if index + 1 < layers.count, layers[index + 1].layer is ReLU || layers[index + 1].layer is Tanh || layers[index + 1].layer is Sigmoid {
            return layers[index + 1].name
        }
        return name
    }
}

extension LoupeError {
    /// The same error, saying it happened in layer `name`: its kind is kept.
    func inLayer(_ name: String) -> LoupeError {
        switch self {
        case let .shapeMismatch(op, message): return .shapeMismatch(op: "layer \(name) (\(op))", message: message)
        case let .invalidArgument(argument, message): return .invalidArgument(name: "layer \(name): \(argument)", message: message)
        case let .file(path, message): return .file(path: path, message: "layer \(name): \(message)")
        case let .config(key, message): return .config(key: key, message: "layer \(name): \(message)")
        }
    }
}
