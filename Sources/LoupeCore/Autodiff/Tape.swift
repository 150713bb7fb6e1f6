import Synchronization

/// A tensor's position on a tape: which tape, which node.
struct Trace: Sendable {
    let tapeID: UInt64
    let node: Int
}

/// The record of one `valueAndGradient` call: for each op that touched a tracked tensor, how to
/// push its output's gradient back to its inputs.
///
/// The active tape is a task-local value, set only inside `valueAndGradient`, so evaluation,
/// probes and visualizations record nothing, and trials on other threads never see it. The tape
/// and everything its pullbacks keep alive are released when `valueAndGradient` returns.
final class Tape: @unchecked Sendable {
    @TaskLocal static var current: Tape?

    private static let nextID = Atomic<UInt64>(1)

    struct Node {
        let count: Int
        /// nil for leaves (the tensors gradients are taken with respect to).
        var pullback: ((Backward) -> Void)?
    }

    let id: UInt64
    private(set) var nodes: [Node] = []
    private var gradients: [Storage?] = []

    init() { id = Self.nextID.add(1, ordering: .relaxed).oldValue }

    /// The node of `tensor` on this tape, if it is tracked here.
    @inline(__always)
    func node(of tensor: Tensor) -> Int? {
        guard let trace = tensor.trace, trace.tapeID == id else { return nil }
        return trace.node
    }

    /// A tracked copy of `tensor` (sharing its storage) that gradients are taken with respect to.
    func leaf(_ tensor: Tensor) -> Tensor {
        append(tensor, pullback: nil)
    }

    func append(_ tensor: Tensor, pullback: ((Backward) -> Void)?) -> Tensor {
        nodes.append(Node(count: tensor.count, pullback: pullback))
        gradients.append(nil)
        return Tensor(shape: tensor.shape, storage: tensor.storage, trace: Trace(tapeID: id, node: nodes.count - 1))
    }

    /// The gradient buffer of `node`, zero-filled when first asked for. Pullbacks add into it.
    func gradient(of node: Int) -> UnsafeMutablePointer<Float> {
        if let g = gradients[node] { return g.pointer }
        let g = Storage(zeros: nodes[node].count)
        gradients[node] = g
        return g.pointer
    }

    /// The gradient buffer of `node` for a pullback that writes every element: when the node has
    /// no gradient yet, a new uninitialized buffer and `overwrite` true (the pullback assigns,
    /// saving the zero fill and a read); otherwise the existing buffer to add into.
    func gradientTarget(of node: Int) -> GradientTarget {
        if let g = gradients[node] { return GradientTarget(pointer: g.pointer, overwrite: false) }
        let g = Storage(uninitializedCount: nodes[node].count)
        gradients[node] = g
        return GradientTarget(pointer: g.pointer, overwrite: true)
    }

    func gradientStorage(of node: Int) -> Storage? { gradients[node] }

    /// Drops every pullback and gradient still held: pullbacks capture the tape, so nodes the
    /// backward pass never reached would otherwise keep it alive in a cycle.
    func release() {
        for i in nodes.indices { nodes[i].pullback = nil }
        for i in gradients.indices { gradients[i] = nil }
    }

    /// Runs the pullbacks from `node` backwards, seeding its gradient with `seed`. Each node's
    /// gradient and pullback (with the tensors it captured) are released once used.
    func backpropagate(from node: Int, seed: Tensor) {
        let g = gradient(of: node), s = seed.storage.pointer
        for i in 0..<nodes[node].count { g[i] += s[i] }
        var index = node
        while index >= 0 {
            if let pullback = nodes[index].pullback {
                if let dy = gradients[index] {
                    pullback(Backward(tape: self, outputGradient: dy))
                    gradients[index] = nil
                }
                nodes[index].pullback = nil
            }
            index -= 1
        }
    }
}

/// What a pullback gets: its output's gradient, and the gradient buffers of its inputs.
struct Backward {
    let tape: Tape
    let outputGradient: Storage
    /// The gradient of the op's output, shaped as the output.
    var dy: UnsafePointer<Float> { UnsafePointer(outputGradient.pointer) }

    /// The gradient buffer to add into for the input on `node`, or nil when that input is not
    /// tracked (data, constants): its gradient is then never computed.
    func gradient(_ node: Int?) -> UnsafeMutablePointer<Float>? {
        guard let node else { return nil }
        return tape.gradient(of: node)
    }

    /// Like `gradient`, for pullbacks that write every element of the input's gradient: they
    /// must assign when `overwrite` is true and add otherwise.
    func target(_ node: Int?) -> GradientTarget? {
        guard let node else { return nil }
        return tape.gradientTarget(of: node)
    }
}

/// A gradient buffer and how to write it: assign (`overwrite`, the buffer is new) or add.
struct GradientTarget: @unchecked Sendable {
    let pointer: UnsafeMutablePointer<Float>
    let overwrite: Bool
    /// The GEMM `beta` that implements this: 0 to assign, 1 to add.
    var beta: Float { overwrite ? 0 : 1 }
}

extension Tensor {
    /// `output`, recorded on the active tape with `pullback` when any of `inputs` is tracked there.
    /// `pullback` receives the input nodes in the order of `inputs` (nil for untracked inputs).
    @inline(__always)
    static func record(_ output: Tensor, inputs: [Tensor],
                       pullback: @escaping (Backward, [Int?]) -> Void) -> Tensor {
        guard let tape = Tape.current else { return output }
        let nodes = inputs.map { tape.node(of: $0) }
        guard nodes.contains(where: { $0 != nil }) else { return output }
        return tape.append(output) { backward in pullback(backward, nodes) }
    }

    /// One-input form of `record`.
    @inline(__always)
    static func record(_ output: Tensor, input: Tensor,
                       pullback: @escaping (Backward, UnsafeMutablePointer<Float>) -> Void) -> Tensor {
        guard let tape = Tape.current, let node = tape.node(of: input) else { return output }
        return tape.append(output) { backward in pullback(backward, tape.gradient(of: node)) }
    }

    /// One-input form of `record` for pullbacks that write every element of the input's gradient
    /// (assigning when the target says `overwrite`).
    @inline(__always)
    static func record(_ output: Tensor, input: Tensor,
                       writing pullback: @escaping (Backward, GradientTarget) -> Void) -> Tensor {
        guard let tape = Tape.current, let node = tape.node(of: input) else { return output }
        return tape.append(output) { backward in pullback(backward, tape.gradientTarget(of: node)) }
    }
}
