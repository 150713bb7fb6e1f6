/// Elementwise add, subtract, multiply and divide with broadcasting, and negation.
///
/// Broadcasting covers what networks need: equal shapes; a one-element operand (a scalar); and an
/// operand whose shape is a trailing part of the other's (a bias `[C]` against `[N, H, W, C]`).
/// Gradients flowing to a broadcast operand are summed over the dimensions it was repeated along.

/// How one operand of a binary op is laid against the output `[outer, inner]`.
enum BroadcastRole: Equatable {
    case full           // one element per output element
    case trailing       // repeats every `inner` elements
    case scalar         // one element for all
}

struct BroadcastLayout {
    let shape: [Int]
    let count: Int
    let inner: Int
    let a: BroadcastRole
    let b: BroadcastRole

    init(_ op: String, _ x: [Int], _ y: [Int]) throws {
        let xCount = x.reduce(1, *), yCount = y.reduce(1, *)
        if x == y {
            (shape, a, b, inner) = (x, .full, .full, 1)
        } else if yCount == 1 && y.count <= x.count {
            (shape, a, b, inner) = (x, .full, .scalar, 1)
        } else if xCount == 1 && x.count <= y.count {
            (shape, a, b, inner) = (y, .scalar, .full, 1)
        } else if y.count < x.count && Array(x.suffix(y.count)) == y {
            (shape, a, b, inner) = (x, .full, .trailing, yCount)
        } else if x.count < y.count && Array(y.suffix(x.count)) == x {
            (shape, a, b, inner) = (y, .trailing, .full, xCount)
        } else {
            throw LoupeError.shapeMismatch(
                op: op, message: "cannot broadcast \(describe(x)) with \(describe(y)) (shapes must be equal, one a scalar, or one the trailing dimensions of the other)")
        }
        count = shape.reduce(1, *)
    }

    @inline(__always)
    func index(_ role: BroadcastRole, _ i: Int) -> Int {
        switch role {
        case .full: return i
        case .trailing: return i % inner
        case .scalar: return 0
        }
    }
}

enum BinaryKind { case add, subtract, multiply, divide }

/// An elementwise binary function as a type, so the loops below are specialised and inlined for
/// each one (a closure would cost a call per element).
protocol BinaryFunction: SendableMetatype { static func apply(_ a: Float, _ b: Float) -> Float }
enum AddFunction: BinaryFunction { @inline(__always) static func apply(_ a: Float, _ b: Float) -> Float { a + b } }
enum SubtractFunction: BinaryFunction { @inline(__always) static func apply(_ a: Float, _ b: Float) -> Float { a - b } }
enum MultiplyFunction: BinaryFunction { @inline(__always) static func apply(_ a: Float, _ b: Float) -> Float { a * b } }
enum DivideFunction: BinaryFunction { @inline(__always) static func apply(_ a: Float, _ b: Float) -> Float { a / b } }

/// out = F(a, b) over a broadcast layout. Separate loops per layout keep each one a simple
/// vectorisable stream.
private func binaryForward<F: BinaryFunction>(_ layout: BroadcastLayout, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>,
                                              _ out: UnsafeMutablePointer<Float>, _ function: F.Type) {
    let pa = SendablePointer(a), pb = SendablePointer(b), po = SendablePointer(out)
    let (ra, rb, inner) = (layout.a, layout.b, layout.inner)
    parallelRanges(layout.count) { r in
        let a = pa.pointer, b = pb.pointer, out = po.pointer
        switch (ra, rb) {
        case (.full, .full):
            for i in r { out[i] = F.apply(a[i], b[i]) }
        case (.full, .scalar):
            let s = b[0]
            for i in r { out[i] = F.apply(a[i], s) }
        case (.scalar, .full):
            let s = a[0]
            for i in r { out[i] = F.apply(s, b[i]) }
        case (.full, .trailing), (.trailing, .full):
            // Ranges may start mid-row: walk rows; element j of the output pairs with element
            // j − rowStart of the broadcast row.
            var i = r.lowerBound
            while i < r.upperBound {
                let rowStart = i - i % inner
                let end = min(r.upperBound, rowStart + inner)
                if ra == .full {
                    let row = b - rowStart
                    for j in i..<end { out[j] = F.apply(a[j], row[j]) }
                } else {
                    let row = a - rowStart
                    for j in i..<end { out[j] = F.apply(row[j], b[j]) }
                }
                i = end
            }
        default:
            preconditionFailure("unreachable broadcast layout")
        }
    }
}

