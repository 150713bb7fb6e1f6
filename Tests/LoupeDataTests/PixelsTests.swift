import Foundation
import LoupeData
import Testing

@Suite struct PixelsTests {
    /// Colour to gray gives Pillow's `convert("L")` byte for every colour of
    /// `Tests/Fixtures/luma/pillow_luma.txt` (made by `make_pillow_luma.py` with Pillow 13.0.0):
    /// 300 colours where rounding 0.299 R + 0.587 G + 0.114 B in decimal gives another byte, 300
    /// where float32 does, 400 random ones and the primaries.
    @Test func lumaIsPillowsConvertL() throws {
        let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../Fixtures/luma/pillow_luma.txt").standardizedFileURL
        let rows = try String(contentsOf: fixture, encoding: .utf8).split(separator: "\n")
            .filter { !$0.hasPrefix("#") }.map { $0.split(separator: " ").map { UInt8($0)! } }
        #expect(rows.count == 1005)
        let colours = try Dataset(pixels: rows.flatMap { $0.prefix(3) }, labels: [0],
                                  imageShape: ImageShape(height: 1, width: rows.count, channels: 3), classNames: ["a"])
        let gray = try colours.converted(toChannels: 1).pixels
        let wrong = rows.indices.filter { gray[$0] != rows[$0][3] }
        #expect(wrong.isEmpty, "\(wrong.count) colours differ from Pillow, first \(wrong.prefix(3).map { "\(rows[$0]) → \(gray[$0])" })")
    }
}
