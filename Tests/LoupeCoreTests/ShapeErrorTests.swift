import LoupeCore
import Testing

@Suite struct ShapeErrorTests {
    private func message(_ body: () throws -> Tensor) -> String {
        do {
            _ = try body()
            return "no error"
        } catch {
            return "\(error)"
        }
    }

    @Test func matmulNamesTheOpAndBothShapes() {
        let text = message { try matmul(Tensor.zeros([3, 4]), Tensor.zeros([5, 6])) }
        #expect(text.contains("matmul") && text.contains("[3, 4]") && text.contains("[5, 6]"), "\(text)")
    }

    @Test func convolutionChannelMismatch() {
        let text = message { try conv2d(Tensor.zeros([1, 8, 8, 3]), filter: Tensor.zeros([5, 5, 1, 32]), padding: .same) }
        #expect(text.contains("conv2d") && text.contains("[1, 8, 8, 3]") && text.contains("[5, 5, 1, 32]"), "\(text)")
    }

    @Test func otherMismatchesAreThrown() {
        #expect(message { try Tensor.zeros([2, 3]) + Tensor.zeros([3, 2]) }.contains("add"))
        #expect(message { try conv2d(Tensor.zeros([8, 8, 3]), filter: Tensor.zeros([3, 3, 3, 4]), padding: .same) }.contains("[N, H, W, C]"))
        #expect(message { try conv2d(Tensor.zeros([1, 2, 2, 1]), filter: Tensor.zeros([3, 3, 1, 1]), padding: .valid) }.contains("VALID"))
        #expect(message { try maxPool2D(Tensor.zeros([1, 4, 4, 1]), kernel: (0, 2), strides: (2, 2), padding: .same) }.contains("maxPool2D"))
        #expect(message { try sum(Tensor.zeros([2, 3]), axis: 2) }.contains("axis 2"))
    }
}
