import LoupeCore

/// The IDX format of MNIST and Fashion-MNIST (LeCun et al., http://yann.lecun.com/exdb/mnist/):
/// a big-endian header of magic number, then one 32-bit size per dimension, then the data.
/// Images are magic 0x00000803 (unsigned bytes, 3 dimensions: count, rows, columns), labels
/// 0x00000801 (unsigned bytes, 1 dimension). Files may be gzip-compressed, as they ship.
public enum IDX {
    public static let imagesMagic: UInt32 = 0x0000_0803
    public static let labelsMagic: UInt32 = 0x0000_0801

    /// The image file at `path` (raw or gzip): count, rows, columns and the row-major pixel bytes.
    public static func readImages(_ path: String) throws -> (count: Int, rows: Int, columns: Int, pixels: [UInt8]) {
        let file = try imageFile(path)
        return (file.count, file.rows, file.columns, Array(file.bytes[16...]))
    }

    /// The validated image file with its header still in front (pixels start at byte 16).
    static func imageFile(_ path: String) throws -> (count: Int, rows: Int, columns: Int, bytes: [UInt8]) {
        let bytes = try contents(path)
        let header = try sizes(bytes, path: path, magic: imagesMagic, dimensions: 3, what: "images (idx3, unsigned bytes)")
        let (count, rows, columns) = (header[0], header[1], header[2])
        guard rows > 0, columns > 0, rows <= 1 << 16, columns <= 1 << 16 else {
            throw LoupeError.file(path: path, message: "image size \(rows)x\(columns) in the header is empty or implausible")
        }
        try checkLength(bytes, path: path, headerBytes: 16, itemBytes: rows * columns, count: count, what: "image")
        return (count, rows, columns, bytes)
    }

    /// The label file at `path` (raw or gzip): one byte per example.
    public static func readLabels(_ path: String) throws -> [UInt8] {
        let bytes = try contents(path)
        let header = try sizes(bytes, path: path, magic: labelsMagic, dimensions: 1, what: "labels (idx1, unsigned bytes)")
        try checkLength(bytes, path: path, headerBytes: 8, itemBytes: 1, count: header[0], what: "label")
        return Array(bytes[8...])
    }

    /// An IDX file's bytes, gunzipped when they start with gzip's magic number.
    static func contents(_ path: String) throws -> [UInt8] {
        let bytes = try Files.readBytes(path)
        return Gzip.isCompressed(bytes) ? try Gzip.decompress(bytes, path: path) : bytes
    }

    private static func sizes(_ bytes: [UInt8], path: String, magic: UInt32, dimensions: Int, what: String) throws -> [Int] {
        let headerBytes = 4 + 4 * dimensions
        if bytes.count >= 4 {
            let found = bigEndianWord(bytes, at: 0)
            guard found == magic else {
                throw LoupeError.file(path: path, message: "wrong magic number 0x\(hex(found)): expected 0x\(hex(magic)) for \(what)")
            }
        }
        guard bytes.count >= headerBytes else {
            throw LoupeError.file(path: path, message: "truncated: \(bytes.count) bytes, shorter than the \(headerBytes)-byte IDX header")
        }
        return (0..<dimensions).map { Int(bigEndianWord(bytes, at: 4 + 4 * $0)) }
    }

    private static func checkLength(_ bytes: [UInt8], path: String, headerBytes: Int, itemBytes: Int, count: Int, what: String) throws {
        // Sizes come from the file: a nonsense header must not overflow.
        let (payload, overflow) = itemBytes.multipliedReportingOverflow(by: count)
        let expected = overflow ? Int.max : headerBytes + payload
        if bytes.count < expected {
            let whole = (bytes.count - headerBytes) / itemBytes
            throw LoupeError.file(path: path,
                                  message: "truncated: the header promises \(count) \(what)s (\(expected) bytes), the file holds \(bytes.count) bytes; \(what) \(whole) is incomplete")
        }
        if bytes.count > expected {
            throw LoupeError.file(path: path,
                                  message: "\(bytes.count - expected) bytes after the \(count) \(what)s the header promises")
        }
    }

    private static func bigEndianWord(_ bytes: [UInt8], at offset: Int) -> UInt32 {
        UInt32(bytes[offset]) << 24 | UInt32(bytes[offset + 1]) << 16 | UInt32(bytes[offset + 2]) << 8 | UInt32(bytes[offset + 3])
    }

    private static func hex(_ word: UInt32) -> String {
        let digits = String(word, radix: 16)
        return String(repeating: "0", count: 8 - digits.count) + digits
    }
}

extension Dataset {
    /// Reads an IDX image file and its label file (each raw or gzip, as MNIST and Fashion-MNIST
    /// ship them). Images become [N, rows, columns, 1], the file's bytes unchanged. Every label
    /// must be below `classNames.count` (default "0"…"9"); the two files must hold the same
    /// number of examples.
    public static func idx(images imagesPath: String, labels labelsPath: String,
                           classNames: [String] = Dataset.numericClassNames(10)) throws -> Dataset {
        var images = try IDX.imageFile(imagesPath)
        let labelBytes = try IDX.readLabels(labelsPath)
        guard labelBytes.count == images.count else {
            throw LoupeError.file(path: labelsPath,
                                  message: "\(labelBytes.count) labels for the \(images.count) images of \(imagesPath)")
        }
        if let index = labelBytes.firstIndex(where: { Int($0) >= classNames.count }) {
            throw LoupeError.file(path: labelsPath,
                                  message: "label \(labelBytes[index]) at index \(index) is outside 0..<\(classNames.count)")
        }
        // The pixels are the file's own bytes: drop the header in place, without a copy.
        var pixels = images.bytes
        images.bytes = []
        pixels.removeSubrange(0..<16)
        return try Dataset(pixels: pixels, labels: labelBytes.map { Int32($0) },
                           imageShape: ImageShape(height: images.rows, width: images.columns, channels: 1),
                           classNames: classNames, source: imagesPath)
    }
}

extension IDX {
    /// MNIST's file names for `split` (`train-…` or `t10k-…`), gzip-compressed as they ship.
    static func fileNames(_ split: DatasetSplit) -> (images: String, labels: String) {
        let prefix = split == .train ? "train" : "t10k"
        return ("\(prefix)-images-idx3-ubyte.gz", "\(prefix)-labels-idx1-ubyte.gz")
    }

    /// `name` in `folder`, or its gunzipped twin (the name without `.gz`); nil when neither is there.
    static func path(in folder: String, _ name: String) -> String? {
        let compressed = Files.join(folder, name)
        if Files.isFile(compressed) { return compressed }
        let plain = Files.join(folder, String(name.dropLast(3)))
        return Files.isFile(plain) ? plain : nil
    }

    /// The image and label files of `split` in `folder`; throws, naming the file, when one is missing.
    static func files(in folder: String, split: DatasetSplit) throws -> (images: String, labels: String) {
        let names = fileNames(split)
        func find(_ name: String) throws -> String {
            guard let path = path(in: folder, name) else {
                throw LoupeError.file(path: Files.join(folder, name),
                                      message: "missing: an IDX dataset folder holds MNIST's file names, \(name) or \(name.dropLast(3))")
            }
            return path
        }
        return (try find(names.images), try find(names.labels))
    }
}
