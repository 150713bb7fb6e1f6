import Foundation

/// Softmax, log-softmax and the fused softmax cross-entropy, all along the last axis.
/// Each subtracts the row maximum first, so large logits never overflow.

/// Rows of the last axis: (rows, classes).
private func rows(_ op: String, _ x: Tensor) throws -> (Int, Int) {
    guard x.rank >= 1, let classes = x.shape.last, classes > 0 else {
        throw LoupeError.shapeMismatch(op: op, message: "needs at least one class along the last axis, got \(describe(x.shape))")
    }
    return (x.count / classes, classes)
}

/// Writes log-softmax of each row of x into y.
// x, y: [rows, classes]
private func logSoftmaxRows(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, rows: Int, classes: Int) {
    for r in 0..<rows {
        let xr = x + r * classes, yr = y + r * classes
        var m = -Float.infinity
        for j in 0..<classes { m = max(m, xr[j]) }
        var total: Float = 0
        for j in 0..<classes { total += Foundation.exp(xr[j] - m) }
        let logTotal = Foundation.log(total)
        for j in 0..<classes { yr[j] = (xr[j] - m) - logTotal }
    }
}

/// exp(xᵢ) / Σⱼ exp(xⱼ) along the last axis. Pullback: dx = y ⊙ (dy − Σ dy ⊙ y).
public func softmax(_ x: Tensor) throws -> Tensor {
    let (n, classes) = try rows("softmax", x)
    let out = Tensor(uninitializedShape: x.shape)
    let ys = out.storage.pointer
    logSoftmaxRows(x.storage.pointer, ys, rows: n, classes: classes)
    for i in 0..<x.count { ys[i] = Foundation.exp(ys[i]) }
    return Tensor.record(out, input: x) { backward, dx in
        let dy = backward.dy, ys = out.storage.pointer
        for r in 0..<n {
            let o = r * classes
            var dot: Float = 0
            for j in 0..<classes { dot += dy[o + j] * ys[o + j] }
            for j in 0..<classes { dx[o + j] += ys[o + j] * (dy[o + j] - dot) }
        }
    }
}

/// xᵢ − log Σⱼ exp(xⱼ) along the last axis. Pullback: dx = dy − softmax ⊙ Σ dy.
public func logSoftmax(_ x: Tensor) throws -> Tensor {
    let (n, classes) = try rows("logSoftmax", x)
    let out = Tensor(uninitializedShape: x.shape)
    let ys = out.storage.pointer
    logSoftmaxRows(x.storage.pointer, ys, rows: n, classes: classes)
    return Tensor.record(out, input: x) { backward, dx in
        let dy = backward.dy, ys = out.storage.pointer
        for r in 0..<n {
            let o = r * classes
            var total: Float = 0
            for j in 0..<classes { total += dy[o + j] }
            for j in 0..<classes { dx[o + j] += dy[o + j] - Foundation.exp(ys[o + j]) * total }
        }
    }
}

/// Mean over the batch of −log softmax(logits)[label] (`tf.nn.sparse_softmax_cross_entropy_with_logits`
/// followed by `tf.reduce_mean`). logits [N, classes], one label in 0..<classes per row.
/// Pullback: dlogits = (softmax − onehot(label)) / N.
public func softmaxCrossEntropy(logits: Tensor, labels: [Int32]) throws -> Tensor {
    guard logits.rank == 2 else {
        throw LoupeError.shapeMismatch(op: "softmaxCrossEntropy", message: "logits must be [N, classes], got \(describe(logits.shape))")
    }
    let (n, classes) = (logits.shape[0], logits.shape[1])
    guard labels.count == n else {
        throw LoupeError.shapeMismatch(op: "softmaxCrossEntropy", message: "logits \(describe(logits.shape)) need \(n) labels, got \(labels.count)")
    }
    if let bad = labels.firstIndex(where: { $0 < 0 || Int($0) >= classes }) {
        throw LoupeError.invalidArgument(name: "softmaxCrossEntropy labels",
                                         message: "label \(labels[bad]) at index \(bad) is outside 0..<\(classes)")
    }
    let logProbabilities = Storage(uninitializedCount: logits.count)
    logSoftmaxRows(logits.storage.pointer, logProbabilities.pointer, rows: n, classes: classes)
    let lp = logProbabilities.pointer
    var total: Double = 0
    for r in 0..<n { total -= Double(lp[r * classes + Int(labels[r])]) }
    let out = Tensor(scalar: Float(total / Double(max(n, 1))))
    return Tensor.record(out, input: logits) { backward, dx in
        let scale = backward.dy[0] / Float(max(n, 1)), lp = logProbabilities.pointer
        for r in 0..<n {
            let o = r * classes
            for j in 0..<classes { dx[o + j] += scale * Foundation.exp(lp[o + j]) }
            dx[o + Int(labels[r])] -= scale
        }
    }
}

/// `softmaxCrossEntropy` with `Int` labels.
public func softmaxCrossEntropy(logits: Tensor, labels: [Int]) throws -> Tensor {
    try softmaxCrossEntropy(logits: logits, labels: labels.map { Int32(clamping: $0) })
}
