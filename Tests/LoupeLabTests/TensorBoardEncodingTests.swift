import Foundation
import LoupeCore
import Testing
@testable import LoupeLab

/// Hex bytes as an array (spaces allowed).
private func hex(_ text: String) -> [UInt8] {
    let digits = Array(text.filter { !$0.isWhitespace })
    return stride(from: 0, to: digits.count, by: 2).map { UInt8(String(digits[$0...$0 + 1]), radix: 16)! }
}

/// The expected bytes below were made by TensorBoard's own generated protobuf classes and helpers
/// (tensorboard 2.21.0): `Tests/Fixtures/tensorboard/golden.py` prints each line.
@Suite struct TensorBoardEncodingTests {
    @Test func crc32cMatchesItsCheckValueAndTensorBoardsMaskedForm() {
        // RFC 3720 §B.4 / the CRC catalogue's check value for CRC-32C.
        #expect(CRC32C.checksum(Array("123456789".utf8)) == 0xE306_9283)
        #expect(CRC32C.checksum([]) == 0)
        // tensorboard.summary.writer.record_writer.masked_crc32c (golden.py).
        #expect(CRC32C.masked([]) == 0xA282_EAD8)
        #expect(CRC32C.masked(Array("a".utf8)) == 0x28E4_6E78)
        #expect(CRC32C.masked(Array("123456789".utf8)) == 0xC78A_B0E5)
        #expect(CRC32C.masked(Array(0..<32)) == 0x951F_7892)
    }

    @Test func varintsAndDefaults() {
        var writer = ProtoWriter()
        writer.int(2, 300)                 // protobuf's documentation example: 96 01 → 150; 300 → ac 02
        writer.int(3, 0)                   // proto3 default: left out
        writer.int(4, -1)                  // negative int64: ten bytes
        writer.float(5, 0)                 // left out
        writer.float(6, 0, evenIfDefault: true)
        #expect(writer.bytes == [0x10, 0xAC, 0x02, 0x20, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01, 0x35, 0, 0, 0, 0])
        var reader = ProtoReader(writer.bytes)
        var fields: [Int] = []
        while let (field, _) = try! reader.next() { fields.append(field) }
        #expect(fields == [2, 4, 6])
    }

