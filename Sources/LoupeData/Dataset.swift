import LoupeCore

/// The size of one image: height, width and channels (1 gray, 3 RGB), laid out HWC.
public struct ImageShape: Hashable, Sendable, CustomStringConvertible {
    public var height: Int
    public var width: Int
    public var channels: Int

    public init(height: Int, width: Int, channels: Int) {
        self.height = height
        self.width = width
        self.channels = channels
    }

    /// Scalars in one image: height · width · channels.
    public var scalarCount: Int { height * width * channels }

    public var description: String { "\(height)x\(width)x\(channels)" }
}

/// A height and width to resize images to.
public struct ImageSize: Hashable, Sendable, CustomStringConvertible {
    public var height: Int
    public var width: Int

    public init(height: Int, width: Int) {
        self.height = height
        self.width = width
    }

    public var description: String { "\(height)x\(width)" }
}

/// The two splits datasets ship with. Image folders name them `Train` and `Test`.
public enum DatasetSplit: String, Sendable, CaseIterable {
    case train = "Train"
    case test = "Test"
}

/// N labelled images held in memory as bytes: `pixels` is [N, H, W, C] in 0...255, a quarter of
/// the memory Float32 would take; `labels` holds N class indices in `0..<classNames.count`.
/// Batches become Float32 in [0, 1] when they are gathered (`batch(indices:)`, `image(at:)`),
/// each element exactly `Float(byte) / 255`.
///
/// Every reader (IDX, CIFAR-10 binary, PNG folders) validates its files completely and returns a
/// whole dataset or throws a `LoupeError.file` naming the file: never a partial one. Class names
/// are the dataset's own (CIFAR-10's `airplane`…, folder names) or the digits `"0"`… where the
/// format carries none. The role of PyTorch's `Dataset` and swift-models' `MNIST`, without the
/// per-item indirection: batches are gathered straight from the contiguous buffer.
public struct Dataset: Sendable {
    /// [N, H, W, C], row-major, 0...255.
    public let pixels: [UInt8]
    /// N class indices.
    public let labels: [Int32]
    public let imageShape: ImageShape
    public let classNames: [String]
    /// Whether examples are read as sequences of their rows (`readingRows()`).
    public private(set) var readsRows = false

    /// Validates that `pixels` holds `labels.count` images of `imageShape` and that every
    /// label names a class. `source` names the file or folder in the error.
    public init(pixels: [UInt8], labels: [Int32], imageShape: ImageShape, classNames: [String],
                source: String = "dataset") throws {
        guard imageShape.height > 0, imageShape.width > 0, imageShape.channels > 0 else {
            throw LoupeError.file(path: source, message: "image shape \(imageShape) has an empty dimension")
        }
        guard !classNames.isEmpty else {
            throw LoupeError.file(path: source, message: "a dataset needs at least one class name")
        }
        guard pixels.count == labels.count * imageShape.scalarCount else {
            throw LoupeError.file(path: source,
                                  message: "\(pixels.count) bytes are not \(labels.count) images of \(imageShape)")
        }
        if let index = labels.firstIndex(where: { $0 < 0 || Int($0) >= classNames.count }) {
            throw LoupeError.file(path: source,
                                  message: "label \(labels[index]) at index \(index) is outside 0..<\(classNames.count)")
        }
        self.pixels = pixels
        self.labels = labels
        self.imageShape = imageShape
        self.classNames = classNames
    }

    /// Number of examples.
    public var count: Int { labels.count }
    public var classCount: Int { classNames.count }

    /// The shape of one example: a batch from `batch(indices:)` is [n] + `sampleShape`. Images
    /// are [H, W, C]; read as rows, [T, F] = [H, W·C] (T time steps of F features), so a model can
    /// be built from this shape without asking which kind it is.
    public var sampleShape: [Int] {
        readsRows ? [imageShape.height, imageShape.width * imageShape.channels]
            : [imageShape.height, imageShape.width, imageShape.channels]
    }

    /// The same examples read as sequences of their rows: an MNIST digit becomes 28 steps of 28
    /// pixels (`data.sequence: rows`). The bytes are shared; only the batches' shape changes.
    public func readingRows() -> Dataset {
        var copy = self
        copy.readsRows = true
        return copy
    }

    /// The names "0", "1", … for formats that carry no class names (IDX).
    public static func numericClassNames(_ count: Int) -> [String] { (0..<count).map(String.init) }

    /// The examples at `indices`, in that order (repeats allowed).
    public func subset(_ indices: [Int]) -> Dataset {
        let size = imageShape.scalarCount, total = count
        for index in indices {
            precondition(index >= 0 && index < total, "image index \(index) outside 0..<\(total)")
        }
        let bytes = [UInt8](unsafeUninitializedCapacity: indices.count * size) { buffer, initialized in
            pixels.withUnsafeBufferPointer { source in
                guard let to = buffer.baseAddress, let from = source.baseAddress else { return }
                for (row, index) in indices.enumerated() {
                    (to + row &* size).initialize(from: from + index &* size, count: size)
                }
            }
            initialized = indices.count * size
        }
        // The parts were valid, so the whole is: no need to re-check.
        let part = try! Dataset(pixels: bytes, labels: indices.map { labels[$0] }, imageShape: imageShape,
                                classNames: classNames)
        return readsRows ? part.readingRows() : part
    }

    /// The examples at `indices` stacked into an [n] + `sampleShape` Float32 tensor of byte / 255, with
    /// their labels.
    public func batch(indices: [Int]) -> (images: Tensor, labels: [Int32]) {
        let tensor = Tensor(shape: [indices.count] + sampleShape) { buffer in
            copyImages(indices, into: buffer.baseAddress!)
        }
        return (tensor, indices.map { labels[$0] })
    }

    /// One example as a `sampleShape` Float32 tensor of byte / 255.
    public func image(at index: Int) -> Tensor {
        precondition(index >= 0 && index < count, "image index \(index) outside 0..<\(count)")
        return Tensor(shape: sampleShape) { buffer in
            copyImages([index], into: buffer.baseAddress!)
        }
    }

    /// How many examples each class has, indexed by label.
    public var classCounts: [Int] {
        var counts = [Int](repeating: 0, count: classCount)
        for label in labels { counts[Int(label)] += 1 }
        return counts
    }

    /// Converts the images at `indices`, one after another, to `destination` ([indices.count, H,
    /// W, C] floats, each `Float(byte) / 255`). Called on the batcher's prefetch thread.
    func copyImages(_ indices: [Int], into destination: UnsafeMutablePointer<Float>) {
        let size = imageShape.scalarCount, total = count
        for index in indices {
            precondition(index >= 0 && index < total, "image index \(index) outside 0..<\(total)")
        }
        guard total > 0 else { return }
        pixels.withUnsafeBufferPointer { source in
            Pixels.byteToUnit.withUnsafeBufferPointer { table in
                let base = source.baseAddress!, lookup = table.baseAddress!
                for (row, index) in indices.enumerated() {
                    let from = base + index &* size, to = destination + row &* size
                    for i in 0..<size { to[i] = lookup[Int(from[i])] }
                }
            }
        }
    }
}
