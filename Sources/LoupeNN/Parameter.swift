import LoupeCore

/// A trainable tensor owned by a layer. Every layer calls its own `weight` and `bias`, so
/// checkpoint keys, optimizer-state keys and report labels follow one pattern: `fc1.weight`.
public final class Parameter {
    public var value: Tensor
    public init(_ value: Tensor) { self.value = value }
    public var shape: [Int] { value.shape }
}

/// A parameter with its dotted name.
public struct NamedParameter {
    public let name: String
    public let parameter: Parameter
}

extension Layer {
    /// The parameters of this layer and all its sublayers, in declaration order, named by the path
    /// of stored-property labels (`conv1.weight`, `layers.2.bias`). Computed by reflection: callers
    /// that need it every step keep the result (the trainer does).
    public func namedParameters() -> [NamedParameter] {
        var found: [NamedParameter] = []
        func own(_ layer: any Layer, _ prefix: String) {
            guard !(layer is any LayerContainer) else { return }
            for (label, value) in reflectedChildren(layer) {
                if let p = value as? Parameter {
                    found.append(NamedParameter(name: prefix.isEmpty ? label : prefix + "." + label, parameter: p))
                }
            }
        }
        own(self, "")
        visitChildren(of: self, prefix: "") { name, child in
            own(child, name)
            return true
        }
        return found
    }

    /// The number of trainable scalars.
    public var parameterCount: Int { namedParameters().reduce(0) { $0 + $1.parameter.value.count } }
}

/// Gradients keyed by parameter name, in the model's parameter order.
public struct Gradients {
    public let names: [String]
    public var tensors: [Tensor]

    public init(names: [String], tensors: [Tensor]) {
        precondition(names.count == tensors.count, "one tensor per name")
        self.names = names
        self.tensors = tensors
    }

    public subscript(name: String) -> Tensor? {
        names.firstIndex(of: name).map { tensors[$0] }
    }
}

/// The value of `body(model)` (a loss) and its gradient with respect to every parameter of `model`.
///
/// ```swift
/// let (loss, grads) = try valueAndGradient(of: model) { model in
///     try softmaxCrossEntropy(logits: model(images), labels: labels)
/// }
/// optimizer.update(parameters, along: grads)
/// ```
/// `parameters` may be passed when the caller keeps the model's `namedParameters()`.
public func valueAndGradient<L: Layer>(
    of model: L, parameters: [NamedParameter]? = nil, _ body: (L) throws -> Tensor
) throws -> (value: Tensor, gradients: Gradients) {
    let named = parameters ?? model.namedParameters()
    let originals = named.map { $0.parameter.value }
    defer { for (p, original) in zip(named, originals) { p.parameter.value = original } }
    let (value, tensors) = try LoupeCore.valueAndGradient(at: originals) { tracked in
        for (p, t) in zip(named, tracked) { p.parameter.value = t }
        return try body(model)
    }
    return (value, Gradients(names: named.map(\.name), tensors: tensors))
}
