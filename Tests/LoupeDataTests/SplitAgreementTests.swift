import Foundation
import LoupeCore
import LoupeData
import Testing

/// Both splits load together and must agree before anything trains: the same class folders
/// (or an explicit class list), images in each, one image size.
@Suite struct SplitAgreementTests {
    /// Test's class folders against Train's 0, 1, 2: one missing, one extra, one renamed.
    @Test(arguments: [
        (["0", "1"], ["2"], [String]()),
        (["0", "1", "2", "3"], [], ["3"]),
        (["0", "1", "two"], ["2"], ["two"]),
    ])
    func classFoldersThatDifferAreAnErrorNamingBothFolders(test: [String], missing: [String], extra: [String]) throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        try writeImageFolder(folder, split: "Train", classes: ["0", "1", "2"])
        try writeImageFolder(folder, split: "Test", classes: test)
        let error = fileError { _ = try DatasetSource.path(folder.path, format: .folder).loadSplits() }
        #expect(error?.path == folder.file("Test"))
        let message = error?.message ?? ""
        #expect(message.contains(folder.file("Train")), "\(message)")
        for name in missing { #expect(message.contains("lacks \(name)"), "\(message)") }
        for name in extra { #expect(message.contains("has \(name)"), "\(message)") }
        #expect(message.contains("data.classes"), "\(message)")
    }

    /// With a class list, labels follow the list; a split may lack a class of the list.
    @Test func anExplicitClassListDecidesTheLabels() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        try writeImageFolder(folder, split: "Train", classes: ["cat", "dog"])
        try writeImageFolder(folder, split: "Test", classes: ["dog"])
        let source = DatasetSource(.path(folder.path, format: .folder), classes: ["dog", "cat"])
        let (train, test) = try source.loadSplits()
        #expect(train.classNames == ["dog", "cat"] && test.classNames == ["dog", "cat"])
        // Train's folders are read in list order: dog's two images (label 0) first, then cat's.
        #expect(train.labels == [0, 0, 1, 1])
        #expect(test.labels == [0, 0])
        // dog was written second (k = 1): its first image's pixels start at 10.
        #expect(train.pixels[0] == 10 && train.pixels[32] == 0)
        #expect(test.pixels[0] == 0, "Test's only class folder was written first (k = 0)")
    }

