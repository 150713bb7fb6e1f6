import LoupeCore

/// The input pixels one unit of a layer can see, along one axis: unit `i` of the layer sees
/// input coordinates `offset + i·jump ..< offset + i·jump + size` (negative or past the edge
/// where the window reaches into padding).
///
/// Built layer by layer from the kernels, strides and padding: a window of `k` with stride `s`
/// and `p` cells of padding before it widens the field by (k − 1)·jump, moves its start by
/// −p·jump and multiplies the jump by s. Elementwise layers change nothing.
public struct ReceptiveField: Sendable, Equatable {
    public var size: Int
    public var jump: Int
    public var offset: Int

    public static let pixel = ReceptiveField(size: 1, jump: 1, offset: 0)

    public init(size: Int, jump: Int, offset: Int) {
        (self.size, self.jump, self.offset) = (size, jump, offset)
    }

    func through(kernel: Int, stride: Int, padBefore: Int) -> ReceptiveField {
        ReceptiveField(size: size + (kernel - 1) * jump, jump: jump * stride, offset: offset - padBefore * jump)
    }

    /// The input coordinates unit `i` sees.
    public func span(_ i: Int) -> Range<Int> { (offset + i * jump)..<(offset + i * jump + size) }
}

extension InspectableNetwork {
    /// The receptive field, rows then columns, of the output of every layer up to the first
    /// flatten (after it every unit sees the whole image), for inputs shaped `inputShape`
    /// [N, H, W, C].
    public func receptiveFields(inputShape: [Int]) throws -> [(rows: ReceptiveField, columns: ReceptiveField)] {
        var field = (rows: ReceptiveField.pixel, columns: ReceptiveField.pixel)
        var shape = inputShape
        var fields: [(rows: ReceptiveField, columns: ReceptiveField)] = []
        for kind in kinds {
            let window: (kernel: (Int, Int), strides: (Int, Int), padding: Padding, channels: Int?)?
            switch kind {
            case let .conv(conv):
                let w = conv.weight.value.shape
                window = ((w[0], w[1]), conv.strides, conv.padding, w[3])
            case let .pool(pool):
                window = (pool.poolSize, pool.strides, pool.padding, nil)
            case .flatten, .dense:
                return fields
            default:
                window = nil
            }
            if let window {
                let g = try WindowGeometry(op: "receptive field", inputShape: shape, kernel: window.kernel, strides: window.strides,
                                           padding: window.padding)
                field = (field.rows.through(kernel: g.kernelHeight, stride: g.strideHeight, padBefore: g.padTop),
                         field.columns.through(kernel: g.kernelWidth, stride: g.strideWidth, padBefore: g.padLeft))
                shape = [shape[0], g.outputHeight, g.outputWidth, window.channels ?? shape[3]]
            }
            fields.append(field)
        }
        return fields
    }
}
