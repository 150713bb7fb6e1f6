import LoupeCore
import Testing
@testable import LoupeInsight
@testable import LoupeLab

@Suite struct FilterGridTests {
    @Test func layoutIsAboutTwiceAsWideAsTall() {
        #expect(FilterGrid.layout(count: 32) == (4, 8))
        #expect(FilterGrid.layout(count: 64) == (6, 12))
        #expect(FilterGrid.layout(count: 1) == (1, 1))
        #expect(FilterGrid.layout(count: 3) == (1, 3))
        #expect(FilterGrid.layout(count: 5) == (2, 4))
    }

    @Test func eachFilterIsNormalisedOnItsOwn() throws {
        // HWIO [2, 1, 1, 2]: filter 0 is (top 1, bottom 3), filter 1 is (top 5, bottom −5);
        // index = (y·KW + x)·I·O + o, so the scalars are [f0 top, f1 top, f0 bottom, f1 bottom].
        let filters = try Tensor(shape: [2, 1, 1, 2], scalars: [1, 5, 3, -5])
        let grid = try FilterGrid(filters: filters, scale: 1, separator: 1)
        // One row of two 1×2 tiles with 1 px separators: 2·1 + 3 wide, 2 + 2 high.
        #expect((grid.image.width, grid.image.height, grid.image.channels) == (5, 4, 1))
        let w: UInt8 = 255
        #expect(grid.image.pixels == [w, w, w, w, w,
                                      w, 0, w, 255, w,
                                      w, 255, w, 0, w,
                                      w, w, w, w, w])
    }

    @Test func aSharedScaleKeepsSizesComparable() throws {
        // The same filters as above on one scale of ±5: 0 is mid gray, so filter 0 (1, 3) is
        // light gray and filter 1 (5, −5) spans white to black.
        let filters = try Tensor(shape: [2, 1, 1, 2], scalars: [1, 5, 3, -5])
        #expect(FilterGrid.sharedLimit([filters]) == 5)
        let grid = try FilterGrid(filters: filters, scale: 1, separator: 0, normalization: .shared(limit: 5))
        #expect(grid.image.pixels == [153, 255, 204, 0])
        // A limit below a weight clamps it.
        let clamped = try FilterGrid(filters: filters, scale: 1, separator: 0, normalization: .shared(limit: 2))
        #expect(clamped.image.pixels == [191, 255, 255, 0])
    }

    @Test func enlargesByNearestNeighbour() throws {
        let filters = try Tensor(shape: [1, 2, 1, 1], scalars: [0, 1])
        let grid = try FilterGrid(filters: filters, scale: 3, separator: 0)
        #expect((grid.image.width, grid.image.height) == (6, 3))
        #expect(grid.image.pixels == Array(repeating: [0, 0, 0, 255, 255, 255] as [UInt8], count: 3).flatMap { $0 })
    }

    @Test func threeInputChannelsAreDrawnInColour() throws {
        // One 1×1 filter with (r, g, b) = (−1, 0, 1): normalised over the filter, 0, 128, 255.
        let grid = try FilterGrid(filters: try Tensor(shape: [1, 1, 3, 1], scalars: [-1, 0, 1]), scale: 1, separator: 0)
        #expect(grid.image.channels == 3)
        #expect(Array(grid.image.pixels.prefix(3)) == [0, 128, 255])
        #expect((grid.image.width, grid.image.height) == (1, 1))
    }

    @Test func moreChannelsAreAveragedAndNonFiniteWeightsCounted() throws {
        // 1×2 filter, 2 input channels: left (0, 2) → 1, right (4, NaN) → NaN (drawn black).
        let filters = try Tensor(shape: [1, 2, 2, 1], scalars: [0, 2, 4, .nan])
        let grid = try FilterGrid(filters: filters, scale: 1, separator: 0)
        #expect(grid.image.channels == 1 && grid.nonFiniteCount == 1)
        #expect(Array(grid.image.pixels.prefix(2)) == [128, 0], "a single finite value has no range: mid gray")
    }

    @Test func rejectsTensorsThatAreNotFilters() {
        #expect(throws: LoupeError.self) { try FilterGrid(filters: Tensor.zeros([5, 5, 32])) }
    }

    @Test func firstLayerIsConv1OrTheFirst4DWeight() {
        let conv = Tensor.zeros([3, 3, 1, 4]), dense = Tensor.zeros([4, 2])
        #expect(ExperimentResults.firstLayerFilters(in: ["conv2.weight": conv, "conv1.weight": conv, "fc.weight": dense])?.name == "conv1.weight")
        #expect(ExperimentResults.firstLayerFilters(in: ["b.weight": conv, "a.weight": dense, "c.weight": conv, "a.bias": conv])?.name == "b.weight")
        #expect(ExperimentResults.firstLayerFilters(in: ["fc.weight": dense]) == nil)
    }
}
