/// Sums and means, over all elements or along one axis.

/// Splits a shape around `axis` into [outer, length, inner].
struct AxisLayout {
    let outer: Int, length: Int, inner: Int

    init(_ op: String, _ shape: [Int], axis: Int) throws {
        let resolved = axis < 0 ? axis + shape.count : axis
        guard resolved >= 0 && resolved < shape.count else {
            throw LoupeError.shapeMismatch(op: op, message: "axis \(axis) is out of range for shape \(describe(shape))")
        }
        outer = shape[..<resolved].reduce(1, *)
        length = shape[resolved]
        inner = shape[(resolved + 1)...].reduce(1, *)
    }
}

/// The sum of every element, as a rank-0 tensor (accumulated in Double, in index order).
public func sum(_ x: Tensor) -> Tensor {
    let p = x.storage.pointer
    var total: Double = 0
    for i in 0..<x.count { total += Double(p[i]) }
    let out = Tensor(scalar: Float(total))
    return Tensor.record(out, input: x) { backward, dx in
        let g = backward.dy[0]
        for i in 0..<x.count { dx[i] += g }
    }
}

/// The mean of every element, as a rank-0 tensor.
public func mean(_ x: Tensor) -> Tensor {
    sum(x) * (1 / Float(max(x.count, 1)))
}

/// The sum along `axis` (negative counts from the end); that dimension is removed, or kept with
/// size 1 when `keepingDimension`.
public func sum(_ x: Tensor, axis: Int, keepingDimension: Bool = false) throws -> Tensor {
    let layout = try AxisLayout("sum", x.shape, axis: axis)
    let resolved = axis < 0 ? axis + x.rank : axis
    var shape = x.shape
    if keepingDimension { shape[resolved] = 1 } else { shape.remove(at: resolved) }
    let (outer, length, inner) = (layout.outer, layout.length, layout.inner)
    let out = Tensor(repeating: 0, shape: shape)
    let xs = x.storage.pointer, ys = out.storage.pointer
    for o in 0..<outer {
        let row = ys + o * inner
        for l in 0..<length {
            let src = xs + (o * length + l) * inner
            for j in 0..<inner { row[j] += src[j] }
        }
    }
    return Tensor.record(out, input: x) { backward, dx in
        let dy = backward.dy
        for o in 0..<outer {
            for l in 0..<length {
                let dst = dx + (o * length + l) * inner
                for j in 0..<inner { dst[j] += dy[o * inner + j] }
            }
        }
    }
}

/// The mean along `axis`.
public func mean(_ x: Tensor, axis: Int, keepingDimension: Bool = false) throws -> Tensor {
    let layout = try AxisLayout("mean", x.shape, axis: axis)
    return try sum(x, axis: axis, keepingDimension: keepingDimension) * (1 / Float(max(layout.length, 1)))
}
