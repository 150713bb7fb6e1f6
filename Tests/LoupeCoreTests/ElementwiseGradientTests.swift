import LoupeCore
import Testing

@Suite struct ElementwiseGradientTests {
    let a = random([3, 4], seed: 1)
    let b = random([3, 4], seed: 2)
    let positive = try! Tensor(shape: [3, 4], scalars: random([3, 4], seed: 3).scalars.map { abs($0) + 0.5 })
    let bias = random([4], seed: 4)
    let scalar = Tensor(scalar: 0.7)

    @Test func addSubtractMultiplyDivideSameShape() throws {
        try checkGradients([a, b]) { p in try p[0] + p[1] }
        try checkGradients([a, b]) { p in try p[0] - p[1] }
        try checkGradients([a, b]) { p in try p[0] * p[1] }
        try checkGradients([a, positive]) { p in try p[0] / p[1] }
    }

    @Test func broadcastTrailingVectorBothSides() throws {
        let nhwc = random([2, 3, 2, 4], seed: 5)
        try checkGradients([nhwc, bias]) { p in try p[0] + p[1] }
        try checkGradients([a, bias]) { p in try p[0] - p[1] }
        try checkGradients([bias, a]) { p in try p[0] - p[1] }
        try checkGradients([a, bias]) { p in try p[0] * p[1] }
        let positiveBias = try Tensor(shape: [4], scalars: [0.6, 1.1, 1.7, 0.9])
        try checkGradients([a, positiveBias]) { p in try p[0] / p[1] }
        try checkGradients([bias, positive]) { p in try p[0] / p[1] }
    }

    @Test func broadcastScalarBothSides() throws {
        try checkGradients([a, scalar]) { p in try p[0] * p[1] }
        try checkGradients([scalar, a]) { p in try p[0] - p[1] }
        try checkGradients([scalar, positive]) { p in try p[0] / p[1] }
        try checkGradients([a]) { p in p[0] * 3 + 1 }
    }

    @Test func tensorUsedTwice() throws {
        try checkGradients([a]) { p in try p[0] * p[0] }
        try checkGradients([a, b]) { p in try (p[0] * p[1]) + tanh(p[0]) }
    }

    @Test func unaryFunctions() throws {
        try checkGradients([a]) { p in -p[0] }
        try checkGradients([random([3, 4], seed: 6, gap: 0.05)]) { p in relu(p[0]) }
        try checkGradients([a * 2]) { p in tanh(p[0]) }
        try checkGradients([a * 3]) { p in sigmoid(p[0]) }
        try checkGradients([a]) { p in exp(p[0]) }
        try checkGradients([positive]) { p in log(p[0]) }
    }

    @Test func vectorisedFunctionsMatchTheCLibrary() {
        let inputs = stride(from: Float(-30), through: 30, by: 0.013).map { $0 } + [0, 1e-6, -1e-6, 1e-3, 88, -100, 100]
        let x = Tensor(inputs)
        func check(_ actual: Tensor, _ reference: (Double) -> Double, relative: Float) {
            let expected = inputs.map { Float(reference(Double($0))) }
            expectClose(actual.scalars, expected, absoluteTolerance: 1e-37, relativeTolerance: relative)
        }
        check(exp(x), { Foundation.exp($0) }, relative: 3e-7)
        check(tanh(x), { Foundation.tanh($0) }, relative: 5e-7)
        check(sigmoid(x), { 1 / (1 + Foundation.exp(-$0)) }, relative: 5e-7)
    }
}

import Foundation
