import LoupeCore

/// How a catalog folder dataset is made on this machine from another catalog dataset, its
/// `source`, rather than downloaded. `cifar10-gray28` is derived from `cifar10` (the official
/// `cifar-10-binary.tar.gz`, verified by SHA-256), `mnist-png28` from `mnist`:
///
/// - Which images: the first `trainPerClass` images of each class in the order the source's
///   training files hold them (CIFAR-10: `data_batch_1.bin` to `data_batch_5.bin`, record by
///   record; MNIST: `train-images-idx3-ubyte`), and the first `testPerClass` of each class of its
///   test split (`test_batch.bin`; `t10k-images-idx3-ubyte`). The catalog's entries take 1,000
///   and 100: 10,000 training and 1,000 test images.
/// - Their pixels, as `DatasetSource` reads the source with `channels: .gray` and `resize`:
///   color becomes gray by ITU-R 601 luma computed as Pillow's `Image.convert("L")` does,
///   (19595 R + 38470 G + 7471 B + 32768) >> 16 (see `Pixels.luma`), then the 32x32 gray image
///   is resized to `resize` by Loupe's bilinear resampling with half-pixel centers
///   (`resizeBilinear`: `tf.image.resize(method="bilinear", antialias=False)`), rounded to bytes.
///   MNIST's images are gray and 28x28 already: copied as they are.
/// - The files: `Train/<label>/ImageNNNNN.png` and `Test/<label>/ImageNNNNN.png`, 8-bit gray
///   PNGs, the label's digit as the class folder, NNNNN numbering each class's images from 00000
///   in the order above: the layout of the course's copies.
///
/// The course's own `cifar10-gray28` was made by a recipe it did not publish, so a derived copy
/// has the same layout, sizes and counts but not the same bytes (other images may be chosen, and
/// another gray conversion or resize filter may have been used): results on it are comparable
/// to the course's, not identical.
public struct Derivation: Sendable, Equatable {
    /// The catalog dataset the images come from.
    public var source: String
    public var trainPerClass: Int
    public var testPerClass: Int
    /// The size images are resized to; nil keeps the source's.
    public var resize: ImageSize?

    public init(source: String, trainPerClass: Int, testPerClass: Int, resize: ImageSize? = nil) {
        self.source = source
        self.trainPerClass = trainPerClass
        self.testPerClass = testPerClass
        self.resize = resize
    }

    public func perClass(_ split: DatasetSplit) -> Int {
        split == .train ? trainPerClass : testPerClass
    }

    /// For each class, the indices of its first `count` images in `dataset`'s order. Throws,
    /// naming `origin`, when a class has fewer.
    static func firstImages(of dataset: Dataset, perClass count: Int, split: DatasetSplit,
                            origin: String) throws -> [[Int]] {
        var picked = [[Int]](repeating: [], count: dataset.classCount)
        for (index, label) in dataset.labels.enumerated() where picked[Int(label)].count < count {
            picked[Int(label)].append(index)
        }
        if let short = picked.indices.first(where: { picked[$0].count < count }) {
            throw LoupeError.file(path: origin,
                                  message: "the \(split.rawValue) split holds \(picked[short].count) images of class \(short) (\(dataset.classNames[short])), fewer than the \(count) to take")
        }
        return picked
    }

    /// `ImageNNNNN.png`, at least five digits.
    static func fileName(_ number: Int) -> String {
        let digits = String(number)
        return "Image" + String(repeating: "0", count: max(0, 5 - digits.count)) + digits + ".png"
    }

    /// Writes the `picked` images of `dataset` (gray) as `folder/<label>/ImageNNNNN.png`.
    static func writeSplit(_ dataset: Dataset, picked: [[Int]], into folder: String) throws {
        let shape = dataset.imageShape
        precondition(shape.channels == 1, "derived datasets are gray")
        for (label, indices) in picked.enumerated() {
            let classFolder = Files.join(folder, String(label))
            try Files.createDirectory(classFolder)
            for (number, index) in indices.enumerated() {
                let start = index * shape.scalarCount
                let image = PNGImage(width: shape.width, height: shape.height, channels: 1,
                                     pixels: Array(dataset.pixels[start..<(start + shape.scalarCount)]))
                try Files.createFile(try PNG.encode(image), at: Files.join(classFolder, fileName(number)))
            }
        }
    }
}

extension DatasetCatalog {
    /// Makes dataset `name`, whose entry has a `derivation`, from its source, which must be
    /// installed (`fetch` gets it first), and returns its folder: `<data directory>/<name>`,
    /// built under a temporary name and renamed into place, so a killed run leaves nothing that
    /// looks like the dataset. When `name` is already installed it is left as it is. Errors name
    /// the source's file at fault (a truncated batch, a class with too few images).
    @discardableResult
    public func derive(_ name: String, progress: (String) -> Void = { _ in }) throws -> String {
        let entry = try entry(named: name)
        guard let derivation = entry.derivation else {
            throw LoupeError.invalidArgument(name: "dataset", message: "\(name) is not derived from another dataset")
        }
        if let installed = try location(of: name) { return installed }
        let sourceEntry = try self.entry(named: derivation.source)
        guard let sourceFolder = try location(of: derivation.source) else { throw notInstalled(sourceEntry) }
        let destination = folder(for: name)
        let counts = DatasetSplit.allCases.map { derivation.perClass($0) * sourceEntry.classNames.count }
        progress("deriving \(name) from \(derivation.source) (\(sourceFolder)): \(counts[0]) training and \(counts[1]) test images, "
                 + "the first \(derivation.trainPerClass) and \(derivation.testPerClass) of each class, gray"
                 + (derivation.resize.map { ", resized to \($0)" } ?? ""))
        let source = DatasetSource.catalog(derivation.source, channels: .gray, resize: derivation.resize)
        let splits = try DatasetSplit.allCases.map { split in
            let dataset = try source.load(split, catalog: self)
            let picked = try Derivation.firstImages(of: dataset, perClass: derivation.perClass(split), split: split,
                                                    origin: sourceFolder)
            return (split, dataset, picked)
        }
        try Files.createFolderAtomically(destination) { temporary in
            for (split, dataset, picked) in splits {
                try Derivation.writeSplit(dataset, picked: picked, into: Files.join(temporary, split.rawValue))
            }
        }
        progress("wrote \(counts[0] + counts[1]) PNG images to \(destination)")
        return destination
    }
}
