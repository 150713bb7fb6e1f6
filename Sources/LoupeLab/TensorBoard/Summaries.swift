import Foundation

/// The TensorBoard messages Loupe writes, encoded by hand (`ProtoWriter`). Field numbers are
/// those of tensorflow/tensorboard's `compat/proto/event.proto`, `summary.proto`,
/// `histogram.proto`, `tensor.proto`, and `plugins/hparams/api.proto` and `plugin_data.proto`;
/// `google.protobuf.Value` and `ListValue` are protobuf's `struct.proto`. Golden bytes made by
/// TensorBoard's own generated classes check them (`TensorBoardEncodingTests`).
enum TensorBoardEvent {
    static let fileVersion = "brain.Event:2"

    /// `Event { wall_time, file_version: "brain.Event:2" }`: the first record of every file.
    static func fileVersion(wallTime: Double) -> [UInt8] {
        var event = ProtoWriter()
        event.double(1, wallTime)
        event.string(3, fileVersion)
        return event.bytes
    }

    /// `Event { wall_time, step, summary { value… } }`.
    static func summary(wallTime: Double, step: Int, _ values: [SummaryValue]) -> [UInt8] {
        var event = ProtoWriter()
        event.double(1, wallTime)
        event.int(2, step)
        event.message(5) { summary in
            for value in values { summary.message(1) { value.encode(into: &$0) } }
        }
        return event.bytes
    }

    /// `Event { wall_time, step, session_log { status: CHECKPOINT, checkpoint_path } }`: written
    /// right after each checkpoint, so `--resume` knows which records came before it.
    static func checkpoint(wallTime: Double, step: Int, path: String) -> [UInt8] {
        var event = ProtoWriter()
        event.double(1, wallTime)
        event.int(2, step)
        event.message(7) { log in
            log.int(1, SessionLogStatus.checkpoint)
            log.string(2, path)
        }
        return event.bytes
    }

    /// `SessionLog.SessionStatus`.
    enum SessionLogStatus {
        static let checkpoint = 3
    }
}

/// One `Summary.Value`: a tag and one of its value kinds.
enum SummaryValue {
    /// `simple_value`: TensorBoard's scalars.
    case scalar(tag: String, value: Float)
    /// `histo`: a `HistogramProto`.
    case histogram(tag: String, Histogram)
    /// `image`: an encoded image (`colorspace` 1 gray, 3 RGB, …).
    case image(tag: String, width: Int, height: Int, colorspace: Int, png: [UInt8])
    /// An HParams-plugin summary: `metadata.plugin_data { plugin_name: "hparams", content }`
    /// and the empty float tensor TensorBoard expects of it (`[]`, shape `[0]`).
    case hparams(tag: String, content: [UInt8])

    func encode(into value: inout ProtoWriter) {
        switch self {
        case let .scalar(tag, number):
            value.string(1, tag)
            value.float(2, number, evenIfDefault: true)
        case let .histogram(tag, histogram):
            value.string(1, tag)
            value.message(5) { histogram.encode(into: &$0) }
        case let .image(tag, width, height, colorspace, png):
            value.string(1, tag)
            value.message(4) { image in
                image.int(1, height)
                image.int(2, width)
                image.int(3, colorspace)
                image.bytes(4, png)
            }
        case let .hparams(tag, content):
            value.string(1, tag)
            value.message(8) { tensor in               // TensorProto
                tensor.int(1, 1)                       // dtype: DT_FLOAT
                tensor.message(2) { shape in           // tensor_shape
                    shape.message(2) { _ in }          // one dim of size 0
                }
            }
            value.message(9) { metadata in             // SummaryMetadata
                metadata.message(1) { plugin in        // plugin_data
                    plugin.string(1, "hparams")
                    plugin.bytes(2, content)
                }
            }
        }
    }
}

/// `HistogramProto`: min, max, count, sum and sum of squares of a tensor's finite values, and
/// `bucketCount` equal-width buckets between min and max. Bucket i counts the values in
/// (limit[i-1], limit[i]] (the first from -∞), as TensorFlow's histograms do; the last limit is
/// the maximum. Sums are accumulated in Double. NaN and infinite values are left out.
struct Histogram: Equatable {
    var min: Double
    var max: Double
    var count: Double
    var sum: Double
    var sumOfSquares: Double
    var bucketLimits: [Double]
    var bucketCounts: [Double]

    static let defaultBucketCount = 30

    init(min: Double, max: Double, count: Double, sum: Double, sumOfSquares: Double, bucketLimits: [Double], bucketCounts: [Double]) {
        (self.min, self.max, self.count, self.sum, self.sumOfSquares) = (min, max, count, sum, sumOfSquares)
        (self.bucketLimits, self.bucketCounts) = (bucketLimits, bucketCounts)
    }

    init(_ values: UnsafeBufferPointer<Float>, bucketCount: Int = defaultBucketCount) {
        precondition(bucketCount > 0, "a histogram needs a bucket")
        var low = Float.infinity, high = -Float.infinity
        var n = 0, s = 0.0, q = 0.0
        for v in values where v.isFinite {
            low = Swift.min(low, v)
            high = Swift.max(high, v)
            n += 1
            s += Double(v)
            q += Double(v) * Double(v)
        }
        guard n > 0 else {
            self.init(min: 0, max: 0, count: 0, sum: 0, sumOfSquares: 0, bucketLimits: [], bucketCounts: [])
            return
        }
        let lower = Double(low), upper = Double(high)
        guard upper > lower else {
            self.init(min: lower, max: upper, count: Double(n), sum: s, sumOfSquares: q, bucketLimits: [upper], bucketCounts: [Double(n)])
            return
        }
        let width = (upper - lower) / Double(bucketCount), perWidth = 1 / width
        let last = bucketCount - 1, allFinite = n == values.count
        var counts = [Double](repeating: 0, count: bucketCount)
        counts.withUnsafeMutableBufferPointer { counts in
            for v in values where allFinite || v.isFinite {
                // (limit[i-1], limit[i]]: a value on a limit belongs to the bucket below it.
                let index = Int(((Double(v) - lower) * perWidth).rounded(.up)) &- 1
                counts[index < 0 ? 0 : (index > last ? last : index)] += 1
            }
        }
        var limits = (1...bucketCount).map { lower + Double($0) * width }
        limits[bucketCount - 1] = upper
        self.init(min: lower, max: upper, count: Double(n), sum: s, sumOfSquares: q, bucketLimits: limits, bucketCounts: counts)
    }

    func encode(into histogram: inout ProtoWriter) {
        histogram.double(1, min)
        histogram.double(2, max)
        histogram.double(3, count)
        histogram.double(4, sum)
        histogram.double(5, sumOfSquares)
        histogram.packedDoubles(6, bucketLimits)
        histogram.packedDoubles(7, bucketCounts)
    }
}
