import LoupeCore

/// Which channels a folder dataset's images get.
public enum ImageChannels: Sendable, Equatable {
    /// Gray when the first image (in class and file order) is gray, RGB when it is in color.
    case automatic
    /// One channel; color images become gray by ITU-R 601 luma, rounded to a byte.
    case gray
    /// Three channels; gray images are copied to R, G and B.
    case rgb
}

extension Dataset {
    /// Reads an image-folder dataset laid out as `root/<split>/<class>/*.png`, as the
    /// cifar10-gray28 and mnist-png28 folders are (Keras' `image_dataset_from_directory`,
    /// torchvision's `ImageFolder`).
    ///
    /// - Classes are the split's sub-folders; their names become `classNames`, sorted numerically
    ///   when every name is an integer ("2" before "10"), else by string. Labels index that order.
    /// - Images are every `*.png` in a class folder, sorted by file name, kept as their 8-bit
    ///   values. Alpha is dropped; color becomes gray, when asked, by luma rounded to a byte.
    /// - Every image must have the size of the first, unless `resize` is given: then every image
    ///   is resized (bilinear, see `resizeBilinear`, rounded to bytes) to it.
    /// - With `classes`, labels index that list instead: a class folder not in it throws, naming
    ///   the folder; a class of the list may have no folder (no images of it in this split).
    /// - A missing split, a class folder without PNGs, a corrupt PNG or one of another size throws
    ///   a `LoupeError.file` naming the file (and its index in the dataset).
    ///
    /// PNGs decode in parallel in fixed chunks, into fixed places: the result does not depend on
    /// the number of threads.
    public static func imageFolder(root: String, split: DatasetSplit, channels: ImageChannels = .automatic,
                                   resize: ImageSize? = nil, classes: [String]? = nil) throws -> Dataset {
        let folder = try splitFolder(root: root, split: split)
        return try imageFolder(splitFolder: folder, channels: channels, resize: resize, classes: classes)
    }

    /// Reads `folder/<class>/*.png` (one split's folder itself); see `imageFolder(root:split:…)`.
    public static func imageFolder(splitFolder folder: String, channels: ImageChannels = .automatic,
                                   resize: ImageSize? = nil, classes: [String]? = nil) throws -> Dataset {
        try readImageFolder(folder, channels: channels, resize: resize, classes: classes).dataset
    }

    /// The dataset and its first file (which fixed the image size).
    static func readImageFolder(_ folder: String, channels: ImageChannels, resize: ImageSize?,
                                classes: [String]?) throws -> (dataset: Dataset, firstFile: String) {
        if let resize, resize.height <= 0 || resize.width <= 0 {
            throw LoupeError.invalidArgument(name: "resize", message: "resize to \(resize) has an empty dimension")
        }
        let (classNames, files, labels) = try listImages(folder, classes: classes)

        // The first image fixes the size (unless resizing) and, for `.automatic`, the channels.
        var scratch: [UInt8] = []
        let first = try decodeOrName(files[0], index: 0, into: &scratch)
        let outputChannels: Int
        switch channels {
        case .automatic: outputChannels = first.channels >= 3 ? 3 : 1
        case .gray: outputChannels = 1
        case .rgb: outputChannels = 3
        }
        let shape = ImageShape(height: resize?.height ?? first.height, width: resize?.width ?? first.width,
                               channels: outputChannels)
        let firstSize = ImageSize(height: first.height, width: first.width)

        let total = files.count, size = shape.scalarCount
        let chunk = 256
        let parts = (total + chunk - 1) / chunk
        let failures = UnsafeMutablePointer<LoupeError?>.allocate(capacity: parts)
        failures.initialize(repeating: nil, count: parts)
        defer { failures.deinitialize(count: parts); failures.deallocate() }
        let failureSlots = SendablePointer(failures)

        let pixels = [UInt8](unsafeUninitializedCapacity: total * size) { buffer, initialized in
            let output = SendablePointer(buffer.baseAddress!)
            parallelFor(parts) { part in
                var scratch: [UInt8] = []
                var unresized: [UInt8] = []
                for index in (part * chunk)..<min(total, (part + 1) * chunk) {
                    do {
                        let image = try decodeOrName(files[index], index: index, into: &scratch)
                        if resize == nil, image.height != shape.height || image.width != shape.width {
                            throw LoupeError.file(path: files[index],
                                                  message: "image \(index) is \(image.width)x\(image.height) pixels, the first image (\(files[0])) \(firstSize.width)x\(firstSize.height); ask for a resize to accept mixed sizes")
                        }
                        let destination = output.pointer + index * size
                        scratch.withUnsafeBufferPointer { source in
                            let pixelCount = image.height * image.width
                            if image.height == shape.height && image.width == shape.width {
                                Pixels.convertInterleaved(source.baseAddress!, sourceChannels: image.channels,
                                                          pixels: pixelCount, channels: shape.channels, to: destination)
                                return
                            }
                            if unresized.count < pixelCount * shape.channels {
                                unresized = [UInt8](repeating: 0, count: pixelCount * shape.channels)
                            }
                            unresized.withUnsafeMutableBufferPointer { temporary in
                                Pixels.convertInterleaved(source.baseAddress!, sourceChannels: image.channels,
                                                          pixels: pixelCount, channels: shape.channels,
                                                          to: temporary.baseAddress!)
                                resizeBilinear(temporary.baseAddress!, height: image.height, width: image.width,
                                               channels: shape.channels, to: destination,
                                               height: shape.height, width: shape.width)
                            }
                        }
                    } catch let error as LoupeError {
                        failureSlots.pointer[part] = error
                        return
                    } catch {
                        failureSlots.pointer[part] = LoupeError.file(path: files[index], message: "\(error)")
                        return
                    }
                }
            }
            initialized = total * size
        }
        // The first failure in file order, whichever thread met it first.
        for part in 0..<parts {
            if let failure = failures[part] { throw failure }
        }
        return (try Dataset(pixels: pixels, labels: labels, imageShape: shape, classNames: classNames, source: folder), files[0])
    }

