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
        gemm(transposeA: false, transposeB: false, m: t * b, n: gh, k: f, a: xt, b: kernel,
             beta: bias == nil ? 0 : 1, c: z)
        if let initialState { states.pointer.update(from: initialState, count: b * h) } else {
            states.pointer.initialize(repeating: 0, count: b * h)
        }
        if let cells {
            if let initialCell { cells.pointer.update(from: initialCell, count: b * h) } else {
                cells.pointer.initialize(repeating: 0, count: b * h)
            }
        }
        let w = SendablePointer(recurrentKernel)
        let rb = recurrentBias.map { SendablePointer($0) }
        let parts = self.parts
        parallelFor(parts) { part in
            let r = chunkRange(part, of: parts, total: b)
            if r.isEmpty { return }
            for s in 0..<t { self.forwardStep(s, rows: r, recurrentKernel: w.pointer, recurrentBias: rb?.pointer) }
        }
    }

    private func forwardStep(_ s: Int, rows r: Range<Int>, recurrentKernel w: UnsafePointer<Float>,
                             recurrentBias: UnsafePointer<Float>?) {
        let (b, h, gh) = (batch, units, gates * units)
        let n = Int32(r.count), h32 = Int32(h)
        let row = s &* b &+ r.lowerBound
        let hPrev = states.pointer + row &* h
        let hNext = states.pointer + (row &+ b) &* h
        let z = activations.pointer + row &* gh
        switch cell {
        case .simple:
            gemmSerial(m: r.count, n: h, k: h, a: hPrev, lda: h, b: w, ldb: h, beta: 1, c: z, ldc: h)
            loupe_rnn_forward(n, h32, z, hNext)
        case let .lstm(forgetBias):
            gemmSerial(m: r.count, n: gh, k: h, a: hPrev, lda: h, b: w, ldb: gh, beta: 1, c: z, ldc: gh)
            let c = cells!.pointer
            loupe_lstm_forward(n, h32, z, c + row &* h, c + (row &+ b) &* h, tanhCells!.pointer + row &* h, hNext, forgetBias)
        case .gru(resetAfter: true):
            let q = recurrentProducts!.pointer + row &* gh
            if let recurrentBias {
                for i in 0..<r.count { (q + i &* gh).update(from: recurrentBias, count: gh) }
            }
            gemmSerial(m: r.count, n: gh, k: h, a: hPrev, lda: h, b: w, ldb: gh, beta: recurrentBias == nil ? 0 : 1, c: q, ldc: gh)
            loupe_gru_forward(n, h32, z, q, hPrev, hNext)
        case .gru(resetAfter: false):
            let rh = resetStates!.pointer + row &* h
            gemmSerial(m: r.count, n: 2 * h, k: h, a: hPrev, lda: h, b: w, ldb: gh, beta: 1, c: z, ldc: gh)
            loupe_gru_tf1_gates(n, h32, z, hPrev, rh)
            gemmSerial(m: r.count, n: h, k: h, a: rh, lda: h, b: w + 2 * h, ldb: gh, beta: 1, c: z + 2 * h, ldc: gh)
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
        let pdy = SendablePointer(dy), w = SendablePointer(recurrentKernel)
        let dh0 = initialStateGradient, dc0 = initialCellGradient
        let parts = self.parts
        parallelFor(parts) { part in
            let r = chunkRange(part, of: parts, total: b)
            if r.isEmpty { return }
            self.backwardSweep(rows: r, dy: pdy.pointer, returnSequences: returnSequences, recurrentKernel: w.pointer,
                               initialStateGradient: dh0, initialCellGradient: dc0)
        }
        let rows = t * b
        let z = activations.pointer
        if let target = recurrentKernelGradient {
            switch cell {
            case .simple, .lstm:
                gemm(transposeA: true, transposeB: false, m: h, n: gh, k: rows, a: states.pointer, b: z,
                     beta: target.beta, c: target.pointer)
            case .gru(resetAfter: true):
                gemm(transposeA: true, transposeB: false, m: h, n: gh, k: rows, a: states.pointer,
                     b: recurrentProducts!.pointer, beta: target.beta, c: target.pointer)
            case .gru(resetAfter: false):
                // Gates r, z from h; the candidate from r·h: two column blocks of one [H, 3H] gradient.
                let pz = SendablePointer(z), ps = SendablePointer(states.pointer)
                let prh = SendablePointer(resetStates!.pointer), pt = SendablePointer(target.pointer)
                let beta = target.beta
                parallelFor(2) { part in
                    if part == 0 {
                        gemmSerial(transposeA: true, m: h, n: 2 * h, k: rows, a: ps.pointer, lda: h, b: pz.pointer, ldb: gh,
                                   beta: beta, c: pt.pointer, ldc: gh)
                    } else {
                        gemmSerial(transposeA: true, m: h, n: h, k: rows, a: prh.pointer, lda: h, b: pz.pointer + 2 * h, ldb: gh,
                                   beta: beta, c: pt.pointer + 2 * h, ldc: gh)
                    }
                }
            }
        }
        if let target = kernelGradient {
            gemm(transposeA: true, transposeB: false, m: f, n: gh, k: rows, a: input.pointer, b: z,
                 beta: target.beta, c: target.pointer)
        }
        if let target = biasGradient { columnSums(z, rows: rows, columns: gh, into: target) }
        if let target = recurrentBiasGradient { columnSums(recurrentProducts!.pointer, rows: rows, columns: gh, into: target) }
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

    private func backwardSweep(rows r: Range<Int>, dy: UnsafePointer<Float>, returnSequences: Bool,
                               recurrentKernel w: UnsafePointer<Float>, initialStateGradient: GradientTarget?,
                               initialCellGradient: GradientTarget?) {
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
                gemmSerial(transposeB: true, m: n, n: h, k: h, a: z, lda: gh, b: w, ldb: gh, beta: 0, c: dhNext, ldc: h)
            case .lstm:
                loupe_lstm_backward(n32, h32, z, cells!.pointer + row &* h, tanhCells!.pointer + row &* h, dh, dc)
                gemmSerial(transposeB: true, m: n, n: h, k: gh, a: z, lda: gh, b: w, ldb: gh, beta: 0, c: dhNext, ldc: h)
            case .gru(resetAfter: true):
                let q = recurrentProducts!.pointer + row &* gh
                loupe_gru_backward(n32, h32, z, q, hPrev, dh, dhNext)
                gemmSerial(transposeB: true, m: n, n: h, k: gh, a: q, lda: gh, b: w, ldb: gh, beta: 1, c: dhNext, ldc: h)
            case .gru(resetAfter: false):
                loupe_gru_tf1_backward_candidate(n32, h32, z, hPrev, dh, dhNext)
                gemmSerial(transposeB: true, m: n, n: h, k: h, a: z + 2 * h, lda: gh, b: w + 2 * h, ldb: gh, beta: 0, c: dRH, ldc: h)
                loupe_gru_tf1_backward_reset(n32, h32, z, hPrev, dRH, dhNext)
                gemmSerial(transposeB: true, m: n, n: h, k: 2 * h, a: z, lda: gh, b: w, ldb: gh, beta: 1, c: dhNext, ldc: h)
            }
        }
        for (target, source) in [(initialStateGradient, dhNext), (initialCellGradient, dc)] {
            guard let target else { continue }
            let dst = target.pointer + r.lowerBound * h
            if target.overwrite { dst.update(from: source, count: n * h) } else { for i in 0..<(n * h) { dst[i] += source[i] } }
        }
    }

    /// target[j] (+)= Σ_rows x[row][j], each column summed in row order by one worker (two fixed
    /// halves of the columns).
    private func columnSums(_ x: UnsafePointer<Float>, rows: Int, columns: Int, into target: GradientTarget) {
        let px = SendablePointer(x), pt = SendablePointer(target.pointer)
        let overwrite = target.overwrite
        let parts = columns >= 64 ? 2 : 1
        parallelFor(parts) { part in
            let c = chunkRange(part, of: parts, total: columns)
            let out = pt.pointer + c.lowerBound
            if overwrite { out.initialize(repeating: 0, count: c.count) }
            for row in 0..<rows {
                let src = px.pointer + (row &* columns &+ c.lowerBound)
                for j in 0..<c.count { out[j] += src[j] }
            }
        }
    }
}