    @Test func eventsMatchTensorBoardsBytes() {
        #expect(TensorBoardEvent.fileVersion(wallTime: 1.5) == hex("09000000000000f83f1a0d627261696e2e4576656e743a32"))
        #expect(TensorBoardEvent.summary(wallTime: 2.25, step: 7, [.scalar(tag: "loss", value: 0.5), .scalar(tag: "accuracy", value: 0)])
            == hex("09000000000000024010072a1e0a0b0a046c6f7373150000003f0a0f0a0861636375726163791500000000"))
        let histogram = Histogram(min: -1, max: 2, count: 3, sum: 1, sumOfSquares: 6, bucketLimits: [0, 1, 2], bucketCounts: [1, 1, 1])
        #expect(TensorBoardEvent.summary(wallTime: 3, step: 300, [.histogram(tag: "conv1.weight", histogram)]) == hex("""
            09000000000000084010ac022a730a710a0c636f6e76312e7765696768742a6109000000000000f0bf110000000000000040190000000000000840
            21000000000000f03f29000000000000184032180000000000000000000000000000f03f00000000000000403a18000000000000f03f00000000
            0000f03f000000000000f03f
            """))
        #expect(TensorBoardEvent.summary(wallTime: 4, step: 10, [.image(tag: "filters/conv1.weight", width: 2, height: 3, colorspace: 1,
                                                                         png: [0x89, 0x50, 0x4E, 0x47])])
            == hex("090000000000001040100a2a260a240a1466696c746572732f636f6e76312e776569676874220c080310021801220489504e47"))
        #expect(TensorBoardEvent.checkpoint(wallTime: 5, step: 100, path: "checkpoint.safetensors")
            == hex("09000000000000144010643a1a08031216636865636b706f696e742e7361666574656e736f7273"))
    }

    @Test func hparamsSummariesMatchTensorBoardsBytes() {
        let experiment = HParamsExperiment(name: "cnn-optimizers", settings: [
            .init(key: "optimizer.name", values: [.string("adam"), .string("adagrad")]),
            .init(key: "optimizer.lr", values: [.number(0.001), .number(0)]),
        ])
        #expect(TensorBoardEvent.summary(wallTime: 6, step: 0, [experiment.experimentValue(createdAt: 6)]) == hex("""
            0900000000000018402ad3010ad0010a145f68706172616d735f2f6578706572696d656e7442060801120212004aaf010aac010a0768706172616d73
            12a001129d0119000000000000184022270a0e6f7074696d697a65722e6e616d6520012a130a061a046164616d0a091a076164616772616422280a0c
            6f7074696d697a65722e6c7220032a160a0911fca9f1d24d62503f0a091100000000000000002a130a0f120d746573745f616363757261637928022a
            0a0a0612046c6f737328012a0e0a0a120861636375726163792801320e636e6e2d6f7074696d697a657273
            """))
        let start = HParamsExperiment.sessionStartValue(hparams: [("optimizer.name", .string("adam"))],
                                                        groupName: "optimizer.name=adam, optimizer.lr=0.001", startedAt: 6)
        #expect(TensorBoardEvent.summary(wallTime: 6, step: 0, [start]) == hex("""
            0900000000000018402a86010a83010a1c5f68706172616d735f2f73657373696f6e5f73746172745f696e666f42060801120212004a5b0a590a07
            68706172616d73124e1a4c0a180a0e6f7074696d697a65722e6e616d6512061a046164616d22276f7074696d697a65722e6e616d653d6164616d2c
            206f7074696d697a65722e6c723d302e303031290000000000001840
            """))
        #expect(TensorBoardEvent.summary(wallTime: 6, step: 300, [HParamsExperiment.sessionEndValue(succeeded: true, endedAt: 7)]) == hex("""
            09000000000000184010ac022a420a400a1a5f68706172616d735f2f73657373696f6e5f656e645f696e666f42060801120212004a1a0a180a0768
            706172616d73120d220b0801110000000000001c40
            """))
        func value(_ v: HParamsExperiment.Value) -> [UInt8] {
            var writer = ProtoWriter()
            HParamsExperiment.encode(v, into: &writer)
            return writer.bytes
        }
        #expect(value(.number(0.001)) == hex("11fca9f1d24d62503f"))
        #expect(value(.number(0)) == hex("110000000000000000"))
        #expect(value(.string("adam")) == hex("1a046164616d"))
        #expect(value(.bool(false)) == hex("2000"))
    }

    @Test func settingsAreTypedOnceForTheExperiment() throws {
        let text = """
            name: typed
            data: {dataset: mnist}
            model: {builder: lenet}
            optimizer: {name: adam, lr: 1.0e-3}
            sweep:
              optimizer.name: [adam, sgd]
              optimizer.lr: [1.0e-3, 1.0e-2]
              include: [{optimizer.name: momentum, optimizer.nesterov: true, optimizer.lr: 1.0e-2}]
              seeds: [0, 1]
            """
        let experiment = try Experiment.parse(text: text, path: "typed.yaml")
        let hparams = HParamsExperiment(experiment)
        #expect(hparams.settings == [.init(key: "optimizer.name", values: [.string("adam"), .string("sgd"), .string("momentum")]),
                                     .init(key: "optimizer.lr", values: [.number(0.001), .number(0.01)]),
                                     .init(key: "optimizer.nesterov", values: [.bool(true)])])
        let last = experiment.trials.last!
        #expect(hparams.values(of: last).map(\.key) == ["optimizer.name", "optimizer.lr", "optimizer.nesterov"])
        #expect(hparams.values(of: last).map(\.value) == [.string("momentum"), .number(0.01), .bool(true)])
        // The group is the settings without the seed: two seeds, one group (trials run seed by
        // seed, five configurations each, so trial 5 is trial 0's with seed 1).
        #expect(experiment.trials[5].settingsDictionary["train.seed"] == "1")
        #expect(HParamsExperiment.groupName(of: experiment.trials[0]) == HParamsExperiment.groupName(of: experiment.trials[5]))
        #expect(HParamsExperiment.groupName(of: experiment.trials[0]) == "optimizer.name=adam, optimizer.lr=1.0e-3")
    }

    @Test func histogramBucketsCountEveryFiniteValueOnce() {
        let values: [Float] = [-1, 0, 0.5, 1, 2, .nan, .infinity]
        let histogram = values.withUnsafeBufferPointer { Histogram($0, bucketCount: 3) }
        // Width 1: (−∞, 0] holds −1 and 0, (0, 1] holds 0.5 and 1, (1, 2] holds 2.
        #expect(histogram == Histogram(min: -1, max: 2, count: 5, sum: 2.5, sumOfSquares: 6.25, bucketLimits: [0, 1, 2], bucketCounts: [2, 2, 1]))
        let constant = [Float](repeating: 3, count: 4).withUnsafeBufferPointer { Histogram($0) }
        #expect(constant.bucketLimits == [3] && constant.bucketCounts == [4])
    }
}

@Suite struct EventFileTests {
    private func file(records: [[UInt8]]) -> [UInt8] { records.flatMap(EventFileWriter.frame) }

    @Test func framingIsLengthCRCDataCRC() {
        // length 3 (u64 LE), masked CRC-32C of those 8 bytes, "abc", masked CRC-32C of "abc".
        let frame = EventFileWriter.frame(Array("abc".utf8))
        #expect(Array(frame[0..<8]) == [3, 0, 0, 0, 0, 0, 0, 0])
        #expect(frame.count == 19 && Array(frame[12..<15]) == Array("abc".utf8))
        let lengthCRC = UInt32(frame[8]) | UInt32(frame[9]) << 8 | UInt32(frame[10]) << 16 | UInt32(frame[11]) << 24
        #expect(lengthCRC == CRC32C.masked([3, 0, 0, 0, 0, 0, 0, 0]))
    }

    @Test func aFileCutAtAnyByteOfItsLastRecordReadsAsTheRecordsBeforeIt() throws {
        let records = [TensorBoardEvent.fileVersion(wallTime: 1), TensorBoardEvent.summary(wallTime: 2, step: 1, [.scalar(tag: "loss", value: 2)]),
                       TensorBoardEvent.summary(wallTime: 3, step: 2, [.scalar(tag: "loss", value: 1)])]
        let bytes = file(records: records), lastStart = file(records: Array(records.dropLast())).count
        for cut in lastStart..<bytes.count {
            let read = try EventFileReader(bytes: Array(bytes[..<cut]), path: "cut")
            #expect(read.records == Array(records.dropLast()), "cut at \(cut)")
            #expect(read.truncatedBytes == cut - lastStart)
        }
        #expect(try EventFileReader(bytes: bytes, path: "whole").records == records)
    }

    @Test func aCorruptRecordNamesTheFile() {
        var bytes = file(records: [TensorBoardEvent.fileVersion(wallTime: 1), TensorBoardEvent.fileVersion(wallTime: 2)])
        bytes[bytes.count - 6] ^= 0xFF
        #expect(throws: LoupeError.file(path: "/x/events", message: "corrupt event record at byte 40: the data's CRC does not match")) {
            try EventFileReader(bytes: bytes, path: "/x/events")
        }
        // A length that claims more than the file holds is a cut record, not an allocation.
        var huge = EventFileWriter.frame([1])
        huge.replaceSubrange(0..<8, with: [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F])
        let crc = CRC32C.masked(huge[0..<8])
        huge.replaceSubrange(8..<12, with: withUnsafeBytes(of: crc.littleEndian, Array.init))
        #expect((try? EventFileReader(bytes: huge, path: "huge"))?.records.isEmpty == true)
    }
}
