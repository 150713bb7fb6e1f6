import LoupeCore

/// CIFAR-10's binary version (Krizhevsky 2009, https://www.cs.toronto.edu/~kriz/cifar.html):
/// `data_batch_1.bin` … `data_batch_5.bin` (training) and `test_batch.bin`, each 10,000 records of
/// 1 label byte and 3,072 pixel bytes: the 32x32 red plane, then green, then blue, rows top first.
public enum CIFAR10 {
    public static let classNames = ["airplane", "automobile", "bird", "cat", "deer",
                                    "dog", "frog", "horse", "ship", "truck"]
    public static let trainingFiles = (1...5).map { "data_batch_\($0).bin" }
    public static let testFiles = ["test_batch.bin"]
    public static let side = 32
    public static let recordBytes = 1 + 3 * 32 * 32
    /// The folder `cifar-10-binary.tar.gz` unpacks into.
    public static let archiveFolder = "cifar-10-batches-bin"

    public static func files(for split: DatasetSplit) -> [String] {
        split == .train ? trainingFiles : testFiles
    }
}

extension Dataset {
    /// Reads CIFAR-10 binary batches for `split` from `directory` (or its `cifar-10-batches-bin`
    /// sub-folder, where the archive unpacks). Images are [N, 32, 32, 3], or [N, 32, 32, 1] with
    /// `grayscale` (ITU-R 601 luma: 0.299 R + 0.587 G + 0.114 B, rounded to a byte as Pillow's
    /// `convert("L")` does, see `Pixels.luma`), then resized
    /// bilinearly to `resize` when given (rounded to bytes again). A file that is not a whole
    /// number of 3,073-byte records or holds a label above 9 throws, naming the file and record.
    public static func cifar10(directory: String, split: DatasetSplit, grayscale: Bool = false,
                               resize: ImageSize? = nil) throws -> Dataset {
        let folder = CIFAR10.batchFolder(directory)
        let paths = CIFAR10.files(for: split).map { Files.join(folder, $0) }
        if let missing = paths.first(where: { !Files.isFile($0) }) {
            throw LoupeError.file(path: missing, message: "CIFAR-10 batch file not found")
        }
        let batches = try paths.map { try Files.readBytes($0) }
        return try cifar10(batches: zip(paths, batches).map { ($0, $1) }, grayscale: grayscale, resize: resize)
    }

    /// Reads CIFAR-10 binary records from in-memory batch files, each with the path that names it
    /// in errors.
    public static func cifar10(batches: [(path: String, bytes: [UInt8])], grayscale: Bool = false,
                               resize: ImageSize? = nil) throws -> Dataset {
        var total = 0
        for (path, bytes) in batches {
            guard !bytes.isEmpty else { throw LoupeError.file(path: path, message: "empty CIFAR-10 batch file") }
            guard bytes.count % CIFAR10.recordBytes == 0 else {
                throw LoupeError.file(path: path,
                                      message: "truncated: \(bytes.count) bytes are not a whole number of \(CIFAR10.recordBytes)-byte records; record \(bytes.count / CIFAR10.recordBytes) is incomplete")
            }
            let records = bytes.count / CIFAR10.recordBytes
            for record in 0..<records {
                let label = bytes[record * CIFAR10.recordBytes]
                if Int(label) >= CIFAR10.classNames.count {
                    throw LoupeError.file(path: path, message: "label \(label) of record \(record) is outside 0..<10")
                }
            }
            total += records
        }
        let pixels = CIFAR10.side * CIFAR10.side
        let channels = grayscale ? 1 : 3
        let imageSize = pixels * channels
        var labels: [Int32] = []
        labels.reserveCapacity(total)
        let images = [UInt8](unsafeUninitializedCapacity: total * imageSize) { buffer, initialized in
            var image = 0
            for (_, bytes) in batches {
                bytes.withUnsafeBufferPointer { source in
                    for record in 0..<(bytes.count / CIFAR10.recordBytes) {
                        let start = source.baseAddress! + record * CIFAR10.recordBytes
                        labels.append(Int32(start[0]))
                        Pixels.convertPlanar(start + 1, pixels: pixels, gray: grayscale,
                                             to: buffer.baseAddress! + image * imageSize)
                        image += 1
                    }
                }
            }
            initialized = total * imageSize
        }
        let dataset = try Dataset(pixels: images, labels: labels,
                                  imageShape: ImageShape(height: CIFAR10.side, width: CIFAR10.side, channels: channels),
                                  classNames: CIFAR10.classNames, source: batches.first?.path ?? "CIFAR-10")
        return try resize.map { try dataset.resized(to: $0) } ?? dataset
    }
}

extension CIFAR10 {
    /// `directory/cifar-10-batches-bin` when the batches are there, else `directory`.
    static func batchFolder(_ directory: String) -> String {
        let nested = Files.join(directory, archiveFolder)
        return Files.isFile(Files.join(nested, testFiles[0])) || Files.isFile(Files.join(nested, trainingFiles[0]))
            ? nested : directory
    }

    /// Unpacks the `.bin` batches (and `batches.meta.txt`) of `cifar-10-binary.tar.gz` into
    /// `directory`, each written atomically. Throws, naming the archive, when one is missing.
    public static func extractArchive(_ archivePath: String, into directory: String) throws {
        let compressed = try Files.readBytes(archivePath)
        let archive = try Gzip.decompress(compressed, path: archivePath)
        let wanted = Set(trainingFiles + testFiles + ["batches.meta.txt"])
        let members = try Tar.extract(archive, names: wanted, path: archivePath)
        let missing = (trainingFiles + testFiles).filter { members[$0] == nil }
        guard missing.isEmpty else {
            throw LoupeError.file(path: archivePath, message: "archive lacks \(missing.joined(separator: ", "))")
        }
        try Files.createDirectory(directory)
        for name in members.keys.sorted() {
            try Files.writeAtomically(members[name]!, to: Files.join(directory, name))
        }
    }
}
