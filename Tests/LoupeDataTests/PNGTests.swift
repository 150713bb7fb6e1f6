import LoupeCore
import LoupeData
import Testing

@Suite struct PNGTests {
    /// 3 wide, 2 high.
    let width = 3, height = 2

    func pixels(channels: Int) -> [UInt8] {
        (0..<(width * height * channels)).map { UInt8(($0 * 37 + 11) % 256) }
    }

    @Test(arguments: [1, 2, 3, 4])
    func roundTripsEveryDirectColorType(channels: Int) throws {
        let image = PNGImage(width: width, height: height, channels: channels, pixels: pixels(channels: channels))
        let encoded = try PNG.encode(image)
        // IHDR's color type (byte 25): 0 gray, 4 gray+alpha, 2 RGB, 6 RGBA (PNG spec, 11.2.2).
        #expect(encoded[25] == [1: 0, 2: 4, 3: 2, 4: 6][channels])
        #expect(try PNG.decode(encoded) == image)
    }

    @Test func paletteImagesExpand() throws {
        let palette: [UInt8] = [255, 0, 0, 0, 255, 0, 0, 0, 255, 10, 20, 30]
        let indices: [UInt8] = [0, 1, 2, 3, 2, 1]
        let encoded = try PNG.encode(PNGImage(width: width, height: height, channels: 1, pixels: indices), palette: palette)
        #expect(encoded[25] == 3)  // color type 3: palette
        let decoded = try PNG.decode(encoded)
        #expect(decoded.channels == 3)
        #expect(decoded.pixels == indices.flatMap { Array(palette[(Int($0) * 3)..<(Int($0) * 3 + 3)]) })
    }

    @Test func corruptDataThrows() throws {
        let encoded = try PNG.encode(PNGImage(width: width, height: height, channels: 1, pixels: pixels(channels: 1)))
        let error = fileError { _ = try PNG.decode(Array(encoded.prefix(40)), path: "cut.png") }
        #expect(error?.path == "cut.png")
        #expect(error?.message.contains("corrupt or unreadable PNG") == true)
        #expect(fileError { _ = try PNG.decode(Array("not a png".utf8), path: "text.png") }?.path == "text.png")
    }
}
