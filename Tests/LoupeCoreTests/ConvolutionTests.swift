import LoupeCore
import Testing

/// TensorFlow's output size and leading padding, derived here independently of WindowGeometry:
/// SAME out = ⌈in/s⌉, total pad = max((out−1)s + k − in, 0), before = ⌊total/2⌋; VALID out = ⌊(in−k)/s⌋+1.
private func tfSize(_ input: Int, _ k: Int, _ s: Int, _ padding: Padding) -> (out: Int, before: Int) {
    switch padding {
    case .same:
        let out = Int((Double(input) / Double(s)).rounded(.up))
        return (out, max((out - 1) * s + k - input, 0) / 2)
    case .valid:
        return ((input - k) / s + 1, 0)
    }
}

/// Direct 7-loop convolution (cross-correlation), NHWC × HWIO.
private func naiveConv2D(_ x: Tensor, _ w: Tensor, _ s: (Int, Int), _ padding: Padding) -> (shape: [Int], values: [Float]) {
    let (n, h, wd, c) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
    let (kh, kw, oc) = (w.shape[0], w.shape[1], w.shape[3])
    let (oh, pt) = tfSize(h, kh, s.0, padding), (ow, pl) = tfSize(wd, kw, s.1, padding)
    let xs = x.scalars, ws = w.scalars
    var out = [Float](repeating: 0, count: n * oh * ow * oc)
    for b in 0..<n { for oy in 0..<oh { for ox in 0..<ow { for o in 0..<oc {
        var total = 0.0
        for ky in 0..<kh { for kx in 0..<kw { for ch in 0..<c {
            let iy = oy * s.0 - pt + ky, ix = ox * s.1 - pl + kx
            if iy < 0 || iy >= h || ix < 0 || ix >= wd { continue }
            total += Double(xs[((b * h + iy) * wd + ix) * c + ch]) * Double(ws[((ky * kw + kx) * c + ch) * oc + o])
        } } }
        out[((b * oh + oy) * ow + ox) * oc + o] = Float(total)
    } } } }
    return ([n, oh, ow, oc], out)
}

/// Direct transposed convolution: every input element spreads itself times the filter taps.
private func naiveConv2DTranspose(_ x: Tensor, _ w: Tensor, _ outputShape: [Int], _ s: (Int, Int), _ padding: Padding) -> [Float] {
    let (n, h, wd, c) = (outputShape[0], outputShape[1], outputShape[2], outputShape[3])
    let (kh, kw, oc) = (w.shape[0], w.shape[1], w.shape[3])
    let (oh, pt) = tfSize(h, kh, s.0, padding), (ow, pl) = tfSize(wd, kw, s.1, padding)
    let xs = x.scalars, ws = w.scalars
    var out = [Double](repeating: 0, count: n * h * wd * c)
    for b in 0..<n { for oy in 0..<oh { for ox in 0..<ow { for o in 0..<oc {
        let v = Double(xs[((b * oh + oy) * ow + ox) * oc + o])
        for ky in 0..<kh { for kx in 0..<kw { for ch in 0..<c {
            let iy = oy * s.0 - pt + ky, ix = ox * s.1 - pl + kx
            if iy < 0 || iy >= h || ix < 0 || ix >= wd { continue }
            out[((b * h + iy) * wd + ix) * c + ch] += v * Double(ws[((ky * kw + kx) * c + ch) * oc + o])
        } } }
    } } } }
    return out.map { Float($0) }
}

/// Direct max pool: the largest in-bounds value of each window.
private func naiveMaxPool(_ x: Tensor, _ k: (Int, Int), _ s: (Int, Int), _ padding: Padding) -> (shape: [Int], values: [Float]) {
    let (n, h, wd, c) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
    let (oh, pt) = tfSize(h, k.0, s.0, padding), (ow, pl) = tfSize(wd, k.1, s.1, padding)
    let xs = x.scalars
    var out = [Float]()
    for b in 0..<n { for oy in 0..<oh { for ox in 0..<ow { for ch in 0..<c {
        var m = -Float.infinity
        for ky in 0..<k.0 { for kx in 0..<k.1 {
            let iy = oy * s.0 - pt + ky, ix = ox * s.1 - pl + kx
            if iy >= 0 && iy < h && ix >= 0 && ix < wd { m = max(m, xs[((b * h + iy) * wd + ix) * c + ch]) }
        } }
        out.append(m)
    } } } }
    return ([n, oh, ow, c], out)
}

/// (input shape, kernel, strides, padding): odd sizes, even kernels with SAME, stride 2, VALID, batch 1.
private let cases: [(input: [Int], kernel: (Int, Int), strides: (Int, Int), padding: Padding)] = [
    ([2, 5, 5, 3], (3, 3), (1, 1), .same),
    ([1, 5, 6, 2], (2, 2), (1, 1), .same),
    ([2, 7, 5, 2], (4, 3), (2, 2), .same),
    ([1, 6, 7, 3], (3, 2), (2, 3), .valid),
    ([2, 4, 4, 1], (5, 5), (1, 1), .same),
    ([1, 5, 5, 2], (1, 1), (2, 2), .valid),
]

