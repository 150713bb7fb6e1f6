import Foundation
import LoupeCore
import LoupeData
import Testing

@Suite struct ImageFolderTests {
    /// A gray 4x4 PNG whose pixels are `seed + i`.
    func grayPNG(seed: Int, side: Int = 4) throws -> [UInt8] {
        try PNG.encode(PNGImage(width: side, height: side, channels: 1,
                                pixels: (0..<(side * side)).map { UInt8((seed + $0) % 256) }))
    }

    /// `root/Train/<class>/<n>.png` for the given classes, two images each.
    func writeFolder(_ folder: TemporaryFolder, classes: [String], split: String = "Train") throws {
        for (k, name) in classes.enumerated() {
            for n in 0..<2 { try folder.write(grayPNG(seed: 10 * k + n), to: "\(split)/\(name)/\(n).png") }
        }
    }

    @Test func numericClassNamesSortNumerically() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        try writeFolder(folder, classes: ["10", "2", "1"])
        try folder.write(Array("notes".utf8), to: "Train/2/readme.txt")  // not a PNG: ignored
        let dataset = try Dataset.imageFolder(root: folder.path, split: .train)
        #expect(dataset.classNames == ["1", "2", "10"])
        #expect(dataset.labels == [0, 0, 1, 1, 2, 2])
        #expect(dataset.imageShape == ImageShape(height: 4, width: 4, channels: 1))
        // Class "2" was written with k = 1: its first image's pixels are 10 + i.
        let expected: [UInt8] = (0..<16).map { UInt8(10 + $0) }
        #expect(Array(dataset.pixels[32..<48]) == expected)
    }

    @Test func otherClassNamesSortAsStrings() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        try writeFolder(folder, classes: ["dog", "cat", "10"])
        #expect(try Dataset.imageFolder(root: folder.path, split: .train).classNames == ["10", "cat", "dog"])
    }

    @Test func colorImages() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        let rgb: [UInt8] = [200, 100, 50, 0, 0, 0, 10, 20, 30, 255, 255, 255]
        let rgba: [UInt8] = [200, 100, 50, 0, 0, 0, 0, 9, 10, 20, 30, 99, 255, 255, 255, 255]
        try folder.write(PNG.encode(PNGImage(width: 2, height: 2, channels: 3, pixels: rgb)), to: "Test/a/0.png")
        try folder.write(PNG.encode(PNGImage(width: 2, height: 2, channels: 4, pixels: rgba)), to: "Test/a/1.png")
        let color = try Dataset.imageFolder(root: folder.path, split: .test)
        #expect(color.imageShape.channels == 3)
        // Alpha is dropped: both images hold the same colors.
        #expect(Array(color.pixels[0..<12]) == rgb)
        #expect(Array(color.pixels[12..<24]) == rgb)

        let gray = try Dataset.imageFolder(root: folder.path, split: .test, channels: .gray)
        // ITU-R 601 luma of (200, 100, 50): 0.299·200 + 0.587·100 + 0.114·50 = 124.2, rounded to 124.
        #expect(gray.pixels[0] == 124)
        #expect(gray.pixels[3] == 255)

        // Gray images widened to RGB copy the gray value to every channel.
        try writeFolder(folder, classes: ["x"])
        let widened = try Dataset.imageFolder(root: folder.path, split: .train, channels: .rgb)
        #expect(Array(widened.pixels[0..<6]) == [0, 0, 0, 1, 1, 1])
    }

    @Test func imageOfAnotherSize() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        try writeFolder(folder, classes: ["0", "1"])
        let odd = try folder.write(grayPNG(seed: 0, side: 5), to: "Train/1/1.png")
        let error = fileError { _ = try Dataset.imageFolder(root: folder.path, split: .train) }
        #expect(error?.path == odd)
        #expect(error?.message.contains("image 3 is 5x5 pixels") == true)

        // With a resize, every image is resampled to it.
        let resized = try Dataset.imageFolder(root: folder.path, split: .train, resize: ImageSize(height: 3, width: 3))
        #expect(resized.imageShape == ImageShape(height: 3, width: 3, channels: 1))
        #expect(resized.count == 4)
    }

    @Test func corruptPNG() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        try writeFolder(folder, classes: ["0", "1"])
        let broken = try folder.write(Array(try grayPNG(seed: 3).prefix(45)), to: "Train/0/1.png")
        let error = fileError { _ = try Dataset.imageFolder(root: folder.path, split: .train) }
        #expect(error?.path == broken)
        #expect(error?.message.contains("image 1") == true)
    }

    @Test func emptyClassFolder() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        try writeFolder(folder, classes: ["0", "1"])
        try folder.makeFolder("Train/2")
        let error = fileError { _ = try Dataset.imageFolder(root: folder.path, split: .train) }
        #expect(error?.path == folder.file("Train/2"))
        #expect(error?.message.contains("holds no PNG images") == true)
    }

    @Test func missingSplit() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        try writeFolder(folder, classes: ["0"])
        let error = fileError { _ = try Dataset.imageFolder(root: folder.path, split: .test) }
        #expect(error?.path == folder.file("Test"))
        #expect(error?.message.contains("only Train") == true)
        // Any capitalisation of the split's folder is accepted.
        try writeFolder(folder, classes: ["0"], split: "test")
        #expect(try Dataset.imageFolder(root: folder.path, split: .test).count == 2)
    }

    /// cifar10-gray28 as shipped in ../shared/data: 1,000 training and 100 test images per class,
    /// 28x28 gray. Pixels checked against a hand-written PNG decoder (`naiveGrayPNG`).
    @Test(arguments: ["cifar10-gray28", "mnist-png28"])
    func realFolders(name: String) throws {
        guard let root = realDataRoot("realFolders(\(name))") else { return }
        let folder = root + "/" + name
        let test = try Dataset.imageFolder(root: folder, split: .test)
        #expect(test.count == 1000)
        #expect(test.classNames == (0..<10).map(String.init))
        #expect(test.classCounts == [Int](repeating: 100, count: 10))
        #expect(test.imageShape == ImageShape(height: 28, width: 28, channels: 1))

        let lastClass = folder + "/Test/9"
        let lastFile = try FileManager.default.contentsOfDirectory(atPath: lastClass).filter { $0.hasSuffix(".png") }.sorted().last!
        let reference = try naiveGrayPNG(Array(try Data(contentsOf: URL(fileURLWithPath: lastClass + "/" + lastFile))))
        #expect(reference.width == 28 && reference.height == 28)
        #expect(Array(test.pixels[(999 * 784)...]) == reference.pixels)

        let train = try Dataset.imageFolder(root: folder, split: .train)
        #expect(train.count == 10_000)
        #expect(train.classCounts == [Int](repeating: 1000, count: 10))
    }

    /// A damaged PNG among good ones: a dataset or an error naming that file.
    @Test func damagedPNGFailsNamingTheFile() throws {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        try writeFolder(folder, classes: ["0", "1"])
        let good = try grayPNG(seed: 3)
        let path = folder.file("Train/1/1.png")
        for (k, damaged) in damagedCopies(of: good, count: 200, seed: 4).enumerated() {
            try folder.write(damaged, to: "Train/1/1.png")
            expectDatasetOrNamedError([path], "PNG \(k)") { try Dataset.imageFolder(root: folder.path, split: .train) }
        }
    }
}
