import LoupeCore
import Testing

@Suite struct RandomTests {
    // Known answers from Random123's tests/kat_vectors, the three "philox4x32 10" lines
    // (counter words, key words, then the expected block).
    @Test func philoxKnownAnswers() {
        let zero = RandomGenerator.philox(counter: (0, 0, 0, 0), key: (0, 0))
        #expect([zero.0, zero.1, zero.2, zero.3] == [0x6627_e8d5, 0xe169_c58d, 0xbc57_ac4c, 0x9b00_dbd8])
        let ones = RandomGenerator.philox(counter: (.max, .max, .max, .max), key: (.max, .max))
        #expect([ones.0, ones.1, ones.2, ones.3] == [0x408f_276d, 0x41c8_3b0e, 0xa20b_c7c6, 0x6d54_51fd])
        let pi = RandomGenerator.philox(counter: (0x243f_6a88, 0x85a3_08d3, 0x1319_8a2e, 0x0370_7344),
                                        key: (0xa409_3822, 0x299f_31d0))
        #expect([pi.0, pi.1, pi.2, pi.3] == [0xd16c_fe09, 0x94fd_cceb, 0x5001_e420, 0x2412_6ea1])
    }

    // Expected values from an independent Python implementation of the documented stream
    // (Philox4x32-10, key = seed halves, counter = (block, 0, stream low, stream high); floats
    // (w >> 8)·2⁻²⁴; normals √(−2 ln((w₁+1)·2⁻³²))·cos(2π·w₂·2⁻³²) in double, then rounded to Float),
    // which reproduces the three known answers above.
    @Test func firstValuesForSeed42() {
        var words = RandomGenerator(seed: 42)
        #expect((0..<8).map { _ in words.nextUInt32() } ==
                [0x9cea_f053, 0x77f5_493b, 0x12bf_50ad, 0x5742_b3d7, 0xfcdb_2127, 0x53ba_6cfd, 0x838f_5a6e, 0x744e_06fb])
        var floats = RandomGenerator(seed: 42)
        #expect((0..<4).map { _ in floats.nextFloat() } == [0.6129598617553711, 0.4685865044593811, 0.07323169708251953, 0.3408614993095398])
        var normals = RandomGenerator(seed: 42)
        #expect((0..<4).map { _ in normals.nextNormal() } == [-0.9701898097991943, -1.2356207370758057, -0.07318150997161865, -1.106665015220642])
        var stream7 = RandomGenerator(seed: 42, stream: 7)
        #expect((0..<4).map { _ in stream7.nextUInt32() } == [0x67ee_6f2c, 0xe554_10cc, 0x6c7e_ca35, 0x5573_98d3])
    }

    @Test func stateRoundTripContinuesTheStream() throws {
        var a = RandomGenerator(seed: 9, stream: 3)
        for _ in 0..<5 { _ = a.nextUInt32() }
        var b = try RandomGenerator(state: a.state)
        #expect((0..<10).map { _ in a.nextUInt32() } == (0..<10).map { _ in b.nextUInt32() })
        #expect(throws: LoupeError.self) { try RandomGenerator(state: [1, 2, 3]) }
    }

    @Test func distributions() {
        var g = RandomGenerator(seed: 1)
        let n = 20_000
        let normal = Tensor.randomNormal([n], mean: 2, standardDeviation: 3, generator: &g).scalars
        let m = normal.reduce(0, +) / Float(n)
        let v = normal.map { ($0 - m) * ($0 - m) }.reduce(0, +) / Float(n)
        #expect(abs(m - 2) < 0.1 && abs(v.squareRoot() - 3) < 0.1)
        let truncated = Tensor.truncatedNormal([n], standardDeviation: 0.1, generator: &g).scalars
        #expect(truncated.allSatisfy { abs($0) <= 0.2 })
        // A normal truncated at ±2σ has standard deviation ≈ 0.8796σ.
        let tv = truncated.map { $0 * $0 }.reduce(0, +) / Float(n)
        #expect(abs(tv.squareRoot() - 0.08796) < 0.003)
        let uniform = Tensor.randomUniform([n], lowerBound: -1, upperBound: 1, generator: &g).scalars
        #expect(uniform.allSatisfy { $0 >= -1 && $0 < 1 })
        #expect(abs(uniform.reduce(0, +) / Float(n)) < 0.03)
        var counts = [Int](repeating: 0, count: 7)
        for _ in 0..<7_000 { counts[g.nextInt(below: 7)] += 1 }
        #expect(counts.allSatisfy { $0 > 850 && $0 < 1150 })
    }
}
