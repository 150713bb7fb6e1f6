import LoupeCore

/// Whose conventions a recurrent layer follows: its initial weights and, for the GRU, where the
/// reset gate applies; named in experiment files as the optimizers' variants are (`variant: tf1`).
///
/// - `tf1` (default), as the reference's TensorFlow 1.x cells: Glorot-uniform over the fused
///   `[x, h]` kernel of each cell (for the GRU, the gates' [F+H, 2H] and the candidate's [F+H, H]
///   separately), zero biases except the GRU gates' 1.0; the LSTM adds a forget bias of 1.0
///   (`BasicLSTMCell(forget_bias=1.0)`); the GRU applies the reset before the recurrent product
///   (`GRUCell`).
/// - `pytorch`: every weight and bias uniform in ±1/√H (`nn.RNN`, `nn.LSTM`, `nn.GRU`), the
///   RNN's and LSTM's bias the sum of PyTorch's two (`b_ih + b_hh`), no forget bias; the GRU
///   applies the reset after the product, with its own recurrent bias (`b_hh`).
public enum RecurrentVariant: String, Sendable, CaseIterable {
    case tf1
    case pytorch
}

/// What the three recurrent layers share: over `[N, T, F]` (or an image batch `[N, H, W, C]`,
/// read row by row as T = H steps of F = W·C values), they return the last hidden state
/// `[N, units]`, or every step's `[N, T, units]` with `returnSequences`.
public protocol RecurrentLayer: Layer {
    var cell: RecurrentCell { get }
    var kernel: Parameter { get }
    var recurrentKernel: Parameter { get }
    var bias: Parameter { get }
    var returnSequences: Bool { get }
    /// Only the GRU with the reset after the product has one.
    var recurrentBiasParameter: Parameter? { get }
}

extension RecurrentLayer {
    public var units: Int { recurrentKernel.shape[0] }
    public var inputSize: Int { kernel.shape[0] }

    public func callAsFunction(_ input: Tensor) throws -> Tensor { try callAsFunction(input, initialState: nil) }

    /// With an initial hidden state [N, units] (and, for the LSTM, cell state), zeros when nil.
    public func callAsFunction(_ input: Tensor, initialState: Tensor?, initialCell: Tensor? = nil) throws -> Tensor {
        var sequence = input
        if input.rank == 4 {
            sequence = try reshape(input, [input.shape[0], input.shape[1], input.shape[2] * input.shape[3]])
        }
        guard sequence.rank == 3, sequence.shape[2] == inputSize else {
            throw LoupeError.shapeMismatch(op: "\(type(of: self))", message: "input \(input.shape) does not fit \(inputSize) features per step (expected [N, T, \(inputSize)] or an image [N, H, W, C] with W·C = \(inputSize))")
        }
        return try recurrent(cell, input: sequence, kernel: kernel.value, recurrentKernel: recurrentKernel.value,
                             bias: bias.value, recurrentBias: recurrentBiasParameter?.value, initialState: initialState,
                             initialCell: initialCell, returnSequences: returnSequences)
    }
}

/// A tanh RNN layer: h = tanh(x·kernel + h·recurrentKernel + bias)
/// (`tf.nn.rnn_cell.BasicRNNCell`, `nn.RNN(nonlinearity="tanh")`, Keras `SimpleRNN`).
public final class SimpleRNN: RecurrentLayer {
    public let kernel: Parameter
    public let recurrentKernel: Parameter
    public let bias: Parameter
    public let returnSequences: Bool
    public var cell: RecurrentCell { .simple }
    public var recurrentBiasParameter: Parameter? { nil }

    public init(inputSize: Int, units: Int, returnSequences: Bool = false, variant: RecurrentVariant = .tf1,
                generator: inout RandomGenerator) {
        let w = RecurrentWeights(.simple, inputSize: inputSize, units: units, variant: variant, generator: &generator)
        (kernel, recurrentKernel, bias) = (Parameter(w.kernel), Parameter(w.recurrentKernel), Parameter(w.bias))
        self.returnSequences = returnSequences
    }
}

/// An LSTM layer, gates (i, f, g, o) in the kernels' column blocks:
/// i = σ(zᵢ), f = σ(z_f + forgetBias), g = tanh(z_g), o = σ(z_o) with z = x·kernel + h·recurrentKernel + bias;
/// c = f·c + i·g, h = o·tanh(c) (`BasicLSTMCell`, `nn.LSTM`; PyTorch's gate order).
public final class LSTM: RecurrentLayer {
    public let kernel: Parameter
    public let recurrentKernel: Parameter
    public let bias: Parameter
    public let returnSequences: Bool
    /// Added to the forget gate's pre-activation in the cell (1 for `tf1`, 0 for `pytorch`).
    public let forgetBias: Float
    public var cell: RecurrentCell { .lstm(forgetBias: forgetBias) }
    public var recurrentBiasParameter: Parameter? { nil }

