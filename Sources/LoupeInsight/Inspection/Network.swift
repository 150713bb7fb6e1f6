import LoupeCore
import LoupeNN

/// A CNN seen layer by layer, for looking inside it: a `Sequential` made of conv2d, maxpool,
/// relu, tanh, sigmoid, flatten, dense and dropout layers (what Loupe's CNNs are built from).
///
/// Inspection runs the layers one by one, not through Sequential's fused Conv→ReLU→MaxPool
/// stage: the unfused ops compute the same function and hand out what the way back needs, every
/// layer's input and every pool's switches (`Trace`). Dropout is the identity (evaluation mode).
public final class InspectableNetwork {
    public let model: Sequential
    public let names: [String]
    let kinds: [Kind]

    enum Kind {
        case conv(Conv2D), pool(MaxPool2D), relu, tanh, sigmoid, flatten, dense(Dense), identity
    }

    /// Throws `LoupeError.invalidArgument` naming the first layer inspection cannot go through (a
    /// recurrent layer, say).
    public init(_ model: Sequential) throws {
        self.model = model
        names = model.layers.map(\.name)
        kinds = try model.layers.map { name, layer in
            switch layer {
            case let conv as Conv2D: return .conv(conv)
            case let pool as MaxPool2D: return .pool(pool)
            case is ReLU: return .relu
            case is Tanh: return .tanh
            case is Sigmoid: return .sigmoid
            case is Flatten: return .flatten
            case let dense as Dense: return .dense(dense)
            case is Dropout: return .identity
            default:
                throw LoupeError.invalidArgument(
                    name: "inspect", message: "layer '\(name)' is a \(type(of: layer)): inspection looks inside CNNs built from conv2d, maxpool, relu, tanh, sigmoid, flatten, dense and dropout layers")
            }
        }
        guard kinds.contains(where: { if case .conv = $0 { return true } else { return false } }) else {
            throw LoupeError.invalidArgument(name: "inspect", message: "the model has no conv2d layer to look inside")
        }
    }

    /// The index of the layer called `name`.
    public func index(of name: String) throws -> Int {
        guard let index = names.firstIndex(of: name) else {
            var message = "no layer named '\(name)'; the model has \(names.joined(separator: ", "))"
            if let suggestion = closestName(name, among: names) { message += "; did you mean '\(suggestion)'?" }
            throw LoupeError.config(key: "inspect.layers", message: message)
        }
        return index
    }

    /// Whether layer `index` is a convolution.
    func isConvolution(_ index: Int) -> Bool { if case .conv = kinds[index] { return true } else { return false } }
    func isPool(_ index: Int) -> Bool { if case .pool = kinds[index] { return true } else { return false } }

    /// The feature point a user's layer name means: a conv layer reads its activation's output
    /// (`conv1` → `relu1`, as the probes do), a pool layer its own output. Other layers have no
    /// feature maps to show.
    public func featurePoint(_ name: String) throws -> FeaturePoint {
        let index = try index(of: name)
        switch kinds[index] {
        case .conv:
            if index + 1 < kinds.count {
                switch kinds[index + 1] {
                case .relu, .tanh, .sigmoid: return FeaturePoint(name: name, index: index + 1)
                default: break
                }
            }
            return FeaturePoint(name: name, index: index)
        case .pool:
            return FeaturePoint(name: name, index: index)
        default:
            throw LoupeError.config(key: "inspect.layers", message: "'\(name)' is not a conv or pool layer, so it has no feature maps; conv and pool layers: \(featureLayerNames.joined(separator: ", "))")
        }
    }

    /// Every conv layer, as feature points (the default set to inspect).
    public var convolutionPoints: [FeaturePoint] {
        names.indices.filter { isConvolution($0) }.map { try! featurePoint(names[$0]) }
    }

    var featureLayerNames: [String] { names.indices.filter { isConvolution($0) || isPool($0) }.map { names[$0] } }

    /// The input of the last dense layer (the "last hidden layer" of the invariance figure), as a
    /// layer index whose output it is; nil when the model ends otherwise.
    var lastHiddenIndex: Int? {
        guard let last = kinds.lastIndex(where: { if case .dense = $0 { return true } else { return false } }), last > 0 else { return nil }
        var index = last - 1
        while index > 0, case .identity = kinds[index] { index -= 1 }
        return index
    }

