import Foundation

/// Elementwise activations and functions, each with its pullback. Pullbacks use the saved output
/// where the derivative is a function of it (relu, tanh, sigmoid, exp), the input otherwise (log).

/// y = f(x) elementwise with a pullback dx += dy · g(x, y).
private func unary<F: VectorFunction>(_ x: Tensor, forward: F.Type,
                                       derivative: @escaping (_ x: Float, _ y: Float) -> Float) -> Tensor {
    let out = Tensor(uninitializedShape: x.shape)
    vectorMap(x.storage.pointer, out.storage.pointer, x.count, F.self)
    return Tensor.record(out, input: x, writing: { backward, target in
        let dy = backward.dy, xs = x.storage.pointer, ys = out.storage.pointer, dx = target.pointer
        if target.overwrite {
            for i in 0..<x.count { dx[i] = dy[i] * derivative(xs[i], ys[i]) }
        } else {
            for i in 0..<x.count { dx[i] += dy[i] * derivative(xs[i], ys[i]) }
        }
    })
}

/// max(x, 0). The derivative at 0 is taken as 0, as TensorFlow and PyTorch do.
public func relu(_ x: Tensor) -> Tensor {
    let out = Tensor(uninitializedShape: x.shape)
    let px = SendablePointer(x.storage.pointer), py = SendablePointer(out.storage.pointer)
    parallelRanges(x.count) { r in
        let x = px.pointer, y = py.pointer
        for i in r { y[i] = x[i] > 0 ? x[i] : 0 }
    }
    return Tensor.record(out, input: x, writing: { backward, target in
        let pdx = SendablePointer(target.pointer), pdy = SendablePointer(backward.dy), py = SendablePointer(out.storage.pointer)
        let overwrite = target.overwrite
        parallelRanges(x.count) { r in
            let dx = pdx.pointer, dy = pdy.pointer, y = py.pointer
            // Both values are loaded before the select, so it needs no branch and the loops vectorise.
            if overwrite {
                for i in r {
                    let gradient = dy[i], output = y[i]
                    dx[i] = output > 0 ? gradient : 0
                }
            } else {
                for i in r {
                    let gradient = dy[i], output = y[i]
                    dx[i] += output > 0 ? gradient : 0
                }
            }
        }
    })
}

/// Hyperbolic tangent; derivative 1 − y².
public func tanh(_ x: Tensor) -> Tensor {
    unary(x, forward: TanhFunction.self) { _, y in 1 - y * y }
}

/// Logistic sigmoid 1 / (1 + e⁻ˣ); derivative y (1 − y).
public func sigmoid(_ x: Tensor) -> Tensor {
    unary(x, forward: SigmoidFunction.self) { _, y in y * (1 - y) }
}

/// eˣ; derivative y.
public func exp(_ x: Tensor) -> Tensor {
    unary(x, forward: ExpFunction.self) { _, y in y }
}

/// Natural logarithm (NaN below 0, −∞ at 0); derivative 1 / x.
public func log(_ x: Tensor) -> Tensor {
    let out = Tensor(uninitializedShape: x.shape)
    let xs = x.storage.pointer, ys = out.storage.pointer
    for i in 0..<x.count { ys[i] = Foundation.log(xs[i]) }
    return Tensor.record(out, input: x) { backward, dx in
        // Pointers are taken inside pullbacks so that the closure owns the tensors it reads.
        let dy = backward.dy, xs = x.storage.pointer
        for i in 0..<x.count { dx[i] += dy[i] / xs[i] }
    }
}
