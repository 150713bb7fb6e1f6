import Foundation
import LoupeCore
import LoupeData
import LoupeNN
import Testing

/// The recurrent layers: fixed-weight forward passes against values NumPy computed from the
/// published equations (Tests/Fixtures/recurrent/make_reference.py), their initial weights, and
/// a short training run on MNIST rows.
@Suite struct RecurrentLayerTests {
    struct Case: Decodable {
        let cell: String
        let batch: Int, steps: Int, features: Int, units: Int
        let input: [Float], kernel: [Float], recurrent_kernel: [Float], bias: [Float], initial_state: [Float]
        let recurrent_bias: [Float]?, initial_cell: [Float]?
        let sequence: [Double]
    }

    static func cases() throws -> [Case] {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../Fixtures/recurrent/reference.json").standardizedFileURL
        struct File: Decodable { let cases: [Case] }
        return try JSONDecoder().decode(File.self, from: Data(contentsOf: url)).cases
    }

    @Test func forwardMatchesNumPy() throws {
        let cases = try Self.cases()
        #expect(cases.map(\.cell) == ["rnn", "lstm", "gru_tf1", "gru_pytorch"])
        for c in cases {
            let cell: RecurrentCell
            switch c.cell {
            case "rnn": cell = .simple
            case "lstm": cell = .lstm(forgetBias: 1)
            case "gru_tf1": cell = .gru(resetAfter: false)
            default: cell = .gru(resetAfter: true)
            }
            let g = cell.gateCount * c.units
            let x = try Tensor(shape: [c.batch, c.steps, c.features], scalars: c.input)
            let output = try recurrent(cell, input: x, kernel: Tensor(shape: [c.features, g], scalars: c.kernel),
                                       recurrentKernel: Tensor(shape: [c.units, g], scalars: c.recurrent_kernel),
                                       bias: Tensor(shape: [g], scalars: c.bias),
                                       recurrentBias: try c.recurrent_bias.map { try Tensor(shape: [g], scalars: $0) },
                                       initialState: Tensor(shape: [c.batch, c.units], scalars: c.initial_state),
                                       initialCell: try c.initial_cell.map { try Tensor(shape: [c.batch, c.units], scalars: $0) },
                                       returnSequences: true)
            #expect(output.shape == [c.batch, c.steps, c.units])
            // Float32 against float64: within 2e-6 absolute (values are below 1).
            let worst = zip(output.scalars, c.sequence).map { abs(Double($0) - $1) }.max() ?? 0
            #expect(worst < 2e-6, "\(c.cell): largest difference \(worst)")
        }
    }

    @Test func imagesAreReadRowByRow() throws {
        var g = RandomGenerator(seed: 1)
        let lstm = LSTM(inputSize: 6, units: 4, generator: &g)
        let images = Tensor.randomUniform([2, 5, 3, 2], generator: &g)
        let rows = try lstm(images)
        let sequences = try lstm(images.reshaped([2, 5, 6]))
        #expect(rows.shape == [2, 4])
        #expect(rows.scalars == sequences.scalars)
        #expect(throws: LoupeError.self) { try lstm(Tensor.zeros([2, 5, 7])) }
    }

    @Test func tf1InitializersAreTensorFlows() throws {
        var g = RandomGenerator(seed: 3)
        let (f, h) = (28, 64)
        let gru = GRU(inputSize: f, units: h, generator: &g)
        // Gates' bias 1, the candidate's 0 (GRUCell); no recurrent bias.
        #expect(gru.bias.value.scalars == [Float](repeating: 1, count: 2 * h) + [Float](repeating: 0, count: h))
        #expect(gru.recurrentBias == nil)
        // Glorot-uniform over each fused [x, h] kernel: the gates' [F+H, 2H], the candidate's [F+H, H].
        let gatesLimit = Float((6.0 / Double(f + h + 2 * h)).squareRoot())
        let candidateLimit = Float((6.0 / Double(f + h + h)).squareRoot())
        func columns(_ t: Tensor, _ range: Range<Int>) -> [Float] {
            let v = t.scalars, width = t.shape[1]
            return (0..<t.shape[0]).flatMap { row in range.map { v[row * width + $0] } }
        }
        for (range, limit) in [(0..<(2 * h), gatesLimit), (2 * h..<(3 * h), candidateLimit)] {
            let all = columns(gru.kernel.value, range) + columns(gru.recurrentKernel.value, range)
            #expect(all.allSatisfy { abs($0) <= limit })
            #expect(all.map(abs).max()! > 0.9 * limit)
        }
        let lstm = LSTM(inputSize: f, units: h, generator: &g)
        #expect(lstm.forgetBias == 1)
        #expect(lstm.bias.value.scalars.allSatisfy { $0 == 0 })
    }

    @Test func pytorchInitializersAreUniformInOneOverRootH() throws {
        var g = RandomGenerator(seed: 4)
        let h = 100
        let gru = GRU(inputSize: 10, units: h, variant: .pytorch, generator: &g)
        let limit = 1 / Float(h).squareRoot()
        for p in [gru.kernel, gru.recurrentKernel, gru.bias, gru.recurrentBias!] {
            #expect(p.value.scalars.allSatisfy { abs($0) <= limit })
        }
        #expect(gru.cell == .gru(resetAfter: true))
        let lstm = LSTM(inputSize: 10, units: h, variant: .pytorch, generator: &g)
        #expect(lstm.forgetBias == 0)
        // b_ih + b_hh: the sum of two uniforms reaches beyond one's range.
        #expect(lstm.bias.value.scalars.allSatisfy { abs($0) <= 2 * limit })
        #expect(lstm.bias.value.scalars.contains { abs($0) > limit })
    }

    @Test func parametersAreNamedLikeKeras() throws {
        var g = RandomGenerator(seed: 5)
        let model = try Sequential([("gru", GRU(inputSize: 3, units: 2, variant: .pytorch, generator: &g)),
                                    ("out", Dense(inputSize: 2, outputSize: 4, generator: &g))])
        #expect(model.parameters.map(\.name) == ["gru.kernel", "gru.recurrentKernel", "gru.bias", "gru.recurrentBias",
                                                 "out.weight", "out.bias"])
    }

    /// An LSTM learns MNIST read row by row: 150 Adam steps of 64 on mnist-png28 reach well
    /// above chance (about 0.8 here; the bar is 0.6).
    @Test func lstmLearnsMNISTRows() throws {
        guard let root = testData("mnist-png28") else { return }
        let train = try Dataset.imageFolder(root: root, split: .train).readingRows()
        let test = try Dataset.imageFolder(root: root, split: .test).readingRows()
        #expect(train.sampleShape == [28, 28])
        var g = RandomGenerator(seed: 0)
        let model = try Sequential([("lstm", LSTM(inputSize: 28, units: 64, generator: &g)),
                                    ("out", Dense(inputSize: 64, outputSize: 10, generator: &g))])
        let parameters = model.parameters
        let optimizer = Adam(learningRate: 3e-3)
        var draw = RandomGenerator(seed: 1)
        for _ in 0..<150 {
            let (x, labels) = train.batch(indices: (0..<64).map { _ in draw.nextInt(below: train.count) })
            let (_, grads) = try valueAndGradient(of: model, parameters: parameters) { m in
                try softmaxCrossEntropy(logits: m(x), labels: labels)
            }
            try optimizer.update(parameters, along: grads)
        }
        let accuracy = try testAccuracy(model, test)
        #expect(accuracy > 0.6, "test accuracy \(accuracy)")
    }
}
