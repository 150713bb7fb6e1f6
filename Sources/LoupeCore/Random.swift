import Foundation

/// Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", SC 2011), the
/// counter-based generator of Random123, also used by TensorFlow, JAX and cuRAND.
///
/// Output block `i` is `philox(counter: i, key: seed)`: four 32-bit words that depend on nothing but
/// the seed, the stream and the position, so the stream is the same on every platform, run and
/// thread count. The whole state (key, counter, position in the current block) is a few integers,
/// saved in checkpoints so a resumed run continues the same stream.
///
/// - Floats in [0, 1): the top 24 bits of one word, times 2⁻²⁴.
/// - Normals: Box–Muller on two words, `√(−2 ln u₁) · cos(2π u₂)` computed in Double.
/// - Truncated normals: normals redrawn until within two standard deviations
///   (`tf.random.truncated_normal`).
public struct RandomGenerator: Sendable, Equatable {
    /// The 64-bit key: the seed's two halves, mixed with the stream number.
    public private(set) var key: (UInt32, UInt32)
    /// The 128-bit counter of the next block, low word first.
    public private(set) var counter: (UInt32, UInt32, UInt32, UInt32)
    private var block: (UInt32, UInt32, UInt32, UInt32) = (0, 0, 0, 0)
    /// How many words of `block` are used (4 means the next word starts a new block).
    private var used = 4

    /// A generator for `seed`. Different `stream`s of one seed are independent sequences: one per
    /// purpose (initialization, sampling, dropout) so that one never shifts another.
    public init(seed: UInt64, stream: UInt64 = 0) {
        key = (UInt32(truncatingIfNeeded: seed), UInt32(truncatingIfNeeded: seed >> 32))
        counter = (0, 0, UInt32(truncatingIfNeeded: stream), UInt32(truncatingIfNeeded: stream >> 32))
    }

    public static func == (a: Self, b: Self) -> Bool { a.state == b.state }

    /// The full state as 11 words: key (2), counter (4), current block (4), words used (1).
    public var state: [UInt32] {
        [key.0, key.1, counter.0, counter.1, counter.2, counter.3,
         block.0, block.1, block.2, block.3, UInt32(used)]
    }

    /// Restores a state from `state`; throws when it is not 11 words with a valid position.
    public init(state: [UInt32]) throws {
        guard state.count == 11, state[10] <= 4 else {
            throw LoupeError.invalidArgument(name: "RandomGenerator.state",
                                             message: "expected 11 words ending in a position 0...4, got \(state.count) words")
        }
        key = (state[0], state[1])
        counter = (state[2], state[3], state[4], state[5])
        block = (state[6], state[7], state[8], state[9])
        used = Int(state[10])
    }

    /// One Philox4x32-10 block: ten rounds over `counter` with `key` bumped by the Weyl constants.
    public static func philox(counter c: (UInt32, UInt32, UInt32, UInt32),
                              key k: (UInt32, UInt32)) -> (UInt32, UInt32, UInt32, UInt32) {
        var (c0, c1, c2, c3) = c
        var (k0, k1) = k
        for round in 0..<10 {
            if round > 0 { k0 &+= 0x9E37_79B9; k1 &+= 0xBB67_AE85 }
            let p0 = UInt64(0xD251_1F53) &* UInt64(c0)
            let p1 = UInt64(0xCD9E_8D57) &* UInt64(c2)
            let hi0 = UInt32(truncatingIfNeeded: p0 >> 32), lo0 = UInt32(truncatingIfNeeded: p0)
            let hi1 = UInt32(truncatingIfNeeded: p1 >> 32), lo1 = UInt32(truncatingIfNeeded: p1)
            (c0, c1, c2, c3) = (hi1 ^ c1 ^ k0, lo1, hi0 ^ c3 ^ k1, lo0)
        }
        return (c0, c1, c2, c3)
    }

    private mutating func refill() {
        block = Self.philox(counter: counter, key: key)
        used = 0
        // 128-bit increment, low word first.
        counter.0 &+= 1
        if counter.0 == 0 {
            counter.1 &+= 1
            if counter.1 == 0 {
                counter.2 &+= 1
                if counter.2 == 0 { counter.3 &+= 1 }
            }
        }
    }

    /// The next 32 random bits.
    public mutating func nextUInt32() -> UInt32 {
        if used == 4 { refill() }
        defer { used += 1 }
        switch used {
        case 0: return block.0
        case 1: return block.1
        case 2: return block.2
        default: return block.3
        }
    }

    /// Uniform in [0, 1).
    public mutating func nextFloat() -> Float {
        Float(nextUInt32() >> 8) * 0x1p-24
    }

    /// Uniform integer in `0..<bound`, without modulo bias (Lemire's multiply-and-reject).
    public mutating func nextInt(below bound: Int) -> Int {
        precondition(bound > 0 && bound <= Int(UInt32.max), "bound out of range")
        let b = UInt64(bound)
        let threshold = ((UInt64(1) << 32) - b) % b
        while true {
            let product = UInt64(nextUInt32()) &* b
            if product & 0xFFFF_FFFF >= threshold { return Int(product >> 32) }
        }
    }

    /// Standard normal (mean 0, std 1).
    public mutating func nextNormal() -> Float {
        // u1 in (0, 1] so the logarithm is finite.
        let u1 = (Double(nextUInt32()) + 1) * 0x1p-32
        let u2 = Double(nextUInt32()) * 0x1p-32
        return Float((-2 * Foundation.log(u1)).squareRoot() * Foundation.cos(2 * Double.pi * u2))
    }

    /// Standard normal redrawn until |z| ≤ 2, as `tf.random.truncated_normal`.
    public mutating func nextTruncatedNormal() -> Float {
        while true {
            let z = nextNormal()
            if abs(z) <= 2 { return z }
        }
    }
}
