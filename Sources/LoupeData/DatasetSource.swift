import LoupeCore

/// How a dataset is stored on disk, and so which reader reads it. The raw values are the
/// spellings experiment files use for a path's `format`.
public enum DatasetFormat: String, Sendable, CaseIterable {
    /// `Train/<class>/*.png` and `Test/<class>/*.png` (`Dataset.imageFolder`).
    case folder
    /// MNIST-style IDX files, gzip-compressed or not: `train-images-idx3-ubyte.gz`,
    /// `train-labels-idx1-ubyte.gz`, `t10k-images-idx3-ubyte.gz`, `t10k-labels-idx1-ubyte.gz`
    /// (`Dataset.idx`).
    case idx
    /// CIFAR-10 binary batches, in the folder or its `cifar-10-batches-bin` sub-folder
    /// (`Dataset.cifar10`).
    case cifar10
}

/// Where a dataset comes from, a catalog name or a folder in a format, and the channels and
/// size its images get on loading. This is the one loader: `DatasetCatalog.load` and an
/// experiment's `data:` both go through `load(_:catalog:)`, so each format is read by one code
/// path whichever way it is named.
///
/// `channels` and `resize` apply to every format: `.automatic` keeps the channels the files
/// hold, `.rgb` widens gray to RGB, `.gray` reduces color to gray by ITU-R 601 luma (rounded to a
/// byte); `resize` resamples bilinearly (rounded to bytes). IDX files are always gray.
public struct DatasetSource: Sendable, Equatable {
    public enum Location: Sendable, Equatable {
        /// A name in the `DatasetCatalog`, read where the catalog finds it installed.
        case catalog(String)
        /// A folder laid out as `format` says.
        case path(String, format: DatasetFormat)
    }

    public var location: Location
    public var channels: ImageChannels
    public var resize: ImageSize?

    public init(_ location: Location, channels: ImageChannels = .automatic, resize: ImageSize? = nil) {
        self.location = location
        self.channels = channels
        self.resize = resize
    }

    /// The catalog dataset `name`.
    public static func catalog(_ name: String, channels: ImageChannels = .automatic,
                               resize: ImageSize? = nil) -> DatasetSource {
        DatasetSource(.catalog(name), channels: channels, resize: resize)
    }

    /// The dataset in folder `path`, stored as `format`.
    public static func path(_ path: String, format: DatasetFormat, channels: ImageChannels = .automatic,
                            resize: ImageSize? = nil) -> DatasetSource {
        DatasetSource(.path(path, format: format), channels: channels, resize: resize)
    }

    /// Loads `split`. A catalog name is read from where `catalog` finds it installed, with the
    /// entry's class names (which replace numeric folder names), and throws, saying how to get
    /// it, when it is installed nowhere. A path is read with the class names its files carry:
    /// folder names, CIFAR-10's, or "0"… for IDX. Every error names the file or folder.
    public func load(_ split: DatasetSplit, catalog: DatasetCatalog = DatasetCatalog()) throws -> Dataset {
        switch location {
        case let .catalog(name):
            let entry = try catalog.entry(named: name)
            guard let folder = try catalog.location(of: name) else { throw catalog.notInstalled(entry) }
            return try read(folder, format: entry.format, split: split, classNames: entry.classNames)
        case let .path(path, format):
            return try read(path, format: format, split: split, classNames: nil)
        }
    }

    private func read(_ folder: String, format: DatasetFormat, split: DatasetSplit,
                      classNames: [String]?) throws -> Dataset {
        switch format {
        case .folder:
            let dataset = try Dataset.imageFolder(root: folder, split: split, channels: channels, resize: resize)
            guard let classNames, classNames.count == dataset.classCount,
                  dataset.classNames.allSatisfy({ Int($0) != nil }) else { return dataset }
            return try Dataset(pixels: dataset.pixels, labels: dataset.labels, imageShape: dataset.imageShape,
                               classNames: classNames, source: folder)
        case .cifar10:
            return try Dataset.cifar10(directory: folder, split: split, grayscale: channels == .gray, resize: resize)
        case .idx:
            let files = try IDX.files(in: folder, split: split)
            var dataset = try Dataset.idx(images: files.images, labels: files.labels,
                                          classNames: classNames ?? Dataset.numericClassNames(10))
            if channels == .rgb { dataset = try dataset.converted(toChannels: 3) }
            if let resize { dataset = try dataset.resized(to: resize) }
            return dataset
        }
    }
}
