/// Max-pool forward: each output is the largest input in its window (padding never wins), and its
/// switch is that input's flat index in `x`. Ties go to the first in row-major window order.
// x: [n, h, w, c]  y, switches: [n, oh, ow, c]; images `images` only.
@inlinable
func maxPoolForward(_ g: WindowGeometry, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>,
                    _ switches: UnsafeMutablePointer<Int32>, images: Range<Int>) {
    let (h, w, c) = (g.height, g.width, g.channels)
    let (oh, ow) = (g.outputHeight, g.outputWidth)
    for b in images {
        for oy in 0..<oh {
            let iy0 = max(0, oy &* g.strideHeight &- g.padTop)
            let iy1 = min(h, oy &* g.strideHeight &- g.padTop &+ g.kernelHeight)
            for ox in 0..<ow {
                let ix0 = max(0, ox &* g.strideWidth &- g.padLeft)
                let ix1 = min(w, ox &* g.strideWidth &- g.padLeft &+ g.kernelWidth)
                let o = ((b &* oh &+ oy) &* ow &+ ox) &* c
                let out = y + o, sw = switches + o
                let first = ((b &* h &+ iy0) &* w &+ ix0) &* c
                if iy1 &- iy0 == 2 && ix1 &- ix0 == 2 {
                    // The common 2x2 window, all four inputs present: one branchless pass.
                    let right = c, below = w &* c
                    let p0 = x + first, p1 = p0 + right, p2 = p0 + below, p3 = p2 + right
                    let i0 = Int32(truncatingIfNeeded: first), i1 = i0 &+ Int32(truncatingIfNeeded: right)
                    let i2 = i0 &+ Int32(truncatingIfNeeded: below), i3 = i2 &+ Int32(truncatingIfNeeded: right)
                    for ch in 0..<c {
                        let channel = Int32(truncatingIfNeeded: ch)
                        var m = p0[ch], index = i0 &+ channel
                        let v1 = p1[ch], v2 = p2[ch], v3 = p3[ch]
                        index = v1 > m ? i1 &+ channel : index
                        m = v1 > m ? v1 : m
                        index = v2 > m ? i2 &+ channel : index
                        m = v2 > m ? v2 : m
                        index = v3 > m ? i3 &+ channel : index
                        m = v3 > m ? v3 : m
                        out[ch] = m
                        sw[ch] = index
                    }
                    continue
                }
                for ch in 0..<c {
                    out[ch] = x[first &+ ch]
                    sw[ch] = Int32(truncatingIfNeeded: first &+ ch)
                }
                for iy in iy0..<iy1 {
                    for ix in ix0..<ix1 where iy != iy0 || ix != ix0 {
                        let base = ((b &* h &+ iy) &* w &+ ix) &* c
                        let src = x + base
                        let base32 = Int32(truncatingIfNeeded: base)
                        for ch in 0..<c {  // branchless selects: vectorises
                            let v = src[ch], better = v > out[ch]
                            out[ch] = better ? v : out[ch]
                            sw[ch] = better ? base32 &+ Int32(truncatingIfNeeded: ch) : sw[ch]
                        }
                    }
                }
            }
        }
    }
}

/// Scatter-add through switches: x[switches[i]] += y[i] for the outputs of `images`.
/// Max-pool's backward and unpooling's forward.
// y, switches: [n, oh, ow, c]  x: [n, h, w, c]
@inlinable
func scatterThroughSwitches(_ perImage: Int, _ y: UnsafePointer<Float>, _ switches: UnsafePointer<Int32>,
                            _ x: UnsafeMutablePointer<Float>, images: Range<Int>) {
    for i in (images.lowerBound &* perImage)..<(images.upperBound &* perImage) {
        x[Int(switches[i])] += y[i]
    }
}

/// Gather through switches: y[i] += x[switches[i]]. Unpooling's backward.
@inlinable
func gatherThroughSwitches(_ perImage: Int, _ x: UnsafePointer<Float>, _ switches: UnsafePointer<Int32>,
                           _ y: UnsafeMutablePointer<Float>, images: Range<Int>) {
    for i in (images.lowerBound &* perImage)..<(images.upperBound &* perImage) {
        y[i] += x[Int(switches[i])]
    }
}
