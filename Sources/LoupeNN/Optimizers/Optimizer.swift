import LoupeCore

/// Which framework's form of a rule an optimizer follows. The reference experiments ran on
/// TensorFlow 1.x, whose rules differ from PyTorch's in ways that change results:
///
/// | rule | `.tf1` (default) | `.pytorch` |
/// | --- | --- | --- |
/// | SGD | θ −= lr·g | same |
/// | Momentum | a = μa + g; θ −= lr·a (Nesterov: θ −= lr·(g + μa)); a starts at 0 | same (buf starts at g, which is equal) |
/// | Adagrad | acc starts at 0.1; acc += g²; θ −= lr·g/√acc (no ε) | acc starts at 0; θ −= lr·g/(√acc + ε), ε 1e-10 |
/// | RMSProp | ρ 0.9, ε 1e-10, ms starts at 1; ms = ρ·ms + (1−ρ)g²; mom = μ·mom + lr·g/√(ms + ε); θ −= mom | α 0.99, ε 1e-8, ms starts at 0; θ −= lr·g/(√ms + ε) (with momentum: buf = μ·buf + g/(√ms + ε); θ −= lr·buf) |
/// | RMSProp centered | ms − mg² in place of ms, mg = ρ·mg + (1−ρ)g | same substitution |
/// | Adam | lrₜ = lr·√(1−β2ᵗ)/(1−β1ᵗ); θ −= lrₜ·m/(√v + ε) | θ −= (lr/(1−β1ᵗ))·m/(√v/√(1−β2ᵗ) + ε) |
/// | AdamW | θ −= wd·θ, then TF1 Adam (tf.contrib.opt.AdamWOptimizer) | θ −= lr·wd·θ, then PyTorch Adam |
///
/// Adam's m = β1·m + (1−β1)·g and v = β2·v + (1−β2)·g² are common to both; β1 0.9, β2 0.999, ε 1e-8.
/// `weightDecay` on the other rules is L2 added to the gradient (g + wd·θ), as PyTorch's `weight_decay`.
public enum OptimizerVariant: String, Sendable, CaseIterable {
    case tf1
    case pytorch
}

/// An update rule over a model's parameters. State (named slots such as `m`, `v`, created per
/// parameter the first time its name is seen) and the step count are saved in checkpoints.
public protocol Optimizer: AnyObject {
    /// The rule's name as experiment files spell it (`adam`, `rmsprop`, …).
    var name: String { get }
    var learningRate: Float { get set }
    var state: OptimizerState { get }
    /// Slot names and the value each starts at.
    var slotNames: [(name: String, initialValue: Float)] { get }
    /// One step over `range` of one parameter: θ, its gradient, its slots (in `slotNames` order;
    /// unused ones nil). `step` counts from 1.
    func apply(theta: UnsafeMutablePointer<Float>, gradient: UnsafePointer<Float>,
               slots: [UnsafeMutablePointer<Float>], range: Range<Int>, step: Int)
}

/// Per-parameter slots and the number of updates made.
public final class OptimizerState {
    public internal(set) var step = 0
    /// parameter name → slot name → tensor.
    public internal(set) var slots: [String: [String: Tensor]] = [:]
    public init() {}

    /// Every slot as `<parameter>.<slot>` (`fc1.weight.m`), sorted by name.
    public var namedTensors: [(name: String, tensor: Tensor)] {
        slots.flatMap { parameter, bySlot in bySlot.map { ("\(parameter).\($0.key)", $0.value) } }.sorted { $0.0 < $1.0 }
    }
}

extension Optimizer {
    /// Applies one step of the rule to every parameter with its gradient (same order and names).
    public func update(_ parameters: [NamedParameter], along gradients: Gradients) throws {
        guard parameters.map(\.name) == gradients.names else {
            throw LoupeError.invalidArgument(name: "\(name) update", message: "gradients do not match the parameters by name")
        }
        state.step += 1
        let step = state.step
        for (p, gradient) in zip(parameters, gradients.tensors) {
            guard gradient.shape == p.parameter.shape else {
                throw LoupeError.shapeMismatch(op: "\(name) update", message: "\(p.name) is \(p.parameter.shape) but its gradient is \(gradient.shape)")
            }
            // Taken out of the state while updated, so each slot tensor is uniquely referenced and
            // updated in place rather than copied.
            var slotTensors = state.slots.removeValue(forKey: p.name) ?? [:]
            for slot in slotNames where slotTensors[slot.name] == nil {
                slotTensors[slot.name] = Tensor(repeating: slot.initialValue, shape: p.parameter.shape)
            }
            // Take each slot's storage uniquely, then hand raw pointers to the kernel.
            var slotPointers: [UnsafeMutablePointer<Float>] = []
            for slot in slotNames {
                var t = slotTensors[slot.name]!
                slotTensors[slot.name] = nil
                t.withUnsafeMutableBufferPointer { slotPointers.append($0.baseAddress!) }
                slotTensors[slot.name] = t
            }
            state.slots[p.name] = slotTensors
            let count = gradient.count
            gradient.withUnsafeBufferPointer { g in
                p.parameter.value.withUnsafeMutableBufferPointer { theta in
                    let box = UpdateBox(optimizer: self, theta: theta.baseAddress!, gradient: g.baseAddress!, slots: slotPointers)
                    parallelRanges(count, grain: 1 << 16) { range in
                        box.optimizer.apply(theta: box.theta, gradient: box.gradient, slots: box.slots, range: range, step: step)
                    }
                }
            }
        }
    }

