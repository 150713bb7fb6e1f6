import Foundation
import LoupeCore

/// A network building block, callable as a function: `let y = try conv1(x)`.
///
/// A layer keeps its `Parameter`s and child layers as stored properties (or, for containers,
/// through `LayerContainer`); `namedParameters()` finds them by reflection, with dotted names
/// (`conv1.weight`), so no layer lists its parameters by hand.
public protocol Layer: AnyObject {
    func callAsFunction(_ input: Tensor) throws -> Tensor
}

/// A layer whose children are not plain stored properties (Sequential): it names them itself.
public protocol LayerContainer: Layer {
    var namedChildren: [(name: String, layer: any Layer)] { get }
}

/// A layer that behaves differently while training (Dropout).
public protocol TrainingModeLayer: Layer {
    var isTraining: Bool { get set }
}

/// A layer that draws random numbers while training (Dropout); its generator state is saved in
/// checkpoints so a resumed run draws the same numbers.
public protocol RandomLayer: Layer {
    var generator: RandomGenerator { get set }
}

extension Layer {
    /// Every layer below this one (not itself), depth first in declaration order, with dotted names.
    public func namedSublayers() -> [(name: String, layer: any Layer)] {
        var found: [(String, any Layer)] = []
        visitChildren(of: self, prefix: "") { name, child in
            found.append((name, child))
            return true
        }
        return found
    }

    /// Puts this layer and every sublayer in training mode (dropout active).
    public func train() { setTraining(true) }

    /// Puts this layer and every sublayer in evaluation mode (dropout is the identity).
    public func eval() { setTraining(false) }

    private func setTraining(_ training: Bool) {
        if let layer = self as? any TrainingModeLayer { layer.isTraining = training }
        for (_, child) in namedSublayers() {
            if let layer = child as? any TrainingModeLayer { layer.isTraining = training }
        }
    }
}

/// Calls `visit(name, child)` for each child layer of `layer`, recursing into it when `visit`
/// returns true. Children are the layers among its stored properties (also inside optionals and
/// arrays, named by index), or its `namedChildren` for containers.
func visitChildren(of layer: any Layer, prefix: String, _ visit: (String, any Layer) -> Bool) {
    func join(_ name: String) -> String { prefix.isEmpty ? name : prefix + "." + name }
    if let container = layer as? any LayerContainer {
        for (name, child) in container.namedChildren where visit(join(name), child) {
            visitChildren(of: child, prefix: join(name), visit)
        }
        return
    }
    for (label, value) in reflectedChildren(layer) {
        if let child = value as? any Layer {
            if visit(join(label), child) { visitChildren(of: child, prefix: join(label), visit) }
        } else if let array = value as? [any Layer] {
            for (index, child) in array.enumerated() where visit(join("\(label).\(index)"), child) {
                visitChildren(of: child, prefix: join("\(label).\(index)"), visit)
            }
        }
    }
}

/// Serialises reflection: runtime type lookups from many threads at once (trials side by side,
/// tests in parallel) are the one place a crash was seen on Linux (inside the runtime's
/// conformance lookup behind `Mirror`), and parameter walks are rare enough to queue.
private let reflectionLock = NSLock()

/// Stored properties of `subject` by label, with optionals unwrapped (nil ones left out).
func reflectedChildren(_ subject: Any) -> [(String, Any)] {
    reflectionLock.withLock { unlockedReflectedChildren(subject) }
}

private func unlockedReflectedChildren(_ subject: Any) -> [(String, Any)] {
    Mirror(reflecting: subject).children.compactMap { child in
        guard let label = child.label else { return nil }
        let mirror = Mirror(reflecting: child.value)
        if mirror.displayStyle == .optional {
            guard let wrapped = mirror.children.first?.value else { return nil }
            return (label, wrapped)
        }
        return (label, child.value)
    }
}
