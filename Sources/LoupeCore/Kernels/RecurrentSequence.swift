import CLoupeSupport

/// The forward and backward passes of one recurrent layer over a whole sequence, and what the
/// forward keeps for the backward.
///
/// Buffers are time-major: step t of example b is row t·B + b.
/// - Forward: the input projection of every step in one product, `[T·B, F] × [F, G·H]` (bias
///   rows first, so the product adds to them); then, step by step, the recurrent product of all
///   gates `h·Wh` added to the step's rows (two for TensorFlow's GRU, whose candidate needs r·h
///   first) and the cell's elementwise pass (CLoupeSupport/RecurrentCells.c), which overwrites the
///   pre-activations with exactly what the backward needs: the gates' activations, the states.
/// - Backward: step by step from the last, the cell's gradients (written over the activations)
///   and `dGates × Whᵀ` for the previous state; after the sweep, each weight gradient as one
///   product with inner dimension T·B, the bias gradients as column sums.
///
/// Examples are independent across the whole sweep, so the batch is cut into fixed halves (by
/// shape, never by thread count) that run the sweep side by side with single-threaded BLAS:
/// two synchronisations per pass instead of two per step, and the same bits on any thread count.
final class RecurrentSequence: @unchecked Sendable {
    let cell: RecurrentCell
    let batch: Int, steps: Int, features: Int, units: Int
    var gates: Int { cell.gateCount }

    /// [T·B, F]: the input, time-major (for the input kernel's gradient).
    let input: Storage
    /// [T·B, G·H]: pre-activations, then activations, then (in the backward) pre-activation gradients.
    let activations: Storage
    /// [(T+1)·B, H]: h₀ … h_T.
    let states: Storage
    /// LSTM: [(T+1)·B, H] cells c₀ … c_T and [T·B, H] tanh(c₁ … c_T).
    let cells: Storage?
    let tanhCells: Storage?
    /// GRU (reset after): [T·B, 3H] the recurrent products h·Wh + bh, then their gradients.
    let recurrentProducts: Storage?
    /// GRU (TensorFlow 1.x): [T·B, H] r·h, the candidate product's left side.
    let resetStates: Storage?

    init(cell: RecurrentCell, batch: Int, steps: Int, features: Int, units: Int) {
        self.cell = cell
        self.batch = batch
        self.steps = steps
        self.features = features
        self.units = units
        let rows = steps * batch
        input = Storage(uninitializedCount: rows * features)
        activations = Storage(uninitializedCount: rows * cell.gateCount * units)
        states = Storage(uninitializedCount: (rows + batch) * units)
        switch cell {
        case .lstm:
            cells = Storage(uninitializedCount: (rows + batch) * units)
            tanhCells = Storage(uninitializedCount: rows * units)
            recurrentProducts = nil
            resetStates = nil
        case let .gru(resetAfter):
            cells = nil
            tanhCells = nil
            recurrentProducts = resetAfter ? Storage(uninitializedCount: rows * 3 * units) : nil
            resetStates = resetAfter ? nil : Storage(uninitializedCount: rows * units)
        case .simple:
            cells = nil
            tanhCells = nil
            recurrentProducts = nil
            resetStates = nil
        }
    }

    /// The batch's fixed halves (one part below 16 examples, where a split would cost more).
    var parts: Int { batch >= 16 ? 2 : 1 }

    // MARK: Forward

