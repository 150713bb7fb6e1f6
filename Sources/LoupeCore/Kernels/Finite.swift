/// Whether all `count` floats at `values` are finite (no NaN, no ±infinity).
///
/// x·0 is 0 for every finite x and NaN for NaN and ±∞, so a running sum of x·0 stays 0 exactly
/// while every value is finite: one multiply-add per element, no branch, memory-bound.
/// values: [count]
func allFinite(_ values: UnsafePointer<Float>, count: Int) -> Bool {
    var accumulator = SIMD16<Float>()
    var i = 0
    while i &+ 16 <= count {
        accumulator += UnsafeRawPointer(values + i).loadUnaligned(as: SIMD16<Float>.self) * 0
        i &+= 16
    }
    var tail: Float = 0
    while i < count {
        tail += values[i] * 0
        i &+= 1
    }
    return (accumulator.sum() + tail) == 0
}

/// The reference: every element tested on its own.
func allFiniteReference(_ values: UnsafePointer<Float>, count: Int) -> Bool {
    (0..<count).allSatisfy { values[$0].isFinite }
}

extension Tensor {
    /// Whether every element is finite; large tensors are checked in two halves in parallel.
    public var isFinite: Bool {
        let n = count
        let parts = n >= (1 << 18) ? 2 : 1
        let values = SendablePointer(storage.pointer)
        let results = UnsafeMutablePointer<Bool>.allocate(capacity: parts)
        defer { results.deallocate() }
        let shared = SendablePointer(results)
        parallelFor(parts) { part in
            let range = chunkRange(part, of: parts, total: n)
            shared.pointer[part] = allFinite(values.pointer + range.lowerBound, count: range.count)
        }
        return (0..<parts).allSatisfy { results[$0] }
    }
}
