/// Vectorised exp, expm1, sigmoid and tanh over `SIMD16<Float>`: the C library's scalar `expf` and
/// `tanhf` cost ~15 ns each here (MEASURED.md), too slow for activations and recurrent cells.
///
/// exp: x = n·ln2 + r with |r| ≤ ln2/2, n by the round-to-nearest magic constant 1.5·2²³, eᵣ by its
/// degree-7 Taylor polynomial (relative error below 2⁻²³ on that range), 2ⁿ built in the exponent
/// bits. Inputs are clamped to [−87.3, 88.3] so 2ⁿ stays a normal float. expm1 keeps the polynomial
/// without its constant term so that small |x| keep their relative accuracy; tanh(x) =
/// expm1(2x) / (expm1(2x) + 2), accurate near 0 and exactly ±1 beyond |x| = 9.
/// Every element goes through the same vector code (tails are padded), so results never depend on
/// where an element sits in a buffer.
@usableFromInline
enum VectorMath {
    @usableFromInline typealias V = SIMD16<Float>
    @usableFromInline typealias U = SIMD16<UInt32>

    /// Returns (2ⁿ, r) with x = n·ln2 + r.
    @inlinable @inline(__always)
    static func reduce(_ x: V) -> (scale: V, r: V) {
        let magic: Float = 12_582_912  // 1.5 · 2²³
        let clamped = x.clamped(lowerBound: V(repeating: -87.3), upperBound: V(repeating: 88.3))
        let shifted = clamped * 1.442_695_04 + magic
        let n = shifted - magic
        let r = (clamped - n * 0.693_145_751_953_125) - n * 1.428_606_765_330_187_045e-6
        let bits = unsafeBitCast(shifted, to: U.self) &- U(repeating: 0x4B40_0000)
        let scale = unsafeBitCast((bits &+ 127) &<< 23, to: V.self)
        return (scale, r)
    }

    /// eʳ − 1 for |r| ≤ ln2/2, as r·(1 + r/2 + r²/6 + … + r⁶/5040).
    @inlinable @inline(__always)
    static func expm1Polynomial(_ r: V) -> V {
        var p = V(repeating: 1.0 / 5040)
        p = p * r + 1.0 / 720
        p = p * r + 1.0 / 120
        p = p * r + 1.0 / 24
        p = p * r + 1.0 / 6
        p = p * r + 0.5
        p = p * r + 1
        return p * r
    }

    @inlinable @inline(__always)
    static func exp(_ x: V) -> V {
        let (scale, r) = reduce(x)
        return scale * expm1Polynomial(r) + scale
    }

    @inlinable @inline(__always)
    static func expm1(_ x: V) -> V {
        let (scale, r) = reduce(x)
        return scale * expm1Polynomial(r) + (scale - 1)
    }

    @inlinable @inline(__always)
    static func sigmoid(_ x: V) -> V { 1 / (1 + exp(-x)) }

    @inlinable @inline(__always)
    static func tanh(_ x: V) -> V {
        let e = expm1(2 * x.clamped(lowerBound: V(repeating: -9), upperBound: V(repeating: 9)))
        return e / (e + 2)
    }

    /// Applies `f` to `count` floats from `x` into `y` (which may be `x`).
    @inlinable @inline(__always)
    static func map(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ count: Int, _ f: (V) -> V) {
        var i = 0
        let width = V.scalarCount
        while i &+ width <= count {
            let v = UnsafeRawPointer(x + i).loadUnaligned(as: V.self)
            UnsafeMutableRawPointer(y + i).storeBytes(of: f(v), as: V.self)
            i &+= width
        }
        if i < count {
            var v = V(repeating: 0)
            for j in 0..<(count &- i) { v[j] = x[i &+ j] }
            let out = f(v)
            for j in 0..<(count &- i) { y[i &+ j] = out[j] }
        }
    }
}

/// A vectorised elementwise function as a type, so `vectorMap` is specialised for it.
protocol VectorFunction: SendableMetatype { static func apply(_ x: SIMD16<Float>) -> SIMD16<Float> }
enum ExpFunction: VectorFunction { @inline(__always) static func apply(_ x: SIMD16<Float>) -> SIMD16<Float> { VectorMath.exp(x) } }
enum TanhFunction: VectorFunction { @inline(__always) static func apply(_ x: SIMD16<Float>) -> SIMD16<Float> { VectorMath.tanh(x) } }
enum SigmoidFunction: VectorFunction { @inline(__always) static func apply(_ x: SIMD16<Float>) -> SIMD16<Float> { VectorMath.sigmoid(x) } }

/// y = F(x) elementwise over `count` floats, in parallel for large buffers.
func vectorMap<F: VectorFunction>(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ count: Int, _ function: F.Type) {
    let px = SendablePointer(x), py = SendablePointer(y)
    parallelRanges(count) { r in
        VectorMath.map(px.pointer + r.lowerBound, py.pointer + r.lowerBound, r.count, F.apply)
    }
}

/// Public vectorised exp / tanh / sigmoid over buffers, for kernels in other modules (recurrent cells).
public enum FastMath {
    public static func exp(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int) {
        VectorMath.map(x, y, count, VectorMath.exp)
    }
    public static func tanh(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int) {
        VectorMath.map(x, y, count, VectorMath.tanh)
    }
    public static func sigmoid(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int) {
        VectorMath.map(x, y, count, VectorMath.sigmoid)
    }
}