    /// `root/<split>`, accepting any capitalisation of the split's folder name.
    static func splitFolder(root: String, split: DatasetSplit) throws -> String {
        guard Files.isDirectory(root) else {
            throw LoupeError.file(path: root, message: "dataset folder not found")
        }
        let exact = Files.join(root, split.rawValue)
        if Files.isDirectory(exact) { return exact }
        let present = try Files.list(root).filter { Files.isDirectory(Files.join(root, $0)) }
        if let match = present.first(where: { $0.lowercased() == split.rawValue.lowercased() }) {
            return Files.join(root, match)
        }
        let found = present.isEmpty ? "no sub-folders" : "only " + present.joined(separator: ", ")
        throw LoupeError.file(path: exact, message: "split folder '\(split.rawValue)' is missing (\(root) has \(found))")
    }

    /// The class folders of split folder `folder`, in label order: numerically when every name
    /// is an integer, else by string.
    static func classFolders(_ folder: String) throws -> [String] {
        guard Files.isDirectory(folder) else {
            throw LoupeError.file(path: folder, message: "split folder not found")
        }
        var names = try Files.list(folder).filter { Files.isDirectory(Files.join(folder, $0)) }
        guard !names.isEmpty else {
            throw LoupeError.file(path: folder, message: "no class folders: expected \(folder)/<class>/*.png")
        }
        if names.allSatisfy({ Int($0) != nil }) {
            names.sort { Int($0)! < Int($1)! }
        }
        return names
    }

    /// Class names (the folders', or `classes`), the PNG paths in class then file order, and
    /// each one's label.
    static func listImages(_ folder: String, classes: [String]? = nil) throws -> (classNames: [String], files: [String], labels: [Int32]) {
        let present = try classFolders(folder)
        let classNames = classes ?? present
        if let classes, let stray = present.first(where: { !classes.contains($0) }) {
            throw LoupeError.file(path: Files.join(folder, stray),
                                  message: "class folder '\(stray)' is not in the class list (data.classes: \(classes.joined(separator: ", ")))")
        }
        var files: [String] = [], labels: [Int32] = []
        for (label, name) in classNames.enumerated() where present.contains(name) {
            let classFolder = Files.join(folder, name)
            let images = try Files.list(classFolder).filter { $0.lowercased().hasSuffix(".png") }
            guard !images.isEmpty else {
                throw LoupeError.file(path: classFolder, message: "class folder '\(name)' holds no PNG images")
            }
            files += images.map { Files.join(classFolder, $0) }
            labels += repeatElement(Int32(label), count: images.count)
        }
        return (classNames, files, labels)
    }

    private static func decodeOrName(_ path: String, index: Int,
                                     into scratch: inout [UInt8]) throws -> (width: Int, height: Int, channels: Int) {
        do {
            return try PNG.decode(fileAt: path, into: &scratch)
        } catch let LoupeError.file(_, message) {
            throw LoupeError.file(path: path, message: "image \(index): \(message)")
        }
    }
}
