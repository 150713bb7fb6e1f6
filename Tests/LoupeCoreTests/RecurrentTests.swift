import LoupeCore
import Testing

/// The fused recurrent op (`recurrent`): finite-difference gradients of every input, and the
/// fused kernels against the same equations composed from LoupeCore's ordinary ops.
@Suite struct RecurrentTests {
    static let cells: [RecurrentCell] = [.simple, .lstm(forgetBias: 1), .gru(resetAfter: false), .gru(resetAfter: true)]

    /// Random inputs for a cell: x [B, T, F], kernel, recurrent kernel, bias, recurrent bias
    /// (GRU reset-after only), initial state and cell (LSTM only).
    struct Inputs {
        var tensors: [Tensor]
        var hasRecurrentBias: Bool
        var hasCell: Bool

        init(_ cell: RecurrentCell, batch: Int, steps: Int, features: Int, units: Int, seed: UInt64, scale: Float = 0.5) {
            let g = cell.gateCount * units
            hasRecurrentBias = cell == .gru(resetAfter: true)
            if case .lstm = cell { hasCell = true } else { hasCell = false }
            tensors = [random([batch, steps, features], seed: seed, scale: 1),
                       random([features, g], seed: seed + 1, scale: scale),
                       random([units, g], seed: seed + 2, scale: scale),
                       random([g], seed: seed + 3, scale: scale),
                       random([batch, units], seed: seed + 4, scale: 0.5)]
            if hasRecurrentBias { tensors.append(random([g], seed: seed + 5, scale: scale)) }
            if hasCell { tensors.append(random([batch, units], seed: seed + 6, scale: 0.5)) }
        }

        func fused(_ cell: RecurrentCell, _ t: [Tensor], returnSequences: Bool) throws -> Tensor {
            try recurrent(cell, input: t[0], kernel: t[1], recurrentKernel: t[2], bias: t[3],
                          recurrentBias: hasRecurrentBias ? t[5] : nil, initialState: t[4],
                          initialCell: hasCell ? t[5] : nil, returnSequences: returnSequences)
        }

        func composed(_ cell: RecurrentCell, _ t: [Tensor], returnSequences: Bool) throws -> Tensor {
            try composedRecurrent(cell, input: t[0], kernel: t[1], recurrentKernel: t[2], bias: t[3],
                                  recurrentBias: hasRecurrentBias ? t[5] : nil, initialState: t[4],
                                  initialCell: hasCell ? t[5] : nil, returnSequences: returnSequences)
        }
    }

    @Test(arguments: cells, [false, true])
    func gradientsMatchFiniteDifferences(cell: RecurrentCell, returnSequences: Bool) throws {
        let inputs = Inputs(cell, batch: 3, steps: 4, features: 5, units: 7, seed: 10)
        try checkGradients(inputs.tensors, epsilon: 1e-2, relativeTolerance: 2e-2, absoluteTolerance: 2e-3) { t in
            try inputs.fused(cell, t, returnSequences: returnSequences)
        }
    }

    @Test(arguments: cells)
    func gradientsWithOneUnitAndNoInitialState(cell: RecurrentCell) throws {
        let inputs = Inputs(cell, batch: 2, steps: 3, features: 2, units: 1, seed: 20)
        let rb = inputs.hasRecurrentBias
        try checkGradients(Array(inputs.tensors[0..<4]) + (rb ? [inputs.tensors[5]] : [])) { t in
            try recurrent(cell, input: t[0], kernel: t[1], recurrentKernel: t[2], bias: t[3], recurrentBias: rb ? t[4] : nil)
        }
    }

    /// The fused kernels against the composition, forward values and every gradient, at hidden
    /// sizes with and without a partial vector (1, 7), at 128 and at 1024, for batches below and
    /// above the size where the sweep is split in two.
    @Test(arguments: cells, [(1, 2, 3), (7, 3, 5), (128, 20, 4), (1024, 17, 2)])
    func fusedMatchesComposition(cell: RecurrentCell, shape: (units: Int, batch: Int, steps: Int)) throws {
        let inputs = Inputs(cell, batch: shape.batch, steps: shape.steps, features: 6, units: shape.units, seed: 30,
                            scale: 1 / Float(shape.units).squareRoot())
        for returnSequences in [false, true] {
            let fused = try inputs.fused(cell, inputs.tensors, returnSequences: returnSequences)
            let composed = try inputs.composed(cell, inputs.tensors, returnSequences: returnSequences)
            #expect(fused.shape == composed.shape)
            // Forward: the same equations; exp and tanh from the same polynomial, products
            // summed in another order. Tolerance 2e-6 absolute + 1e-5 relative.
            expectClose(fused.scalars, composed.scalars, absoluteTolerance: 2e-6, relativeTolerance: 1e-5)
            var g = RandomGenerator(seed: 99)
            let seed = Tensor.randomUniform(fused.shape, lowerBound: -1, upperBound: 1, generator: &g)
            let (_, a) = try valueAndGradient(at: inputs.tensors, seed: seed) { t in try inputs.fused(cell, t, returnSequences: returnSequences) }
            let (_, b) = try valueAndGradient(at: inputs.tensors, seed: seed) { t in try inputs.composed(cell, t, returnSequences: returnSequences) }
            // Gradients sum over steps and the batch in another order: 1e-5 absolute + 1e-4 relative.
            for (x, y) in zip(a, b) { expectClose(x.scalars, y.scalars, absoluteTolerance: 1e-5, relativeTolerance: 1e-4) }
        }
    }