    func forward(input x: UnsafePointer<Float>, kernel: UnsafePointer<Float>, recurrentKernel: UnsafePointer<Float>,
                 bias: UnsafePointer<Float>?, recurrentBias: UnsafePointer<Float>?, initialState: UnsafePointer<Float>?,
                 initialCell: UnsafePointer<Float>?) {
        let (b, t, f, h, gh) = (batch, steps, features, units, gates * units)
        // [B, T, F] → [T, B, F].
        let xt = input.pointer
        for e in 0..<b {
            for s in 0..<t { (xt + (s &* b &+ e) &* f).update(from: x + (e &* t &+ s) &* f, count: f) }
        }
        let z = activations.pointer
        if let bias {
            for row in 0..<(t * b) { (z + row &* gh).update(from: bias, count: gh) }
        }
        // The input projection of every step: one product, its rows in two fixed halves.
        let projection = PackedOperand(k: f, n: gh, b: kernel, ldb: gh)
        let pxt = SendablePointer(xt), pzz = SendablePointer(z), accumulate = bias != nil
        parallelFor(t * b >= 64 ? 2 : 1) { part in
            let r = chunkRange(part, of: t * b >= 64 ? 2 : 1, total: t * b)
            projection.multiply(m: r.count, a: pxt.pointer + r.lowerBound * f, lda: f, accumulate: accumulate,
                                c: pzz.pointer + r.lowerBound * gh, ldc: gh)
        }
        if let initialState { states.pointer.update(from: initialState, count: b * h) } else {
            states.pointer.initialize(repeating: 0, count: b * h)
        }
        if let cells {
            if let initialCell { cells.pointer.update(from: initialCell, count: b * h) } else {
                cells.pointer.initialize(repeating: 0, count: b * h)
            }
        }
        // The recurrent kernel is the right-hand side of every step's product: packed once.
        let products: [PackedOperand]
        if cell == .gru(resetAfter: false) {
            products = [PackedOperand(k: h, n: 2 * h, b: recurrentKernel, ldb: gh),
                        PackedOperand(k: h, n: h, b: recurrentKernel + 2 * h, ldb: gh)]
        } else {
            products = [PackedOperand(k: h, n: gh, b: recurrentKernel, ldb: gh)]
        }
        let rb = recurrentBias.map { SendablePointer($0) }
        let parts = self.parts
        parallelFor(parts) { part in
            let r = chunkRange(part, of: parts, total: b)
            if r.isEmpty { return }
            for s in 0..<t { self.forwardStep(s, rows: r, products: products, recurrentBias: rb?.pointer) }
        }
    }

    private func forwardStep(_ s: Int, rows r: Range<Int>, products: [PackedOperand], recurrentBias: UnsafePointer<Float>?) {
        let (b, h, gh) = (batch, units, gates * units)
        let n = Int32(r.count), h32 = Int32(h)
        let row = s &* b &+ r.lowerBound
        let hPrev = states.pointer + row &* h
        let hNext = states.pointer + (row &+ b) &* h
        let z = activations.pointer + row &* gh
        switch cell {
        case .simple:
            products[0].multiply(m: r.count, a: hPrev, lda: h, accumulate: true, c: z, ldc: h)
            loupe_rnn_forward(n, h32, z, hNext)
        case let .lstm(forgetBias):
            products[0].multiply(m: r.count, a: hPrev, lda: h, accumulate: true, c: z, ldc: gh)
            let c = cells!.pointer
            loupe_lstm_forward(n, h32, z, c + row &* h, c + (row &+ b) &* h, tanhCells!.pointer + row &* h, hNext, forgetBias)
        case .gru(resetAfter: true):
            let q = recurrentProducts!.pointer + row &* gh
            if let recurrentBias {
                for i in 0..<r.count { (q + i &* gh).update(from: recurrentBias, count: gh) }
            }
            products[0].multiply(m: r.count, a: hPrev, lda: h, accumulate: recurrentBias != nil, c: q, ldc: gh)
            loupe_gru_forward(n, h32, z, q, hPrev, hNext)
        case .gru(resetAfter: false):
            let rh = resetStates!.pointer + row &* h
            products[0].multiply(m: r.count, a: hPrev, lda: h, accumulate: true, c: z, ldc: gh)
            loupe_gru_tf1_gates(n, h32, z, hPrev, rh)
            products[1].multiply(m: r.count, a: rh, lda: h, accumulate: true, c: z + 2 * h, ldc: gh)
            loupe_gru_tf1_candidate(n, h32, z, hPrev, hNext)
        }
    }

    /// The last state [B, H], or every step's [B, T, H].
    func output(returnSequences: Bool, into out: UnsafeMutablePointer<Float>) {
        let (b, t, h) = (batch, steps, units)
        if returnSequences {
            for e in 0..<b {
                for s in 0..<t { (out + (e &* t &+ s) &* h).update(from: states.pointer + ((s &+ 1) &* b &+ e) &* h, count: h) }
            }
        } else {
            out.update(from: states.pointer + t * b * h, count: b * h)
        }
    }

    // MARK: Backward