    @Test func aFolderAbsentFromTheClassListIsAnError() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        try writeImageFolder(folder, split: "Train", classes: ["cat", "dog"])
        try writeImageFolder(folder, split: "Test", classes: ["cat", "dog"])
        let source = DatasetSource(.path(folder.path, format: .folder), classes: ["cat", "dgo"])
        let error = fileError { _ = try source.loadSplits() }
        #expect(error?.path == folder.file("Train/dog"))
        #expect(error?.message.contains("data.classes") == true && error?.message.contains("cat, dgo") == true, "\(error?.message ?? "")")
    }

    /// An IDX label past the class list's end is an error naming the label file.
    @Test func aClassListShorterThanTheLabelsIsAnError() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        for prefix in ["train", "t10k"] {
            try folder.write(idxImages(count: 2, rows: 2, columns: 2, pixels: [UInt8](repeating: 7, count: 8)), to: "\(prefix)-images-idx3-ubyte")
            try folder.write(idxLabels([0, 2]), to: "\(prefix)-labels-idx1-ubyte")
        }
        let renamed = try DatasetSource(.path(folder.path, format: .idx), classes: ["a", "b", "c"]).loadSplits()
        #expect(renamed.train.classNames == ["a", "b", "c"] && renamed.test.labels == [0, 2])
        let error = fileError { _ = try DatasetSource(.path(folder.path, format: .idx), classes: ["a", "b"]).loadSplits() }
        #expect(error?.path == folder.file("train-labels-idx1-ubyte"))
    }

    /// An IDX split of no images, and a Test folder of no class folders, each name their split.
    @Test func anEmptySplitIsAnErrorNamingIt() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        try folder.write(idxImages(count: 2, rows: 2, columns: 2, pixels: [UInt8](repeating: 7, count: 8)), to: "train-images-idx3-ubyte")
        try folder.write(idxLabels([0, 1]), to: "train-labels-idx1-ubyte")
        try folder.write(idxImages(count: 0, rows: 2, columns: 2, pixels: []), to: "t10k-images-idx3-ubyte")
        try folder.write(idxLabels([]), to: "t10k-labels-idx1-ubyte")
        let error = fileError { _ = try DatasetSource.path(folder.path, format: .idx).loadSplits() }
        #expect(error?.path == folder.file("t10k-images-idx3-ubyte"))
        #expect(error?.message.contains("Test split holds no images") == true, "\(error?.message ?? "")")

        let images = try TemporaryFolder()
        defer { images.remove() }
        try writeImageFolder(images, split: "Train", classes: ["0", "1"])
        try images.write(Array("notes".utf8), to: "Test/readme.txt")
        let empty = fileError { _ = try DatasetSource.path(images.path, format: .folder).loadSplits() }
        #expect(empty?.path == images.file("Test"))
    }

    /// Train's images 4x4, Test's 5x5: an error naming a file of each size, unless resized.
    @Test func imageSizesThatDifferBetweenSplitsAreAnErrorNamingAFileOfEach() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        try writeImageFolder(folder, split: "Train", classes: ["0", "1"], side: 4)
        try writeImageFolder(folder, split: "Test", classes: ["0", "1"], side: 5)
        let error = fileError { _ = try DatasetSource.path(folder.path, format: .folder).loadSplits() }
        #expect(error?.path == folder.file("Test/0/0.png"))
        let message = error?.message ?? ""
        #expect(message.contains(folder.file("Train/0/0.png")) && message.contains("5x5") && message.contains("4x4"), "\(message)")
        #expect(message.contains("data.resize"), "\(message)")
        let resized = try DatasetSource.path(folder.path, format: .folder, resize: ImageSize(height: 3, width: 3)).loadSplits()
        #expect(resized.train.sampleShape == [3, 3, 1] && resized.test.sampleShape == [3, 3, 1])

        let idx = try TemporaryFolder()
        defer { idx.remove() }
        try idx.write(idxImages(count: 1, rows: 2, columns: 2, pixels: [1, 2, 3, 4]), to: "train-images-idx3-ubyte")
        try idx.write(idxLabels([0]), to: "train-labels-idx1-ubyte")
        try idx.write(idxImages(count: 1, rows: 3, columns: 3, pixels: [UInt8](repeating: 1, count: 9)), to: "t10k-images-idx3-ubyte")
        try idx.write(idxLabels([0]), to: "t10k-labels-idx1-ubyte")
        let idxError = fileError { _ = try DatasetSource.path(idx.path, format: .idx).loadSplits() }
        #expect(idxError?.path == idx.file("t10k-images-idx3-ubyte"))
        #expect(idxError?.message.contains(idx.file("train-images-idx3-ubyte")) == true, "\(idxError?.message ?? "")")
    }

    /// Gray Train images and color Test ones, channels automatic: the shapes differ.
    @Test func channelsThatDifferBetweenSplitsAreAnError() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        try writeImageFolder(folder, split: "Train", classes: ["0"], side: 2)
        try folder.write(PNG.encode(PNGImage(width: 2, height: 2, channels: 3, pixels: [UInt8](repeating: 9, count: 12))),
                         to: "Test/0/0.png")
        let error = fileError { _ = try DatasetSource.path(folder.path, format: .folder).loadSplits() }
        #expect(error?.path == folder.file("Test/0/0.png") && error?.message.contains("data.channels") == true, "\(String(describing: error))")
        let gray = try DatasetSource.path(folder.path, format: .folder, channels: .gray).loadSplits()
        #expect(gray.test.sampleShape == [2, 2, 1])
    }
}
