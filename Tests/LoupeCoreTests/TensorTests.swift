import LoupeCore
import Testing

@Suite struct TensorTests {
    @Test func creation() throws {
        #expect(Tensor.zeros([2, 3]).scalars == [Float](repeating: 0, count: 6))
        #expect(Tensor.ones([4]).scalars == [1, 1, 1, 1])
        #expect(Tensor(repeating: 2.5, shape: [1, 2]).scalars == [2.5, 2.5])
        let t = try Tensor(shape: [2, 2], scalars: [1, 2, 3, 4])
        #expect(t.shape == [2, 2] && t.count == 4 && t.rank == 2)
        #expect(Tensor(scalar: 3).shape == [] && Tensor(scalar: 3).scalar == 3)
        #expect(throws: LoupeError.self) { try Tensor(shape: [2, 2], scalars: [1, 2, 3]) }
    }

    @Test func copyOnWrite() {
        let a = Tensor([1, 2, 3])
        var b = a
        b.withUnsafeMutableBufferPointer { $0[0] = 10 }
        #expect(a.scalars == [1, 2, 3])
        #expect(b.scalars == [10, 2, 3])
    }

    @Test func sameSeedSameTensor() {
        var g1 = RandomGenerator(seed: 5), g2 = RandomGenerator(seed: 5)
        #expect(Tensor.truncatedNormal([100], standardDeviation: 0.1, generator: &g1)
                == Tensor.truncatedNormal([100], standardDeviation: 0.1, generator: &g2))
    }

    @Test func workersFlushDenormalsToZero() {
        let tiny = Tensor(repeating: 1e-30, shape: [1 << 16])
        let product = tiny * Float(1e-10)   // 1e-40 is denormal: flushed to 0
        #expect(product.scalars.allSatisfy { $0 == 0 })
        let flags = ThreadFlags()
        parallelFor(4) { _ in flags.record(flushesDenormals) }
        #expect(flags.all)
    }
}

import Synchronization
private final class ThreadFlags: Sendable {
    private let values = Mutex<[Bool]>([])
    func record(_ value: Bool) { values.withLock { $0.append(value) } }
    var all: Bool { values.withLock { !$0.isEmpty && $0.allSatisfy { $0 } } }
}