    /// Consumes what the forward kept (the activations become gradients): call once.
    func backward(outputGradient dy: UnsafePointer<Float>, returnSequences: Bool,
                  kernel: UnsafePointer<Float>, recurrentKernel: UnsafePointer<Float>,
                  input dx: GradientTarget?, kernelGradient: GradientTarget?, recurrentKernelGradient: GradientTarget?,
                  biasGradient: GradientTarget?, recurrentBiasGradient: GradientTarget?,
                  initialStateGradient: GradientTarget?, initialCellGradient: GradientTarget?) {
        let (b, t, f, h, gh) = (batch, steps, features, units, gates * units)
        let pdy = SendablePointer(dy)
        let dh0 = initialStateGradient, dc0 = initialCellGradient
        // Every step multiplies by the recurrent kernel's transpose (blocks of it for
        // TensorFlow's GRU: the candidate's, then the gates'): transposed and packed once.
        let products: [PackedOperand]
        if cell == .gru(resetAfter: false) {
            products = [PackedOperand(transposing: recurrentKernel + 2 * h, rows: h, columns: h, ld: gh),
                        PackedOperand(transposing: recurrentKernel, rows: h, columns: 2 * h, ld: gh)]
        } else {
            products = [PackedOperand(transposing: recurrentKernel, rows: h, columns: gh, ld: gh)]
        }
        let parts = self.parts
        // Small layers accumulate their weight and bias gradients step by step, from each
        // part's rows while they are in cache, into one partial sum per part (added in part
        // order after the sweep); large ones (whose gradient would not stay in L2) take one
        // product each after the sweep, with inner dimension T·B.
        let accumulating = h * gh <= 131_072 && PackedOperand.packable(n: h) && PackedOperand.packable(n: gh)
        let layout = PartialGradients(features: f, units: h, gates: gh)
        let partials = accumulating ? (0..<parts).map { _ in Storage(zeros: layout.count) } : []
        parallelFor(parts) { part in
            let r = chunkRange(part, of: parts, total: b)
            if r.isEmpty { return }
            self.backwardSweep(rows: r, dy: pdy.pointer, returnSequences: returnSequences, products: products,
                               initialStateGradient: dh0, initialCellGradient: dc0,
                               partial: accumulating ? partials[part].pointer : nil, layout: layout)
        }
        let rows = t * b
        let z = activations.pointer
        if accumulating {
            let targets: [(GradientTarget?, Int, Int)] = [
                (kernelGradient, layout.kernel, f * gh), (recurrentKernelGradient, layout.recurrentKernel, h * gh),
                (biasGradient, layout.bias, gh), (recurrentBiasGradient, layout.recurrentBias, gh)]
            for (target, offset, count) in targets {
                guard let target else { continue }
                let out = target.pointer
                for i in 0..<count {
                    var sum = partials[0].pointer[offset + i]
                    for p in partials.dropFirst() { sum += p.pointer[offset + i] }
                    out[i] = target.overwrite ? sum : out[i] + sum
                }
            }
        } else {
            postSweepGradients(kernelGradient: kernelGradient, recurrentKernelGradient: recurrentKernelGradient,
                               biasGradient: biasGradient, recurrentBiasGradient: recurrentBiasGradient)
        }
        if let dx {
            // [T·B, F] = dGates · Wxᵀ, then back to [B, T, F].
            let tmp = Storage(uninitializedCount: rows * f)
            gemm(transposeA: false, transposeB: true, m: rows, n: f, k: gh, a: z, b: kernel, c: tmp.pointer)
            for e in 0..<b {
                for s in 0..<t {
                    let src = tmp.pointer + (s &* b &+ e) &* f, dst = dx.pointer + (e &* t &+ s) &* f
                    if dx.overwrite { dst.update(from: src, count: f) } else { for i in 0..<f { dst[i] += src[i] } }
                }
            }
        }
    }

    /// Adds step s's share of the weight and bias gradients, from the part's rows `r`, to its
    /// partial sums: xᵀ·dZ, hᵀ·dZ (for the GRUs, the recurrent side's gradients; for TensorFlow's,
    /// (r·h)ᵀ for the candidate's block), column sums of dZ.
    private func accumulate(step s: Int, rows r: Range<Int>, into partial: UnsafeMutablePointer<Float>,
                            layout: PartialGradients) {
        let (b, f, h, gh) = (batch, features, units, gates * units)
        let row = s &* b &+ r.lowerBound, n = Int32(r.count)
        let z = activations.pointer + row &* gh, hPrev = states.pointer + row &* h
        let g32 = Int32(gh), h32 = Int32(h)
        loupe_gemm_tn(Int32(f), g32, n, input.pointer + row &* f, Int32(f), z, g32, partial + layout.kernel, g32, 1)
        var recurrentSide = UnsafePointer(z)
        switch cell {
        case .simple, .lstm:
            loupe_gemm_tn(h32, g32, n, hPrev, h32, z, g32, partial + layout.recurrentKernel, g32, 1)
        case .gru(resetAfter: true):
            let q = recurrentProducts!.pointer + row &* gh
            loupe_gemm_tn(h32, g32, n, hPrev, h32, q, g32, partial + layout.recurrentKernel, g32, 1)
            recurrentSide = UnsafePointer(q)
        case .gru(resetAfter: false):
            let rh = resetStates!.pointer + row &* h
            loupe_gemm_tn(h32, 2 * h32, n, hPrev, h32, z, g32, partial + layout.recurrentKernel, g32, 1)
            loupe_gemm_tn(h32, h32, n, rh, h32, z + 2 * h, g32, partial + layout.recurrentKernel + 2 * h, g32, 1)
        }
        Self.addColumns(z, rows: r.count, stride: gh, 0..<gh, into: partial + layout.bias)
        if cell == .gru(resetAfter: true) { Self.addColumns(recurrentSide, rows: r.count, stride: gh, 0..<gh, into: partial + layout.recurrentBias) }
    }

