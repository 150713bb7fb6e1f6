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
        var x = input
        for (name, layer) in layers {
            do {
                x = try layer(x)
            } catch let error as LoupeError {
                throw LoupeError.shapeMismatch(op: "layer \(name)", message: "\(error)")
            }
        }
        return x
    }

    /// The output, and the outputs of the layers named in `capture` (activation probes).
    public func callAsFunction(_ input: Tensor, capturing capture: Set<String>) throws -> (output: Tensor, captured: [String: Tensor]) {
        var x = input
        var captured: [String: Tensor] = [:]
        for (name, layer) in layers {
            x = try layer(x)
            if capture.contains(name) { captured[name] = x }
        }
        return (x, captured)
    }
}
