import LoupeCore
import LoupeData

/// One unit's activation on one image: the image's index in the data set, the unit's position
/// in its feature map and the value there.
public struct Activation: Sendable, Equatable {
    public var image: Int
    public var row: Int
    public var column: Int
    public var value: Float
}

/// The images of a data set that activate each feature map most, found in one streaming pass.
///
/// An image's strength for a map is its single strongest activation in it (the maximum over
/// positions, as Zeiler & Fergus; not the spatial sum); ties go to the first position in
/// row-major order, and between images to the lower index. `top[p][c]` lists map `c` of point
/// `p`'s best images, strongest first; `maxima[p][c]` is the map's strongest activation over the
/// whole data set (≤ 0 for a map that is dead on every image).
public struct TopActivations: Sendable {
    public let points: [FeaturePoint]
    public let channels: [[Int]]
    public var top: [[[Activation]]]
    public var maxima: [[Float]]
    public let images: Int

    /// Searches images `0..<limit` of `dataset` (all when `limit` is 0) for the `count` strongest
    /// images of each of `channels[p]` (every channel when nil) at each point.
    public static func search(_ network: InspectableNetwork, points: [FeaturePoint], channels: [[Int]?]? = nil,
                              count: Int, in dataset: Dataset, limit: Int = 0, batchSize: Int = 100) throws -> TopActivations {
        let total = limit > 0 ? min(limit, dataset.count) : dataset.count
        let deepest = points.map(\.index).max() ?? 0
        var chosen: [[Int]] = []
        var top: [[[Activation]]] = [], maxima: [[Float]] = []
        for start in stride(from: 0, to: total, by: batchSize) {
            let indices = Array(start..<min(total, start + batchSize))
            let trace = try network.trace(dataset.batch(indices: indices).images, through: deepest)
            if chosen.isEmpty {
                for (p, point) in points.enumerated() {
                    let all = Array(0..<trace.outputs[point.index].shape[3])
                    let wanted = channels?[p] ?? all
                    chosen.append(wanted)
                    top.append(Array(repeating: [], count: wanted.count))
                    maxima.append(Array(repeating: -.infinity, count: wanted.count))
                }
            }
            for (p, point) in points.enumerated() {
                let output = trace.outputs[point.index]
                let (height, width, depth) = (output.shape[1], output.shape[2], output.shape[3])
                output.withUnsafeBufferPointer { values in
                    var best = [Float](repeating: 0, count: depth), at = [Int](repeating: 0, count: depth)
                    for (b, image) in indices.enumerated() {
                        let base = b * height * width * depth
                        for c in 0..<depth { best[c] = values[base + c]; at[c] = 0 }
                        for position in 1..<(height * width) {
                            let row = base + position * depth
                            for c in 0..<depth where values[row + c] > best[c] {
                                best[c] = values[row + c]
                                at[c] = position
                            }
                        }
                        for (k, c) in chosen[p].enumerated() {
                            maxima[p][k] = max(maxima[p][k], best[c])
                            let hit = Activation(image: image, row: at[c] / width, column: at[c] % width, value: best[c])
                            insert(hit, into: &top[p][k], keeping: count)
                        }
                    }
                }
            }
        }
        return TopActivations(points: points, channels: chosen, top: top, maxima: maxima, images: total)
    }

    /// The same search's result for some of its points and channels, each list cut to `count`:
    /// what a search for just those would find.
    public func restricted(to points: [FeaturePoint], channels: [[Int]], count: Int) -> TopActivations {
        var top: [[[Activation]]] = [], maxima: [[Float]] = []
        for (point, wanted) in zip(points, channels) {
            let p = self.points.firstIndex(of: point)!
            let ks = wanted.map { self.channels[p].firstIndex(of: $0)! }
            top.append(ks.map { Array(self.top[p][$0].prefix(count)) })
            maxima.append(ks.map { self.maxima[p][$0] })
        }
        return TopActivations(points: points, channels: channels, top: top, maxima: maxima, images: images)
    }

    /// Keeps `list` the `count` strongest, strongest first; a later image never displaces an
    /// equal earlier one.
    static func insert(_ hit: Activation, into list: inout [Activation], keeping count: Int) {
        if list.count == count, let last = list.last, hit.value <= last.value { return }
        var position = list.count
        while position > 0 && list[position - 1].value < hit.value { position -= 1 }
        list.insert(hit, at: position)
        if list.count > count { list.removeLast() }
    }
}

extension InspectableNetwork {
    /// The deconvnet (or other `rule`) projection of each hit at `point` to pixel space: the
    /// hit's image is run up to the point, every activation of the point's layer but the hit's
    /// unit is set to zero, and that one value is carried down. Returns [hits.count, H, W, C].
    public func projections(of hits: [(channel: Int, activation: Activation)], at point: FeaturePoint, in dataset: Dataset,
                            rule: BackwardRule = .deconvnet, chunk: Int = 128) throws -> [Tensor] {
        var projected: [Tensor] = []
        for start in stride(from: 0, to: hits.count, by: chunk) {
            let part = Array(hits[start..<min(hits.count, start + chunk)])
            let images = dataset.batch(indices: part.map(\.activation.image)).images
            projected += try projections(of: part.map { ($0.channel, $0.activation.row, $0.activation.column) }, images: images,
                                         at: point, rule: rule)
        }
        return projected
    }

    /// One projection per image of `images` [N, H, W, C], of the unit `units[n]` (channel, row,
    /// column) of image n at `point`.
    public func projections(of units: [(channel: Int, row: Int, column: Int)], images: Tensor, at point: FeaturePoint,
                            rule: BackwardRule = .deconvnet) throws -> [Tensor] {
        let trace = try trace(images, through: point.index)
        let output = trace.outputs[point.index]
        let (height, width, depth) = (output.shape[1], output.shape[2], output.shape[3])
        let signal = Tensor(shape: output.shape) { buffer in
            buffer.initialize(repeating: 0)
            output.withUnsafeBufferPointer { values in
                for (n, unit) in units.enumerated() {
                    let i = ((n * height + unit.row) * width + unit.column) * depth + unit.channel
                    buffer[i] = values[i]
                }
            }
        }
        return try split(project(signal, from: point.index, trace: trace, rule: rule))
    }
}

/// The images of a batch [N, …] as N tensors.
func split(_ batch: Tensor) throws -> [Tensor] {
    let n = batch.shape[0], size = batch.count / max(n, 1), shape = Array(batch.shape.dropFirst())
    return try batch.withUnsafeBufferPointer { values in
        try (0..<n).map { i in try Tensor(shape: shape, scalars: Array(values[(i * size)..<((i + 1) * size)])) }
    }
}