    /// Where each gradient sits in a part's partial sums.
    struct PartialGradients {
        let kernel: Int, recurrentKernel: Int, bias: Int, recurrentBias: Int, count: Int
        init(features f: Int, units h: Int, gates gh: Int) {
            kernel = 0
            recurrentKernel = f * gh
            bias = recurrentKernel + h * gh
            recurrentBias = bias + gh
            count = recurrentBias + gh
        }
    }

    /// The weight and bias gradients from the whole sweep's buffers, one product each.
    private func postSweepGradients(kernelGradient: GradientTarget?, recurrentKernelGradient: GradientTarget?,
                                    biasGradient: GradientTarget?, recurrentBiasGradient: GradientTarget?) {
        let (f, h, gh) = (features, units, gates * units)
        let rows = steps * batch
        let z = activations.pointer
        if let target = recurrentKernelGradient {
            switch cell {
            case .simple, .lstm:
                weightGradient(states.pointer, rows: rows, columns: h, z, gh, into: target)
            case .gru(resetAfter: true):
                weightGradient(states.pointer, rows: rows, columns: h, recurrentProducts!.pointer, gh, into: target)
            case .gru(resetAfter: false):
                // Gates r, z from h; the candidate from r·h: two column blocks of one [H, 3H] gradient.
                weightGradient(states.pointer, rows: rows, columns: h, z, 2 * h, stride: gh, into: target)
                weightGradient(resetStates!.pointer, rows: rows, columns: h, z + 2 * h, h, stride: gh,
                               into: GradientTarget(pointer: target.pointer + 2 * h, overwrite: target.overwrite))
            }
        }
        if let target = kernelGradient { weightGradient(input.pointer, rows: rows, columns: f, z, gh, into: target) }
        if let target = biasGradient { columnSums(z, rows: rows, columns: gh, into: target) }
        if let target = recurrentBiasGradient { columnSums(recurrentProducts!.pointer, rows: rows, columns: gh, into: target) }
    }

