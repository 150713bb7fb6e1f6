/// The value of `body` and its gradient with respect to each of `parameters`.
///
/// `body` receives tracked copies of `parameters` (same values) and must compute its result from
/// them; the result must have one element (a loss). The gradients come back in the order of
/// `parameters`, each shaped like its parameter; a parameter the result does not depend on gets
/// zeros. Everything recorded is released on return.
///
/// ```swift
/// let (loss, grads) = try valueAndGradient(at: [w, b]) { p in
///     try softmaxCrossEntropy(logits: x.matmul(p[0]) + p[1], labels: labels)
/// }
/// ```
public func valueAndGradient(
    at parameters: [Tensor], of body: ([Tensor]) throws -> Tensor
) throws -> (value: Tensor, gradients: [Tensor]) {
    try differentiate(at: parameters, seed: nil, body)
}

/// The value of `body` and the vector–Jacobian product `seedᵀ · ∂body/∂parameter` for each
/// parameter: the gradients of `sum(seed ⊙ body(parameters))`. `seed` has the shape of the value.
/// Benchmarks use it to time one op's backward; projections use it to push a chosen gradient back.
public func valueAndGradient(
    at parameters: [Tensor], seed: Tensor, of body: ([Tensor]) throws -> Tensor
) throws -> (value: Tensor, gradients: [Tensor]) {
    try differentiate(at: parameters, seed: seed, body)
}

private func differentiate(
    at parameters: [Tensor], seed: Tensor?, _ body: ([Tensor]) throws -> Tensor
) throws -> (value: Tensor, gradients: [Tensor]) {
    flushDenormals()
    let tape = Tape()
    defer { tape.release() }
    let tracked = parameters.map { tape.leaf($0) }
    let value = try Tape.$current.withValue(tape) { try body(tracked) }
    if let seed {
        guard seed.shape == value.shape else {
            throw LoupeError.shapeMismatch(op: "valueAndGradient",
                                           message: "seed \(describe(seed.shape)) does not match the value's shape \(describe(value.shape))")
        }
    } else if value.count != 1 {
        throw LoupeError.shapeMismatch(op: "valueAndGradient",
                                       message: "the function must return one element (a loss), got shape \(describe(value.shape))")
    }
    if let node = tape.node(of: value) {
        tape.backpropagate(from: node, seed: seed ?? Tensor(scalar: 1))
    }
    let gradients = zip(parameters, tracked).map { parameter, leaf -> Tensor in
        if let node = tape.node(of: leaf), let g = tape.gradientStorage(of: node) {
            return Tensor(shape: parameter.shape, storage: g)
        }
        return Tensor.zeros(parameter.shape)
    }
    return (value.detached, gradients)
}

/// Runs `body` without recording anything, even inside `valueAndGradient`: evaluation, probes
/// and visualizations that must not grow the tape.
public func withoutRecording<R>(_ body: () throws -> R) rethrows -> R {
    try Tape.$current.withValue(nil) { try body() }
}
