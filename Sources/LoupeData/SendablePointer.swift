/// An unsafe pointer that may cross into a `parallelFor` worker or a prefetch thread. Readers
/// hand each worker a disjoint slice of one output buffer; this is the one place LoupeData opts
/// out of Sendable checking for pointers (LoupeCore keeps its own copy internal).
struct SendablePointer<T>: @unchecked Sendable {
    let pointer: UnsafeMutablePointer<T>
    init(_ pointer: UnsafeMutablePointer<T>) { self.pointer = pointer }
}

/// Splits `0..<total` into `parts` contiguous ranges as equal as possible.
func chunkRange(_ part: Int, of parts: Int, total: Int) -> Range<Int> {
    let base = total / parts, extra = total % parts
    let start = part * base + min(part, extra)
    return start..<(start + base + (part < extra ? 1 : 0))
}