    private func backwardSweep(rows r: Range<Int>, dy: UnsafePointer<Float>, returnSequences: Bool,
                               products: [PackedOperand], initialStateGradient: GradientTarget?,
                               initialCellGradient: GradientTarget?, partial: UnsafeMutablePointer<Float>?,
                               layout: PartialGradients) {
        let (b, t, h, gh) = (batch, steps, units, gates * units)
        let n = r.count, n32 = Int32(r.count), h32 = Int32(h)
        // Per-part scratch: the gradient reaching the state from the step after (dhNext), the
        // step's total (dh), the LSTM's cell gradient, TensorFlow's GRU's d(r·h).
        let scratch = Storage(zeros: 4 * n * h)
        let dhNext = scratch.pointer, dh = scratch.pointer + n * h, dc = scratch.pointer + 2 * n * h
        let dRH = scratch.pointer + 3 * n * h
        for s in stride(from: t - 1, through: 0, by: -1) {
            // dh = dhNext + the output's gradient at this step.
            if returnSequences {
                for i in 0..<n {
                    let src = dy + ((r.lowerBound &+ i) &* t &+ s) &* h, acc = dhNext + i &* h, dst = dh + i &* h
                    for j in 0..<h { dst[j] = acc[j] + src[j] }
                }
            } else if s == t - 1 {
                dh.update(from: dy + r.lowerBound * h, count: n * h)
            } else {
                dh.update(from: dhNext, count: n * h)
            }
            let row = s &* b &+ r.lowerBound
            let hPrev = states.pointer + row &* h
            let z = activations.pointer + row &* gh
            switch cell {
            case .simple:
                loupe_rnn_backward(n32, h32, states.pointer + (row &+ b) &* h, dh, z)
                products[0].multiply(m: n, a: z, lda: gh, accumulate: false, c: dhNext, ldc: h)
            case .lstm:
                loupe_lstm_backward(n32, h32, z, cells!.pointer + row &* h, tanhCells!.pointer + row &* h, dh, dc)
                products[0].multiply(m: n, a: z, lda: gh, accumulate: false, c: dhNext, ldc: h)
            case .gru(resetAfter: true):
                let q = recurrentProducts!.pointer + row &* gh
                loupe_gru_backward(n32, h32, z, q, hPrev, dh, dhNext)
                products[0].multiply(m: n, a: q, lda: gh, accumulate: true, c: dhNext, ldc: h)
            case .gru(resetAfter: false):
                loupe_gru_tf1_backward_candidate(n32, h32, z, hPrev, dh, dhNext)
                products[0].multiply(m: n, a: z + 2 * h, lda: gh, accumulate: false, c: dRH, ldc: h)
                loupe_gru_tf1_backward_reset(n32, h32, z, hPrev, dRH, dhNext)
                products[1].multiply(m: n, a: z, lda: gh, accumulate: true, c: dhNext, ldc: h)
            }
            if let partial { accumulate(step: s, rows: r, into: partial, layout: layout) }
        }
        for (target, source) in [(initialStateGradient, dhNext), (initialCellGradient, dc)] {
            guard let target else { continue }
            let dst = target.pointer + r.lowerBound * h
            if target.overwrite { dst.update(from: source, count: n * h) } else { for i in 0..<(n * h) { dst[i] += source[i] } }
        }
    }

    /// target [columns, n] (+)= xᵀ · dz over all T·B rows (x [rows, columns], dz [rows, n]), in two
    /// fixed halves of target's columns, the inner sum never cut. With Loupe's kernel: xᵀ made
    /// once, each half of dz packed by the worker that multiplies it. With BLAS: each half packs
    /// only its half of dz, the long operand (a split by target's rows would pack all of it twice).
    private func weightGradient(_ x: UnsafePointer<Float>, rows: Int, columns: Int, _ dz: UnsafePointer<Float>, _ n: Int,
                                stride ld: Int? = nil, into target: GradientTarget) {
        let ld = ld ?? n
        let pz = SendablePointer(dz), pt = SendablePointer(target.pointer)
        let beta = target.beta
        let parts = n >= 32 ? 2 : 1
        let halves = (0..<parts).map { chunkRange($0, of: parts, total: n) }
        if halves.allSatisfy({ PackedOperand.packable(n: $0.count) }) {
            let xt = Storage(uninitializedCount: rows * columns)
            transpose(x, rows: rows, columns: columns, ld: columns, into: xt.pointer)
            let pxt = SendablePointer(xt.pointer)
            parallelFor(parts) { part in
                let c = halves[part]
                let packed = Storage(uninitializedCount: rows * c.count)
                loupe_gemm_pack(Int32(rows), Int32(c.count), pz.pointer + c.lowerBound, Int32(ld), packed.pointer)
                loupe_gemm_packed(Int32(columns), Int32(c.count), Int32(rows), pxt.pointer, Int32(rows), packed.pointer,
                                  pt.pointer + c.lowerBound, Int32(ld), beta == 0 ? 0 : 1)
            }
            return
        }
        let px = SendablePointer(x)
        parallelFor(parts) { part in
            let c = halves[part]
            gemmSerial(transposeA: true, m: columns, n: c.count, k: rows, a: px.pointer, lda: columns,
                       b: pz.pointer + c.lowerBound, ldb: ld, beta: beta, c: pt.pointer + c.lowerBound, ldc: ld)
        }
    }

    /// target[j] (+)= Σ_rows x[row][j], in two fixed halves of the columns, one worker each.
    private func columnSums(_ x: UnsafePointer<Float>, rows: Int, columns: Int, into target: GradientTarget) {
        let px = SendablePointer(x), pt = SendablePointer(target.pointer)
        let overwrite = target.overwrite
        let parts = columns >= 64 ? 2 : 1
        parallelFor(parts) { part in
            let c = chunkRange(part, of: parts, total: columns)
            if overwrite { (pt.pointer + c.lowerBound).initialize(repeating: 0, count: c.count) }
            Self.addColumns(px.pointer, rows: rows, stride: columns, c, into: pt.pointer)
        }
    }

