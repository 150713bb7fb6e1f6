import LoupeCore
import Testing

/// Checks the gradient of `sum(r ⊙ f(inputs))` (r random, fixed) against central finite
/// differences, element by element, with the loss summed in Double (STYLE.md, "Tests").
func checkGradients(_ inputs: [Tensor], epsilon: Float = 1e-2, relativeTolerance: Float = 2e-2,
                    absoluteTolerance: Float = 2e-3, sourceLocation: SourceLocation = #_sourceLocation,
                    _ f: ([Tensor]) throws -> Tensor) throws {
    let probe = try f(inputs)
    var g = RandomGenerator(seed: 12345)
    let weights = Tensor.randomUniform(probe.shape, lowerBound: 0.5, upperBound: 1.5, generator: &g)
    let r = weights.scalars
    func loss(_ values: [Tensor]) throws -> Double {
        let y = try f(values).scalars
        var total = 0.0
        for i in 0..<y.count { total += Double(y[i]) * Double(r[i]) }
        return total
    }
    let (_, gradients) = try valueAndGradient(at: inputs) { p in sum(try f(p) * weights) }
    for (index, input) in inputs.enumerated() {
        let analytic = gradients[index].scalars
        #expect(gradients[index].shape == input.shape, sourceLocation: sourceLocation)
        var worst: (element: Int, analytic: Float, numeric: Float)?
        var failures = 0
        for element in 0..<input.count {
            var plus = inputs, minus = inputs
            plus[index].withUnsafeMutableBufferPointer { $0[element] += epsilon }
            minus[index].withUnsafeMutableBufferPointer { $0[element] -= epsilon }
            let numeric = Float((try loss(plus) - loss(minus)) / Double(2 * epsilon))
            let a = analytic[element]
            if abs(a - numeric) > absoluteTolerance + relativeTolerance * max(abs(a), abs(numeric)) {
                failures += 1
                if worst == nil { worst = (element, a, numeric) }
            }
        }
        if let worst {
            Issue.record("input \(index) \(input.shape): \(failures) of \(input.count) gradients differ; first at \(worst.element): analytic \(worst.analytic), numeric \(worst.numeric)",
                         sourceLocation: sourceLocation)
        }
    }
}

/// A tensor of random values in ±`scale`, each at least `gap` from 0 (away from relu's kink).
func random(_ shape: [Int], seed: UInt64, scale: Float = 1, gap: Float = 0) -> Tensor {
    var g = RandomGenerator(seed: seed)
    let t = Tensor.randomUniform(shape, lowerBound: -scale, upperBound: scale, generator: &g)
    guard gap > 0 else { return t }
    return try! Tensor(shape: shape, scalars: t.scalars.map { $0 >= 0 ? $0 + gap : $0 - gap })
}

/// Distinct values (a shuffled ramp with steps of `step`), so max-pool windows have no ties.
func distinct(_ shape: [Int], seed: UInt64, step: Float = 0.1) -> Tensor {
    let n = shape.reduce(1, *)
    var g = RandomGenerator(seed: seed)
    var values = (0..<n).map { Float($0) * step - Float(n) * step / 2 }
    for i in stride(from: n - 1, to: 0, by: -1) { values.swapAt(i, g.nextInt(below: i + 1)) }
    return try! Tensor(shape: shape, scalars: values)
}

/// Element-by-element comparison with a report of the first difference and the largest one.
func expectClose(_ actual: [Float], _ expected: [Float], absoluteTolerance: Float = 1e-4, relativeTolerance: Float = 1e-4,
                 sourceLocation: SourceLocation = #_sourceLocation) {
    guard actual.count == expected.count else {
        Issue.record("counts differ: \(actual.count) vs \(expected.count)", sourceLocation: sourceLocation)
        return
    }
    var first: Int?
    var largest: Float = 0
    for i in actual.indices {
        let d = abs(actual[i] - expected[i])
        largest = max(largest, d)
        if !(d <= absoluteTolerance + relativeTolerance * abs(expected[i])) && first == nil { first = i }
    }
    if let first {
        Issue.record("first difference at \(first): \(actual[first]) vs \(expected[first]); max difference \(largest)",
                     sourceLocation: sourceLocation)
    }
}
