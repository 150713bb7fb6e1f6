/// A Float32 tensor: contiguous row-major storage and a shape, with value semantics.
///
/// Copies share storage until one of them is written (copy-on-write). Images are NHWC, convolution
/// filters HWIO, dense weights [in, out], as in TensorFlow. A tensor made inside
/// `valueAndGradient` from a tracked input carries the tape position of the op that made it.
public struct Tensor: @unchecked Sendable {
    public let shape: [Int]
    @usableFromInline var storage: Storage
    /// Where this tensor sits on the active tape; nil when it needs no gradient.
    var trace: Trace?

    /// Number of elements.
    public var count: Int { storage.count }
    public var rank: Int { shape.count }

    init(shape: [Int], storage: Storage, trace: Trace? = nil) {
        precondition(shape.reduce(1, *) == storage.count, "shape \(shape) does not match \(storage.count) elements")
        self.shape = shape
        self.storage = storage
        self.trace = trace
    }

    /// A tensor of `shape` with uninitialized contents: every element must be written.
    init(uninitializedShape shape: [Int]) {
        self.init(shape: shape, storage: Storage(uninitializedCount: shape.reduce(1, *)))
    }

    /// A tensor of `shape` holding `scalars` in row-major order.
    public init(shape: [Int], scalars: [Float]) throws {
        try Self.validate(shape: shape, op: "Tensor(shape:scalars:)")
        guard shape.reduce(1, *) == scalars.count else {
            throw LoupeError.shapeMismatch(op: "Tensor(shape:scalars:)",
                                           message: "shape \(describe(shape)) holds \(shape.reduce(1, *)) elements, got \(scalars.count) scalars")
        }
        let storage = Storage(uninitializedCount: scalars.count)
        scalars.withUnsafeBufferPointer { storage.pointer.update(from: $0.baseAddress!, count: scalars.count) }
        self.init(shape: shape, storage: storage)
    }

    /// A tensor of `shape` whose elements `initializer` writes, every one of them, through a
    /// buffer of `shape`'s element count (loaders and batchers fill batches this way without copies).
    public init(shape: [Int], initializingWith initializer: (UnsafeMutableBufferPointer<Float>) throws -> Void) rethrows {
        try! Self.validate(shape: shape, op: "Tensor(shape:initializingWith:)")
        self.init(uninitializedShape: shape)
        try initializer(UnsafeMutableBufferPointer(start: storage.pointer, count: count))
    }

    /// A 1-D tensor of `scalars`.
    public init(_ scalars: [Float]) {
        try! self.init(shape: [scalars.count], scalars: scalars)
    }

    /// A rank-0 tensor holding `value`.
    public init(scalar value: Float) {
        let storage = Storage(uninitializedCount: 1)
        storage.pointer.pointee = value
        self.init(shape: [], storage: storage)
    }

    /// Every element `value`.
    public init(repeating value: Float, shape: [Int]) {
        try! Self.validate(shape: shape, op: "Tensor(repeating:shape:)")
        self.init(uninitializedShape: shape)
        storage.pointer.initialize(repeating: value, count: count)
    }

    public static func zeros(_ shape: [Int]) -> Tensor { Tensor(repeating: 0, shape: shape) }
    public static func ones(_ shape: [Int]) -> Tensor { Tensor(repeating: 1, shape: shape) }

    /// Normal with `mean` and `standardDeviation`, drawn in row-major order from `generator`.
    public static func randomNormal(_ shape: [Int], mean: Float = 0, standardDeviation: Float = 1,
                                    generator: inout RandomGenerator) -> Tensor {
        fill(shape) { mean + standardDeviation * generator.nextNormal() }
    }

    /// Normal redrawn beyond two standard deviations (`tf.random.truncated_normal`).
    public static func truncatedNormal(_ shape: [Int], mean: Float = 0, standardDeviation: Float = 1,
                                       generator: inout RandomGenerator) -> Tensor {
        fill(shape) { mean + standardDeviation * generator.nextTruncatedNormal() }
    }

    /// Uniform in [lowerBound, upperBound).
    public static func randomUniform(_ shape: [Int], lowerBound: Float = 0, upperBound: Float = 1,
                                     generator: inout RandomGenerator) -> Tensor {
        fill(shape) { lowerBound + (upperBound - lowerBound) * generator.nextFloat() }
    }

    private static func fill(_ shape: [Int], _ next: () -> Float) -> Tensor {
        try! validate(shape: shape, op: "random tensor")
        let t = Tensor(uninitializedShape: shape)
        let p = t.storage.pointer
        for i in 0..<t.count { p[i] = next() }
        return t
    }

    static func validate(shape: [Int], op: String) throws {
        if let bad = shape.first(where: { $0 < 0 }) {
            throw LoupeError.shapeMismatch(op: op, message: "negative dimension \(bad) in \(describe(shape))")
        }
    }

    /// The elements in row-major order.
    public var scalars: [Float] {
        Array(UnsafeBufferPointer(start: storage.pointer, count: count))
    }

    /// The single element of a tensor with one element.
    public var scalar: Float {
        precondition(count == 1, "scalar of a tensor shaped \(shape)")
        return storage.pointer.pointee
    }

    /// Read-only access to the elements.
    public func withUnsafeBufferPointer<R>(_ body: (UnsafeBufferPointer<Float>) throws -> R) rethrows -> R {
        try body(UnsafeBufferPointer(start: storage.pointer, count: count))
    }

    /// Write access to the elements; copies them first if the storage is shared.
    /// Writing through this never records on the tape: it is for optimizers and loaders.
    public mutating func withUnsafeMutableBufferPointer<R>(_ body: (UnsafeMutableBufferPointer<Float>) throws -> R) rethrows -> R {
        if !isKnownUniquelyReferenced(&storage) {
            storage = Storage(copying: storage.pointer, count: count)
        }
        return try body(UnsafeMutableBufferPointer(start: storage.pointer, count: count))
    }

    /// This tensor without its tape position: gradients do not flow through the result.
    public var detached: Tensor { Tensor(shape: shape, storage: storage) }

    /// Whether gradients flow through this tensor on the active tape.
    public var isTracked: Bool { trace != nil }
}

extension Tensor: CustomStringConvertible {
    public var description: String {
        let shown = scalars.prefix(8).map { "\($0)" }.joined(separator: ", ")
        return "Tensor\(describe(shape))(\(shown)\(count > 8 ? ", …" : ""))"
    }
}

extension Tensor: Equatable {
    /// Same shape and bit-identical elements.
    public static func == (a: Tensor, b: Tensor) -> Bool {
        guard a.shape == b.shape else { return false }
        if a.storage === b.storage { return true }
        for i in 0..<a.count where a.storage.pointer[i].bitPattern != b.storage.pointer[i].bitPattern { return false }
        return true
    }
}