    /// out[j] += Σ_rows x[row·stride + j] for j in `columns`, each column summed in row order, 16 at a time.
    private static func addColumns(_ x: UnsafePointer<Float>, rows: Int, stride: Int, _ columns: Range<Int>,
                                   into out: UnsafeMutablePointer<Float>) {
        var j = columns.lowerBound
        while j < columns.upperBound {
            let width = min(16, columns.upperBound - j)
            var acc = SIMD16<Float>(repeating: 0), lanes = SIMD16<Float>(repeating: 0)
            for row in 0..<rows {
                let src = x + (row &* stride &+ j)
                if width == 16 {
                    acc += UnsafeRawPointer(src).loadUnaligned(as: SIMD16<Float>.self)
                } else {
                    for l in 0..<width { lanes[l] = src[l] }
                    acc += lanes
                }
            }
            for l in 0..<width { out[j + l] += acc[l] }
            j += width
        }
    }
}

/// The right-hand side of many products on one thread, B [k, n], packed once for Loupe's AVX-512
/// kernel (`loupe_gemm_packed`), or left to single-threaded BLAS where that kernel does not
/// apply (n not a multiple of 16, no AVX-512, `LOUPE_DENSE=blas`). Decided when it is made, on the
/// calling thread, where the trial's kernel policy is visible.
struct PackedOperand: @unchecked Sendable {
    let k: Int, n: Int
    let packed: Storage?
    /// The operand as BLAS reads it, when not packed (kept alive by `storage` when it is a copy).
    let b: UnsafePointer<Float>, ldb: Int
    let storage: Storage?

    static func packable(n: Int) -> Bool {
        n % 16 == 0 && loupe_direct_convolution_supported() != 0 && KernelPolicy.current.effective.products == .native
    }

    /// B [k, n] with rows `ldb` apart.
    init(k: Int, n: Int, b: UnsafePointer<Float>, ldb: Int) {
        self.k = k
        self.n = n
        if Self.packable(n: n) {
            let p = Storage(uninitializedCount: k * n)
            loupe_gemm_pack(Int32(k), Int32(n), b, Int32(ldb), p.pointer)
            packed = p
        } else {
            packed = nil
        }
        self.b = b
        self.ldb = ldb
        storage = nil
    }

    /// Bᵀ of a matrix M [rows, columns] with rows `ld` apart: B is [columns, rows].
    init(transposing m: UnsafePointer<Float>, rows: Int, columns: Int, ld: Int) {
        let t = Storage(uninitializedCount: rows * columns)
        transpose(m, rows: rows, columns: columns, ld: ld, into: t.pointer)
        self.init(k: columns, n: rows, b: UnsafePointer(t.pointer), ldb: rows)
        self = PackedOperand(copy: self, keeping: t)
    }

    private init(copy: PackedOperand, keeping storage: Storage) {
        k = copy.k
        n = copy.n
        packed = copy.packed
        b = copy.b
        ldb = copy.ldb
        self.storage = storage
    }

    /// C [m, n] (+)= A [m, k] · B, A's rows `lda` apart, C's `ldc`.
    func multiply(m: Int, a: UnsafePointer<Float>, lda: Int, accumulate: Bool, c: UnsafeMutablePointer<Float>, ldc: Int) {
        if m == 0 { return }
        if let packed {
            loupe_gemm_packed(Int32(m), Int32(n), Int32(k), a, Int32(lda), packed.pointer, c, Int32(ldc), accumulate ? 1 : 0)
        } else {
            gemmSerial(m: m, n: n, k: k, a: a, lda: lda, b: b, ldb: ldb, beta: accumulate ? 1 : 0, c: c, ldc: ldc)
        }
    }
}

/// out [columns, rows] = M [rows, columns] transposed (M's rows `ld` apart), in 16×16 tiles.
func transpose(_ m: UnsafePointer<Float>, rows: Int, columns: Int, ld: Int, into out: UnsafeMutablePointer<Float>) {
    let block = 16
    for i0 in stride(from: 0, to: rows, by: block) {
        for j0 in stride(from: 0, to: columns, by: block) {
            for i in i0..<min(i0 + block, rows) {
                let src = m + i &* ld
                for j in j0..<min(j0 + block, columns) { out[j &* rows &+ i] = src[j] }
            }
        }
    }
}