    /// Restores slots and step from a checkpoint's tensors (`<parameter>.<slot>`), checking that
    /// every parameter's slots are present with its shape.
    public func loadState(_ tensors: [String: Tensor], step: Int, parameters: [NamedParameter]) throws {
        var slots: [String: [String: Tensor]] = [:]
        for p in parameters {
            for slot in slotNames {
                let key = "\(p.name).\(slot.name)"
                guard let t = tensors[key] else {
                    if step == 0 { continue }
                    throw LoupeError.invalidArgument(name: key, message: "missing from the optimizer state")
                }
                guard t.shape == p.parameter.shape else {
                    throw LoupeError.shapeMismatch(op: "optimizer state", message: "\(key) is \(t.shape), expected \(p.parameter.shape)")
                }
                slots[p.name, default: [:]][slot.name] = t
            }
        }
        state.slots = slots
        state.step = step
    }
}

/// What the parallel update closure needs, in one Sendable box (pointers are used on disjoint ranges).
private struct UpdateBox: @unchecked Sendable {
    let optimizer: any Optimizer
    let theta: UnsafeMutablePointer<Float>
    let gradient: UnsafePointer<Float>
    let slots: [UnsafeMutablePointer<Float>]
}

/// Scales all gradients by maxNorm / max(globalNorm, maxNorm), as `tf.clip_by_global_norm`; returns
/// the global norm before clipping.
@discardableResult
public func clipByGlobalNorm(_ gradients: inout Gradients, maxNorm: Float) throws -> Float {
    guard maxNorm > 0 else {
        throw LoupeError.invalidArgument(name: "clip_norm", message: "must be positive, got \(maxNorm)")
    }
    var total: Double = 0
    for g in gradients.tensors {
        g.withUnsafeBufferPointer { for v in $0 { total += Double(v) * Double(v) } }
    }
    let norm = Float(total.squareRoot())
    if norm > maxNorm {
        let scale = maxNorm / norm
        for i in gradients.tensors.indices { gradients.tensors[i] = gradients.tensors[i] * scale }
    }
    return norm
}

typealias V16 = SIMD16<Float>

/// Runs `body` over θ, g and up to three slots, sixteen elements at a time; the tail goes through
/// the same vector code, padded, so every element is computed identically wherever it sits.
@inline(__always)
func vectorUpdate(_ range: Range<Int>, _ theta: UnsafeMutablePointer<Float>, _ gradient: UnsafePointer<Float>,
                  _ slots: [UnsafeMutablePointer<Float>],
                  _ body: (inout V16, V16, inout V16, inout V16, inout V16) -> Void) {
    let s0 = slots.count > 0 ? slots[0] : nil, s1 = slots.count > 1 ? slots[1] : nil, s2 = slots.count > 2 ? slots[2] : nil
    @inline(__always) func load(_ p: UnsafePointer<Float>?, _ i: Int, _ n: Int) -> V16 {
        guard let p else { return V16() }
        if n == 16 { return UnsafeRawPointer(p + i).loadUnaligned(as: V16.self) }
        var v = V16()
        for j in 0..<n { v[j] = p[i &+ j] }
        return v
    }
    @inline(__always) func store(_ v: V16, _ p: UnsafeMutablePointer<Float>?, _ i: Int, _ n: Int) {
        guard let p else { return }
        if n == 16 { UnsafeMutableRawPointer(p + i).storeBytes(of: v, as: V16.self); return }
        for j in 0..<n { p[i &+ j] = v[j] }
    }
    var i = range.lowerBound
    while i < range.upperBound {
        let n = min(16, range.upperBound &- i)
        var t = load(theta, i, n), a = load(s0, i, n), b = load(s1, i, n), c = load(s2, i, n)
        body(&t, load(gradient, i, n), &a, &b, &c)
        store(t, theta, i, n)
        store(a, s0, i, n)
        store(b, s1, i, n)
        store(c, s2, i, n)
        i &+= n
    }
}