    public init(inputSize: Int, units: Int, returnSequences: Bool = false, variant: RecurrentVariant = .tf1,
                forgetBias: Float? = nil, generator: inout RandomGenerator) {
        let w = RecurrentWeights(.lstm(forgetBias: 0), inputSize: inputSize, units: units, variant: variant, generator: &generator)
        (kernel, recurrentKernel, bias) = (Parameter(w.kernel), Parameter(w.recurrentKernel), Parameter(w.bias))
        self.returnSequences = returnSequences
        self.forgetBias = forgetBias ?? Self.defaultForgetBias(variant)
    }

    /// The forget bias a `variant` adds when none is given: 1 for `tf1` (`BasicLSTMCell`'s
    /// `forget_bias=1.0`), 0 for `pytorch`.
    public static func defaultForgetBias(_ variant: RecurrentVariant) -> Float { variant == .tf1 ? 1 : 0 }
}

/// A GRU layer, gates (r, z, n) in the kernels' column blocks, h = (1 − z)·n + z·h.
/// `tf1`: r, z = σ(x·W + h·U + b), n = tanh(x·Wₙ + (r·h)·Uₙ + bₙ) (TensorFlow 1.x `GRUCell`, whose
/// u is z here). `pytorch`: n = tanh(x·Wₙ + bₙ + r·(h·Uₙ + b'ₙ)) with a recurrent bias b'
/// (`nn.GRU`, Keras `reset_after=True`).
public final class GRU: RecurrentLayer {
    public let kernel: Parameter
    public let recurrentKernel: Parameter
    public let bias: Parameter
    public let recurrentBias: Parameter?
    public let returnSequences: Bool
    public let variant: RecurrentVariant
    public var cell: RecurrentCell { .gru(resetAfter: variant == .pytorch) }
    public var recurrentBiasParameter: Parameter? { recurrentBias }

    public init(inputSize: Int, units: Int, returnSequences: Bool = false, variant: RecurrentVariant = .tf1,
                generator: inout RandomGenerator) {
        let cell = RecurrentCell.gru(resetAfter: variant == .pytorch)
        let w = RecurrentWeights(cell, inputSize: inputSize, units: units, variant: variant, generator: &generator)
        (kernel, recurrentKernel, bias) = (Parameter(w.kernel), Parameter(w.recurrentKernel), Parameter(w.bias))
        recurrentBias = w.recurrentBias.map(Parameter.init)
        self.returnSequences = returnSequences
        self.variant = variant
    }
}

/// A recurrent layer's initial weights, drawn in a fixed order from the layer's own generator.
struct RecurrentWeights {
    var kernel: Tensor, recurrentKernel: Tensor, bias: Tensor, recurrentBias: Tensor?

    init(_ cell: RecurrentCell, inputSize f: Int, units h: Int, variant: RecurrentVariant, generator: inout RandomGenerator) {
        let g = cell.gateCount
        switch variant {
        case .tf1:
            // Glorot-uniform over each fused [x, h] kernel, its first F rows for x, the rest for h.
            var blocks: [(columns: Int, bias: Float)] = [(g * h, 0)]
            if case .gru = cell { blocks = [(2 * h, 1), (h, 0)] }
            var x = [Float](repeating: 0, count: f * g * h), r = [Float](repeating: 0, count: h * g * h)
            var b = [Float](repeating: 0, count: g * h)
            var column = 0
            for block in blocks {
                let fused = Initializer.glorotUniform.make([f + h, block.columns], generator: &generator)
                let values = fused.scalars
                for row in 0..<(f + h) {
                    for j in 0..<block.columns {
                        let v = values[row * block.columns + j]
                        if row < f { x[row * g * h + column + j] = v } else { r[(row - f) * g * h + column + j] = v }
                    }
                }
                for j in 0..<block.columns { b[column + j] = block.bias }
                column += block.columns
            }
            kernel = try! Tensor(shape: [f, g * h], scalars: x)
            recurrentKernel = try! Tensor(shape: [h, g * h], scalars: r)
            bias = try! Tensor(shape: [g * h], scalars: b)
            recurrentBias = nil
        case .pytorch:
            let limit = 1 / Float(h).squareRoot()
            let uniform = Initializer.uniform(lowerBound: -limit, upperBound: limit)
            kernel = uniform.make([f, g * h], generator: &generator)
            recurrentKernel = uniform.make([h, g * h], generator: &generator)
            let inputBias = uniform.make([g * h], generator: &generator)
            let hiddenBias = uniform.make([g * h], generator: &generator)
            if cell == .gru(resetAfter: true) {
                bias = inputBias
                recurrentBias = hiddenBias
            } else {
                bias = try! Tensor(shape: [g * h], scalars: zip(inputBias.scalars, hiddenBias.scalars).map { $0 + $1 })
                recurrentBias = nil
            }
        }
    }
}
