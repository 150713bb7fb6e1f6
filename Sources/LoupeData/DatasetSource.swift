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

    /// The format of the dataset in folder `path`, told by what it holds: a `Train` or `Test`
    /// folder (any capitalisation), MNIST's IDX file names, or CIFAR-10's batches (there or in
    /// `cifar-10-batches-bin`). Throws, naming the folder, when it holds none of them.
    public static func detect(_ path: String) throws -> DatasetFormat {
        guard Files.isDirectory(path) else {
            throw LoupeError.file(path: path, message: Files.isFile(path)
                ? "is a file: give the folder that holds the dataset" : "dataset folder not found")
        }
        if DatasetSplit.allCases.contains(where: { (try? Dataset.splitFolder(root: path, split: $0)) != nil }) {
            return .folder
        }
        let idxNames = DatasetSplit.allCases.flatMap { split -> [String] in
            let names = IDX.fileNames(split)
            return [names.images, names.labels]
        }
        if idxNames.contains(where: { IDX.path(in: path, $0) != nil }) { return .idx }
        let batches = CIFAR10.batchFolder(path)
        if (CIFAR10.trainingFiles + CIFAR10.testFiles).contains(where: { Files.isFile(Files.join(batches, $0)) }) {
            return .cifar10
        }
        throw LoupeError.file(path: path, message: "cannot tell the dataset's format: it holds no Train or Test folder, no IDX files named as MNIST's (train-images-idx3-ubyte.gz, …) and no CIFAR-10 batches (data_batch_1.bin, …); give its format (--format, or data.format in an experiment file: folder, idx or cifar10)")
    }
}

/// Where a dataset comes from, a catalog name or a folder in a format, and the channels, size
/// and classes its images get on loading. This is the one loader: `DatasetCatalog.load`, an
/// experiment's `data:` and `loupe data verify` all go through it, so each format is read by one
/// code path whichever way it is named.
///
/// `channels` and `resize` apply to every format: `.automatic` keeps the channels the files
/// hold, `.rgb` widens gray to RGB, `.gray` reduces color to gray by ITU-R 601 luma (rounded to a
/// byte); `resize` resamples bilinearly (rounded to bytes). IDX files are always gray.
/// `classes` (an experiment's `data.classes`) names the labels 0, 1, …: for a folder dataset,
/// the class folders in label order (any other folder is an error); for IDX and CIFAR-10, names
/// for the labels the files hold (a label past the list's end is an error).
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
    public var classes: [String]?

    public init(_ location: Location, channels: ImageChannels = .automatic, resize: ImageSize? = nil,
                classes: [String]? = nil) {
        self.location = location
        self.channels = channels
        self.resize = resize
        self.classes = classes
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
        try read(resolve(catalog), split: split).dataset
    }

    /// Loads both splits, as a trainer needs them, and checks that they agree before anything
    /// trains: a folder dataset's Test class folders must be Train's (unless `classes` decides),
    /// neither split may be empty, and both must hold images of one shape. Each failure is a
    /// `LoupeError.file` naming the folder or a file of each side.
    public func loadSplits(catalog: DatasetCatalog = DatasetCatalog()) throws -> (train: Dataset, test: Dataset) {
        let stored = try resolve(catalog)
        if stored.format == .folder && classes == nil {
            // Listing is cheap: say so before decoding thousands of PNGs.
            let folders = try DatasetSplit.allCases.map { try Dataset.splitFolder(root: stored.folder, split: $0) }
            try Self.checkClassFolders(train: folders[0], test: folders[1])
        }
        let train = try read(stored, split: .train), test = try read(stored, split: .test)
        for (split, part) in [(DatasetSplit.train, train), (.test, test)] where part.dataset.count == 0 {
            throw LoupeError.file(path: part.origin, message: "the \(split.rawValue) split holds no images")
        }
        let (a, b) = (train.dataset.imageShape, test.dataset.imageShape)
        if a != b {
            var advice = "give data.resize: [height, width] to resample both"
            if a.channels != b.channels { advice = "give data.channels (gray or rgb) to convert both" }
            if a.height != b.height || a.width != b.width, a.channels != b.channels { advice += ", and data.resize" }
            throw LoupeError.file(path: test.origin,
                                  message: "Test's images are \(b.width)x\(b.height) with \(b.channels) channel\(b.channels == 1 ? "" : "s"), Train's \(a.width)x\(a.height) with \(a.channels) (\(train.origin)): \(advice)")
        }
        return (train.dataset, test.dataset)
    }

    /// Train's and Test's class folders must be the same names, or labels would mean different
    /// classes in each.
    static func checkClassFolders(train: String, test: String) throws {
        let trainClasses = try Dataset.classFolders(train), testClasses = try Dataset.classFolders(test)
        guard trainClasses != testClasses else { return }
        var differences: [String] = []
        let missing = trainClasses.filter { !testClasses.contains($0) }
        let extra = testClasses.filter { !trainClasses.contains($0) }
        if !missing.isEmpty { differences.append("it lacks \(missing.joined(separator: ", "))") }
        if !extra.isEmpty { differences.append("it has \(extra.joined(separator: ", ")), which Train lacks") }
        throw LoupeError.file(path: test,
                              message: "class folders differ from those of \(train): \(differences.joined(separator: "; ")). Labels would mean other classes in each split: rename the folders, or list the classes in data.classes")
    }

    /// Where the files are, how they are stored, and the names the catalog gives their classes.
    private func resolve(_ catalog: DatasetCatalog) throws -> (folder: String, format: DatasetFormat, classNames: [String]?) {
        switch location {
        case let .catalog(name):
            let entry = try catalog.entry(named: name)
            guard let folder = try catalog.location(of: name) else { throw catalog.notInstalled(entry) }
            return (folder, entry.format, entry.classNames)
        case let .path(path, format):
            return (path, format, nil)
        }
    }

    /// One split and the file that names it in errors: its first image, or its image file.
    private func read(_ stored: (folder: String, format: DatasetFormat, classNames: [String]?),
                      split: DatasetSplit) throws -> (dataset: Dataset, origin: String) {
        let (folder, format, classNames) = stored
        switch format {
        case .folder:
            let splitFolder = try Dataset.splitFolder(root: folder, split: split)
            let (dataset, first) = try Dataset.readImageFolder(splitFolder, channels: channels, resize: resize, classes: classes)
            guard classes == nil, let classNames, classNames.count == dataset.classCount,
                  dataset.classNames.allSatisfy({ Int($0) != nil }) else { return (dataset, first) }
            return (try Dataset(pixels: dataset.pixels, labels: dataset.labels, imageShape: dataset.imageShape,
                                classNames: classNames, source: folder), first)
        case .cifar10:
            let dataset = try Dataset.cifar10(directory: folder, split: split, grayscale: channels == .gray, resize: resize)
            let first = Files.join(CIFAR10.batchFolder(folder), CIFAR10.files(for: split)[0])
            guard let classes else { return (dataset, first) }
            return (try Dataset(pixels: dataset.pixels, labels: dataset.labels, imageShape: dataset.imageShape,
                                classNames: classes, source: first), first)
        case .idx:
            let files = try IDX.files(in: folder, split: split)
            var dataset = try Dataset.idx(images: files.images, labels: files.labels,
                                          classNames: classes ?? classNames ?? Dataset.numericClassNames(10))
            if channels == .rgb { dataset = try dataset.converted(toChannels: 3) }
            if let resize { dataset = try dataset.resized(to: resize) }
            return (dataset, files.images)
        }
    }
}
