/// Inverted dropout (`tf.nn.dropout`): each element kept with probability `keepProbability` and
/// scaled by 1 / keepProbability, else zeroed. The mask is drawn from `generator` in row-major
/// order (one 32-bit word per element), so it depends only on the generator's state. Layers call
/// this only while training; in evaluation dropout is the identity.
public func dropout(_ x: Tensor, keepProbability: Float, generator: inout RandomGenerator) throws -> Tensor {
    guard keepProbability > 0 && keepProbability <= 1 else {
        throw LoupeError.invalidArgument(name: "dropout keepProbability", message: "must be in (0, 1], got \(keepProbability)")
    }
    if keepProbability == 1 { return x }
    let mask = Storage(uninitializedCount: x.count)
    let scale = 1 / keepProbability
    // Compare the top 24 bits, exactly as nextFloat() < keepProbability.
    let threshold = UInt32((Double(keepProbability) * 0x1p24).rounded(.up))
    for i in 0..<x.count {
        mask.pointer[i] = (generator.nextUInt32() >> 8) < threshold ? scale : 0
    }
    let out = Tensor(uninitializedShape: x.shape)
    let xs = x.storage.pointer, ys = out.storage.pointer, ms = mask.pointer
    for i in 0..<x.count { ys[i] = xs[i] * ms[i] }
    return Tensor.record(out, input: x, writing: { backward, target in
        let dy = backward.dy, ms = mask.pointer, dx = target.pointer
        if target.overwrite {
            for i in 0..<x.count { dx[i] = dy[i] * ms[i] }
        } else {
            for i in 0..<x.count { dx[i] += dy[i] * ms[i] }
        }
    })
}
