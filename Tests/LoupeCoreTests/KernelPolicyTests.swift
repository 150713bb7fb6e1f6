import LoupeCore
import Testing

@Suite struct KernelPolicyTests {
    @Test func theEnvironmentSetsEachHalfOnItsOwn() {
        let automatic = KernelPolicy.automatic
        #expect(KernelPolicy.fromEnvironment([:]).policy == automatic)
        let convolution = KernelPolicy.fromEnvironment(["LOUPE_CONVOLUTION": "im2col"])
        #expect(convolution.policy == KernelPolicy(convolution: .im2col, products: automatic.products) && convolution.warnings.isEmpty)
        let dense = KernelPolicy.fromEnvironment(["LOUPE_DENSE": "blas"])
        #expect(dense.policy == KernelPolicy(convolution: automatic.convolution, products: .blas))
        let wrong = KernelPolicy.fromEnvironment(["LOUPE_CONVOLUTION": "fft", "LOUPE_DENSE": "gpu"])
        #expect(wrong.policy == automatic)
        #expect(wrong.warnings.count == 2 && wrong.warnings[0].contains("LOUPE_CONVOLUTION=fft") && wrong.warnings[1].contains("LOUPE_DENSE=gpu"))
    }

    @Test func runScopesThePolicy() {
        let outer = KernelPolicy.current
        let inner = KernelPolicy(convolution: .im2col, products: .blas)
        inner.run { #expect(KernelPolicy.current == inner) }
        #expect(KernelPolicy.current == outer)
        ConvolutionAlgorithm.with(.im2col) {
            #expect(KernelPolicy.current.convolution == .im2col && KernelPolicy.current.products == outer.products)
        }
    }
}

@Suite struct RandomStreamsTests {
    /// FNV-1a 64 known answers (the algorithm's published test vectors: "" and "a").
    @Test func streamNumbersAreFNV1a() {
        #expect(RandomStreams.number("") == 0xCBF2_9CE4_8422_2325)
        #expect(RandomStreams.number("a") == 0xAF63_DC4C_8601_EC8C)
    }

    @Test func purposesAreIndependentAndStable() {
        let streams = RandomStreams(seed: 42)
        var a = streams.generator("init/conv1"), b = streams.generator("init/conv1"), c = streams.generator("init/conv2")
        let first = (0..<4).map { _ in a.nextUInt32() }
        #expect(first == (0..<4).map { _ in b.nextUInt32() })
        #expect(first != (0..<4).map { _ in c.nextUInt32() })
        #expect(streams.sampling == RandomGenerator(seed: 42, stream: RandomStreams.number("sampling")))
    }

    @Test func generatorStateTextRoundTrips() throws {
        var g = RandomStreams(seed: 7).dropout(of: "dropout")
        _ = g.nextUInt32()
        #expect(try RandomGenerator(stateText: g.stateText) == g)
        #expect(throws: LoupeError.self) { try RandomGenerator(stateText: "1,2,x") }
        #expect(throws: LoupeError.self) { try RandomGenerator(stateText: "1,2,3") }
    }
}
