import LoupeCore
import LoupeData

/// Zeiler & Fergus's occlusion test (Sec. 4.2, Fig. 7) for one image: a square of `fill` is
/// centred on every `stride`-th pixel in turn (clipped at the image's edges) and the network run
/// on each occluded copy. Per position: the total activation of the feature map that is strongest
/// on the clean image (at `point`), the probability of the true class, and the most probable
/// class.
public struct OcclusionMaps: Sendable {
    public let rows: Int
    public let columns: Int
    public let size: Int
    public let stride: Int
    public let point: FeaturePoint
    /// The map strongest on the clean image (its largest single activation).
    public let channel: Int
    public let label: Int
    public var activation: [Float]
    public var probability: [Float]
    public var predicted: [Int]
    public let clean: (activation: Float, probability: Float, predicted: Int)

    /// The rows and columns the square centred on (row, column) covers.
    public static func square(row: Int, column: Int, size: Int, height: Int, width: Int) -> (rows: Range<Int>, columns: Range<Int>) {
        let top = row - size / 2, left = column - size / 2
        return (max(top, 0)..<min(top + size, height), max(left, 0)..<min(left + size, width))
    }

    public static func compute(_ network: InspectableNetwork, image: Tensor, label: Int, point: FeaturePoint, size: Int,
                               stride: Int, fill: Float, batchSize: Int = 256) throws -> OcclusionMaps {
        let (height, width, channels) = (image.shape[0], image.shape[1], image.shape[2])
        let rows = (height + stride - 1) / stride, columns = (width + stride - 1) / stride
        let clean = try network.trace(image.reshaped([1] + image.shape))
        let cleanMaps = clean.outputs[point.index]
        let depth = cleanMaps.shape[3]
        // The strongest map: its largest single activation, the first map on a tie.
        var channel = 0
        cleanMaps.withUnsafeBufferPointer { values in
            var best = -Float.infinity
            for i in 0..<values.count where values[i] > best { best = values[i]; channel = i % depth }
        }
        func measure(_ trace: Trace) throws -> [(Float, Float, Int)] {
            let maps = trace.outputs[point.index], logits = trace.outputs.last!
            let probabilities = try softmax(logits)
            let n = maps.shape[0], perImage = maps.count / n, classes = logits.shape[1]
            return maps.withUnsafeBufferPointer { values in
                probabilities.withUnsafeBufferPointer { p in
                    (0..<n).map { b in
                        var total: Float = 0
                        for i in Swift.stride(from: channel, to: perImage, by: depth) { total += values[b * perImage + i] }
                        var best = 0
                        for k in 1..<classes where p[b * classes + k] > p[b * classes + best] { best = k }
                        return (total, p[b * classes + label], best)
                    }
                }
            }
        }
        let cleanResult = try measure(clean)[0]
        var activation: [Float] = [], probability: [Float] = [], predicted: [Int] = []
        let centres = (0..<rows).flatMap { r in (0..<columns).map { c in (r * stride, c * stride) } }
        let pixels = image.scalars
        for start in Swift.stride(from: 0, to: centres.count, by: batchSize) {
            let part = centres[start..<min(centres.count, start + batchSize)]
            let batch = Tensor(shape: [part.count, height, width, channels]) { buffer in
                for (n, (row, column)) in part.enumerated() {
                    let base = n * pixels.count
                    for i in 0..<pixels.count { buffer[base + i] = pixels[i] }
                    let square = square(row: row, column: column, size: size, height: height, width: width)
                    for y in square.rows {
                        for x in square.columns {
                            for k in 0..<channels { buffer[base + (y * width + x) * channels + k] = fill }
                        }
                    }
                }
            }
            for (a, p, c) in try measure(network.trace(batch)) {
                activation.append(a)
                probability.append(p)
                predicted.append(c)
            }
        }
        return OcclusionMaps(rows: rows, columns: columns, size: size, stride: stride, point: point, channel: channel, label: label,
                             activation: activation, probability: probability, predicted: predicted, clean: cleanResult)
    }
}

/// Zeiler & Fergus's invariance test (Sec. 4.2, Fig. 5) for some images under one kind of
/// transform: at each amount, the Euclidean distance of two layers' feature vectors from the
/// untransformed image's, and the probability of the true class.
public struct InvarianceCurves: Sendable {
    public enum Kind: String, Sendable, CaseIterable {
        case translation, scale, rotation

        /// Vertical translation −8…8 pixels by 1 (scaled to the image: ±2/7 of its height),
        /// scale 0.6…1.6 by 0.1, rotation 0…360° by 10°.
        public func amounts(height: Int) -> [Double] {
            switch self {
            case .translation:
                let reach = max(1, Int((Double(height) * 2 / 7).rounded()))
                return (-reach...reach).map(Double.init)
            case .scale: return (0...10).map { 0.6 + Double($0) / 10 }
            case .rotation: return (0...36).map { Double($0 * 10) }
            }
        }

        public func transform(_ amount: Double) -> ImageTransform {
            switch self {
            case .translation: return .translateVertically(pixels: amount)
            case .scale: return .scale(factor: amount)
            case .rotation: return .rotate(degrees: amount)
            }
        }

        public var axisLabel: String {
            switch self {
            case .translation: return "vertical translation (pixels, down)"
            case .scale: return "scale factor"
            case .rotation: return "rotation (degrees, counter-clockwise)"
            }
        }
    }

    public let kind: Kind
    public let amounts: [Double]
    public let layers: [String]
    /// [image][layer][amount]
    public var distances: [[[Double]]]
    /// [image][amount]
    public var probabilities: [[Double]]

    /// `layers` are layer indices whose outputs are the feature vectors.
    public static func compute(_ network: InspectableNetwork, images: [(image: Tensor, label: Int)], kind: Kind,
                               layers: [(name: String, index: Int)], fill: Float) throws -> InvarianceCurves {
        let height = images.first?.image.shape[0] ?? 0
        let amounts = kind.amounts(height: height)
        var distances: [[[Double]]] = [], probabilities: [[Double]] = []
        for (image, label) in images {
            let transformed = try [image] + amounts.map { try kind.transform($0).apply(to: image, fill: fill) }
            let batch = try concat(transformed.map { try $0.reshaped([1] + $0.shape) }, axis: 0)
            let trace = try network.trace(batch)
            let p = try softmax(trace.outputs.last!).scalars, classes = trace.outputs.last!.shape[1]
            probabilities.append(amounts.indices.map { Double(p[(1 + $0) * classes + label]) })
            distances.append(layers.map { layer in
                let features = trace.outputs[layer.index], size = features.count / transformed.count
                return features.withUnsafeBufferPointer { f in
                    amounts.indices.map { a in
                        var sum = 0.0
                        for i in 0..<size {
                            let d = Double(f[(1 + a) * size + i]) - Double(f[i])
                            sum += d * d
                        }
                        return sum.squareRoot()
                    }
                }
            })
        }
        return InvarianceCurves(kind: kind, amounts: amounts, layers: layers.map(\.name), distances: distances, probabilities: probabilities)
    }
}
