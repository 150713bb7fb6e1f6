import LoupeCore

/// Layers applied one after another, each with a name (`conv1`, `relu1`, …) that prefixes its
/// parameters' names and lets probes capture its output.
public final class Sequential: LayerContainer {
    public let layers: [(name: String, layer: any Layer)]

    /// Named layers, in order. Names must be unique and non-empty.
    public init(_ layers: [(name: String, layer: any Layer)]) throws {
        var seen = Set<String>()
        for (name, _) in layers {
            guard !name.isEmpty, !name.contains("."), seen.insert(name).inserted else {
                throw LoupeError.invalidArgument(name: "Sequential", message: "layer name '\(name)' is empty, contains '.', or is used twice")
            }
        }
        self.layers = layers
    }

    /// Layers named by their index: `0`, `1`, ….
    public convenience init(_ layers: [any Layer]) {
        try! self.init(layers.enumerated().map { (String($0.offset), $0.element) })
    }

    public var namedChildren: [(name: String, layer: any Layer)] { layers }

    public func callAsFunction(_ input: Tensor) throws -> Tensor {
        try run(input, capturing: []).output
    }

    /// The output, and the outputs of the layers named in `capture` (activation probes).
    public func callAsFunction(_ input: Tensor, capturing capture: Set<String>) throws -> (output: Tensor, captured: [String: Tensor]) {
        try run(input, capturing: capture)
    }

    /// Runs the layers in order. A Conv2D → ReLU → 2x2/2 MaxPool2D run whose first two outputs
    /// are not captured goes through `conv2dReLUMaxPool`: the same values and gradients without
    /// storing the full-size convolution output.
    private func run(_ input: Tensor, capturing capture: Set<String>) throws -> (output: Tensor, captured: [String: Tensor]) {
        var x = input
        var captured: [String: Tensor] = [:]
        var i = 0
        while i < layers.count {
            let (name, layer) = layers[i]
            do {
                if i + 2 < layers.count, let conv = layer as? Conv2D, layers[i + 1].layer is ReLU,
                   let pool = layers[i + 2].layer as? MaxPool2D,
                   pool.poolSize == (2, 2), pool.strides == (2, 2),
                   !capture.contains(name), !capture.contains(layers[i + 1].name) {
                    x = try conv.reluMaxPool(x, poolPadding: pool.padding)
                    if capture.contains(layers[i + 2].name) { captured[layers[i + 2].name] = x }
                    i += 3
                    continue
                }
                x = try layer(x)
            } catch let error as LoupeError {
                throw LoupeError.shapeMismatch(op: "layer \(name)", message: "\(error)")
            }
            if capture.contains(name) { captured[name] = x }
            i += 1
        }
        return (x, captured)
    }
}
