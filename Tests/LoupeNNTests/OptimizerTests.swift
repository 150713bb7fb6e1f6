import Foundation
import LoupeCore
import LoupeNN
import Testing

/// A one-layer "model" holding θ, with loss ½·Σ cᵢθᵢ², so the gradient is c ⊙ θ.
private final class Quadratic: Layer {
    let weight: Parameter
    init(_ values: [Float]) { weight = Parameter(Tensor(values)) }
    func callAsFunction(_ input: Tensor) throws -> Tensor { weight.value }
}

private let start: [Float] = [0.5, -1.2, 2.0, 0.03]
private let curvature: [Float] = [1.0, 0.5, 2.0, 3.0]

/// Runs three updates of `optimizer` and returns θ after each.
private func threeSteps(_ optimizer: any Optimizer) throws -> [[Float]] {
    let model = Quadratic(start)
    let parameters = model.namedParameters()
    let c = Tensor(curvature)
    var history: [[Float]] = []
    for _ in 0..<3 {
        let (_, grads) = try valueAndGradient(of: model) { m in sum(try m(c) * m(c) * c) * 0.5 }
        try optimizer.update(parameters, along: grads)
        history.append(model.weight.value.scalars)
    }
    return history
}

/// Expected θ after each of three steps, from the documented rule written out here in Double:
/// `rule(θ, g, state, t)` updates θ and state for one element.
private func expected(_ initialState: [Double], _ rule: (inout Double, Double, inout [Double], Int) -> Void) -> [[Float]] {
    var theta = start.map(Double.init)
    var states = Array(repeating: initialState, count: start.count)
    var history: [[Float]] = []
    for t in 1...3 {
        for i in theta.indices {
            let g = Double(curvature[i]) * theta[i]
            rule(&theta[i], g, &states[i], t)
        }
        history.append(theta.map(Float.init))
    }
    return history
}

private func expectSteps(_ actual: [[Float]], _ expected: [[Float]], sourceLocation: SourceLocation = #_sourceLocation) {
    for (step, (a, e)) in zip(actual, expected).enumerated() {
        for i in a.indices where abs(a[i] - e[i]) > 2e-6 + 2e-6 * abs(e[i]) {
            Issue.record("step \(step + 1) element \(i): \(a[i]) vs expected \(e[i])", sourceLocation: sourceLocation)
        }
    }
}

@Suite struct OptimizerTests {
    @Test func sgd() throws {
        expectSteps(try threeSteps(SGD(learningRate: 0.1)), expected([]) { t, g, _, _ in t -= 0.1 * g })
        expectSteps(try threeSteps(SGD(learningRate: 0.1, weightDecay: 0.01)), expected([]) { t, g, _, _ in t -= 0.1 * (g + 0.01 * t) })
    }

    @Test(arguments: OptimizerVariant.allCases)
    func momentumClassicAndNesterov(_ variant: OptimizerVariant) throws {
        expectSteps(try threeSteps(Momentum(learningRate: 0.1, momentum: 0.5, variant: variant)), expected([0]) { t, g, s, _ in
            s[0] = 0.5 * s[0] + g
            t -= 0.1 * s[0]
        })
        expectSteps(try threeSteps(Momentum(learningRate: 0.1, momentum: 0.9, nesterov: true, variant: variant)), expected([0]) { t, g, s, _ in
            s[0] = 0.9 * s[0] + g
            t -= 0.1 * (g + 0.9 * s[0])
        })
    }

    @Test func adagradTF1StartsAtPointOneWithoutEpsilon() throws {
        expectSteps(try threeSteps(Adagrad(learningRate: 0.1)), expected([0.1]) { t, g, s, _ in
            s[0] += g * g
            t -= 0.1 * g / s[0].squareRoot()
        })
    }

    @Test func adagradPyTorchStartsAtZeroWithEpsilon() throws {
        expectSteps(try threeSteps(Adagrad(learningRate: 0.1, variant: .pytorch)), expected([0]) { t, g, s, _ in
            s[0] += g * g
            t -= 0.1 * g / (s[0].squareRoot() + 1e-10)
        })
    }

    @Test func rmspropTF1() throws {
        // ms starts at 1, ρ 0.9, ε 1e-10 inside the root; with momentum 0.5 the mom slot accumulates lr·g/√(ms+ε).
        expectSteps(try threeSteps(RMSProp(learningRate: 0.01)), expected([1, 0]) { t, g, s, _ in
            s[0] = 0.9 * s[0] + 0.1 * g * g
            s[1] = 0 * s[1] + 0.01 * g / (s[0] + 1e-10).squareRoot()
            t -= s[1]
        })
        expectSteps(try threeSteps(RMSProp(learningRate: 0.01, momentum: 0.5, centered: true)), expected([1, 0, 0]) { t, g, s, _ in
            s[0] = 0.9 * s[0] + 0.1 * g * g
            s[2] = 0.9 * s[2] + 0.1 * g
            s[1] = 0.5 * s[1] + 0.01 * g / (s[0] - s[2] * s[2] + 1e-10).squareRoot()
            t -= s[1]
        })
    }

    @Test func rmspropPyTorch() throws {
        expectSteps(try threeSteps(RMSProp(learningRate: 0.01, variant: .pytorch)), expected([0]) { t, g, s, _ in
            s[0] = 0.99 * s[0] + 0.01 * g * g
            t -= 0.01 * g / (s[0].squareRoot() + 1e-8)
        })
        expectSteps(try threeSteps(RMSProp(learningRate: 0.01, momentum: 0.9, variant: .pytorch)), expected([0, 0]) { t, g, s, _ in
            s[0] = 0.99 * s[0] + 0.01 * g * g
            s[1] = 0.9 * s[1] + g / (s[0].squareRoot() + 1e-8)
            t -= 0.01 * s[1]
        })
    }

