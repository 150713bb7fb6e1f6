import LoupeCore
import LoupeNN
import Testing

@Suite struct LayerTests {
    @Test func lenetParameterNamesAndShapes() throws {
        // A parameter the walk misses silently never trains: list the reference network's exactly.
        let model = try lenet(seed: 0)
        let found = model.namedParameters().map { "\($0.name) \($0.parameter.shape)" }
        #expect(found == [
            "conv1.weight [5, 5, 1, 32]", "conv1.bias [32]",
            "conv2.weight [5, 5, 32, 64]", "conv2.bias [64]",
            "fc1.weight [3136, 1024]", "fc1.bias [1024]",
            "fc2.weight [1024, 10]", "fc2.bias [10]",
        ])
        #expect(model.parameterCount == 5 * 5 * 32 + 32 + 5 * 5 * 32 * 64 + 64 + 3136 * 1024 + 1024 + 1024 * 10 + 10)
    }

    @Test func lenetInitialisationFollowsTheReference() throws {
        let model = try lenet(seed: 1)
        for p in model.namedParameters() {
            let values = p.parameter.value.scalars
            if p.name.hasSuffix("bias") {
                #expect(values.allSatisfy { $0 == 0.1 }, "\(p.name)")
            } else {
                #expect(values.allSatisfy { abs($0) <= 0.2 }, "\(p.name) is truncated at 2σ")
            }
        }
        let again = try lenet(seed: 1), other = try lenet(seed: 2)
        #expect(again.namedParameters()[2].parameter.value == model.namedParameters()[2].parameter.value)
        #expect(other.namedParameters()[2].parameter.value != model.namedParameters()[2].parameter.value)
    }

    @Test func lenetForwardShapesAndProbes() throws {
        let model = try lenet(seed: 0)
        var g = RandomGenerator(seed: 5)
        let images = Tensor.randomUniform([3, 28, 28, 1], generator: &g)
        let (logits, captured) = try model(images, capturing: ["relu1", "relu2"])
        #expect(logits.shape == [3, 10])
        #expect(captured["relu1"]?.shape == [3, 28, 28, 32])
        #expect(captured["relu2"]?.shape == [3, 14, 14, 64])
    }

    /// Conv2D → ReLU → MaxPool2D runs fused unless a probe captures the convolution or the ReLU;
    /// both ways give the same bits forward, and the same gradients to rounding (the fused
    /// backward adds only the windows' winners, in another order).
    @Test func sequentialFusesConvolutionReLUPoolWithoutChangingABit() throws {
        let model = try lenet(seed: 3)
        model.eval()
        var g = RandomGenerator(seed: 7)
        let images = Tensor.randomUniform([4, 28, 28, 1], generator: &g)
        let labels: [Int32] = [1, 2, 3, 4]
        let fused = try valueAndGradient(of: model) { m in try softmaxCrossEntropy(logits: m(images), labels: labels) }
        let separate = try valueAndGradient(of: model) { m in
            try softmaxCrossEntropy(logits: m(images, capturing: ["relu1", "relu2"]).output, labels: labels)
        }
        #expect(fused.value == separate.value)
        #expect(fused.gradients.names == separate.gradients.names)
        for (a, b) in zip(fused.gradients.tensors, separate.gradients.tensors) {
            #expect(a.shape == b.shape)
            let scale = b.scalars.map(abs).max() ?? 0
            let difference = zip(a.scalars, b.scalars).map { abs($0 - $1) }.max() ?? 0
            #expect(difference <= 1e-5 * max(scale, 1), "largest difference \(difference) of \(scale)")
        }
        let (logits, captured) = try model(images, capturing: ["pool1", "pool2"])
        #expect(logits == (try model(images)))
        #expect(captured["pool1"]?.shape == [4, 14, 14, 32])
        #expect(captured["pool2"]?.shape == [4, 7, 7, 64])
    }

    @Test func dropoutOnlyWhileTraining() throws {
        let model = try lenet(seed: 0)
        var g = RandomGenerator(seed: 6)
        let images = Tensor.randomUniform([2, 28, 28, 1], generator: &g)
        model.eval()
        let a = try model(images), b = try model(images)
        #expect(a == b)
        model.train()
        let c = try model(images)
        #expect(c != a)
    }

    @Test func sublayerNamesAndNestedContainers() throws {
        var g = RandomGenerator(seed: 0)
        let inner = Sequential([Dense(inputSize: 2, outputSize: 3, generator: &g), ReLU()])
        let outer = try Sequential([("block", inner), ("head", Dense(inputSize: 3, outputSize: 1, useBias: false, generator: &g))])
        #expect(outer.namedParameters().map(\.name) == ["block.0.weight", "block.0.bias", "head.weight"])
        #expect(outer.namedSublayers().map(\.name) == ["block", "block.0", "block.1", "head"])
        #expect(throws: LoupeError.self) { try Sequential([("a", ReLU()), ("a", ReLU())]) }
    }

    @Test func layerGradientsMatchTheOps() throws {
        var g = RandomGenerator(seed: 8)
        let dense = Dense(inputSize: 4, outputSize: 3, biasInitializer: .constant(0.2), generator: &g)
        let x = Tensor.randomNormal([5, 4], generator: &g)
        let (loss, grads) = try valueAndGradient(of: dense) { d in sum(tanh(try d(x))) }
        let (reference, opGrads) = try valueAndGradient(at: [dense.weight.value, dense.bias!.value]) { p in
            sum(tanh(try matmul(x, p[0]) + p[1]))
        }
        #expect(loss == reference)
        #expect(grads["weight"] == opGrads[0] && grads["bias"] == opGrads[1])
    }

    @Test func initializers() {
        var g = RandomGenerator(seed: 9)
        let glorot = Initializer.glorotUniform.make([300, 100], generator: &g).scalars
        let limit = Float((6.0 / 400).squareRoot())
        #expect(glorot.allSatisfy { abs($0) <= limit } && glorot.max()! > 0.9 * limit)
        let he = Initializer.heNormal.make([5, 5, 16, 32], generator: &g).scalars
        let std = (he.map { $0 * $0 }.reduce(0, +) / Float(he.count)).squareRoot()
        #expect(abs(std - Float((2.0 / 400).squareRoot())) < 0.005)
        #expect(Initializer.constant(0.1).make([3], generator: &g).scalars == [0.1, 0.1, 0.1])
        #expect(Initializer.zeros.make([2], generator: &g).scalars == [0, 0])
    }

    @Test func shapeErrorsNameTheLayer() throws {
        let model = try lenet(seed: 0)
        do {
            _ = try model(Tensor.zeros([1, 28, 28, 3]))
            Issue.record("no error")
        } catch {
            #expect("\(error)".contains("conv1") && "\(error)".contains("[1, 28, 28, 3]"), "\(error)")
        }
    }
}

@Suite struct SequentialErrorTests {
    @Test func errorsKeepTheirKindAndNameTheLayer() throws {
        let model = try lenet(seed: 0)
        do {
            _ = try model(Tensor.zeros([1, 28, 28, 3]))
            Issue.record("no error")
        } catch let error as LoupeError {
            guard case let .shapeMismatch(op, _) = error else {
                Issue.record("the kind was lost: \(error)")
                return
            }
            #expect(op.contains("layer conv1") && op.contains("conv2d"), "\(op)")
        }
        // A dropout layer's argument error stays an argument error, naming its layer.
        var g = RandomGenerator(seed: 1)
        let dense = try Sequential([("fc", Dense(inputSize: 4, outputSize: 2, generator: &g))])
        do {
            _ = try dense(Tensor.zeros([3, 5]))
            Issue.record("no error")
        } catch let error as LoupeError {
            guard case let .shapeMismatch(op, message) = error else {
                Issue.record("the kind was lost: \(error)")
                return
            }
            #expect(op == "layer fc (Dense)" && message.contains("[3, 5]"), "\(error)")
        }
    }
}
