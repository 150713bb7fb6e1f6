import CLoupeSupport

/// A recurrent cell's equations. Gates are laid out side by side in the kernels' columns, gate g
/// in columns g·H ..< (g+1)·H; the input kernel is [F, G·H], the recurrent kernel [H, G·H].
public enum RecurrentCell: Sendable, Equatable {
    /// h = tanh(x·Wx + h·Wh + b) (`tf.nn.rnn_cell.BasicRNNCell`, `nn.RNN`). One gate.
    case simple
    /// Gates (i, f, g, o): i = σ, f = σ(· + forgetBias), g = tanh, o = σ of x·Wx + h·Wh + b;
    /// c = f·c + i·g, h = o·tanh(c). forgetBias 1 is TensorFlow's `BasicLSTMCell(forget_bias=1.0)`;
    /// 0 is PyTorch's `nn.LSTM`.
    case lstm(forgetBias: Float)
    /// Gates (r, z, n), h = (1 − z)·n + z·h. `resetAfter` false: TensorFlow 1.x `GRUCell`,
    /// r, z = σ(x·Wx + h·Wh + b), n = tanh(x·Wxn + (r·h)·Whn + bn). `resetAfter` true: PyTorch's
    /// `nn.GRU` and Keras' `reset_after`, n = tanh(x·Wxn + bxn + r·(h·Whn + bhn)), with a separate
    /// recurrent bias.
    case gru(resetAfter: Bool)

    /// G, the number of gate blocks.
    public var gateCount: Int {
        switch self {
        case .simple: return 1
        case .lstm: return 4
        case .gru: return 3
        }
    }
}

/// One recurrent layer over a whole sequence, forward and backward through time as one op.
///
/// `input` is [B, T, F]; the result is the last hidden state [B, H], or every step's [B, T, H]
/// with `returnSequences`. `initialState` (and, for the LSTM, `initialCell`) [B, H] start the
/// recurrence (zeros when nil); gradients reach them when they are tracked. `recurrentBias`
/// [G·H] exists only for the GRU with `resetAfter`. See `RecurrentSequence` for how the work is
/// done: one product for the input projection of all steps, one per step for the recurrent part,
/// the cell's elementwise work in one pass, and one product per weight gradient after the sweep.
public func recurrent(_ cell: RecurrentCell, input: Tensor, kernel: Tensor, recurrentKernel: Tensor, bias: Tensor?,
                      recurrentBias: Tensor? = nil, initialState: Tensor? = nil, initialCell: Tensor? = nil,
                      returnSequences: Bool = false) throws -> Tensor {
    let op = "recurrent"
    guard input.rank == 3, input.shape[1] > 0 else {
        throw LoupeError.shapeMismatch(op: op, message: "input must be [batch, time, features] with time ≥ 1, got \(describe(input.shape))")
    }
    let (b, t, f) = (input.shape[0], input.shape[1], input.shape[2])
    let g = cell.gateCount
    guard recurrentKernel.rank == 2, recurrentKernel.shape[0] > 0, recurrentKernel.shape[1] == g * recurrentKernel.shape[0] else {
        throw LoupeError.shapeMismatch(op: op, message: "recurrent kernel must be [H, \(g)·H], got \(describe(recurrentKernel.shape))")
    }
    let h = recurrentKernel.shape[0]
    guard kernel.shape == [f, g * h] else {
        throw LoupeError.shapeMismatch(op: op, message: "kernel must be [\(f), \(g * h)] for \(f) features and \(h) units, got \(describe(kernel.shape))")
    }
    if let bias, bias.shape != [g * h] {
        throw LoupeError.shapeMismatch(op: op, message: "bias must be [\(g * h)], got \(describe(bias.shape))")
    }
    if let recurrentBias {
        guard cell == .gru(resetAfter: true) else {
            throw LoupeError.shapeMismatch(op: op, message: "a recurrent bias exists only for the GRU with the reset after the product")
        }
        guard recurrentBias.shape == [g * h] else {
            throw LoupeError.shapeMismatch(op: op, message: "recurrent bias must be [\(g * h)], got \(describe(recurrentBias.shape))")
        }
    }
    for (name, state) in [("initial state", initialState), ("initial cell", initialCell)] {
        if let state, state.shape != [b, h] {
            throw LoupeError.shapeMismatch(op: op, message: "\(name) must be [\(b), \(h)], got \(describe(state.shape))")
        }
    }
    if initialCell != nil, case .lstm = cell {} else if initialCell != nil {
        throw LoupeError.shapeMismatch(op: op, message: "an initial cell state exists only for the LSTM")
    }

    let sequence = RecurrentSequence(cell: cell, batch: b, steps: t, features: f, units: h)
    sequence.forward(input: input.storage.pointer, kernel: kernel.storage.pointer,
                     recurrentKernel: recurrentKernel.storage.pointer, bias: bias?.storage.pointer,
                     recurrentBias: recurrentBias?.storage.pointer, initialState: initialState?.storage.pointer,
                     initialCell: initialCell?.storage.pointer)
    let out = Tensor(uninitializedShape: returnSequences ? [b, t, h] : [b, h])
    sequence.output(returnSequences: returnSequences, into: out.storage.pointer)

    // The inputs the tape may track, in a fixed order; absent optional ones are left out.
    var inputs = [input, kernel, recurrentKernel]
    var slots: [String: Int] = [:]
    for (name, tensor) in [("bias", bias), ("recurrentBias", recurrentBias), ("initialState", initialState),
                           ("initialCell", initialCell)] {
        if let tensor {
            slots[name] = inputs.count
            inputs.append(tensor)
        }
    }
    return Tensor.record(out, inputs: inputs) { backward, nodes in
        func target(_ name: String) -> GradientTarget? { slots[name].flatMap { backward.target(nodes[$0]) } }
        sequence.backward(outputGradient: backward.dy, returnSequences: returnSequences,
                          kernel: kernel.storage.pointer, recurrentKernel: recurrentKernel.storage.pointer,
                          input: backward.target(nodes[0]), kernelGradient: backward.target(nodes[1]),
                          recurrentKernelGradient: backward.target(nodes[2]), biasGradient: target("bias"),
                          recurrentBiasGradient: target("recurrentBias"), initialStateGradient: target("initialState"),
                          initialCellGradient: target("initialCell"))
    }
}