    /// Runs layers 0…`last` (default: all) on `input` in evaluation mode, unrecorded.
    public func trace(_ input: Tensor, through last: Int? = nil) throws -> Trace {
        let last = last ?? kinds.count - 1
        var inputs: [Tensor] = [], outputs: [Tensor] = []
        var switches: [Int: PoolSwitches] = [:]
        var x = input
        try withoutRecording {
            for index in 0...last {
                inputs.append(x)
                do {
                    switch kinds[index] {
                    case let .pool(pool):
                        let (y, s) = try pool.withSwitches(x)
                        switches[index] = s
                        x = y
                    case .identity:
                        break
                    default:
                        x = try model.layers[index].layer(x)
                    }
                } catch let error as LoupeError {
                    throw LoupeError.shapeMismatch(op: "layer \(names[index])", message: "\(error)")
                }
                outputs.append(x)
            }
        }
        return Trace(inputs: inputs, outputs: outputs, switches: switches)
    }

    /// Carries `signal` (shaped as layer `index`'s output in `trace`) down to the input, layer by
    /// layer: through a convolution with its transposed filters (`conv2dTranspose`, the bias
    /// left out), through a max-pool to where each window's maximum was (`unpool2D` with the
    /// switches), through a dense layer by its transposed weights, through a ReLU by `rule`, and
    /// through tanh and sigmoid by their derivative whatever the rule.
    public func project(_ signal: Tensor, from index: Int, trace: Trace, rule: BackwardRule) throws -> Tensor {
        guard signal.shape == trace.outputs[index].shape else {
            throw LoupeError.shapeMismatch(op: "project", message: "signal \(signal.shape) is not shaped as layer \(names[index])'s output \(trace.outputs[index].shape)")
        }
        return try withoutRecording {
            var g = signal
            for i in stride(from: index, through: 0, by: -1) {
                let input = trace.inputs[i]
                switch kinds[i] {
                case let .conv(conv):
                    g = try conv2dTranspose(g, filter: conv.weight.value, outputShape: input.shape, strides: conv.strides, padding: conv.padding)
                case .pool:
                    g = try unpool2D(g, switches: trace.switches[i]!)
                case .relu:
                    g = rule.throughReLU(g, input: input)
                case .tanh:
                    g = elementwise(g, trace.outputs[i]) { s, y in s * (1 - y * y) }
                case .sigmoid:
                    g = elementwise(g, trace.outputs[i]) { s, y in s * y * (1 - y) }
                case .flatten:
                    g = try g.reshaped(input.shape)
                case let .dense(dense):
                    g = try matmul(g, dense.weight.value, transposeB: true)
                case .identity:
                    break
                }
            }
            return g
        }
    }
}

/// Where feature maps are read: `name` is the layer the user named, `index` the layer whose
/// output holds the maps (a conv layer's activation).
public struct FeaturePoint: Sendable, Equatable, Hashable {
    public let name: String
    public let index: Int
}

/// Every layer's input and output for one batch, and each max-pool's switches by layer index.
public struct Trace: @unchecked Sendable {
    public let inputs: [Tensor]
    public let outputs: [Tensor]
    public let switches: [Int: PoolSwitches]
}

/// How a signal goes back through a ReLU, the one place the three methods differ (Springenberg
/// et al. 2015 set them side by side). With `s` the signal from above and `x` the ReLU's input:
/// - `deconvnet` (Zeiler & Fergus): max(s, 0), rectifying the signal itself;
/// - `saliency` (the gradient, Simonyan et al.): s where x > 0, else 0;
/// - `guided` (guided backpropagation): max(s, 0) where x > 0, else 0.
public enum BackwardRule: String, Sendable, CaseIterable {
    case deconvnet, saliency, guided

    func throughReLU(_ signal: Tensor, input: Tensor) -> Tensor {
        switch self {
        case .deconvnet: return elementwise(signal, input) { s, _ in s > 0 ? s : 0 }
        case .saliency: return elementwise(signal, input) { s, x in x > 0 ? s : 0 }
        case .guided: return elementwise(signal, input) { s, x in x > 0 && s > 0 ? s : 0 }
        }
    }

    public var title: String {
        switch self {
        case .deconvnet: return "deconvnet"
        case .saliency: return "gradient"
        case .guided: return "guided backprop"
        }
    }
}

/// f(a[i], b[i]) for tensors of one shape.
func elementwise(_ a: Tensor, _ b: Tensor, _ f: (Float, Float) -> Float) -> Tensor {
    precondition(a.shape == b.shape)
    return Tensor(shape: a.shape) { out in
        a.withUnsafeBufferPointer { pa in
            b.withUnsafeBufferPointer { pb in
                for i in 0..<pa.count { out[i] = f(pa[i], pb[i]) }
            }
        }
    }
}