    /// The batch halves are fixed by shape: the same bits with one compute thread as with many.
    @Test func sameBitsAtAnyThreadCount() throws {
        let before = computeThreads
        defer { try? setComputeThreads(before) }
        // 40 units: gradients after the sweep; 48: accumulated step by step (Loupe's kernels).
        for cell in Self.cells { for units in [40, 48] {
            let inputs = Inputs(cell, batch: 32, steps: 5, features: 6, units: units, seed: 40)
            var results: [[[Float]]] = []
            for threads in [1, 2, 3, 8] {
                try setComputeThreads(threads)
                let (value, gradients) = try valueAndGradient(at: inputs.tensors) { t in
                    sum(try inputs.fused(cell, t, returnSequences: true))
                }
                results.append([value.scalars] + gradients.map(\.scalars))
            }
            for other in results.dropFirst() { #expect(other == results[0], "\(cell) \(units)") }
        } }
    }

    @Test func shapeErrorsNameTheOperand() {
        let x = Tensor.zeros([2, 3, 4])
        #expect(throws: LoupeError.self) { try recurrent(.simple, input: x, kernel: .zeros([5, 8]), recurrentKernel: .zeros([8, 8]), bias: nil) }
        #expect(throws: LoupeError.self) { try recurrent(.lstm(forgetBias: 1), input: x, kernel: .zeros([4, 8]), recurrentKernel: .zeros([8, 8]), bias: nil) }
        #expect(throws: LoupeError.self) { try recurrent(.simple, input: .zeros([2, 0, 4]), kernel: .zeros([4, 8]), recurrentKernel: .zeros([8, 8]), bias: nil) }
        #expect(throws: LoupeError.self) {
            try recurrent(.simple, input: x, kernel: .zeros([4, 8]), recurrentKernel: .zeros([8, 8]), bias: nil, recurrentBias: .zeros([8]))
        }
        #expect(throws: LoupeError.self) {
            try recurrent(.gru(resetAfter: false), input: x, kernel: .zeros([4, 6]), recurrentKernel: .zeros([2, 6]), bias: nil, initialState: .zeros([3, 2]))
        }
        do {
            _ = try recurrent(.simple, input: x, kernel: .zeros([5, 8]), recurrentKernel: .zeros([8, 8]), bias: nil)
        } catch {
            #expect("\(error)".contains("kernel must be [4, 8]"))
        }
    }
}

/// The cells' equations from LoupeCore's ordinary differentiable ops, step by step: the
/// independent composition the fused op is checked against.
func composedRecurrent(_ cell: RecurrentCell, input: Tensor, kernel: Tensor, recurrentKernel: Tensor, bias: Tensor,
                       recurrentBias: Tensor?, initialState: Tensor?, initialCell: Tensor?, returnSequences: Bool) throws -> Tensor {
    let (b, t, f) = (input.shape[0], input.shape[1], input.shape[2])
    let h = recurrentKernel.shape[0]
    func gate(_ z: Tensor, _ index: Int) throws -> Tensor { try slice(z, axis: 1, range: (index * h)..<((index + 1) * h)) }
    func columns(_ w: Tensor, _ range: Range<Int>) throws -> Tensor { try slice(w, axis: 1, range: (range.lowerBound * h)..<(range.upperBound * h)) }
    var state = initialState ?? Tensor.zeros([b, h])
    var memory = initialCell ?? Tensor.zeros([b, h])
    var outputs: [Tensor] = []
    for s in 0..<t {
        let x = try reshape(slice(input, axis: 1, range: s..<(s + 1)), [b, f])
        let xz = try matmul(x, kernel) + bias
        switch cell {
        case .simple:
            state = tanh(try xz + matmul(state, recurrentKernel))
        case let .lstm(forgetBias):
            let z = try xz + matmul(state, recurrentKernel)
            let i = sigmoid(try gate(z, 0)), fg = sigmoid(try gate(z, 1) + forgetBias)
            let g = tanh(try gate(z, 2)), o = sigmoid(try gate(z, 3))
            memory = try fg * memory + i * g
            state = try o * tanh(memory)
        case .gru(resetAfter: true):
            let q = try matmul(state, recurrentKernel) + recurrentBias!
            let r = sigmoid(try gate(xz, 0) + gate(q, 0)), z = sigmoid(try gate(xz, 1) + gate(q, 1))
            let n = tanh(try gate(xz, 2) + r * gate(q, 2))
            state = try (z * -1 + 1) * n + z * state
        case .gru(resetAfter: false):
            let q = try matmul(state, columns(recurrentKernel, 0..<2))
            let r = sigmoid(try gate(xz, 0) + gate(q, 0)), z = sigmoid(try gate(xz, 1) + gate(q, 1))
            let c = tanh(try gate(xz, 2) + matmul(r * state, columns(recurrentKernel, 2..<3)))
            state = try z * state + (z * -1 + 1) * c
        }
        outputs.append(try reshape(state, [b, 1, h]))
    }
    return returnSequences ? try concat(outputs, axis: 1) : state
}

extension RecurrentCell: CustomTestStringConvertible {
    public var testDescription: String {
        switch self {
        case .simple: return "rnn"
        case .lstm: return "lstm"
        case let .gru(resetAfter): return resetAfter ? "gru-reset-after" : "gru-tf1"
        }
    }
}