/// g[index(role, i)] += value(i) for every output element i (= when the target is new): direct
/// for a full operand, summed over repeats for a broadcast one (in a fixed order).
@inline(__always)
private func accumulate(_ layout: BroadcastLayout, _ role: BroadcastRole, into target: GradientTarget,
                        _ value: (Int) -> Float) {
    let g = target.pointer
    switch role {
    case .full:
        if target.overwrite {
            for i in 0..<layout.count { g[i] = value(i) }
        } else {
            for i in 0..<layout.count { g[i] += value(i) }
        }
    case .trailing:
        let inner = layout.inner
        if target.overwrite { g.initialize(repeating: 0, count: inner) }
        for row in 0..<(layout.count / inner) {
            let base = row * inner
            for j in 0..<inner { g[j] += value(base + j) }
        }
    case .scalar:
        var sum: Double = 0
        for i in 0..<layout.count { sum += Double(value(i)) }
        g[0] = (target.overwrite ? 0 : g[0]) + Float(sum)
    }
}

func binary(_ kind: BinaryKind, _ op: String, _ a: Tensor, _ b: Tensor) throws -> Tensor {
    let layout = try BroadcastLayout(op, a.shape, b.shape)
    let out = Tensor(uninitializedShape: layout.shape)
    let pa = a.storage.pointer, pb = b.storage.pointer, po = out.storage.pointer
    switch kind {
    case .add: binaryForward(layout, pa, pb, po, AddFunction.self)
    case .subtract: binaryForward(layout, pa, pb, po, SubtractFunction.self)
    case .multiply: binaryForward(layout, pa, pb, po, MultiplyFunction.self)
    case .divide: binaryForward(layout, pa, pb, po, DivideFunction.self)
    }
    return Tensor.record(out, inputs: [a, b]) { backward, nodes in
        let dy = backward.dy
        let x = a.storage.pointer, y = b.storage.pointer
        if let da = backward.target(nodes[0]) {
            switch kind {
            case .add, .subtract: accumulate(layout, layout.a, into: da) { dy[$0] }
            case .multiply: accumulate(layout, layout.a, into: da) { dy[$0] * y[layout.index(layout.b, $0)] }
            case .divide: accumulate(layout, layout.a, into: da) { dy[$0] / y[layout.index(layout.b, $0)] }
            }
        }
        if let db = backward.target(nodes[1]) {
            switch kind {
            case .add: accumulate(layout, layout.b, into: db) { dy[$0] }
            case .subtract: accumulate(layout, layout.b, into: db) { -dy[$0] }
            case .multiply: accumulate(layout, layout.b, into: db) { dy[$0] * x[layout.index(layout.a, $0)] }
            case .divide:
                accumulate(layout, layout.b, into: db) {
                    let yi = y[layout.index(layout.b, $0)]
                    return -dy[$0] * x[layout.index(layout.a, $0)] / (yi * yi)
                }
            }
        }
    }
}

extension Tensor {
    public static func + (a: Tensor, b: Tensor) throws -> Tensor { try binary(.add, "add", a, b) }
    public static func - (a: Tensor, b: Tensor) throws -> Tensor { try binary(.subtract, "subtract", a, b) }
    public static func * (a: Tensor, b: Tensor) throws -> Tensor { try binary(.multiply, "multiply", a, b) }
    public static func / (a: Tensor, b: Tensor) throws -> Tensor { try binary(.divide, "divide", a, b) }

    public static func + (a: Tensor, b: Float) -> Tensor { try! binary(.add, "add", a, Tensor(scalar: b)) }
    public static func - (a: Tensor, b: Float) -> Tensor { try! binary(.subtract, "subtract", a, Tensor(scalar: b)) }
    public static func * (a: Tensor, b: Float) -> Tensor { try! binary(.multiply, "multiply", a, Tensor(scalar: b)) }
    public static func / (a: Tensor, b: Float) -> Tensor { try! binary(.divide, "divide", a, Tensor(scalar: b)) }
    public static func * (a: Float, b: Tensor) -> Tensor { try! binary(.multiply, "multiply", Tensor(scalar: a), b) }

    public static prefix func - (x: Tensor) -> Tensor {
        let out = Tensor(uninitializedShape: x.shape)
        let px = SendablePointer(x.storage.pointer), py = SendablePointer(out.storage.pointer)
        parallelRanges(x.count) { r in for i in r { py.pointer[i] = -px.pointer[i] } }
        return record(out, input: x) { backward, dx in
            let dy = backward.dy
            for i in 0..<x.count { dx[i] -= dy[i] }
        }
    }
}
