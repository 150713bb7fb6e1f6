import Foundation
import LoupeData
import Testing

/// `loupe data get cifar10-gray28` run as a user runs it, on a synthetic CIFAR-10 installed in
/// the data directory (the real archive's SHA-256 cannot be met without a network): 2,000
/// records per training batch and 1,000 in the test batch, labels cycling 0…9, so the catalog's
/// 1,000 and 100 images per class are there to take.
@Suite struct DataGetCommandTests {
    func writeCIFAR10(_ data: URL) throws {
        let folder = data.appendingPathComponent("cifar10/cifar-10-batches-bin")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        for (batch, name) in (CIFAR10.trainingFiles + CIFAR10.testFiles).enumerated() {
            let count = batch < 5 ? 2000 : 1000
            var bytes = [UInt8](repeating: 0, count: count * CIFAR10.recordBytes)
            for record in 0..<count {
                let start = record * CIFAR10.recordBytes
                bytes[start] = UInt8(record % 10)
                for p in 1..<CIFAR10.recordBytes { bytes[start + p] = UInt8(truncatingIfNeeded: record &* 7 &+ batch &+ p) }
            }
            try Data(bytes).write(to: folder.appendingPathComponent(name))
        }
    }

    @Test func getDerivesThenVerifyReadsItAndAgainDoesNothing() throws {
        guard let executable = loupeExecutable() else { return }
        let data = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: data) }
        try writeCIFAR10(data)
        let derived = data.appendingPathComponent("cifar10-gray28")

        let (status, output) = try runLoupe(executable, ["data", "get", "cifar10-gray28"], data: data.path)
        #expect(status == 0, "\(output)")
        for line in ["deriving cifar10-gray28 from cifar10 (\(data.path)/cifar10): 10000 training and 1000 test images",
                     "wrote 11000 PNG images to \(derived.path)", "cifar10-gray28 is at \(derived.path)"] {
            #expect(output.contains(line), "\(line) in \(output)")
        }
        let train0 = try FileManager.default.contentsOfDirectory(atPath: derived.path + "/Train/0").sorted()
        #expect(train0.count == 1000 && train0.first == "Image00000.png" && train0.last == "Image00999.png")
        #expect(try FileManager.default.contentsOfDirectory(atPath: derived.path + "/Test/9").count == 100)
        #expect(try FileManager.default.contentsOfDirectory(atPath: data.path).sorted() == ["cifar10", "cifar10-gray28"])

        let (verifyStatus, verifyOutput) = try runLoupe(executable, ["data", "verify", "cifar10-gray28"], data: data.path)
        #expect(verifyStatus == 0, "\(verifyOutput)")
        for line in ["Train: 10000 images", "Test: 1000 images", "28x28x1", "airplane (1000 train, 100 test)"] {
            #expect(verifyOutput.contains(line), "\(line) in \(verifyOutput)")
        }

        let (againStatus, againOutput) = try runLoupe(executable, ["data", "get", "cifar10-gray28"], data: data.path)
        #expect(againStatus == 0 && againOutput == "cifar10-gray28 is at \(derived.path)\n", "\(againOutput)")
    }

    /// Killed while writing: no `cifar10-gray28` folder, only a hidden temporary one, which the
    /// next run removes as it derives the dataset.
    @Test func aKilledGetLeavesNoDatasetAndTheNextRunFinishes() throws {
        guard let executable = loupeExecutable() else { return }
        let data = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: data) }
        try writeCIFAR10(data)
        let process = try start(executable, ["data", "get", "cifar10-gray28"], data: data.path)
        let deadline = Date().addingTimeInterval(60)
        // Kill as soon as a temporary folder, or (wrongly) the dataset's own, appears.
        var sawTemporary = false, sawDataset = false
        while Date() < deadline && process.isRunning && !sawTemporary && !sawDataset {
            let names = (try? FileManager.default.contentsOfDirectory(atPath: data.path)) ?? []
            sawTemporary = names.contains { $0.hasPrefix(".cifar10-gray28.partial-") }
            sawDataset = names.contains("cifar10-gray28")
            if !sawTemporary && !sawDataset { Thread.sleep(forTimeInterval: 0.005) }
        }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        if process.terminationReason == .uncaughtSignal {
            #expect(sawTemporary)
            #expect(!FileManager.default.fileExists(atPath: data.appendingPathComponent("cifar10-gray28").path))
        } else {
            print("aKilledGetLeavesNoDatasetAndTheNextRunFinishes: the run finished before it could be killed")
        }
        let (status, output) = try runLoupe(executable, ["data", "get", "cifar10-gray28"], data: data.path)
        #expect(status == 0, "\(output)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: data.path).sorted() == ["cifar10", "cifar10-gray28"])
        #expect(try FileManager.default.contentsOfDirectory(atPath: data.path + "/cifar10-gray28/Train/5").count == 1000)
    }

    /// A truncated batch: the message names it, the exit code is 1, nothing is left.
    @Test func aTruncatedBatchIsNamed() throws {
        guard let executable = loupeExecutable() else { return }
        let data = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: data) }
        try writeCIFAR10(data)
        let batch = data.appendingPathComponent("cifar10/cifar-10-batches-bin/data_batch_2.bin")
        try Data(try Data(contentsOf: batch).dropLast(1000)).write(to: batch)
        let (status, output) = try runLoupe(executable, ["data", "get", "cifar10-gray28"], data: data.path)
        #expect(status == 1, "\(output)")
        #expect(output.contains("loupe: \(batch.path)") && output.contains("truncated"), "\(output)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: data.path) == ["cifar10"])
    }
}