@Suite struct ConvolutionTests {
    @Test(arguments: 0..<cases.count)
    func conv2dForwardMatchesDirectLoops(_ index: Int) throws {
        let c = cases[index]
        let x = random(c.input, seed: 30 + UInt64(index)), w = random([c.kernel.0, c.kernel.1, c.input[3], 4], seed: 40)
        let y = try conv2d(x, filter: w, strides: c.strides, padding: c.padding)
        let reference = naiveConv2D(x, w, c.strides, c.padding)
        #expect(y.shape == reference.shape)
        expectClose(y.scalars, reference.values)
    }

    @Test(arguments: 0..<cases.count)
    func conv2dGradients(_ index: Int) throws {
        let c = cases[index]
        let x = random(c.input, seed: 50 + UInt64(index)), w = random([c.kernel.0, c.kernel.1, c.input[3], 3], seed: 60)
        try checkGradients([x, w]) { p in try conv2d(p[0], filter: p[1], strides: c.strides, padding: c.padding) }
    }

    @Test(arguments: 0..<cases.count)
    func conv2dWithBiasMatchesConvolutionPlusBias(_ index: Int) throws {
        let c = cases[index]
        let x = random(c.input, seed: 110 + UInt64(index)), w = random([c.kernel.0, c.kernel.1, c.input[3], 3], seed: 111)
        let b = random([3], seed: 112)
        let fused = try conv2d(x, filter: w, bias: b, strides: c.strides, padding: c.padding)
        expectClose(fused.scalars, try (conv2d(x, filter: w, strides: c.strides, padding: c.padding) + b).scalars, absoluteTolerance: 1e-6)
        try checkGradients([x, w, b]) { p in try conv2d(p[0], filter: p[1], bias: p[2], strides: c.strides, padding: c.padding) }
        #expect(throws: LoupeError.self) { try conv2d(x, filter: w, bias: random([4], seed: 1), padding: .same) }
    }

    @Test(arguments: 0..<cases.count)
    func conv2dTransposeForwardAndGradients(_ index: Int) throws {
        let c = cases[index]
        let w = random([c.kernel.0, c.kernel.1, c.input[3], 3], seed: 70)
        let (oh, _) = tfSize(c.input[1], c.kernel.0, c.strides.0, c.padding)
        let (ow, _) = tfSize(c.input[2], c.kernel.1, c.strides.1, c.padding)
        let x = random([c.input[0], oh, ow, 3], seed: 80 + UInt64(index))
        let y = try conv2dTranspose(x, filter: w, outputShape: c.input, strides: c.strides, padding: c.padding)
        #expect(y.shape == c.input)
        expectClose(y.scalars, naiveConv2DTranspose(x, w, c.input, c.strides, c.padding))
        try checkGradients([x, w]) { p in
            try conv2dTranspose(p[0], filter: p[1], outputShape: c.input, strides: c.strides, padding: c.padding)
        }
    }

    @Test func conv2dTransposeIsTheAdjointOfConv2d() throws {
        // ⟨conv2d(x), y⟩ = ⟨x, conv2dTranspose(y)⟩ for any x, y.
        let x = random([2, 7, 6, 3], seed: 90), w = random([3, 4, 3, 5], seed: 91)
        let cx = try conv2d(x, filter: w, strides: (2, 2), padding: .same)
        let y = random(cx.shape, seed: 92)
        let ty = try conv2dTranspose(y, filter: w, outputShape: x.shape, strides: (2, 2), padding: .same)
        let left = zip(cx.scalars, y.scalars).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
        let right = zip(x.scalars, ty.scalars).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
        #expect(abs(left - right) < 1e-3 * abs(left))
    }

    @Test(arguments: [([2, 5, 5, 3], (2, 2), (2, 2), Padding.same), ([1, 6, 7, 2], (3, 3), (2, 2), .valid),
                      ([2, 4, 5, 2], (2, 2), (1, 1), .same), ([1, 7, 7, 4], (3, 3), (2, 2), .same)])
    func maxPoolForwardSwitchesAndGradients(_ input: [Int], _ kernel: (Int, Int), _ strides: (Int, Int), _ padding: Padding) throws {
        let x = distinct(input, seed: 100)
        let (y, switches) = try maxPool2DWithSwitches(x, kernel: kernel, strides: strides, padding: padding)
        let reference = naiveMaxPool(x, kernel, strides, padding)
        #expect(y.shape == reference.shape)
        #expect(y.scalars == reference.values)
        let xs = x.scalars
        #expect(switches.indices.map { xs[Int($0)] } == y.scalars)
        try checkGradients([x]) { p in try maxPool2D(p[0], kernel: kernel, strides: strides, padding: padding) }
        // Unpooling puts each maximum back where it came from (summed where overlapping windows
        // share a winner), zeros elsewhere.
        let unpooled = try unpool2D(y, switches: switches)
        #expect(unpooled.shape == input)
        var expected = [Float](repeating: 0, count: x.count)
        for (i, s) in switches.indices.enumerated() { expected[Int(s)] += y.scalars[i] }
        #expect(unpooled.scalars == expected)
        try checkGradients([random(y.shape, seed: 101)]) { p in try unpool2D(p[0], switches: switches) }
    }

    @Test func maxPoolSameNeverPicksPadding() throws {
        // All inputs negative: zero padding would win if padding took part.
        let x = try Tensor(shape: [1, 3, 3, 1], scalars: (1...9).map { -Float($0) })
        let y = try maxPool2D(x, kernel: (2, 2), strides: (2, 2), padding: .same)
        #expect(y.scalars == [-1, -3, -7, -9])
    }
}
