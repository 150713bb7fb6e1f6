/// Ops that move elements without arithmetic: reshape, 2-D transpose, concat and slice.

/// The same elements with a new shape of the same count; one dimension may be -1 (inferred).
/// Shares storage with `x`.
public func reshape(_ x: Tensor, _ shape: [Int]) throws -> Tensor {
    var resolved = shape
    let inferred = shape.indices.filter { shape[$0] == -1 }
    let known = shape.filter { $0 != -1 }.reduce(1, *)
    if inferred.count > 1 || shape.contains(where: { $0 < -1 }) {
        throw LoupeError.shapeMismatch(op: "reshape", message: "bad target shape \(describe(shape))")
    }
    if let i = inferred.first {
        guard known > 0, x.count % known == 0 else {
            throw LoupeError.shapeMismatch(op: "reshape", message: "cannot reshape \(describe(x.shape)) to \(describe(shape))")
        }
        resolved[i] = x.count / known
    }
    guard resolved.reduce(1, *) == x.count else {
        throw LoupeError.shapeMismatch(op: "reshape", message: "cannot reshape \(describe(x.shape)) (\(x.count) elements) to \(describe(shape))")
    }
    let out = Tensor(shape: resolved, storage: x.storage)
    return Tensor.record(out, input: x, writing: { backward, target in
        let dy = backward.dy, dx = target.pointer
        if target.overwrite {
            dx.update(from: dy, count: x.count)
        } else {
            for i in 0..<x.count { dx[i] += dy[i] }
        }
    })
}

extension Tensor {
    public func reshaped(_ shape: [Int]) throws -> Tensor { try reshape(self, shape) }
}

/// The transpose of a 2-D tensor.
public func transpose(_ x: Tensor) throws -> Tensor {
    guard x.rank == 2 else {
        throw LoupeError.shapeMismatch(op: "transpose", message: "needs a 2-D tensor, got \(describe(x.shape))")
    }
    let (rows, columns) = (x.shape[0], x.shape[1])
    let out = Tensor(uninitializedShape: [columns, rows])
    let xs = x.storage.pointer, ys = out.storage.pointer
    for i in 0..<rows { for j in 0..<columns { ys[j * rows + i] = xs[i * columns + j] } }
    return Tensor.record(out, input: x) { backward, dx in
        let dy = backward.dy
        for i in 0..<rows { for j in 0..<columns { dx[i * columns + j] += dy[j * rows + i] } }
    }
}

/// `tensors` joined along `axis`; all other dimensions must agree.
public func concat(_ tensors: [Tensor], axis: Int) throws -> Tensor {
    guard let first = tensors.first else {
        throw LoupeError.shapeMismatch(op: "concat", message: "needs at least one tensor")
    }
    let resolved = axis < 0 ? axis + first.rank : axis
    let layouts = try tensors.map { try AxisLayout("concat", $0.shape, axis: axis) }
    for t in tensors where t.rank != first.rank || (0..<first.rank).contains(where: { $0 != resolved && t.shape[$0] != first.shape[$0] }) {
        throw LoupeError.shapeMismatch(
            op: "concat", message: "shapes \(describe(first.shape)) and \(describe(t.shape)) differ outside axis \(axis)")
    }
    var shape = first.shape
    shape[resolved] = layouts.reduce(0) { $0 + $1.length }
    let outer = layouts[0].outer, inner = layouts[0].inner, total = shape[resolved]
    let out = Tensor(uninitializedShape: shape)
    let ys = out.storage.pointer
    var offset = 0
    var offsets: [Int] = []
    for (t, layout) in zip(tensors, layouts) {
        offsets.append(offset)
        let block = layout.length * inner
        for o in 0..<outer {
            (ys + (o * total + offset) * inner).update(from: t.storage.pointer + o * block, count: block)
        }
        offset += layout.length
    }
    return Tensor.record(out, inputs: tensors) { backward, nodes in
        let dy = backward.dy
        for (index, layout) in layouts.enumerated() {
            guard let dx = backward.gradient(nodes[index]) else { continue }
            let block = layout.length * inner
            for o in 0..<outer {
                let src = dy + (o * total + offsets[index]) * inner, dst = dx + o * block
                for j in 0..<block { dst[j] += src[j] }
            }
        }
    }
}

/// Elements `range` along `axis`.
public func slice(_ x: Tensor, axis: Int, range: Range<Int>) throws -> Tensor {
    let layout = try AxisLayout("slice", x.shape, axis: axis)
    guard range.lowerBound >= 0 && range.upperBound <= layout.length else {
        throw LoupeError.shapeMismatch(
            op: "slice", message: "range \(range.lowerBound)..<\(range.upperBound) is outside axis \(axis) of \(describe(x.shape))")
    }
    var shape = x.shape
    shape[axis < 0 ? axis + x.rank : axis] = range.count
    let (outer, length, inner) = (layout.outer, layout.length, layout.inner)
    let block = range.count * inner
    let out = Tensor(uninitializedShape: shape)
    for o in 0..<outer {
        (out.storage.pointer + o * block).update(from: x.storage.pointer + (o * length + range.lowerBound) * inner, count: block)
    }
    return Tensor.record(out, input: x) { backward, dx in
        let dy = backward.dy
        for o in 0..<outer {
            let dst = dx + (o * length + range.lowerBound) * inner, src = dy + o * block
            for j in 0..<block { dst[j] += src[j] }
        }
    }
}