    @Test func adamTF1FoldsTheBiasCorrectionIntoTheStep() throws {
        // Large ε makes TF1's and PyTorch's placements of ε visibly different.
        expectSteps(try threeSteps(Adam(learningRate: 0.1, epsilon: 0.1)), expected([0, 0]) { t, g, s, step in
            s[0] = 0.9 * s[0] + 0.1 * g
            s[1] = 0.999 * s[1] + 0.001 * g * g
            let lrT = 0.1 * (1 - pow(0.999, Double(step))).squareRoot() / (1 - pow(0.9, Double(step)))
            t -= lrT * s[0] / (s[1].squareRoot() + 0.1)
        })
    }

    @Test func adamPyTorchCorrectsMomentsSeparately() throws {
        expectSteps(try threeSteps(Adam(learningRate: 0.1, epsilon: 0.1, variant: .pytorch)), expected([0, 0]) { t, g, s, step in
            s[0] = 0.9 * s[0] + 0.1 * g
            s[1] = 0.999 * s[1] + 0.001 * g * g
            let mHat = s[0] / (1 - pow(0.9, Double(step))), vHat = s[1] / (1 - pow(0.999, Double(step)))
            t -= 0.1 * mHat / (vHat.squareRoot() + 0.1)
        })
    }

    @Test func adamWDecouplesDecay() throws {
        expectSteps(try threeSteps(AdamW(learningRate: 0.1, weightDecay: 0.05, variant: .pytorch)), expected([0, 0]) { t, g, s, step in
            t -= 0.1 * 0.05 * t
            s[0] = 0.9 * s[0] + 0.1 * g
            s[1] = 0.999 * s[1] + 0.001 * g * g
            let mHat = s[0] / (1 - pow(0.9, Double(step))), vHat = s[1] / (1 - pow(0.999, Double(step)))
            t -= 0.1 * mHat / (vHat.squareRoot() + 1e-8)
        })
        expectSteps(try threeSteps(AdamW(learningRate: 0.1, weightDecay: 0.05)), expected([0, 0]) { t, g, s, step in
            t -= 0.05 * t
            s[0] = 0.9 * s[0] + 0.1 * g
            s[1] = 0.999 * s[1] + 0.001 * g * g
            let lrT = 0.1 * (1 - pow(0.999, Double(step))).squareRoot() / (1 - pow(0.9, Double(step)))
            t -= lrT * s[0] / (s[1].squareRoot() + 1e-8)
        })
    }

    @Test func largeParametersUseTheVectorPathIdentically() throws {
        // 1,000,003 elements: vector blocks, a padded tail and two threads must agree with a
        // one-element run of the same rule.
        let n = 1_000_003
        var g = RandomGenerator(seed: 3)
        let values = Tensor.randomNormal([n], generator: &g)
        final class Big: Layer {
            let weight: Parameter
            init(_ t: Tensor) { weight = Parameter(t) }
            func callAsFunction(_ input: Tensor) throws -> Tensor { weight.value }
        }
        let big = Big(values)
        let adam = Adam(learningRate: 0.01)
        let (_, grads) = try valueAndGradient(of: big) { m in sum(try m(values) * m(values)) }
        try adam.update(big.namedParameters(), along: grads)
        for index in [0, 17, n / 2, n - 2, n - 1] {
            let single = Big(Tensor([values.scalars[index]]))
            let one = Adam(learningRate: 0.01)
            let (_, g1) = try valueAndGradient(of: single) { m in sum(try m(values) * m(values)) }
            try one.update(single.namedParameters(), along: g1)
            #expect(single.weight.value.scalar == big.weight.value.scalars[index])
        }
    }

    @Test func clippingByGlobalNorm() throws {
        var grads = Gradients(names: ["a", "b"], tensors: [Tensor([3, 0]), Tensor([0, 4])])
        let norm = try clipByGlobalNorm(&grads, maxNorm: 1)
        #expect(norm == 5)
        #expect(grads.tensors[0].scalars == [0.6, 0] && grads.tensors[1].scalars == [0, 0.8])
        var small = Gradients(names: ["a"], tensors: [Tensor([0.3, 0.4])])
        #expect(try clipByGlobalNorm(&small, maxNorm: 1) == 0.5)
        #expect(small.tensors[0].scalars == [0.3, 0.4])
    }
}

@Suite struct ScheduleTests {
    @Test func schedules() throws {
        #expect(ConstantSchedule(0.1)(1000) == 0.1)
        let stepped = try StepSchedule(initial: 1, factor: 0.5, every: 10)
        #expect([0, 9, 10, 25].map { stepped($0) } == [1, 1, 0.5, 0.25])
        let exponential = try ExponentialSchedule(initial: 1, decayRate: 0.1, decaySteps: 100)
        #expect(abs(exponential(50) - Float(pow(0.1, 0.5))) < 1e-6)
        #expect(try ExponentialSchedule(initial: 1, decayRate: 0.1, decaySteps: 100, staircase: true)(150) == Float(0.1))
        let cosine = try CosineSchedule(initial: 1, decaySteps: 100, alpha: 0.1)
        #expect(cosine(0) == 1 && abs(cosine(50) - 0.55) < 1e-6 && abs(cosine(100) - 0.1) < 1e-6 && abs(cosine(500) - 0.1) < 1e-6)
        let warm = try LinearWarmupSchedule(warmupSteps: 4, then: ConstantSchedule(0.8))
        #expect([0, 1, 3, 4, 100].map { warm($0) } == [0.2, 0.4, 0.8, 0.8, 0.8])
        #expect(throws: LoupeError.self) { try StepSchedule(initial: 1, factor: 0.5, every: 0) }
    }
}
